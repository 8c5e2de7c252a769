"""Calendars and time zones by name in the ``[policies]`` table.

::

    [policies]
    calendar = "CN"                   # a country code, or "DE-BY" with a subdivision
    time_zone = "Asia/Shanghai"       # the company's zone: working hours are local to it
    customer_time_zone = "Asia/Shanghai"  # contact planning for customers without a zone
    calendar_years = [2018, 2027]     # optional; default 2000 to next year

A country code gives the official calendar of the ``holidays`` package (``pip install
'crmcore[holidays]'``) with its make-up working days (China's 调休), Monday to Friday
09:00-12:00 and 13:00-18:00 otherwise. The calendar's name carries the code and the
data's version (``holidays-CN@0.109``). A covered year after the last schedule the
installed release holds (the State Council publishes China's each autumn) is logged
as a warning naming the release: its holidays follow the rules, its make-up days are
missing until ``holidays`` is updated.

``time_zone`` also places the default calendar (no ``calendar`` given) in the
company's zone; a calendar file or table names its own zone, so giving both is an
error.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from crmcore.errors import ConfigError, ValidationError
from crmcore.options import Options
from crmcore.service import BusinessCalendar
from crmcore.validation import is_time_zone

__all__ = ["DEFAULT_FIRST_YEAR", "REGION_CODE", "calendar_years", "is_region_code",
           "region_calendar", "zone_option"]

logger = logging.getLogger(__name__)

DEFAULT_FIRST_YEAR = 2000
"""The first year a country-code calendar covers unless ``calendar_years`` says."""

REGION_CODE = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,4}))?")
"""A country code, optionally with a subdivision: ``CN``, ``DE-BY``."""


def is_region_code(text: str) -> bool:
    """Whether ``text`` is written as a country code, optionally with a subdivision
    (``CN``, ``DE-BY``), rather than as a calendar file name."""
    return REGION_CODE.fullmatch(text.strip()) is not None


def zone_option(options: Options, name: str) -> str | None:
    """The IANA time zone option ``name`` (``Asia/Shanghai``), or None when absent."""
    value: str | None = options.text(name, None)
    if value is None:
        return None
    if not is_time_zone(value):
        raise ConfigError(f"{options.key(name)}: {value!r} is not a time zone "
                          "(an IANA name such as Asia/Shanghai)")
    return value


def calendar_years(options: Options, today: datetime | None = None) -> range:
    """The years ``calendar_years = [first, last]`` names, else 2000 to next year."""
    now = today or datetime.now(UTC)
    given = options.items("calendar_years", "a list [first, last] of years")
    if given is None:
        return range(DEFAULT_FIRST_YEAR, now.year + 2)
    key = options.key("calendar_years")
    if len(given) != 2 or not all(isinstance(y, int) and not isinstance(y, bool)
                                  and 1900 <= y <= 2200 for y in given) or given[0] > given[1]:
        raise ConfigError(f"{key}: {given!r} is not [first, last] years (e.g. [2018, 2027])")
    return range(given[0], given[1] + 1)


def region_calendar(options: Options, today: datetime | None = None) -> BusinessCalendar:
    """The official calendar of ``calendar`` (a country code) in ``time_zone``.

    Errors name the key: an unknown code lists the available ones; a missing
    ``time_zone`` asks for one. A covered year beyond the data is logged as a
    warning.
    """
    from crmcore_plugins.calendar_holidays import official_calendar

    code = options.text("calendar")
    zone = zone_option(options, "time_zone")
    if zone is None:
        raise ConfigError(f"{options.key('time_zone')}: is required with calendar = {code!r} "
                          "(the company's time zone, e.g. \"Asia/Shanghai\")")
    years = calendar_years(options, today)
    try:
        official = official_calendar(code, years, time_zone=zone)
    except ValidationError as error:
        raise ConfigError(f"{options.key('calendar')}: {error.value!r} {error.reason}") from None
    beyond = official.years_beyond_data()
    if beyond:
        logger.warning("%s: %s has no published schedule for %s: holidays follow the rules, "
                       "make-up working days are missing; update holidays "
                       "(pip install -U 'crmcore[holidays]')", options.key("calendar"),
                       official.describe(), ", ".join(map(str, beyond)))
    return official.calendar
