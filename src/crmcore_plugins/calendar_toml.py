"""Business calendars from plain-data TOML files.

Registered as the business calendar ``toml`` with the option ``path``: a file
in the format of :mod:`crmcore.service.calendar_data` (working hours per
weekday, holidays, make-up working days, a time zone). A relative path is
taken from the configuration file's folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crmcore.errors import ConfigError
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import CalendarFactory
from crmcore.service.calendar import BusinessCalendar
from crmcore.service.calendar_data import calendar_from_toml


def open_toml_calendar(options: Options) -> BusinessCalendar:
    """Factory for ``toml``: reads the calendar file named by option ``path``."""
    path = Path(options.path("path"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(tr("{key}: {error}").format(key=options.key("path"), error=tr(
            "cannot read {path!r}: {error}").format(path=str(path),
                                                    error=error.strerror))) from None
    try:
        return calendar_from_toml(text)
    except ConfigError as error:
        raise ConfigError(tr("{path}: {error}").format(path=path, error=error)) from None


@hookimpl
def crmcore_register_calendars(register: Callable[[str, CalendarFactory], None]) -> None:
    """Register the ``toml`` calendar."""
    register("toml", open_toml_calendar)
