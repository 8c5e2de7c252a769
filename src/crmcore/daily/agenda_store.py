"""Each owner's agenda, materialised by the daily run (read back by
:func:`~crmcore.daily.agenda_read.stored_agenda`, re-exported here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.daily.agenda_read import stored_agenda
from crmcore.daily.records import AGENDA_SNAPSHOT, AgendaSnapshot
from crmcore.ports import StoredRecord
from crmcore.unit_of_work import to_record

__all__ = ["SNAPSHOTS_PER_BATCH", "store_agendas", "stored_agenda"]

SNAPSHOTS_PER_BATCH = 500
"""Owners' snapshots written per ``insert_many`` (one transaction for all batches)."""


def store_agendas(crm: CRM, items: Sequence[Any], *, as_of: datetime) -> int:
    """Replace every owner's stored agenda with ``items`` (agenda items, in order).

    Owners with nothing due get no snapshot (an earlier one is removed), so
    a stored snapshot is always the latest run's. Snapshots are written in
    batches of :data:`SNAPSHOTS_PER_BATCH`, all in one transaction; the items
    go into the stored body as their JSON form, not through the converter.
    Returns the owner count.
    """
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_owner[item.owner].append(item.as_dict())
    owners = sorted(by_owner)
    with crm.storage.transaction() as session:
        stored = {stored_id for chunk in session.scan(AGENDA_SNAPSHOT.kind, {"id": "text"})
                  for stored_id in chunk["id"]}
        session.delete_many(AGENDA_SNAPSHOT.kind, sorted(stored))
        for start in range(0, len(owners), SNAPSHOTS_PER_BATCH):
            session.insert_many([_snapshot_record(owner, by_owner[owner], as_of)
                                 for owner in owners[start:start + SNAPSHOTS_PER_BATCH]])
    return len(owners)


def _snapshot_record(owner: str, rows: list[dict[str, Any]], as_of: datetime) -> StoredRecord:
    """The stored record of ``owner``'s :class:`AgendaSnapshot`: its empty snapshot's
    record (the converter writes the fields) holding ``rows`` as its items."""
    record = to_record(AgendaSnapshot(owner, owner, as_of))
    return attrs.evolve(record, body={**record.body, "items": rows})
