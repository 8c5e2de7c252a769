"""The daily run: the day's work on a stored book in one resumable, idempotent call.

Public names are imported from their modules when first used, so reading a stored
agenda (:func:`stored_agenda`) does not import every capability the run drives.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmcore.daily.agenda_store import store_agendas, stored_agenda
    from crmcore.daily.records import AgendaSnapshot, DailyRunRecord, StepOutcome
    from crmcore.daily.run import STEP_NAMES, DailyRunReport, RunSettings, run_daily

_EXPORTS: dict[str, tuple[str, ...]] = {
    "crmcore.daily.agenda_store": ("store_agendas", "stored_agenda"),
    "crmcore.daily.records": ("AgendaSnapshot", "DailyRunRecord", "StepOutcome"),
    "crmcore.daily.run": ("STEP_NAMES", "DailyRunReport", "RunSettings", "run_daily"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (and cache it here)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'crmcore.daily' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


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
