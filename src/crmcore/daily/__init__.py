"""The daily run: the day's work on a stored book in one resumable, idempotent call."""

from crmcore.daily.agenda_store import store_agendas, stored_agenda
from crmcore.daily.records import AgendaSnapshot, DailyRunRecord, StepOutcome
from crmcore.daily.run import (
    STEP_NAMES,
    DailyRunReport,
    RunSettings,
    run_daily,
)

__all__ = [
    "STEP_NAMES",
    "AgendaSnapshot",
    "DailyRunRecord",
    "DailyRunReport",
    "RunSettings",
    "StepOutcome",
    "run_daily",
    "store_agendas",
    "stored_agenda",
]
