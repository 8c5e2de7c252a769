"""The contract every storage backend must meet, as a pytest test class to subclass.

Subclass :class:`StorageContract` in a test module (the name must start with
``Test`` so pytest collects it) and provide a ``storage`` fixture yielding a
fresh, empty backend, closing it afterwards::

    from crmcore.testing import StorageContract

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            backend = MyStorage(tmp_path / "crm.db")
            yield backend
            backend.close()

The contract is that of :class:`~crmcore.ports.StorageBackend` and
:class:`~crmcore.ports.StorageSession`. When an operation raises
(:class:`~crmcore.errors.DuplicateError`, :class:`~crmcore.errors.ConflictError`,
:class:`~crmcore.errors.NotFoundError`) the suite lets the error end the
transaction, as the application service does; it never requires a transaction
to go on after a failed statement (PostgreSQL, for one, refuses that).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columns import records_as_columns
from crmcore.errors import ConflictError, DuplicateError, NotFoundError, StorageError
from crmcore.events import DomainEvent, encode_event
from crmcore.ports import (
    INDEX_COLUMNS,
    Columns,
    ColumnType,
    OutboxEntry,
    PendingDelivery,
    StorageBackend,
    StorageSession,
    StoredRecord,
    rows_as_records,
)
from crmcore.serialization import dump_json, structure
from crmcore.testing.pytest_plugin import CONTRACT_MARKER
from crmcore.testing.strategies import aware_datetimes, entities, json_values, texts
from crmcore.unit_of_work import to_record

T = TypeVar("T")

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""The reference time of the contract's records and events."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EAST = timezone(timedelta(hours=8))
_WEST = timezone(timedelta(hours=-5))
_FAR_FUTURE = T0 + timedelta(days=3650)
_MODEL_SETTINGS = settings(
    max_examples=50, deadline=None,
    # Every backend's subclass runs the same inherited property tests, by design.
    suppress_health_check=[HealthCheck.function_scoped_fixture,
                           HealthCheck.differing_executors],
)


_ROW_FIELDS = ("id", "customer_id", "name", "n", "x", "flag")
"""Body fields of the rows the ``insert_rows`` tests store (some hot in SQLite's tests)."""


class _RollbackError(Exception):
    """Raised inside a transaction to make it roll back."""


def _record(
    entity_id: str,
    *,
    kind: str = "thing",
    customer_id: str = "C1",
    at: datetime | None = None,
    version: int = 1,
    body: Mapping[str, Any] | None = None,
) -> StoredRecord:
    """A record whose body, by default, names it (so two versions differ)."""
    content = {"id": entity_id, "version": version} if body is None else body
    return StoredRecord(kind, entity_id, version, customer_id, at, content)


def _event(number: int) -> DomainEvent:
    """A distinct event with nested, non-ASCII JSON data."""
    return DomainEvent(
        type="thing.happened", occurred_at=T0 + timedelta(minutes=number),
        subject=f"thing:{number}", customer_id="C1",
        data={"n": number, "text": "客户 ✓", "nested": {"list": [1, 2.5, None, True]}},
    )


def _within(storage: StorageBackend, action: Callable[[StorageSession], T]) -> T:
    """Run ``action`` in a transaction of its own and return its result."""
    with storage.transaction() as session:
        return action(session)


def _exactly(stored: StoredRecord | None, record: StoredRecord) -> bool:
    """Whether ``stored`` is ``record`` to the JSON type of every body value: ``==`` alone
    takes ``True`` for ``1`` and ``1.0`` for ``1``, which a backend must not turn one into
    the other."""
    return stored == record and stored is not None and \
        dump_json(stored.body) == dump_json(record.body)


def _insert(storage: StorageBackend, *records: StoredRecord) -> None:
    with storage.transaction() as session:
        for record in records:
            session.insert(record)


def _append(storage: StorageBackend, *events: DomainEvent) -> None:
    with storage.transaction() as session:
        session.append_events(events)


def _query(storage: StorageBackend, kind: str, **filters: Any) -> list[StoredRecord]:
    return _within(storage, lambda session: list(session.query(kind, **filters)))


def _pending(
    storage: StorageBackend, notifier: str, now: datetime = _FAR_FUTURE, limit: int = 1000
) -> list[PendingDelivery]:
    return _within(storage, lambda s: s.pending_deliveries(notifier, now=now, limit=limit))


def _ids(items: Iterable[StoredRecord | OutboxEntry | PendingDelivery]) -> list[str]:
    """The record ids, or the event ids of outbox entries and pending deliveries."""
    found: list[str] = []
    for item in items:
        if isinstance(item, StoredRecord):
            found.append(item.id)
        elif isinstance(item, OutboxEntry):
            found.append(item.event.id)
        else:
            found.append(item.entry.event.id)
    return found


def _order_key(record: StoredRecord) -> tuple[bool, timedelta, str]:
    """The order of :meth:`~crmcore.ports.StorageSession.query`: no time first, then time, id."""
    return (record.at is not None, timedelta(0) if record.at is None else record.at - _EPOCH,
            record.id)


_SCAN_TYPED: dict[str, ColumnType] = {
    "id": "text", "customer_id": "text", "at": "instant", "version": "integer",
    "name": "text", "n": "integer", "x": "real", "amount": "decimal", "when": "instant",
    "tags": "json", "prefs.tz": "text", "prefs.deep.level": "integer", "missing": "text",
    "prefs.missing.deeper": "json",
}
_FIELDS = ("name", "n", "x", "amount", "tags", "prefs", "flag", "nothing")
_SCAN_AS_TEXT: dict[str, ColumnType] = {"id": "text", **dict.fromkeys(_FIELDS, "text")}
_SCAN_AS_JSON: dict[str, ColumnType] = {"id": "text", **dict.fromkeys(_FIELDS, "json")}
_SCAN_AS_DECIMAL: dict[str, ColumnType] = {"id": "text", "amount": "decimal", "x": "decimal"}

_NUL_FREE = texts(max_size=12).filter(lambda text: "\x00" not in text)  # PostgreSQL text
_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_SCAN_BODIES = st.fixed_dictionaries({}, optional={
    name: st.one_of(st.none(), strategy) for name, strategy in {
        "name": _NUL_FREE,
        "n": st.integers(-(2**63), 2**63 - 1),
        "x": st.one_of(_FINITE, st.integers(-(2**53), 2**53)),
        "amount": st.one_of(st.decimals(allow_nan=False, allow_infinity=False).map(str),
                            st.integers(-(10**15), 10**15), _FINITE),
        "when": aware_datetimes(min_value=datetime(100, 1, 2)).map(datetime.isoformat),
        "tags": json_values().filter(lambda value: "\\u0000" not in dump_json(value)),
        "prefs": st.one_of(_NUL_FREE, st.fixed_dictionaries({}, optional={
            "tz": _NUL_FREE, "deep": st.fixed_dictionaries({}, optional={
                "level": st.integers(-(2**63), 2**63 - 1)})})),
        "flag": st.booleans(),
    }.items()
})
"""Bodies whose fields have the types :data:`_SCAN_TYPED` reads them as, or are absent/null."""


def _as_rows(chunks: Iterable[Columns], names: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of columnar chunks, ordered by their first column (the id)."""
    rows = [row for chunk in chunks
            for row in zip(*(chunk[name] for name in names), strict=True)]
    return sorted(rows, key=lambda row: str(row[0]))


def _scanned_rows(storage: StorageBackend, kind: str, columns: Mapping[str, ColumnType],
                  **filters: Any) -> list[tuple[Any, ...]]:
    return _within(storage, lambda s: _as_rows(s.scan(kind, columns, **filters), list(columns)))


def _reference_rows(storage: StorageBackend, kind: str, columns: Mapping[str, ColumnType],
                    **filters: Any) -> list[tuple[Any, ...]]:
    """What :func:`~crmcore.columns.records_as_columns` makes of what ``query`` finds."""
    return _within(storage, lambda s: _as_rows(
        records_as_columns(s.query(kind, **filters), columns, 1000), list(columns)))


@attrs.frozen
class _Write:
    """One step of the model-based test: an insert, or an update.

    ``expected_version`` None means "the version currently stored".
    """

    kind: str
    entity_id: str
    customer_id: str
    at: datetime | None
    number: int
    update: bool
    expected_version: int | None


_MODEL_IDS = ("1", "2", "3")
_TIMES = st.sampled_from((None, T0, T0.astimezone(_EAST), T0 + timedelta(hours=1),
                          (T0 - timedelta(days=1)).astimezone(_WEST)))
_WRITES = st.builds(
    _Write,
    kind=st.sampled_from(("a", "b")),
    entity_id=st.sampled_from(_MODEL_IDS),
    customer_id=st.sampled_from(("C1", "C2")),
    at=_TIMES,
    number=st.integers(0, 9),
    update=st.booleans(),
    expected_version=st.one_of(st.none(), st.integers(1, 4)),
)
_TRANSACTIONS = st.lists(st.tuples(st.lists(_WRITES, max_size=4), st.booleans()), max_size=6)

_Model = dict[tuple[str, str], StoredRecord]
_Call = tuple[StoredRecord, int | None]


def _plan(
    model: _Model, writes: list[_Write], namespace: str
) -> tuple[_Model, list[_Call], type[StorageError] | None]:
    """Apply ``writes`` to a copy of the reference model.

    Returns the model after a commit, the ``(record, expected_version)`` calls to make
    (None: insert), and the error the last call must raise (the transaction then
    changes nothing).
    """
    working = dict(model)
    calls: list[_Call] = []
    for write in writes:
        key = (f"{namespace}.{write.kind}", write.entity_id)
        current = working.get(key)
        if not write.update:
            record = _record(key[1], kind=key[0], customer_id=write.customer_id, at=write.at,
                             body={"n": write.number})
            calls.append((record, None))
            if current is not None:
                return model, calls, DuplicateError
        else:
            expected = write.expected_version
            if expected is None:
                expected = 1 if current is None else current.version
            record = _record(key[1], kind=key[0], customer_id=write.customer_id, at=write.at,
                             version=expected + 1, body={"n": write.number})
            calls.append((record, expected))
            if current is None:
                return model, calls, NotFoundError
            if current.version != expected:
                return model, calls, ConflictError
        working[key] = record
    return working, calls, None


_State = dict[str, tuple[list[StoredRecord], int, list[StoredRecord | None]]]


def _observe(session: StorageSession, kinds: Sequence[str]) -> _State:
    """Per kind: what ``query`` lists, what ``count`` says and what ``get`` finds per id."""
    return {
        kind: (list(session.query(kind)), session.count(kind),
               [session.get(kind, entity_id) for entity_id in _MODEL_IDS])
        for kind in kinds
    }


def _expect(model: _Model, kinds: Sequence[str]) -> _State:
    """What :func:`_observe` must see on a backend holding ``model``."""
    state: _State = {}
    for kind in kinds:
        records = sorted((r for r in model.values() if r.kind == kind), key=_order_key)
        state[kind] = (records, len(records),
                       [model.get((kind, entity_id)) for entity_id in _MODEL_IDS])
    return state


def _run(storage: StorageBackend, calls: list[_Call], commit: bool) -> StorageError | None:
    """Make ``calls`` in one transaction, committed or rolled back; return the error raised."""
    try:
        with storage.transaction() as session:
            for record, expected in calls:
                if expected is None:
                    session.insert(record)
                else:
                    session.update(record, expected)
            if not commit:
                raise _RollbackError
    except _RollbackError:
        return None
    except StorageError as error:
        return error
    return None


@getattr(pytest.mark, CONTRACT_MARKER)
class StorageContract:
    """Tests every storage backend must pass; subclass and provide a ``storage`` fixture.

    Each test receives ``storage``: a fresh, empty :class:`~crmcore.ports.StorageBackend`.
    """

    # -- records --------------------------------------------------------------------------

    def test_inserted_record_reads_back_equal(self, storage: StorageBackend) -> None:
        """A committed record is read back equal, and only under its own kind."""
        record = _record("R1", at=T0.astimezone(_EAST),
                         body={"name": "Zhāng 客户", "n": 3, "x": 2.5, "ok": True, "none": None,
                               "list": [1, {"deep": "yes"}]})
        _insert(storage, record)
        assert _within(storage, lambda s: s.get("thing", "R1")) == record
        assert _within(storage, lambda s: s.get("other", "R1")) is None
        assert _within(storage, lambda s: s.get("thing", "R2")) is None

    @given(body=st.dictionaries(st.text(max_size=10), json_values(), max_size=5))
    @_MODEL_SETTINGS
    def test_any_json_body_reads_back_equal(
        self, storage: StorageBackend, body: dict[str, Any]
    ) -> None:
        """Bodies are kept exactly: unicode, big integers, float precision, nesting."""
        record = _record(uuid.uuid4().hex, body=body)
        _insert(storage, record)
        assert _exactly(_within(storage, lambda s: s.get(record.kind, record.id)), record)

    @given(entity=entities())
    @_MODEL_SETTINGS
    def test_any_entity_reads_back_equal(self, storage: StorageBackend, entity: Any) -> None:
        """The record of any entity reads back equal and rebuilds the same entity."""
        record = attrs.evolve(to_record(entity), kind=f"{uuid.uuid4().hex}.entity")
        _insert(storage, record)
        stored = _within(storage, lambda s: s.get(record.kind, record.id))
        assert _exactly(stored, record)
        assert stored is not None
        assert structure(stored.body, type(entity)) == entity

    def test_duplicate_insert_raises_and_changes_nothing(self, storage: StorageBackend) -> None:
        """Inserting an existing kind and id raises DuplicateError; the first record stays."""
        original = _record("R1", at=T0)
        _insert(storage, original)
        with pytest.raises(DuplicateError):
            _insert(storage, _record("R1", customer_id="C2", body={"other": 1}))
        assert _within(storage, lambda s: s.get("thing", "R1")) == original
        assert _within(storage, lambda s: s.count("thing")) == 1

    def test_update_with_current_version(self, storage: StorageBackend) -> None:
        """An update naming the stored version replaces body, indexes and version."""
        _insert(storage, _record("R1", at=T0))
        changed = _record("R1", customer_id="C2", at=T0 + timedelta(days=1), version=2)
        with storage.transaction() as session:
            session.update(changed, expected_version=1)
        assert _within(storage, lambda s: s.get("thing", "R1")) == changed
        assert _ids(_query(storage, "thing", customer_id="C2")) == ["R1"]
        assert _query(storage, "thing", customer_id="C1") == []
        assert _ids(_query(storage, "thing", since=T0 + timedelta(hours=1))) == ["R1"]

    def test_update_with_stale_version_raises_conflict(self, storage: StorageBackend) -> None:
        """An update naming another version raises ConflictError and changes nothing."""
        _insert(storage, _record("R1"))
        with storage.transaction() as session:
            session.update(_record("R1", version=2), expected_version=1)
        with pytest.raises(ConflictError) as raised:
            _within(storage, lambda s: s.update(_record("R1", version=2, body={"x": 1}), 1))
        assert (raised.value.expected_version, raised.value.actual_version) == (1, 2)
        assert _within(storage, lambda s: s.get("thing", "R1")) == _record("R1", version=2)

    def test_update_of_missing_record_raises_not_found(self, storage: StorageBackend) -> None:
        """Updating an id that was never stored raises NotFoundError and stores nothing."""
        with pytest.raises(NotFoundError):
            _within(storage, lambda s: s.update(_record("R1", version=2), 1))
        assert _within(storage, lambda s: s.get("thing", "R1")) is None

    # -- queries ------------------------------------------------------------------------------

    def _store_timeline(self, storage: StorageBackend) -> None:
        """Records at one instant in three offsets, and two without a time."""
        _insert(
            storage,
            _record("m", at=T0 - timedelta(hours=6)),                         # 03:00Z
            _record("a", customer_id="C2", at=T0),                            # 09:00Z
            _record("b", customer_id="C2"),
            _record("k", at=(T0 - timedelta(hours=6)).astimezone(_WEST)),     # 03:00Z
            _record("z", at=(T0 - timedelta(hours=7)).astimezone(_EAST)),     # 02:00Z
            _record("a0"),
            _record("m", kind="other", at=T0),
        )

    def test_query_orders_untimed_first_then_by_instant_then_id(
        self, storage: StorageBackend
    ) -> None:
        """Ordering compares instants, not local wall times, and breaks ties by id."""
        self._store_timeline(storage)
        assert _ids(_query(storage, "thing")) == ["a0", "b", "z", "k", "m", "a"]
        assert _ids(_query(storage, "other")) == ["m"]
        assert _query(storage, "nothing") == []

    def test_query_by_customer(self, storage: StorageBackend) -> None:
        """``customer_id`` keeps one customer's records, in the same order."""
        self._store_timeline(storage)
        assert _ids(_query(storage, "thing", customer_id="C2")) == ["b", "a"]
        assert _ids(_query(storage, "thing", customer_id="C1")) == ["a0", "z", "k", "m"]

    def test_query_since_is_inclusive_and_until_exclusive(self, storage: StorageBackend) -> None:
        """``since <= at < until``; records without a time match no range."""
        self._store_timeline(storage)
        three = T0 - timedelta(hours=6)
        assert _ids(_query(storage, "thing", since=three)) == ["k", "m", "a"]
        assert _ids(_query(storage, "thing", since=three.astimezone(_EAST))) == ["k", "m", "a"]
        assert _ids(_query(storage, "thing", until=three)) == ["z"]
        assert _ids(_query(storage, "thing", since=three, until=T0)) == ["k", "m"]
        assert _ids(_query(storage, "thing", since=three, until=T0 + timedelta(microseconds=1),
                           customer_id="C2")) == ["a"]
        assert _query(storage, "thing", since=T0, until=T0) == []

    def test_count_per_kind(self, storage: StorageBackend) -> None:
        """``count`` counts the records of one kind."""
        assert _within(storage, lambda s: s.count("thing")) == 0
        self._store_timeline(storage)
        assert _within(storage, lambda s: (s.count("thing"), s.count("other"),
                                         s.count("nothing"))) == (6, 1, 0)

    # -- columnar reads ---------------------------------------------------------------------------

    def _store_scan_examples(self, storage: StorageBackend) -> None:
        """Records covering every column type: nested, absent and null fields, no ``at``."""
        _within(storage, lambda s: s.insert_many([
            _record("r1", at=T0.astimezone(_EAST), version=3, body={
                "name": "Zhāng 客户", "n": 3, "x": 2.5, "amount": "1200.50",
                "when": "2026-01-05T17:00:00.123456+08:00", "tags": ["a", {"b": 1, "a": None}],
                "prefs": {"tz": "Asia/Shanghai", "deep": {"level": 2}}, "flag": True,
                "nothing": None}),
            _record("r2", customer_id="C2", body={}),
            _record("r3", at=datetime(202, 3, 1, 0, 0, 0, 999_999, tzinfo=UTC), body={
                "n": -(2**63), "x": -0.0, "amount": 1e-07, "prefs": "not a mapping",
                "when": "0202-03-01T00:00:00.000001+00:00", "tags": {}, "flag": False}),
            _record("r4", at=(T0 - timedelta(days=1)).astimezone(_WEST), body={
                "n": 2.0, "x": 3, "amount": "1E+3", "tags": "text", "prefs": {"deep": None},
                "name": "", "when": "1969-12-31T23:59:59.999999-05:00"}),
            _record("r5", at=T0, body={"amount": 5, "x": 1e20, "n": 2**63 - 1,
                                       "tags": [1.5, "\u00e9\n"], "name": "x\ty"}),
        ]))

    @pytest.mark.parametrize("columns", [_SCAN_TYPED, _SCAN_AS_TEXT, _SCAN_AS_JSON,
                                         _SCAN_AS_DECIMAL],
                             ids=["typed", "text", "json", "decimal"])
    def test_scan_reads_columns_as_the_reference_does(
        self, storage: StorageBackend, columns: Mapping[str, ColumnType]
    ) -> None:
        """``scan`` equals :func:`crmcore.columns.records_as_columns` over ``query``."""
        self._store_scan_examples(storage)
        assert _scanned_rows(storage, "thing", columns) == _reference_rows(
            storage, "thing", columns)

    def test_scan_values_of_each_type(self, storage: StorageBackend) -> None:
        """Spot checks of the reference itself: what each column type means."""
        self._store_scan_examples(storage)
        typed = {row[0]: row for row in _scanned_rows(storage, "thing", _SCAN_TYPED)}
        names = list(_SCAN_TYPED)
        r1, r2, r3 = (dict(zip(names, typed[i], strict=True)) for i in ("r1", "r2", "r3"))
        assert (r1["at"], r1["version"], r1["customer_id"]) == (
            (T0 - _EPOCH) // timedelta(microseconds=1), 3, "C1")
        assert r1["when"] == r1["at"] + 123_456
        assert (r1["name"], r1["n"], r1["x"], r1["amount"]) == ("Zhāng 客户", 3, 2.5, "1200.50")
        assert (r1["prefs.tz"], r1["prefs.deep.level"], r1["tags"]) == (
            "Asia/Shanghai", 2, ["a", {"a": None, "b": 1}])
        assert r2["at"] is None
        assert all(r2[name] is None for name in names if name not in INDEX_COLUMNS)
        assert r3["at"] == (datetime(202, 3, 1, tzinfo=UTC) - _EPOCH) // timedelta(
            microseconds=1) + 999_999
        assert (r3["prefs.tz"], r3["amount"], r3["n"]) == (None, "0.0000001", -(2**63))
        text = {row[0]: row for row in _scanned_rows(storage, "thing", _SCAN_AS_TEXT)}
        text_names = list(_SCAN_AS_TEXT)
        r1_text = dict(zip(text_names, text["r1"], strict=True))
        assert (r1_text["n"], r1_text["flag"], r1_text["nothing"]) == ("3", "true", None)
        assert r1_text["tags"] == '["a",{"a":null,"b":1}]'

    def test_scan_filters_like_query(self, storage: StorageBackend) -> None:
        """``customer_id``, ``since`` (inclusive) and ``until`` (exclusive) as in ``query``."""
        self._store_timeline(storage)
        three = T0 - timedelta(hours=6)
        for filters, expected in (
            ({}, {"a0", "b", "z", "k", "m", "a"}),
            ({"customer_id": "C2"}, {"b", "a"}),
            ({"since": three.astimezone(_EAST)}, {"k", "m", "a"}),
            ({"until": three}, {"z"}),
            ({"since": three, "until": T0 + timedelta(microseconds=1), "customer_id": "C2"},
             {"a"}),
            ({"since": T0, "until": T0}, set()),
        ):
            scanned = _scanned_rows(storage, "thing", {"id": "text", "at": "instant"}, **filters)
            assert {row[0] for row in scanned} == expected, filters
            assert scanned == _reference_rows(
                storage, "thing", {"id": "text", "at": "instant"}, **filters)

    def test_scan_yields_chunks_of_batch_size(self, storage: StorageBackend) -> None:
        """Chunks hold at most ``batch_size`` rows, every column of one length."""
        _within(storage, lambda s: s.insert_many([_record(f"R{n}") for n in range(7)]))
        columns: dict[str, ColumnType] = {"id": "text", "version": "integer"}
        chunks = _within(storage, lambda s: list(s.scan("thing", columns, batch_size=3)))
        assert [[len(chunk[name]) for name in columns] for chunk in chunks] == [
            [3, 3], [3, 3], [1, 1]]
        assert sorted(i for chunk in chunks for i in chunk["id"]) == [f"R{n}" for n in range(7)]
        whole = _within(storage, lambda s: list(s.scan("thing", columns, batch_size=100)))
        assert len(whole) == 1
        assert _within(storage, lambda s: list(s.scan("nothing", columns))) == []

    @pytest.mark.parametrize(("columns", "batch_size", "named"), [
        ({"id": "text"}, 0, "batch_size"),
        ({"version": "text"}, 10, "version"),
        ({"at": "text"}, 10, "'at'"),
        ({"a-b": "text"}, 10, "a-b"),
        ({"n": "float"}, 10, "float"),
    ])
    def test_scan_refuses_what_it_cannot_read(
        self, storage: StorageBackend, columns: Mapping[str, Any], batch_size: int, named: str
    ) -> None:
        """A bad batch size, column name or type raises ValueError naming it."""
        _insert(storage, _record("R1", body={"n": 1}))
        with pytest.raises(ValueError, match=re.escape(named)):
            _within(storage, lambda s: list(s.scan("thing", columns, batch_size=batch_size)))

    @given(rows=st.lists(st.tuples(st.one_of(st.none(), aware_datetimes(
        min_value=datetime(100, 1, 2))), _SCAN_BODIES), max_size=6))
    @_MODEL_SETTINGS
    def test_scan_matches_the_reference_on_random_records(
        self, storage: StorageBackend, rows: list[tuple[datetime | None, dict[str, Any]]]
    ) -> None:
        """Random bodies and times read as typed, text and JSON columns equal the reference."""
        kind = f"{uuid.uuid4().hex}.scan"
        _within(storage, lambda s: s.insert_many([
            _record(f"R{n}", kind=kind, at=at, body=body) for n, (at, body) in enumerate(rows)]))
        for columns in (_SCAN_TYPED, _SCAN_AS_TEXT, _SCAN_AS_JSON, _SCAN_AS_DECIMAL):
            assert _scanned_rows(storage, kind, columns, batch_size=4) == _reference_rows(
                storage, kind, columns)

    # -- set-based reads and writes -------------------------------------------------------------

    def test_get_many_finds_the_stored_ids(self, storage: StorageBackend) -> None:
        """Missing ids are left out, repeated ones found once; more than 1000 ids work."""
        stored = [_record(f"R{n:04}", at=T0) for n in range(1500)]
        _within(storage, lambda s: s.insert_many(stored))
        _insert(storage, _record("R0000", kind="other"))
        asked = [f"R{n:04}" for n in range(0, 3000, 2)] + ["R0002", "R0002", "nope"]
        found = _within(storage, lambda s: s.get_many("thing", asked))
        assert found == {r.id: r for r in stored[::2]}
        assert _within(storage, lambda s: s.get_many("thing", [])) == {}
        assert _within(storage, lambda s: s.get_many("nothing", ["R0000"])) == {}

    def test_stored_ids_are_the_ids_get_many_finds(self, storage: StorageBackend) -> None:
        """Only stored ids of the kind, each once; more than 1000 ids work; odd ids too."""
        odd = ["a'b", 'quote"d', "客户-1", "x\\y", "[1]"]
        stored = [_record(f"R{n:04}", at=T0) for n in range(1500)] + [_record(i) for i in odd]
        _within(storage, lambda s: s.insert_many(stored))
        _insert(storage, _record("S0001", kind="other"))
        asked = [f"R{n:04}" for n in range(0, 3000, 2)] + ["R0002", "R0002", "nope", "S0001",
                                                           *odd]
        found = _within(storage, lambda s: s.stored_ids("thing", asked))
        assert found == {f"R{n:04}" for n in range(0, 1500, 2)} | set(odd)
        assert found == set(_within(storage, lambda s: s.get_many("thing", asked)))
        assert _within(storage, lambda s: s.stored_ids("thing", [])) == set()
        assert _within(storage, lambda s: s.stored_ids("other", ["S0001", "R0000"])) == {"S0001"}

    def test_insert_many_stores_every_record(self, storage: StorageBackend) -> None:
        """Inserted records read back equal, indexes included; an empty list does nothing."""
        records = [_record(f"R{n}", customer_id=f"C{n % 2}", at=T0 + timedelta(minutes=n),
                           body={"n": n, "text": "客户"}) for n in range(5)]
        with storage.transaction() as session:
            session.insert_many(records)
            session.insert_many([])
        found = _query(storage, "thing")
        assert len(found) == len(records)
        assert all(map(_exactly, found, records))
        assert _ids(_query(storage, "thing", customer_id="C1")) == ["R1", "R3"]

    @pytest.mark.parametrize("count", [4, 1500])
    def test_insert_many_is_all_or_nothing_on_a_stored_id(
        self, storage: StorageBackend, count: int
    ) -> None:
        """An id stored already raises DuplicateError naming it; the batch leaves nothing."""
        original = _record("R0003", customer_id="C9", body={"original": True})
        _insert(storage, original)
        new = [_record(f"R{n:04}") for n in range(count) if n != 3]
        with pytest.raises(DuplicateError) as raised:
            _within(storage, lambda s: s.insert_many([*new, _record("R0003")]))
        assert (raised.value.kind, raised.value.entity_id) == ("thing", "R0003")
        assert _query(storage, "thing") == [original]

    def test_insert_many_refuses_an_id_given_twice(self, storage: StorageBackend) -> None:
        """An id repeated in one call raises DuplicateError naming it; nothing is stored."""
        with pytest.raises(DuplicateError) as raised:
            _within(storage, lambda s: s.insert_many(
                [_record("R1"), _record("R2"), _record("R1", body={"other": 1})]))
        assert (raised.value.kind, raised.value.entity_id) == ("thing", "R1")
        assert _within(storage, lambda s: s.count("thing")) == 0

    @given(bodies=st.lists(st.dictionaries(st.sampled_from(_ROW_FIELDS), json_values(),
                                           min_size=len(_ROW_FIELDS)), min_size=1, max_size=4),
           customer=st.sampled_from(["C1", "C2"]))
    @_MODEL_SETTINGS
    def test_insert_rows_stores_what_insert_many_stores(
        self, storage: StorageBackend, bodies: list[dict[str, Any]], customer: str
    ) -> None:
        """Rows given to ``insert_rows`` read back as the records ``insert_many`` stores:
        bodies exact (a body id or customer equal to the record's or not, any JSON value)."""
        kind = f"{uuid.uuid4().hex}.rows"
        fields = tuple(bodies[0])
        rows = [(f"R{n}", 1, customer, T0 + timedelta(minutes=n),
                 *[f"R{n}" if name == "id" and n % 2 else body.get(name) for name in fields])
                for n, body in enumerate(bodies)]
        for sink in ("thing", "other"):  # kinds some backends keep in tables of their own
            _within(storage, lambda s, sink=sink: s.insert_rows(  # type: ignore[misc]
                sink, fields, [(f"{kind}{row[0]}", *row[1:]) for row in rows]))
        _within(storage, lambda s: s.insert_rows(kind, fields, rows))
        expected = rows_as_records(kind, fields, rows)
        assert _query(storage, kind) == expected
        for sink in ("thing", "other"):
            stored = _within(storage, lambda s, sink=sink: s.get_many(  # type: ignore[misc]
                sink, [f"{kind}{row[0]}" for row in rows]))
            assert [stored[f"{kind}{r.id}"].body for r in expected] == [r.body for r in expected]

    def test_insert_rows_refuses_a_stored_id_and_a_short_row(
        self, storage: StorageBackend
    ) -> None:
        """A stored id raises DuplicateError naming it; a row not fitting the fields raises
        ValueError naming the row; either way nothing of the call is stored."""
        original = _record("R2", body={"original": True})
        _insert(storage, original)
        fields = ("id", "n")
        with pytest.raises(DuplicateError) as raised:
            _within(storage, lambda s: s.insert_rows(
                "thing", fields, [("R1", 1, "C1", T0, "R1", 1), ("R2", 1, "C1", T0, "R2", 2)]))
        assert (raised.value.kind, raised.value.entity_id) == ("thing", "R2")
        with pytest.raises(ValueError, match=r"row 1 of 'thing' has 5 values, not 6"):
            _within(storage, lambda s: s.insert_rows(
                "thing", fields, [("R3", 1, "C1", T0, "R3", 3), ("R4", 1, "C1", T0, "R4")]))
        assert _query(storage, "thing") == [original]

    def test_encoded_events_are_stored_as_events_are(self, storage: StorageBackend) -> None:
        """``append_encoded_events`` stores what ``append_events`` stores, in order, after
        events appended before it; a stored event id raises DuplicateError and adds nothing."""
        events = [_event(number) for number in range(4)]
        _append(storage, events[0])
        encoded = [encode_event(e.type, e.occurred_at, e.subject, e.customer_id, e.data, e.id)
                   for e in events[1:]]
        _within(storage, lambda s: s.append_encoded_events(encoded))
        _within(storage, lambda s: s.append_encoded_events([]))
        assert [entry.event for entry in _within(storage, lambda s: s.events())] == events
        fresh = _event(9)
        fresh_encoded = encode_event(fresh.type, fresh.occurred_at, fresh.subject,
                                     fresh.customer_id, fresh.data, fresh.id)
        with pytest.raises(DuplicateError):
            _within(storage, lambda s: s.append_encoded_events([fresh_encoded, encoded[1]]))
        assert len(_within(storage, lambda s: s.events())) == len(events)

    def test_update_many_replaces_records(self, storage: StorageBackend) -> None:
        """Body, indexes and version change; a record may change twice in one call."""
        _within(storage, lambda s: s.insert_many([_record("R1"), _record("R2", at=T0)]))
        first = _record("R1", customer_id="C2", at=T0 + timedelta(days=1), version=2)
        second = _record("R1", customer_id="C3", at=T0 + timedelta(days=2), version=3)
        other = _record("R2", version=5, body={"changed": True})
        _within(storage, lambda s: s.update_many([(first, 1), (other, 1), (second, 2)]))
        assert _query(storage, "thing") == [other, second]
        assert _ids(_query(storage, "thing", customer_id="C3",
                           since=T0 + timedelta(days=2))) == ["R1"]
        _within(storage, lambda s: s.update_many([]))

    def test_update_many_conflict_changes_nothing(self, storage: StorageBackend) -> None:
        """A stale expected version raises ConflictError naming it; no record changes."""
        _within(storage, lambda s: s.insert_many([_record("R1"), _record("R2")]))
        _within(storage, lambda s: s.update(_record("R2", version=2), 1))
        before = _query(storage, "thing")
        with pytest.raises(ConflictError) as raised:
            _within(storage, lambda s: s.update_many([
                (_record("R1", version=2, body={"x": 1}), 1),
                (_record("R2", version=2, body={"x": 2}), 1)]))
        error = raised.value
        assert (error.kind, error.entity_id, error.expected_version, error.actual_version) == (
            "thing", "R2", 1, 2)
        assert _query(storage, "thing") == before

    def test_update_many_of_a_missing_record_changes_nothing(
        self, storage: StorageBackend
    ) -> None:
        """An id never stored raises NotFoundError naming it; no record changes."""
        _insert(storage, _record("R1"))
        with pytest.raises(NotFoundError) as raised:
            _within(storage, lambda s: s.update_many([
                (_record("R1", version=2), 1), (_record("R9", version=2), 1)]))
        assert (raised.value.kind, raised.value.entity_id) == ("thing", "R9")
        assert _query(storage, "thing") == [_record("R1")]

    def test_delete_many_counts_removed_records(self, storage: StorageBackend) -> None:
        """Only stored ids of the kind count (once each); other kinds stay."""
        _within(storage, lambda s: s.insert_many(
            [_record(f"R{n:04}") for n in range(1200)] + [_record("R0001", kind="other")]))
        ids = [f"R{n:04}" for n in range(1, 1200)] + ["R0001", "nope"]
        assert _within(storage, lambda s: s.delete_many("thing", ids)) == 1199
        assert _ids(_query(storage, "thing")) == ["R0000"]
        assert _ids(_query(storage, "other")) == ["R0001"]
        assert _within(storage, lambda s: s.delete_many("thing", [])) == 0

    def test_delete_many_rolls_back(self, storage: StorageBackend) -> None:
        """Records deleted in a transaction that fails are there again."""
        records = [_record("R1", at=T0), _record("R2")]
        _within(storage, lambda s: s.insert_many(records))

        def delete_then_fail(session: StorageSession) -> None:
            assert session.delete_many("thing", ["R1", "R2"]) == 2
            assert session.get("thing", "R1") is None
            raise _RollbackError

        with pytest.raises(_RollbackError):
            _within(storage, delete_then_fail)
        assert _query(storage, "thing") == [records[1], records[0]]

    # -- transactions ---------------------------------------------------------------------------

    def _snapshot(self, storage: StorageBackend) -> tuple[Any, ...]:
        """Everything the rollback test can observe."""
        return _within(storage, lambda s: (
            list(s.query("thing")), s.count("thing"), s.events(),
            s.pending_deliveries("n", now=_FAR_FUTURE, limit=100),
        ))

    def test_failed_transaction_leaves_nothing_behind(self, storage: StorageBackend) -> None:
        """Records, events, subscriptions and delivery marks all roll back together."""
        first, second = _event(1), _event(2)
        _insert(storage, _record("R1"))
        with storage.transaction() as session:
            session.subscribe("n")
        _append(storage, first, second)
        before = self._snapshot(storage)

        def fail_after_writing_everything(session: StorageSession) -> None:
            session.subscribe("m")  # before the appends: it starts at the committed end
            session.insert(_record("R2", at=T0))
            session.update(_record("R1", version=2, body={"changed": True}), 1)
            session.append_events([_event(3), _event(4)])
            session.mark_delivered(first.id, "n", T0)
            session.record_failure(second.id, "n", "boom", T0 + timedelta(minutes=5))
            raise _RollbackError

        with pytest.raises(_RollbackError):
            _within(storage, fail_after_writing_everything)

        assert self._snapshot(storage) == before
        later = _event(5)
        _append(storage, later)
        with storage.transaction() as session:
            session.subscribe("m")  # had the rolled-back subscription stuck, "later" would be due
        assert _pending(storage, "m") == []
        assert _ids(_pending(storage, "n")) == [first.id, second.id, later.id]

    def test_transaction_commits_when_the_block_ends(self, storage: StorageBackend) -> None:
        """Work done in one transaction is visible in the next."""
        with storage.transaction() as session:
            session.insert(_record("R1"))
            assert session.get("thing", "R1") == _record("R1")
        assert _within(storage, lambda s: s.get("thing", "R1")) == _record("R1")

    def test_nested_transaction_raises_storage_error(self, storage: StorageBackend) -> None:
        """Opening a transaction inside one raises StorageError; the outer one goes on."""
        with storage.transaction() as session:
            session.insert(_record("R1"))
            with pytest.raises(StorageError), storage.transaction():
                pass
            session.insert(_record("R2"))
        assert _ids(_query(storage, "thing")) == ["R1", "R2"]

    def test_closed_backend_raises_storage_error(self, storage: StorageBackend) -> None:
        """After ``close`` a transaction raises StorageError; closing again is harmless."""
        storage.close()
        with pytest.raises(StorageError), storage.transaction():
            pass
        storage.close()

    def test_schema_version_of_a_closed_backend_raises_storage_error(
        self, storage: StorageBackend
    ) -> None:
        """Asking a closed backend anything is a :class:`StorageError`, not a driver error."""
        storage.close()
        with pytest.raises(StorageError):
            storage.schema_version()

    def test_times_before_year_1000_keep_their_order(self, storage: StorageBackend) -> None:
        """Early years (a mistyped 0202) read back and sort by instant."""
        early = _record("early", at=datetime(202, 3, 1, tzinfo=UTC))
        later = _record("later", at=datetime(1999, 3, 1, tzinfo=UTC))
        _insert(storage, later, early)
        assert _query(storage, "thing") == [early, later]

    def test_stored_body_is_not_shared_with_the_caller(self, storage: StorageBackend) -> None:
        """Changing a body after ``insert`` does not change what is stored."""
        tags = ["a"]
        _insert(storage, _record("x", body={"id": "x", "tags": tags}))
        tags.append("b")
        stored = _within(storage, lambda s: s.get("thing", "x"))
        assert stored is not None
        assert stored.body == {"id": "x", "tags": ["a"]}

    def test_schema_version_is_an_int(self, storage: StorageBackend) -> None:
        """``schema_version`` is a non-negative int (0 for schemaless backends)."""
        version = storage.schema_version()
        assert type(version) is int
        assert version >= 0

    # -- the outbox -------------------------------------------------------------------------------

    def test_events_append_in_order_with_increasing_seq(self, storage: StorageBackend) -> None:
        """Events come back equal, in append order, with strictly increasing ``seq``."""
        events = [_event(number) for number in range(5)]
        _append(storage, *events[:3])
        _append(storage, *events[3:])
        entries = _within(storage, lambda s: s.events())
        assert [entry.event for entry in entries] == events
        seqs = [entry.seq for entry in entries]
        assert seqs == sorted(set(seqs))
        assert seqs[0] >= 1

    def test_events_after_seq_and_limit(self, storage: StorageBackend) -> None:
        """``events(after_seq, limit)`` pages through the log, oldest first."""
        events = [_event(number) for number in range(5)]
        _append(storage, *events)
        entries = _within(storage, lambda s: s.events())
        second = entries[1].seq
        assert _within(storage, lambda s: s.events(after_seq=second)) == entries[2:]
        assert _within(storage, lambda s: s.events(after_seq=second, limit=2)) == entries[2:4]
        assert _within(storage, lambda s: s.events(limit=1)) == entries[:1]
        assert _within(storage, lambda s: s.events(limit=0)) == []
        assert _within(storage, lambda s: s.events(after_seq=entries[-1].seq)) == []

    def test_events_after_a_negative_seq_are_all_events(self, storage: StorageBackend) -> None:
        """``after_seq`` below the first seq means "from the start"."""
        _append(storage, _event(0), _event(1))
        assert len(_within(storage, lambda s: s.events(after_seq=-1))) == 2

    def test_an_event_id_is_stored_once(self, storage: StorageBackend) -> None:
        """Appending an event id again raises :class:`DuplicateError` and adds nothing."""
        event = _event(0)
        _append(storage, event)
        with pytest.raises(DuplicateError):
            _append(storage, _event(1), event)
        assert _ids(_within(storage, lambda s: s.events())) == [event.id]

    def test_pending_with_limit_zero_is_empty(self, storage: StorageBackend) -> None:
        """``limit=0`` returns no pending delivery."""
        _within(storage, lambda s: s.subscribe("n"))
        _append(storage, _event(0))
        assert _pending(storage, "n", limit=0) == []

    def test_new_subscriber_starts_at_the_end_of_the_log(self, storage: StorageBackend) -> None:
        """Events stored before ``subscribe`` are never pending for that notifier."""
        _append(storage, _event(1))
        with storage.transaction() as session:
            session.subscribe("n")
        assert _pending(storage, "n") == []
        later = _event(2)
        _append(storage, later)
        assert _ids(_pending(storage, "n")) == [later.id]

    def test_subscribe_is_idempotent(self, storage: StorageBackend) -> None:
        """Subscribing again does not move the notifier's starting point."""
        with storage.transaction() as session:
            session.subscribe("n")
        event = _event(1)
        _append(storage, event)
        with storage.transaction() as session:
            session.subscribe("n")
            session.subscribe("n")
        assert _ids(_pending(storage, "n")) == [event.id]

    def _three_pending(self, storage: StorageBackend, *notifiers: str) -> list[DomainEvent]:
        with storage.transaction() as session:
            for notifier in notifiers:
                session.subscribe(notifier)
        events = [_event(number) for number in range(3)]
        _append(storage, *events)
        return events

    def test_pending_deliveries_in_order_with_limit(self, storage: StorageBackend) -> None:
        """New events are pending in ``seq`` order, with no attempts; ``limit`` caps them."""
        events = self._three_pending(storage, "n")
        pending = _pending(storage, "n", now=T0)
        assert [p.entry.event for p in pending] == events
        assert [(p.notifier, p.attempts, p.last_error) for p in pending] == [("n", 0, None)] * 3
        assert pending[0].entry == _within(storage, lambda s: s.events())[0]
        assert _ids(_pending(storage, "n", now=T0, limit=2)) == _ids(pending)[:2]

    def test_failed_delivery_waits_for_its_retry_time(self, storage: StorageBackend) -> None:
        """A failed event is due again once ``now`` reaches ``retry_at``, with its attempts."""
        first, second, third = self._three_pending(storage, "n")
        retry_at = T0 + timedelta(minutes=10)
        with storage.transaction() as session:
            session.record_failure(first.id, "n", "ConnectionError: refused", retry_at)
        assert _ids(_pending(storage, "n", now=T0)) == [second.id, third.id]
        before = retry_at - timedelta(microseconds=1)
        assert _ids(_pending(storage, "n", now=before)) == [second.id, third.id]
        due = _pending(storage, "n", now=retry_at)
        assert _ids(due) == [first.id, second.id, third.id]
        assert (due[0].attempts, due[0].last_error) == (1, "ConnectionError: refused")
        assert _ids(_pending(storage, "n", now=retry_at.astimezone(_WEST), limit=1)) == [first.id]

    def test_record_failure_counts_attempts(self, storage: StorageBackend) -> None:
        """Every failure adds one attempt and keeps the latest error."""
        first, _second, _third = self._three_pending(storage, "n")
        for error in ("first error", "second error"):
            with storage.transaction() as session:
                session.record_failure(first.id, "n", error, T0)
        due = _pending(storage, "n", now=T0)[0]
        assert (due.entry.event, due.attempts, due.last_error) == (first, 2, "second error")

    def test_mark_delivered_removes_from_pending(self, storage: StorageBackend) -> None:
        """A delivered event is no longer pending for that notifier, still for the others."""
        first, second, third = self._three_pending(storage, "n", "o")
        with storage.transaction() as session:
            session.record_failure(second.id, "n", "boom", T0)
            session.mark_delivered(second.id, "n", T0)
            session.mark_delivered(first.id, "n", T0)
        assert _ids(_pending(storage, "n")) == [third.id]
        assert _ids(_pending(storage, "o")) == [first.id, second.id, third.id]
        with storage.transaction() as session:
            session.mark_delivered(third.id, "n", T0)
        assert _pending(storage, "n") == []
        assert len(_within(storage, lambda s: s.events())) == 3

    @pytest.mark.parametrize("mark", ["mark_delivered", "record_failure"])
    def test_marking_an_unknown_event_raises_not_found(
        self, storage: StorageBackend, mark: str
    ) -> None:
        """Delivery marks name an event in the outbox, or raise NotFoundError."""
        self._three_pending(storage, "n")
        calls: dict[str, Callable[[StorageSession], None]] = {
            "mark_delivered": lambda s: s.mark_delivered("no-such-event", "n", T0),
            "record_failure": lambda s: s.record_failure("no-such-event", "n", "boom", T0),
        }
        with pytest.raises(NotFoundError):
            _within(storage, calls[mark])
        assert len(_pending(storage, "n")) == 3

    # -- against a reference model --------------------------------------------------------------

    @given(transactions=_TRANSACTIONS)
    @_MODEL_SETTINGS
    def test_behaves_like_a_dict(
        self, storage: StorageBackend, transactions: list[tuple[list[_Write], bool]]
    ) -> None:
        """Random inserts and updates, committed or rolled back, match a dict model.

        Each example writes under kinds of its own, so the examples sharing one
        backend do not see each other.
        """
        namespace = uuid.uuid4().hex
        kinds = [f"{namespace}.a", f"{namespace}.b"]
        model: _Model = {}
        for writes, commit in transactions:
            after, calls, expected_error = _plan(model, writes, namespace)
            raised = _run(storage, calls, commit)
            if expected_error is None:
                assert raised is None
            else:
                assert isinstance(raised, expected_error), (calls, raised)
            if commit:
                model = after
            assert _within(storage, partial(_observe, kinds=kinds)) == _expect(model, kinds)
