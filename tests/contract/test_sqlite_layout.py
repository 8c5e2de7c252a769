"""The SQLite backend's tables of their own for high-volume kinds (ADR 0009).

The contract suite runs on dedicated tables too (``test_storage_sqlite.py``);
these tests add what it cannot see: random bodies whose hot fields hold every
JSON type, the ``id``/``customer_id`` mirrors, the remembered ``rest`` texts,
and the upgrade of a version-2 database, whose rows move out of ``records``.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import CRM, Transaction
from crmcore.columns import records_as_columns
from crmcore.ports import ColumnType, StoredRecord
from crmcore.serialization import dump_json
from crmcore.testing.strategies import json_values
from crmcore.unit_of_work import to_record
from crmcore_plugins.sqlite_layout import (
    _AT_MICROS,
    ALL_RECORDS_VIEW,
    DEDICATED_KINDS,
    SHARED_TABLE,
    DedicatedLayout,
    parse_utc,
)
from crmcore_plugins.storage_sqlite import MIGRATIONS, SqliteStorage

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOT = ("a", "b", "id", "customer_id")
_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    backend = SqliteStorage(tmp_path / "crm.db", dedicated_kinds={"hot": HOT})
    yield backend
    backend.close()


_BODIES = st.dictionaries(st.sampled_from(["a", "b", "c", "id", "customer_id"]),
                          st.one_of(json_values(), st.sampled_from(["R", "C1"])), max_size=5)


def _exact(record: StoredRecord | None) -> tuple[Any, ...] | None:
    """A record with its body as JSON text: ``True == 1`` in Python, not in JSON."""
    if record is None:
        return None
    return (record.kind, record.id, record.version, record.customer_id, record.at,
            dump_json(record.body))


@given(body=_BODIES, changed=_BODIES)
@_SETTINGS
def test_any_body_in_a_dedicated_table_reads_back_equal(
        storage: SqliteStorage, body: dict[str, Any], changed: dict[str, Any]) -> None:
    """Hot fields of any JSON type, mirrored or not, read back exactly, after update too."""
    entity_id = uuid.uuid4().hex
    record = StoredRecord("hot", entity_id, 1, "C1", AT, {**body, "id": body.get("id", "R")})
    with storage.transaction() as session:
        session.insert_many([record])
    with storage.transaction() as session:
        assert _exact(session.get("hot", entity_id)) == _exact(record)
        assert [_exact(r) for r in session.get_many("hot", [entity_id]).values()] == [
            _exact(record)]
        assert [_exact(r) for r in session.query("hot", customer_id="C1")
                if r.id == entity_id] == [_exact(record)]
    assert _viewed(storage, entity_id) == _exact(record)
    newer = StoredRecord("hot", entity_id, 2, "C2", None, changed)
    with storage.transaction() as session:
        session.update_many([(newer, 1)])
    with storage.transaction() as session:
        assert _exact(session.get("hot", entity_id)) == _exact(newer)
    assert _viewed(storage, entity_id) == _exact(newer)


_HOT_VALUES = st.one_of(json_values(), st.sampled_from(["R", "C1"]),
                        st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, True, 1.0]))


@given(body=st.dictionaries(st.sampled_from(["a", "b", "c", "id", "customer_id"]),
                            _HOT_VALUES, max_size=5),
       customer_id=st.sampled_from(["C1", "C2"]))
def test_generated_row_encoder_equals_the_reference_loop(body: dict[str, Any],
                                                         customer_id: str) -> None:
    """The row a dedicated table writes comes from an encoder generated per layout: it gives
    exactly the parameters of the plain loop, for every hot-field type and mirror case."""
    layout = DedicatedLayout.for_kind("hot", HOT)
    record = StoredRecord("hot", "R", 3, customer_id, AT, body)
    fast, reference = layout.row(record), layout.row_reference(record)
    assert [(type(value), value) for value in fast] == \
        [(type(value), value) for value in reference]
    assert record.body == body  # the caller's body is not changed


@given(body=st.dictionaries(st.sampled_from(["a", "b", "c", "id", "customer_id"]),
                            _HOT_VALUES, max_size=5),
       customer_id=st.sampled_from(["C1", "C2"]))
def test_rows_encoder_equals_the_record_encoder(body: dict[str, Any], customer_id: str) -> None:
    """``insert_rows`` encodes ``(id, version, customer_id, at, *values)`` with an encoder
    generated per field list: the same parameters as :meth:`DedicatedLayout.row` of the
    record, whichever fields the body has, for every hot-field type and mirror case."""
    layout = DedicatedLayout.for_kind("hot", HOT)
    record = StoredRecord("hot", "R", 3, customer_id, AT, body)
    fields = tuple(body)
    fast = layout.row_encoder(fields)(("R", 3, customer_id, AT, *body.values()))
    assert [(type(value), value) for value in fast] == \
        [(type(value), value) for value in layout.row(record)]


def test_rows_encoder_refuses_a_field_named_twice() -> None:
    with pytest.raises(ValueError, match=r"name a field twice"):
        DedicatedLayout.for_kind("hot", HOT).row_encoder(("a", "a"))


def _viewed(storage: SqliteStorage, entity_id: str) -> tuple[Any, ...]:
    """A record as the ``all_records`` view shows it to someone reading the file with SQL."""
    reader = sqlite3.connect(storage.path)
    try:
        kind, found_id, version, customer_id, at, body = reader.execute(
            f"SELECT * FROM {ALL_RECORDS_VIEW} WHERE id = ?", (entity_id,)).fetchone()
    finally:
        reader.close()
    return (kind, found_id, version, customer_id, parse_utc(at), dump_json(json.loads(body)))


@given(bodies=st.lists(_BODIES, max_size=6))
@_SETTINGS
def test_scan_of_a_dedicated_table_equals_the_reference(
        storage: SqliteStorage, bodies: list[dict[str, Any]]) -> None:
    """Every column type of every field equals :func:`crmcore.columns.records_as_columns`."""
    kind = "hot"
    with storage.transaction() as session:
        session.delete_many(kind, [r.id for r in session.query(kind)])
        session.insert_many([StoredRecord(kind, f"R{n}", 1, "C1", AT, body)
                             for n, body in enumerate(bodies)])
    for column_type in ("text", "json", "integer", "real", "decimal"):
        columns: dict[str, ColumnType] = {"id": "text", **dict.fromkeys("abc", column_type)}
        try:
            with storage.transaction() as session:
                expected = _rows(records_as_columns(session.query(kind), columns, 100))
        except (ValueError, TypeError, ArithmeticError):
            continue  # the reference cannot read these values as this type
        with storage.transaction() as session:
            assert _rows(session.scan(kind, columns)) == expected, column_type


def _rows(chunks: Any) -> list[tuple[Any, ...]]:
    return sorted(row for chunk in chunks for row in zip(*chunk.values(), strict=True))


def test_remembered_rest_texts_keep_true_apart_from_one(storage: SqliteStorage) -> None:
    """``True == 1`` in Python; the remembered JSON of ``rest`` must not confuse them."""
    records = [StoredRecord("hot", f"R{key}{n}", 1, "C1", AT, {key: value, "d": None})
               for key in ("a", "c")
               for n, value in enumerate([1, True, 1.0, "1", None, 1, False, 0])]
    with storage.transaction() as session:
        session.insert_many(records)
    with storage.transaction() as session:
        assert [_exact(session.get("hot", r.id)) for r in records] == list(
            map(_exact, records))


_REST_VALUES = st.one_of(st.none(), st.sampled_from(["1", "", "x"]), st.sampled_from(
    [1, 0, True, False, 1.0, 0.0, -0.0]), st.lists(st.none(), max_size=1),
                         st.dictionaries(st.just("k"), st.none(), max_size=1))


@given(rests=st.lists(st.dictionaries(st.sampled_from(["a", "b"]), _REST_VALUES), max_size=12))
@settings(max_examples=200, deadline=None)
def test_remembered_rest_texts_equal_the_json_of_each_rest(rests: list[dict[str, Any]]) -> None:
    """Whatever was remembered before (``1``, ``True``, ``"1"``, ``[None]``...), the text of
    ``rest`` is its own JSON."""
    layout = DedicatedLayout.for_kind("hot", ("a",))
    for rest in rests:
        assert layout._rest_text(dict(rest)) == dump_json(rest)


def test_reads_return_bodies_the_caller_may_change(storage: SqliteStorage) -> None:
    """Two reads of one remembered ``rest`` are two dicts: changing one leaves the other."""
    record = StoredRecord("hot", "R1", 1, "C1", AT, {"c": "x"})
    with storage.transaction() as session:
        session.insert(record)
    with storage.transaction() as session:
        first = session.get("hot", "R1")
        assert first is not None
        cast(dict[str, Any], first.body)["c"] = "changed"
        assert session.get("hot", "R1") == record


def test_a_version_2_database_moves_high_volume_kinds_to_their_tables(tmp_path: Path) -> None:
    """Opening a database of schema 2 moves transactions out of ``records``, reading equal."""
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    # Write through a backend frozen at version 2's layout: every kind in ``records``.
    transactions = [Transaction(id=f"t{n}", customer_id="C1", occurred_at=AT,
                                amount=Decimal(f"{n}.50"), quantity=n) for n in range(5)]
    old = sqlite3.connect(path)
    old.executemany(
        f"INSERT INTO {SHARED_TABLE} (kind, id, version, customer_id, at, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [("transaction", t.id, 1, t.customer_id, "2026-01-05T09:00:00.000000+00:00",
          json.dumps(to_record(t).body)) for t in transactions])
    old.commit()
    old.close()
    with CRM.open("sqlite", path=str(path)) as crm:
        assert sorted(crm.find(Transaction), key=lambda t: t.id) == transactions
    check = sqlite3.connect(path)
    try:
        assert check.execute(f"SELECT COUNT(*) FROM {SHARED_TABLE}").fetchone()[0] == 0
        tables = dict(check.execute("SELECT kind, table_name FROM kind_tables").fetchall())
        assert set(tables) == set(DEDICATED_KINDS)
        assert check.execute(f'SELECT COUNT(*) FROM "{tables["transaction"]}"').fetchone()[
            0] == 5
    finally:
        check.close()


_STRFTIME_MICROS = ("(CAST(strftime('%s', substr(?1, 1, 19)) AS INTEGER) * 1000000"
                    " + CAST(substr(?1, 21, 6) AS INTEGER))")
"""The ``at`` expression of ADR 0009 before issue 10 (``strftime``): the reference."""


@given(st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                 timezones=st.just(UTC)).map(lambda moment: moment.isoformat(
                     timespec="microseconds")),
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat(
        sep=" ", timespec="microseconds")),
    st.none(), st.text(max_size=32)))
def test_the_at_index_reads_as_the_strftime_expression_did(at: str | None) -> None:
    """Issue 10: ``unixepoch`` reads the ``at`` index's whole seconds (years 1-9999, the
    space SQLAlchemy writes, no time, text that is no time) as ``strftime('%s')`` did."""
    connection = sqlite3.connect(":memory:")
    ours = _AT_MICROS.replace("substr(at,", "substr(?1,")
    found = connection.execute(f"SELECT {ours}, {_STRFTIME_MICROS}", (at,)).fetchone()
    connection.close()
    assert found[0] == found[1]


@pytest.mark.parametrize("kind", ["hot", "shared"])
def test_a_text_holding_nul_scans_whole(storage: SqliteStorage, kind: str) -> None:
    """SQLite's ``->>`` ends a JSON string at a NUL; the scan must give the whole text, as
    :meth:`get` does, and leave a text that merely spells ``\\u0000`` alone."""
    bodies = [{"c": "a\x00b", "a": "\x00"}, {"c": "a\\u0000b"}, {"c": "plain"}]
    with storage.transaction() as session:
        session.insert_many([StoredRecord(kind, f"R{n}", 1, "C1", AT, body)
                             for n, body in enumerate(bodies)])
    columns: dict[str, ColumnType] = {"id": "text", "a": "text", "c": "text"}
    with storage.transaction() as session:
        assert _rows(session.scan(kind, columns)) == [
            ("R0", "\x00", "a\x00b"), ("R1", None, "a\\u0000b"), ("R2", None, "plain")]
