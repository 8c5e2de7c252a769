"""The daily run: the day's work on a stored book in one resumable, idempotent call.

Public names are imported from their modules when first used, so reading a stored
agenda (:func:`stored_agenda`) does not import every capability the run drives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcore._lazy import lazy_exports

if TYPE_CHECKING:
    from crmcore.daily.agenda_read import stored_agenda
    from crmcore.daily.agenda_store import store_agendas
    from crmcore.daily.records import AgendaSnapshot, DailyRunRecord, StepOutcome
    from crmcore.daily.run import STEP_NAMES, DailyRunReport, RunSettings, run_daily

_EXPORTS: dict[str, tuple[str, ...]] = {
    "crmcore.daily.agenda_read": ("stored_agenda",),
    "crmcore.daily.agenda_store": ("store_agendas",),
    "crmcore.daily.records": ("AgendaSnapshot", "DailyRunRecord", "StepOutcome"),
    "crmcore.daily.run": ("STEP_NAMES", "DailyRunReport", "RunSettings", "run_daily"),
}
_MODULE_OF, __getattr__, __dir__ = lazy_exports("crmcore.daily", _EXPORTS, globals())


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
