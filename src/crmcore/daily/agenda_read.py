"""Reading an owner's materialised agenda: one indexed look-up, nothing else imported.

Kept apart from :mod:`crmcore.daily.records` and :mod:`crmcore.daily.agenda_store`
so that ``crmcore agenda --owner NAME`` imports neither the domain model nor the
converter: only the storage backend's look-up runs (issue 10: the read must cost
well under 100 ms beyond start-up).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmcore.app import CRM

AGENDA_SNAPSHOT_KIND = "agenda_snapshot"
"""The stored kind of :class:`~crmcore.daily.records.AgendaSnapshot`."""


def stored_agenda(crm: CRM, owner: str) -> tuple[datetime, list[dict[str, Any]]] | None:
    """The agenda the last daily run stored for ``owner``: its ``as_of`` and items.

    None when no run stored one (the owner had nothing due, or no run yet).
    Reads the stored JSON as it is: one indexed look-up, no per-item decoding.
    """
    with crm.storage.transaction() as session:
        record = session.get(AGENDA_SNAPSHOT_KIND, owner)
    if record is None:
        return None
    return datetime.fromisoformat(record.body["as_of"]), list(record.body["items"])
