"""Build a :class:`~crmcore.service.calendar.BusinessCalendar` from plain data or TOML.

The document format (a mapping with the same keys when plain data)::

    name = "cn-office"
    time_zone = "Asia/Shanghai"                  # an IANA time zone
    holidays = [2026-10-01, "2026-10-02"]        # TOML dates or "YYYY-MM-DD" texts

    [week]                                       # weekdays left out are not worked
    monday = ["09:00-12:00", "13:00-18:00"]
    friday = ["09:00-12:00", "13:00-18:00", "22:00-06:00"]   # runs past midnight
    sunday = ["18:00-24:00"]                     # 24:00 is the midnight ending the day
                                                 # ("00:00-24:00" is the whole day)

    [[extra_working_days]]                       # a make-up working day (调休)
    date = "2026-09-27"
    hours = ["09:00-12:00", "13:00-18:00"]

    [[extra_working_days]]
    date = 2026-10-11
    like_weekday = "friday"                      # worked with Friday's hours

``name``, ``time_zone`` and ``week`` are required; in TOML, top-level keys must come
before the ``[week]`` table. A bad document raises :class:`~crmcore.errors.ConfigError`
naming the key path and the value, e.g.
``week.monday[1]: '25:00-26:00' is not a time range HH:MM-HH:MM``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.service.calendar import BusinessCalendar, ExtraWorkingDay

_KEYS = ("name", "time_zone", "week", "holidays", "extra_working_days")
_REQUIRED = ("name", "time_zone", "week")
_EXTRA_KEYS = ("date", "hours", "like_weekday")


def calendar_from_toml(text: str) -> BusinessCalendar:
    """Parse a TOML calendar document (see the module for the format)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("calendar document is not valid TOML: {error}").format(
            error=error)) from None
    return calendar_from_mapping(data)


def calendar_from_mapping(data: Mapping[str, Any]) -> BusinessCalendar:
    """Build a calendar from a mapping shaped like the TOML document."""
    if not isinstance(data, Mapping):
        raise ConfigError(tr("calendar document: {value!r} is not a table").format(value=data))
    _check_keys(data, _KEYS, _REQUIRED, "")
    try:
        return BusinessCalendar(
            name=data["name"],
            time_zone=data["time_zone"],
            week=data["week"],
            holidays=data.get("holidays", ()),
            extra_working_days=_extra_days(data.get("extra_working_days", [])),
        )
    except ValidationError as error:
        raise ConfigError(str(error)) from None


def _check_keys(
    table: Mapping[str, Any], known: tuple[str, ...], required: tuple[str, ...], path: str
) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(tr("{key}: is not a known key (known: {known})").format(
                key=f"{path}{key}", known=", ".join(known)))
    for key in required:
        if key not in table:
            raise ConfigError(tr("{key}: is required").format(key=f"{path}{key}"))


def _extra_days(items: object) -> list[ExtraWorkingDay]:
    if not isinstance(items, list | tuple):
        raise ValidationError("extra_working_days", items, "is not a list of tables")
    return [_extra_day(item, f"extra_working_days[{i}]") for i, item in enumerate(items)]


def _extra_day(item: object, path: str) -> ExtraWorkingDay:
    if not isinstance(item, Mapping):
        raise ValidationError(path, item, "is not a table with date and hours or like_weekday")
    _check_keys(item, _EXTRA_KEYS, ("date",), f"{path}.")
    try:
        return ExtraWorkingDay(
            day=item["date"], hours=item.get("hours", ()), like_weekday=item.get("like_weekday")
        )
    except ValidationError as error:
        if error.field == "day":  # the field is called ``date`` in documents
            error = ValidationError("date", error.value, error.reason)
        raise error.at(path) from None
