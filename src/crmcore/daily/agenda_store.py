"""Each owner's agenda, materialised by the daily run and read back in one look-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from crmcore.app import CRM
from crmcore.daily.records import AGENDA_SNAPSHOT, AgendaSnapshot
from crmcore.unit_of_work import to_record


def store_agendas(crm: CRM, items: Sequence[Any], *, as_of: datetime) -> int:
    """Replace every owner's stored agenda with ``items`` (agenda items, in order).

    Owners with nothing due get no snapshot (an earlier one is removed), so
    a stored snapshot is always the latest run's. Returns the owner count.
    """
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_owner[item.owner].append(item.as_dict())
    snapshots = [AgendaSnapshot(owner, owner, as_of, tuple(rows))
                 for owner, rows in sorted(by_owner.items())]
    with crm.storage.transaction() as session:
        stored = {stored_id for chunk in session.scan(AGENDA_SNAPSHOT.kind, {"id": "text"})
                  for stored_id in chunk["id"]}
        session.delete_many(AGENDA_SNAPSHOT.kind, sorted(stored))
        session.insert_many([to_record(snapshot) for snapshot in snapshots])
    return len(snapshots)


def stored_agenda(crm: CRM, owner: str) -> tuple[datetime, list[dict[str, Any]]] | None:
    """The agenda the last daily run stored for ``owner``: its ``as_of`` and items.

    None when no run stored one (the owner had nothing due, or no run yet).
    Reads the stored JSON as it is: one indexed look-up, no per-item decoding.
    """
    with crm.storage.transaction() as session:
        record = session.get(AGENDA_SNAPSHOT.kind, owner)
    if record is None:
        return None
    return datetime.fromisoformat(record.body["as_of"]), list(record.body["items"])
