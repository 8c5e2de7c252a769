"""Service policies (CCPR, rules S1-S8): business calendars for SLA clocks.

:class:`BusinessCalendar` measures and adds working time in a team's local time
(rules S3, S4); :func:`calendar_from_mapping` and :func:`calendar_from_toml` build one
from a configuration document.
"""

from crmcore.service.calendar import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    ExtraWorkingDay,
    WorkingInterval,
)
from crmcore.service.calendar_data import calendar_from_mapping, calendar_from_toml

__all__ = [
    "WEEKDAY_NAMES",
    "BusinessCalendar",
    "ExtraWorkingDay",
    "WorkingInterval",
    "calendar_from_mapping",
    "calendar_from_toml",
]
