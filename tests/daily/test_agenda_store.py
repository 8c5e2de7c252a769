"""Agenda snapshots: written in batches, replaced whole by the next run (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crmcore import CRM
from crmcore.daily import store_agendas, stored_agenda
from crmcore.daily.agenda_store import SNAPSHOTS_PER_BATCH
from crmcore.daily.records import AgendaSnapshot
from crmcore.policies import ActionKind, AgendaItem
from crmcore.serialization import unstructure

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def items(owners: int) -> list[AgendaItem]:
    """Two items for each of ``owners`` owners."""
    return [AgendaItem(f"owner-{n:04d}", kind, f"C{n}", f"customer:C{n}",
                       AS_OF - timedelta(days=n), "A", f"why {n}")
            for n in range(owners) for kind in (ActionKind.CONTACT, ActionKind.GREETING)]


def test_more_owners_than_a_batch_are_all_stored_and_the_next_run_replaces_them(
        tmp_path: Path) -> None:
    owners = 2 * SNAPSHOTS_PER_BATCH + 3
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        assert store_agendas(crm, items(owners), as_of=AS_OF) == owners
        for n in (0, SNAPSHOTS_PER_BATCH, owners - 1):
            assert stored_agenda(crm, f"owner-{n:04d}") == (
                AS_OF, [item.as_dict() for item in items(owners)[2 * n:2 * n + 2]])
        stored = crm.get(AgendaSnapshot, "owner-0001")  # the converter reads what was written
        assert stored is not None
        assert unstructure(stored)["items"] == [item.as_dict() for item in items(2)[2:]]

        later = AS_OF + timedelta(days=1)
        assert store_agendas(crm, items(2), as_of=later) == 2
        assert stored_agenda(crm, "owner-0001") is not None
        assert stored_agenda(crm, f"owner-{owners - 1:04d}") is None
        assert crm.count(AgendaSnapshot) == 2
