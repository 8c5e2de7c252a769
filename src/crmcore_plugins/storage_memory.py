"""In-memory storage: fast, transactional, gone when the process ends.

Registered as the storage backend ``memory``. Transactions are serialised by
a lock and rolled back from an undo log, so a failed write leaves nothing
behind, exactly as on a database.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs

from crmcore.errors import ConflictError, DuplicateError, NotFoundError, StorageError
from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import (
    REDACTED_ERROR,
    BatchFallbacks,
    OutboxEntry,
    PendingDelivery,
    StorageFactory,
    StoredRecord,
)


@attrs.define
class _Delivery:
    attempts: int = 0
    last_error: str | None = None
    retry_at: datetime | None = None
    delivered_at: datetime | None = None


def _private(record: StoredRecord) -> StoredRecord:
    """A copy whose body the caller can no longer change (as a database would)."""
    return attrs.evolve(record, body=copy.deepcopy(dict(record.body)))


def _drop_last(log: list[OutboxEntry]) -> None:
    log.pop()


class _MemorySession(BatchFallbacks):
    """A memory transaction; scan and batch writes are the row-by-row ones (BatchFallbacks)."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._undo: list[Callable[[], None]] = []

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        missing = object()
        old = table.get(key, missing)
        table[key] = value
        self._undo.append(
            (lambda: table.pop(key)) if old is missing else (lambda: table.__setitem__(key, old))
        )

    def rollback(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:
        return self._storage._records.get((kind, entity_id))

    def insert(self, record: StoredRecord) -> None:
        if (record.kind, record.id) in self._storage._records:
            raise DuplicateError(record.kind, record.id)
        self._set(self._storage._records, (record.kind, record.id), _private(record))

    def update(self, record: StoredRecord, expected_version: int) -> None:
        current = self._storage._records.get((record.kind, record.id))
        if current is None:
            raise NotFoundError(record.kind, record.id)
        if current.version != expected_version:
            raise ConflictError(record.kind, record.id, expected_version, current.version)
        self._set(self._storage._records, (record.kind, record.id), _private(record))

    def query(
        self,
        kind: str,
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredRecord]:
        found = [
            record for (record_kind, _), record in self._storage._records.items()
            if record_kind == kind
            and (customer_id is None or record.customer_id == customer_id)
            and (since is None or (record.at is not None and record.at >= since))
            and (until is None or (record.at is not None and record.at < until))
        ]
        found.sort(key=lambda r: (r.at is not None, r.at or datetime.min, r.id))
        return iter(found)

    def count(self, kind: str) -> int:
        return sum(1 for record_kind, _ in self._storage._records if record_kind == kind)

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        records = self._storage._records
        return {i: records[(kind, i)] for i in ids if (kind, i) in records}

    def delete_many(self, kind: str, ids: Sequence[str]) -> int:
        records = self._storage._records
        removed = 0
        for entity_id in dict.fromkeys(ids):
            old = records.pop((kind, entity_id), None)
            if old is not None:
                removed += 1
                self._undo.append(lambda key=(kind, entity_id), old=old:  # type: ignore[misc]
                                  records.__setitem__(key, old))
        return removed

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        log = self._storage._events
        known = {entry.event.id for entry in log}
        for event in events:
            if event.id in known:
                raise DuplicateError("event", event.id)
            known.add(event.id)
            log.append(OutboxEntry(len(log) + 1, event))
            self._undo.append(lambda: _drop_last(log))

    def redact_events(self, customer_id: str, data: Mapping[str, Any]) -> int:
        log = self._storage._events
        redacted: set[str] = set()
        for position, entry in enumerate(log):
            if entry.event.customer_id == customer_id:
                self._set_entry(log, position, attrs.evolve(entry, event=attrs.evolve(
                    entry.event, data=copy.deepcopy(dict(data)))))
                redacted.add(entry.event.id)
        deliveries = self._storage._deliveries
        for key, state in list(deliveries.items()):
            if key[0] in redacted and state.last_error is not None:
                self._set(deliveries, key, attrs.evolve(state, last_error=REDACTED_ERROR))
        return len(redacted)

    def _set_entry(self, log: list[OutboxEntry], position: int, entry: OutboxEntry) -> None:
        old = log[position]
        log[position] = entry
        self._undo.append(lambda: log.__setitem__(position, old))

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        selected = self._storage._events[max(after_seq, 0):]
        return list(selected if limit is None else selected[:limit])

    def subscribe(self, notifier: str) -> None:
        if notifier not in self._storage._subscriptions:
            self._set(self._storage._subscriptions, notifier, len(self._storage._events))

    def pending_deliveries(
        self, notifier: str, *, now: datetime, limit: int
    ) -> list[PendingDelivery]:
        after = self._storage._subscriptions.get(notifier)
        if after is None:
            return []
        pending: list[PendingDelivery] = []
        for entry in self._storage._events[after:]:
            if len(pending) >= limit:
                break
            state = self._storage._deliveries.get((entry.event.id, notifier), _Delivery())
            if state.delivered_at is not None or (state.retry_at and state.retry_at > now):
                continue
            pending.append(PendingDelivery(entry, notifier, state.attempts, state.last_error))
        return pending

    def _delivery(self, event_id: str, notifier: str) -> _Delivery:
        if not any(entry.event.id == event_id for entry in self._storage._events):
            raise NotFoundError("event", event_id)
        old = self._storage._deliveries.get((event_id, notifier), _Delivery())
        return attrs.evolve(old)

    def mark_delivered(self, event_id: str, notifier: str, at: datetime) -> None:
        state = self._delivery(event_id, notifier)
        state.delivered_at = at
        self._set(self._storage._deliveries, (event_id, notifier), state)

    def record_failure(
        self, event_id: str, notifier: str, error: str, retry_at: datetime
    ) -> None:
        state = self._delivery(event_id, notifier)
        state.attempts += 1
        state.last_error = error
        state.retry_at = retry_at
        self._set(self._storage._deliveries, (event_id, notifier), state)


class MemoryStorage:
    """Storage in process memory; every instance is a separate, empty store."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], StoredRecord] = {}
        self._events: list[OutboxEntry] = []
        self._subscriptions: dict[str, int] = {}
        self._deliveries: dict[tuple[str, str], _Delivery] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._active = False

    @contextmanager
    def transaction(self) -> Iterator[_MemorySession]:
        """Open a transaction; see :meth:`crmcore.ports.StorageBackend.transaction`."""
        with self._lock:
            if self._closed:
                raise StorageError(tr("the memory storage is closed"))
            if self._active:
                raise StorageError(tr("a transaction is already open on this storage"))
            session = _MemorySession(self)
            self._active = True
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            finally:
                self._active = False

    def schema_version(self) -> int:
        """Always 0: memory storage has no schema to migrate."""
        if self._closed:
            raise StorageError(tr("the memory storage is closed"))
        return 0

    def close(self) -> None:
        """Drop everything; later use raises :class:`~crmcore.errors.StorageError`."""
        self._closed = True


def open_memory_storage(options: Options) -> MemoryStorage:
    """Factory for the ``memory`` backend (it takes no options)."""
    return MemoryStorage()


@hookimpl
def crmcore_register_storage(register: Callable[[str, StorageFactory], None]) -> None:
    """Register the ``memory`` storage backend."""
    register("memory", open_memory_storage)
