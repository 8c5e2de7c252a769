"""The storage contract on the ``sqlite`` backend (file and ``:memory:``), and its schema."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmcore import StorageError
from crmcore.ports import StoredRecord
from crmcore.testing import StorageContract, make_domain_event
from crmcore_plugins.storage_sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStorage

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class TestSqliteStorage(StorageContract):
    """:class:`~crmcore_plugins.storage_sqlite.SqliteStorage` meets the storage contract."""

    @pytest.fixture(params=["file", "memory"])
    def storage(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStorage]:
        backend = SqliteStorage(tmp_path / "crm.db" if request.param == "file" else ":memory:")
        yield backend
        backend.close()


THING_HOT_FIELDS = ("id", "version", "name", "n", "x", "amount", "when", "tags", "prefs", "flag")
"""Every body field the contract's examples use, so each is read from a hot column (ADR 0009)."""


class TestSqliteDedicatedTables(StorageContract):
    """The contract again with the kinds it uses in tables of their own, hot fields and all."""

    @pytest.fixture(params=["file", "memory"])
    def storage(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStorage]:
        backend = SqliteStorage(tmp_path / "crm.db" if request.param == "file" else ":memory:",
                                dedicated_kinds={"thing": THING_HOT_FIELDS, "other": ("n",)})
        yield backend
        backend.close()


def _record(entity_id: str) -> StoredRecord:
    return StoredRecord("thing", entity_id, 1, "C1", AT, {"id": entity_id, "n": [1, 2.5]})


def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    event = make_domain_event()
    storage = SqliteStorage(path)
    with storage.transaction() as session:
        session.insert(_record("R1"))
        session.subscribe("log")
        session.append_events([event])
    storage.close()

    reopened = SqliteStorage(path)
    try:
        with reopened.transaction() as session:
            assert session.get("thing", "R1") == _record("R1")
            assert [entry.event for entry in session.events()] == [event]
            pending = session.pending_deliveries("log", now=AT, limit=10)
            assert [p.entry.event for p in pending] == [event]
    finally:
        reopened.close()


def test_schema_is_upgraded_from_version_1(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO records (kind, id, version, customer_id, at, body) VALUES (?, ?, ?, ?, ?, ?)",
        ("thing", "R1", 1, "C1", "2026-01-05T09:00:00.000000+00:00",
         json.dumps({"id": "R1", "n": [1, 2.5]})),
    )
    db.commit()
    db.close()

    storage = SqliteStorage(path)
    try:
        assert storage.schema_version() == SCHEMA_VERSION
        event = make_domain_event()
        with storage.transaction() as session:
            assert session.get("thing", "R1") == _record("R1")
            session.append_events([event])
        with storage.transaction() as session:
            assert [entry.event for entry in session.events()] == [event]
    finally:
        storage.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    newer = SCHEMA_VERSION + 1
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {newer}")
    db.close()

    with pytest.raises(StorageError, match=f"schema version {newer}"):
        SqliteStorage(path)

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == newer
    finally:
        db.close()
