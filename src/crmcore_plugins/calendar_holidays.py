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
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.calendars import REGION_CODE
from crmcore.errors import ConfigError, PluginError, ValidationError
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
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
        raise PluginError(tr("the 'holidays' calendar needs the holidays package: pip install "
                             "'crmcore[holidays]'")) from None
    installed = str(getattr(holidays, "__version__", "unknown"))
    if _release(installed) < _release(MINIMUM_HOLIDAYS_VERSION):
        raise ConfigError(
            tr("the 'holidays' calendar needs holidays>={minimum} (older releases get China's "
               "holidays and make-up days wrong), but holidays {installed} is installed: pip "
               "install -U 'crmcore[holidays]'").format(minimum=MINIMUM_HOLIDAYS_VERSION,
                                                        installed=installed))
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


def split_region(code: str) -> tuple[str, str | None]:
    """``"DE-BY"`` as ``("DE", "BY")``, checked against ``holidays``' countries and
    subdivisions; :class:`~crmcore.errors.ValidationError` naming ``calendar`` and
    listing what is available otherwise."""
    match = REGION_CODE.fullmatch(code.strip())
    supported = _holidays_package().list_supported_countries()
    if match is None or match[1].upper() not in supported:
        two_letter = sorted(country for country in supported if len(country) == 2)
        raise ValidationError("calendar", code, "is not a country code known to holidays "
                                                f"(available: {', '.join(two_letter)})")
    country, subdiv = match[1].upper(), match[2].upper() if match[2] else None
    if subdiv is not None and subdiv not in supported[country]:
        listed = ", ".join(supported[country]) or "none"
        raise ValidationError("calendar", code, f"is not a subdivision of {country} "
                                                f"(available: {listed})")
    return country, subdiv


@attrs.frozen
class OfficialCalendar:
    """A country's official calendar over ``years`` and what its data covers.

    ``data_version`` is the ``holidays`` release; ``announced_through`` the last year
    of the government's published schedule (make-up working days) in that release,
    or None for a country whose calendar follows fixed rules only. Years after it
    have rule-based holidays without make-up days: :meth:`years_beyond_data`.
    """

    calendar: BusinessCalendar
    code: str
    data_version: str
    announced_through: int | None
    years: tuple[int, ...]

    def years_beyond_data(self, years: Iterable[int] | None = None) -> list[int]:
        """Which of ``years`` (default: the covered ones) the data has no schedule for."""
        last = self.announced_through
        return [] if last is None else sorted(y for y in set(years or self.years) if y > last)

    def describe(self) -> str:
        """``official calendar CN (holidays 0.109, schedule announced through 2026)``."""
        through = "" if self.announced_through is None else \
            f", schedule announced through {self.announced_through}"
        return f"official calendar {self.code} (holidays {self.data_version}{through})"


def official_calendar(code: str, years: Iterable[int], *, time_zone: str,
                      hours: Sequence[WorkingInterval | str] = DEFAULT_HOURS
                      ) -> OfficialCalendar:
    """The official calendar of country (or subdivision) ``code`` over ``years``, with
    the make-up working days of the installed ``holidays`` release (China's 调休).

    The calendar's name carries the code and the data's version
    (``holidays-CN@0.109``); a country with make-up days gets ``announced_through``,
    the last year whose schedule the release holds.
    """
    country, subdiv = split_region(code)
    wanted = tuple(sorted(set(years)))
    version = str(_holidays_package().__version__)
    region = "-".join((country, *([subdiv] if subdiv else [])))
    calendar = calendar_from_holidays(country, wanted, time_zone=time_zone, subdiv=subdiv,
                                      hours=hours, name=f"holidays-{region}@{version}")
    probe = _entity(country, subdiv, list(range(min(wanted), max(wanted) + 1)), None)
    scheduled = {day.year for day in probe.weekend_workdays}
    announced = None
    if scheduled:
        special = set(getattr(probe, "special_public_holidays", {}) or {})
        announced = max(scheduled | special)
    return OfficialCalendar(calendar, region, version, announced, wanted)


def holiday_names(code: str, years: Iterable[int]) -> list[tuple[date, str, str]]:
    """Every holiday of country (or subdivision) ``code`` in ``years``: its date, its
    name in the country's language and in English (``"春节"``, ``"Chinese New Year
    (Spring Festival)"``)."""
    country, subdiv = split_region(code)
    holidays = _holidays_package()
    wanted = sorted(set(years))
    language = holidays.country_holidays(country, subdiv=subdiv).default_language
    own = holidays.country_holidays(country, subdiv=subdiv, years=wanted, language=language)
    english = holidays.country_holidays(country, subdiv=subdiv, years=wanted, language="en_US")
    return [(day, str(name), str(english.get(day, name))) for day, name in sorted(own.items())]


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
        raise ConfigError(tr("{field}: {value!r} {reason}").format(
            field=key, value=error.value, reason=tr(error.reason))) from None


@hookimpl
def crmcore_register_calendars(register: Callable[[str, CalendarFactory], None]) -> None:
    """Register the business calendar ``holidays``."""
    register("holidays", _open_holidays_calendar)


__all__ = [
    "DEFAULT_HOURS",
    "MINIMUM_HOLIDAYS_VERSION",
    "OfficialCalendar",
    "calendar_from_holidays",
    "crmcore_register_calendars",
    "holiday_names",
    "official_calendar",
    "split_region",
]

