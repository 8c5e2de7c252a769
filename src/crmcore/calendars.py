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
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.service import BusinessCalendar
from crmcore.service.calendar import WEEKDAY_NAMES
from crmcore.validation import is_time_zone

if TYPE_CHECKING:
    from crmcore.policies.care import Holiday

__all__ = ["DEFAULT_FIRST_YEAR", "MESSAGE_SLOT_KEYS", "REGION_CODE", "calendar_years",
           "festival_days", "is_region_code", "message_slot_options", "region_calendar",
           "zone_option"]

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
        raise ConfigError(tr("{key}: {value!r} is not a time zone (an IANA name such as "
                             "Asia/Shanghai)").format(key=options.key(name), value=value))
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
        raise ConfigError(tr("{key}: {value!r} is not [first, last] years (e.g. [2018, "
                             "2027])").format(key=key, value=given))
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
        raise ConfigError(tr("{key}: is required with calendar = {code!r} (the company's time "
                             "zone, e.g. \"Asia/Shanghai\")").format(
                                 key=options.key("time_zone"), code=code))
    years = calendar_years(options, today)
    try:
        official = official_calendar(code, years, time_zone=zone)
    except ValidationError as error:
        raise ConfigError(tr("{field}: {value!r} {reason}").format(
            field=options.key("calendar"), value=error.value,
            reason=tr(error.reason))) from None
    beyond = official.years_beyond_data()
    this_year = (today or datetime.now(UTC)).year
    for level, missing in ((logging.WARNING, [y for y in beyond if y <= this_year]),
                           (logging.INFO, [y for y in beyond if y > this_year])):
        # a year already begun without its schedule is a problem; next year's schedule is
        # often published only in its last weeks (国务院办公厅 notices come out in November)
        if missing:
            logger.log(level, "%s: %s has no published schedule for %s: holidays follow the "
                       "rules, make-up working days are missing; update holidays "
                       "(pip install -U 'crmcore[holidays]')", options.key("calendar"),
                       official.describe(), ", ".join(map(str, missing)))
    return official.calendar


MESSAGE_SLOT_KEYS = ("message_weekday", "message_time", "message_channel")
"""``[policies.care]`` keys placing the weekly personal message (S2): a weekday name,
a local ``HH:MM`` time and the channel used when the customer chose none."""


def message_slot_options(options: Options) -> dict[str, Any]:
    """The :class:`~crmcore.policies.CarePlan` fields of :data:`MESSAGE_SLOT_KEYS` given
    in ``options`` (a ``[policies.care]`` reader); errors name the key."""
    from crmcore.model import Channel
    from crmcore.vocabulary import member

    values: dict[str, Any] = {}
    weekday = options.text("message_weekday", None)
    if weekday is not None:
        if weekday.strip().lower() not in WEEKDAY_NAMES:
            raise ConfigError(tr("{key}: {value!r} is not a weekday ({weekdays})").format(
                key=options.key("message_weekday"), value=weekday,
                weekdays=", ".join(WEEKDAY_NAMES)))
        values["message_weekday"] = WEEKDAY_NAMES.index(weekday.strip().lower())
    at = options.text("message_time", None)
    if at is not None:
        try:
            values["message_time"] = time.fromisoformat(at) if re.fullmatch(
                r"\d\d:\d\d", at) else None
        except ValueError:
            values["message_time"] = None
        if values["message_time"] is None:
            raise ConfigError(tr("{key}: {value!r} is not a local time HH:MM (e.g. "
                                 "\"18:00\")").format(key=options.key("message_time"),
                                                      value=at))
    channel = options.text("message_channel", None)
    if channel is not None:
        try:
            values["message_channel"] = member(Channel, channel, "message_channel")
        except ValidationError as error:
            raise ConfigError(tr("{field}: {value!r} {reason}").format(
                field=options.key("message_channel"), value=channel,
                reason=tr(error.reason))) from None
    return values


def festival_days(options: Options, today: datetime | None = None) -> list[Holiday]:
    """The days of the festivals ``festivals`` names (``["春节", "中秋节"]``) in the
    official calendar of ``calendar`` (a country code), over ``calendar_years``: the
    first day each festival has in each year, from the lunar calendar the ``holidays``
    package computes. Names are the package's, in the country's language or in
    English; an unknown name is an error listing the known ones."""
    from crmcore.policies.care import Holiday
    from crmcore.vocabulary import fold
    from crmcore_plugins.calendar_holidays import holiday_names

    key = options.key("festivals")
    names = options.texts("festivals")
    code = options.raw("calendar")
    if not isinstance(code, str) or not is_region_code(code):
        raise ConfigError(tr("{key}: needs calendar = a country code (e.g. \"CN\") to date "
                             "them").format(key=key))
    try:
        named = holiday_names(code, calendar_years(options, today))
    except ValidationError as error:
        raise ConfigError(tr("{field}: {value!r} {reason}").format(
            field=options.key("calendar"), value=error.value,
            reason=tr(error.reason))) from None
    days: list[Holiday] = []
    for index, name in enumerate(names):
        wanted = fold(name)
        found = [(day, own) for day, own, english in named
                 if wanted in {fold(part) for part in (*own.split("; "), *english.split("; "))}]
        if not found:
            known = sorted({part for _, own, _ in named for part in own.split("; ")
                            if not any(c.isdigit() for c in part)})
            raise ConfigError(tr("{key}: {value!r} is not a holiday of {code} (known: "
                                 "{known})").format(key=f"{key}[{index}]", value=name,
                                                    code=code, known=", ".join(known)))
        first: dict[int, date] = {}
        for day, _own in sorted(found):
            first.setdefault(day.year, day)
        days.extend(Holiday(name, day) for day in first.values())
    return sorted(days, key=lambda holiday: holiday.day)
