"""The storage contract on a backend written for crmcore 0.1: single-row methods only.

Its session implements the 0.1 methods and inherits
:class:`~crmcore.ports.BatchFallbacks` for ``scan``, ``get_many``,
``insert_many`` and ``update_many``, which must then meet the contract too;
``delete_many`` has no 0.1 method to build on and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import pytest

from crmcore import StorageError
from crmcore.events import DomainEvent
from crmcore.ports import (
    BatchFallbacks,
    OutboxEntry,
    PendingDelivery,
    StorageBackend,
    StorageSession,
    StoredRecord,
)
from crmcore.testing import StorageContract
from crmcore_plugins.storage_memory import MemoryStorage


class _OldSession(BatchFallbacks):
    """The methods a 0.1 session had, passed on to a memory session."""

    def __init__(self, inner: StorageSession) -> None:
        self._inner = inner

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:
        return self._inner.get(kind, entity_id)

    def insert(self, record: StoredRecord) -> None:
        self._inner.insert(record)

    def update(self, record: StoredRecord, expected_version: int) -> None:
        self._inner.update(record, expected_version)

    def query(self, kind: str, *, customer_id: str | None = None,
              since: datetime | None = None, until: datetime | None = None
              ) -> Iterator[StoredRecord]:
        return self._inner.query(kind, customer_id=customer_id, since=since, until=until)

    def count(self, kind: str) -> int:
        return self._inner.count(kind)

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        self._inner.append_events(events)

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        return self._inner.events(after_seq=after_seq, limit=limit)

    def subscribe(self, notifier: str) -> None:
        self._inner.subscribe(notifier)

    def pending_deliveries(self, notifier: str, *, now: datetime, limit: int
                           ) -> list[PendingDelivery]:
        return self._inner.pending_deliveries(notifier, now=now, limit=limit)

    def mark_delivered(self, event_id: str, notifier: str, at: datetime) -> None:
        self._inner.mark_delivered(event_id, notifier, at)

    def record_failure(self, event_id: str, notifier: str, error: str,
                       retry_at: datetime) -> None:
        self._inner.record_failure(event_id, notifier, error, retry_at)


class _OldStorage:
    """A 0.1 backend: memory storage seen through :class:`_OldSession`."""

    def __init__(self) -> None:
        self._inner = MemoryStorage()

    @contextmanager
    def transaction(self) -> Iterator[StorageSession]:
        with self._inner.transaction() as session:
            yield _OldSession(session)

    def schema_version(self) -> int:
        return self._inner.schema_version()

    def close(self) -> None:
        self._inner.close()


class TestBatchFallbacks(StorageContract):
    """A 0.1 backend meets the contract through :class:`~crmcore.ports.BatchFallbacks`."""

    @pytest.fixture
    def storage(self) -> Iterator[StorageBackend]:
        backend = _OldStorage()
        yield backend
        backend.close()

    def test_delete_many_counts_removed_records(self, storage: StorageBackend) -> None:
        """A 0.1 backend cannot delete: StorageError names the kind and what to implement."""
        with pytest.raises(StorageError, match="cannot delete thing records: implement "
                                               "delete_many"), storage.transaction() as session:
            session.delete_many("thing", ["R1"])

    def test_delete_many_rolls_back(self, storage: StorageBackend) -> None:
        """Nothing to roll back: see :meth:`test_delete_many_counts_removed_records`."""
        self.test_delete_many_counts_removed_records(storage)
