"""Business calendars built from the ``holidays`` package (``pip install crmcore[holidays]``).

:func:`calendar_from_holidays` takes from ``holidays``, for a country (and optionally a
subdivision) and a range of years:

* the weekend of the country (``{SAT, SUN}`` for most, ``{FRI, SAT}`` for some): every
  other weekday is worked with ``hours``;
* the holidays of the chosen categories (default: public), observed days included;
* the make-up working days that ``holidays`` records as ``weekend_workdays``: China's
  调休 weekends (and those of other countries that move days off, e.g. Russia,
  Vietnam). They are worked with ``hours``. A date that is both a holiday and a make-up
  day is worked, as in ``holidays``' own ``is_working_day``.

What ``holidays`` does not give, and this adapter does not invent:

* working hours and time zone: pass ``hours`` and ``time_zone``;
* the weekday whose timetable a make-up day follows (it is only in the localized
  holiday names): every make-up day gets ``hours``;
* make-up days of years the State Council has not yet announced or the installed
  ``holidays`` release does not know: such years have rule-based holidays only, so
  update ``holidays`` when a new schedule is published;
* half days off: China's ``half_day`` category (e.g. 8 March for women) applies to groups
  of people; requested through ``categories`` such dates become whole holidays;
* company-specific days off, and weekends that changed in the past (the current weekend
  is used for every year).

The calendar is also registered as the business calendar ``holidays`` with the options
``country``, ``subdivision``, ``time_zone``, ``first_year`` and ``last_year``.

``holidays`` releases before :data:`MINIMUM_HOLIDAYS_VERSION` get China's calendar wrong
(0.50-0.91 have 4 to 30 wrong days in 2018-2026), so an older installed release is
refused with a :class:`~crmcore.errors.ConfigError` naming both versions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from crmcore.errors import ConfigError, PluginError, ValidationError
from crmcore.hookspecs import hookimpl
from crmcore.options import Options
from crmcore.ports import CalendarFactory
from crmcore.service.calendar import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    ExtraWorkingDay,
    WorkingInterval,
)

DEFAULT_HOURS: tuple[str, ...] = ("09:00-12:00", "13:00-18:00")
"""Working hours used when none are given: 09:00-12:00 and 13:00-18:00."""

MINIMUM_HOLIDAYS_VERSION = "0.92"
"""The oldest ``holidays`` release accepted: the first with China's calendar right."""


def calendar_from_holidays(
    country: str,
    years: Iterable[int],
    *,
    time_zone: str,
    subdiv: str | None = None,
    hours: Sequence[WorkingInterval | str] = DEFAULT_HOURS,
    categories: tuple[str, ...] | None = None,
    name: str | None = None,
) -> BusinessCalendar:
    """Build a calendar for ``country`` (ISO 3166-1 alpha-2) over ``years``.

    ``name`` defaults to ``"holidays-CN"`` or ``"holidays-DE-BY"``. An unknown country,
    subdivision or category raises :class:`~crmcore.errors.ValidationError`; a
    ``holidays`` release older than :data:`MINIMUM_HOLIDAYS_VERSION`
    :class:`~crmcore.errors.ConfigError`.
    """
    wanted = sorted(set(years))
    entity = _entity(country, subdiv, wanted, categories)
    make_up = {day for day in entity.weekend_workdays if day.year in wanted}
    days_off = {day for day in entity if day.year in wanted} - make_up
    return BusinessCalendar(
        name=name or "-".join(("holidays", country, *([subdiv] if subdiv else []))),
        time_zone=time_zone,
        week={
            weekday: list(hours)
            for weekday in range(len(WEEKDAY_NAMES))
            if weekday not in entity.weekend
        },
        holidays=days_off,
        extra_working_days=[ExtraWorkingDay(day, hours=list(hours)) for day in sorted(make_up)],
    )


if TYPE_CHECKING:
    from holidays import HolidayBase


def _holidays_package() -> Any:
    """The ``holidays`` package, imported on first use (it is an optional extra) and
    refused when older than :data:`MINIMUM_HOLIDAYS_VERSION`."""
    try:
        import holidays
    except ImportError:
        raise PluginError("the 'holidays' calendar needs the holidays package: "
                          "pip install 'crmcore[holidays]'") from None
    installed = str(getattr(holidays, "__version__", "unknown"))
    if _release(installed) < _release(MINIMUM_HOLIDAYS_VERSION):
        raise ConfigError(
            f"the 'holidays' calendar needs holidays>={MINIMUM_HOLIDAYS_VERSION} (older "
            f"releases get China's holidays and make-up days wrong), but holidays "
            f"{installed} is installed: pip install -U 'crmcore[holidays]'")
    return holidays


def _release(version: str) -> tuple[int, int]:
    """Major and minor number of a version text; ``(0, 0)`` when it has none."""
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _entity(
    country: str, subdiv: str | None, years: list[int], categories: tuple[str, ...] | None
) -> HolidayBase:
    holidays = _holidays_package()
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValidationError("country", country, "is not a country known to holidays")
    if subdiv is not None and subdiv not in supported[country]:
        raise ValidationError("subdiv", subdiv, f"is not a subdivision of {country}")
    try:
        entity: HolidayBase = holidays.country_holidays(
            country, subdiv=subdiv, years=years, categories=categories
        )
    except ValueError as error:  # an unsupported category
        raise ValidationError("categories", categories, str(error)) from None
    return entity


def _open_holidays_calendar(options: Options) -> BusinessCalendar:
    """Factory of the ``holidays`` calendar from its configuration options."""
    first = options.integer("first_year", minimum=1)
    last = options.integer("last_year", minimum=first)
    try:
        return calendar_from_holidays(
            options.text("country"),
            range(first, last + 1),
            time_zone=options.text("time_zone"),
            subdiv=options.text("subdivision", None),
        )
    except ValidationError as error:
        key = options.key("subdivision" if error.field == "subdiv" else error.field)
        raise ConfigError(f"{key}: {error.value!r} {error.reason}") from None


@hookimpl
def crmcore_register_calendars(register: Callable[[str, CalendarFactory], None]) -> None:
    """Register the business calendar ``holidays``."""
    register("holidays", _open_holidays_calendar)


__all__ = [
    "DEFAULT_HOURS",
    "MINIMUM_HOLIDAYS_VERSION",
    "calendar_from_holidays",
    "crmcore_register_calendars",
]

