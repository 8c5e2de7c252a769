"""A database written by crmcore 0.1 opens and works with this release (ADR 0007).

``tests/data/crmcore-0.1.db`` was written by the 0.1 release (commit d4e68d7):
``crmcore demo --customers 25``, ``lifecycle advance`` and two stored
pareto-abc grading runs.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.book import read_customers, read_purchases
from crmcore.cli import main
from crmcore.grading.columns import TransactionColumns
from crmcore.model.registry import registered_entity_types
from crmcore_plugins.storage_sqlite import SCHEMA_VERSION

RELEASED = Path(__file__).parent / "data" / "crmcore-0.1.db"


@pytest.fixture
def released_db(tmp_path: Path) -> Path:
    copy = tmp_path / "released.db"
    shutil.copy(RELEASED, copy)
    return copy


def test_released_database_upgrades_and_every_stored_record_still_reads(
        released_db: Path) -> None:
    with CRM.open("sqlite", path=str(released_db)) as crm:
        assert crm.storage.schema_version() == SCHEMA_VERSION
        assert crm.count(Customer) == 25
        for entity_type in registered_entity_types():
            found = crm.find(entity_type.cls)
            assert len(found) == crm.count(entity_type.cls), entity_type.kind
            with crm.storage.transaction() as session:
                scanned = [i for chunk in session.scan(entity_type.kind, {"id": "text"})
                           for i in chunk["id"]]
            assert sorted(scanned) == sorted(e.id for e in found), entity_type.kind


def test_released_book_reads_as_the_same_columns_as_its_entities(released_db: Path) -> None:
    with CRM.open("sqlite", path=str(released_db)) as crm:
        with crm.storage.transaction() as session:
            customers = read_customers(session)
            columns = read_purchases(session, customers=customers, fast=False)
        reference = TransactionColumns.from_transactions(
            crm.find(Transaction), sorted(crm.find(Customer), key=lambda c: c.id))

    def rows(table: TransactionColumns) -> list[tuple[str, int, int, int]]:
        return sorted(zip([table.ids[code] for code in table.customer], table.at_us,
                          table.amount_cents, table.cost_cents or [], strict=True))

    assert columns.ids == reference.ids
    assert rows(columns) == rows(reference)
    assert columns.attributes == reference.attributes
    assert columns.acquired_us == reference.acquired_us


def test_the_daily_run_works_on_a_released_database(
        released_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_of = datetime(2026, 7, 31, tzinfo=UTC).isoformat()
    assert main(["run", "--db", str(released_db), "--as-of", as_of]) == 0
    assert "ran grade, lifecycle, escalate, problems, agenda, deliver" in capsys.readouterr().out
    assert main(["run", "--db", str(released_db), "--as-of", as_of]) == 0
    assert "already done" in capsys.readouterr().out
