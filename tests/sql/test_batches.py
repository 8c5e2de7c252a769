"""The ``sql`` backend's own side of the batch methods: streaming, time zones, loading.

The storage contract (``test_storage_contract.py``) checks what every backend
must do; these tests check how this one does it on a real PostgreSQL server
and SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
import sqlalchemy as sa

from crmcore import DuplicateError, StorageError
from crmcore.columns import micros_of, records_as_columns
from crmcore.ports import REDACTED_ERROR, ColumnType, StoredRecord
from crmcore.serialization import dump_json
from crmcore.testing import make_domain_event
from crmcore_plugins.storage_sql import COPY_THRESHOLD, SqlStorage

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _record(entity_id: str, *, at: datetime | None = T0, **body: object) -> StoredRecord:
    return StoredRecord("thing", entity_id, 1, "C1", at, {"id": entity_id, **body})


@pytest.fixture
def postgres(postgres_url: str, pg_schema: str) -> Iterator[SqlStorage]:
    storage = SqlStorage(postgres_url, schema=pg_schema, pool_size=1)
    yield storage
    storage.close()


@pytest.fixture
def storage(sql_target: tuple[str, str | None]) -> Iterator[SqlStorage]:
    url, schema = sql_target
    backend = SqlStorage(url, schema=schema)
    yield backend
    backend.close()


def test_scan_streams_through_a_server_side_cursor(postgres: SqlStorage) -> None:
    """PostgreSQL hands rows over a cursor chunk by chunk, not the whole result at once."""
    with postgres.transaction() as session:
        session.insert_many([_record(f"R{n:02}") for n in range(50)])
    with postgres.transaction() as session:
        chunks = session.scan("thing", {"id": "text"}, batch_size=10)
        first = next(chunks)
        open_cursors = session._db.exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar()
        rest = list(chunks)
    assert open_cursors == 1
    assert [len(chunk["id"]) for chunk in [first, *rest]] == [10] * 5


def test_scan_instants_ignore_the_session_time_zone(
    postgres_url: str, pg_schema: str
) -> None:
    """Instants read as exact microseconds whatever the connection's ``TimeZone``.

    Berlin repeats 02:30 when summer time ends, and kept local mean time
    (+00:53:28) until 1893: neither may shift or round an instant.
    """
    engine = sa.create_engine(postgres_url, json_serializer=dump_json,
                              connect_args={"options": "-c timezone=Europe/Berlin"})
    storage = SqlStorage(engine, schema=pg_schema, close_engine=True)
    fall_back = datetime(2026, 10, 25, 0, 30, 0, 500_001, tzinfo=UTC)
    moments = [fall_back, fall_back + timedelta(hours=1),
               datetime(1850, 6, 1, 12, 0, 0, 250_000, tzinfo=BERLIN),
               datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=BERLIN)]
    records = [_record(f"R{n}", at=moment, when=moment.astimezone(BERLIN).isoformat())
               for n, moment in enumerate(moments)]
    columns: dict[str, ColumnType] = {"id": "text", "at": "instant", "when": "instant"}
    try:
        with storage.transaction() as session:
            session.insert_many(records)
        with storage.transaction() as session:
            assert session._db.exec_driver_sql("SHOW TimeZone").scalar() == "Europe/Berlin"
            (scanned,) = session.scan("thing", columns)
            (reference,) = records_as_columns(session.query("thing"), columns, 100)
    finally:
        storage.close()
    order = sorted(range(len(moments)), key=lambda n: scanned["id"][n])
    assert [scanned["at"][n] for n in order] == [micros_of(m) for m in moments]
    assert [scanned["when"][n] for n in order] == [micros_of(m) for m in moments]
    assert sorted(zip(*scanned.values(), strict=True)) == sorted(
        zip(*reference.values(), strict=True))


def test_bulk_insert_skips_identical_records_and_counts_new_ones(storage: SqlStorage) -> None:
    """Loading again adds nothing; a batch large enough for ``COPY`` loads the same."""
    first = [_record(f"R{n:04}", n=n) for n in range(COPY_THRESHOLD * 2 + 1)]
    assert storage.bulk_insert(first, batch_size=COPY_THRESHOLD + 7) == len(first)
    assert storage.bulk_insert(first) == 0
    more = first[:10] + [_record(f"S{n}", n=n) for n in range(5)]
    assert storage.bulk_insert(more, batch_size=3) == 5
    with storage.transaction() as session:
        assert session.count("thing") == len(first) + 5
        assert session.get_many("thing", ["R0000", "S4"]) == {
            "R0000": first[0], "S4": more[-1]}


def test_bulk_insert_of_other_content_raises_and_loads_nothing(storage: SqlStorage) -> None:
    """A stored id with other content raises DuplicateError naming it; the call stores nothing."""
    storage.bulk_insert([_record("R1", n=1)])
    with pytest.raises(DuplicateError) as raised:
        storage.bulk_insert([_record("R0"), _record("R1", n=2)])
    assert (raised.value.kind, raised.value.entity_id) == ("thing", "R1")
    with storage.transaction() as session:
        assert [r.id for r in session.query("thing")] == ["R1"]
    with pytest.raises(ValueError, match="batch_size"):
        storage.bulk_insert([_record("R2")], batch_size=0)


def test_redact_events_rewrites_the_data_of_one_customers_events(storage: SqlStorage) -> None:
    """Erasure: that customer's events keep id, type, time and seq, their delivery errors
    are blanked; other customers' events and errors are untouched."""
    theirs = [make_domain_event(customer_id="C1", data={"name": "Zhāng", "n": n})
              for n in range(3)]
    other = make_domain_event(customer_id="C2", data={"name": "Li"})
    with storage.transaction() as session:
        session.subscribe("n")
    with storage.transaction() as session:
        session.append_events([theirs[0], other, *theirs[1:]])
        session.record_failure(theirs[0].id, "n", "refused: Zhāng", T0)
        session.record_failure(other.id, "n", "refused: Li", T0)
    with storage.transaction() as session:
        assert session.redact_events("C1", {"erased": True}) == 3
        assert session.redact_events("C9", {"erased": True}) == 0
        entries = session.events()
        errors = {p.entry.event.id: p.last_error for p in session.pending_deliveries(
            "n", now=T0 + timedelta(days=1), limit=10)}
    assert [entry.event for entry in entries] == [
        attrs.evolve(theirs[0], data={"erased": True}), other,
        *(attrs.evolve(event, data={"erased": True}) for event in theirs[1:])]
    assert errors == {theirs[0].id: REDACTED_ERROR, other.id: "refused: Li",
                      theirs[1].id: None, theirs[2].id: None}


def test_scan_of_a_value_the_column_type_cannot_read_names_it(postgres: SqlStorage) -> None:
    """PostgreSQL refuses a text that is no number in an integer column, naming both."""
    with postgres.transaction() as session:
        session.insert_many([_record("R1", n=1), _record("R2", n="twelve")])
    with pytest.raises(StorageError, match=r"scan of thing \(id: text, n: integer\).*twelve"
                       ), postgres.transaction() as session:
        list(session.scan("thing", {"id": "text", "n": "integer"}))
