"""The ports plugins implement: storage, notification and scoring.

Storage backends store *documents* (JSON-ready dicts made by the shared
converter) under an entity kind and id, with the indexed fields
``customer_id`` and ``at``. They know nothing of the domain classes, so a
backend is small and a new entity kind needs no backend change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from crmcore.events import DomainEvent
from crmcore.model.activity import Transaction
from crmcore.options import Options
from crmcore.service.calendar import BusinessCalendar


@attrs.frozen
class StoredRecord:
    """One stored entity: its kind, id, version and JSON body.

    ``version`` starts at 1 and grows by one with every update (optimistic
    concurrency). ``at`` is the entity's time index in UTC, or None.
    """

    kind: str
    id: str
    version: int
    customer_id: str
    at: datetime | None
    body: Mapping[str, Any]


@attrs.frozen
class OutboxEntry:
    """A domain event stored in the outbox; ``seq`` orders events for delivery."""

    seq: int
    event: DomainEvent


def outbox_entry(seq: int, body: Any) -> OutboxEntry:
    """An :class:`OutboxEntry` rebuilt from a stored event body (JSON data)."""
    from crmcore.serialization import structure

    return OutboxEntry(int(seq), structure(body, DomainEvent))


@attrs.frozen
class PendingDelivery:
    """An event not yet delivered to ``notifier``, with earlier failed attempts."""

    entry: OutboxEntry
    notifier: str
    attempts: int
    last_error: str | None


class StorageSession(Protocol):
    """One open transaction of a storage backend (the unit of work's storage side).

    Everything done through a session is committed together when the
    ``with`` block of :meth:`StorageBackend.transaction` ends normally, and
    rolled back when it raises.
    """

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:
        """The record of ``kind`` with ``entity_id``, or None."""

    def insert(self, record: StoredRecord) -> None:
        """Store a new record; raise :class:`~crmcore.errors.DuplicateError` if it exists."""

    def update(self, record: StoredRecord, expected_version: int) -> None:
        """Replace a record whose stored version is ``expected_version``.

        ``record.version`` is the new version. Raise
        :class:`~crmcore.errors.ConflictError` when the stored version differs
        and :class:`~crmcore.errors.NotFoundError` when there is no record.
        """

    def query(
        self,
        kind: str,
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredRecord]:
        """Records of ``kind``, optionally one customer's, with ``since <= at < until``.

        Ordered by ``at`` (records without ``at`` first), then by id.
        """

    def count(self, kind: str) -> int:
        """How many records of ``kind`` are stored."""

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add events to the outbox, in order, in this transaction."""

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        """Stored events with ``seq > after_seq``, oldest first."""

    def subscribe(self, notifier: str) -> None:
        """Start delivering to ``notifier`` the events stored from now on.

        Does nothing if the notifier is already subscribed.
        """

    def pending_deliveries(
        self, notifier: str, *, now: datetime, limit: int
    ) -> list[PendingDelivery]:
        """Events not yet delivered to ``notifier`` that are due (retry time reached)."""

    def mark_delivered(self, event_id: str, notifier: str, at: datetime) -> None:
        """Record that ``notifier`` accepted the event."""

    def record_failure(
        self, event_id: str, notifier: str, error: str, retry_at: datetime
    ) -> None:
        """Record a failed attempt and when to try again."""


@runtime_checkable
class StorageBackend(Protocol):
    """A place to keep entities and the event outbox."""

    def transaction(self) -> AbstractContextManager[StorageSession]:
        """Open a transaction: commit when the block ends, roll back if it raises."""

    def schema_version(self) -> int:
        """The version of the stored schema (0 when the backend has none)."""

    def close(self) -> None:
        """Release connections and files. Using the backend afterwards is an error."""


@runtime_checkable
class Notifier(Protocol):
    """Receives domain events; raising means "not delivered, try again later".

    Delivery is at least once: use ``event.id`` as the idempotency key.
    """

    def notify(self, event: DomainEvent) -> None:
        """Deliver one event, or raise."""


@runtime_checkable
class ScoringStrategy(Protocol):
    """Scores customers from their purchases; higher means more of the quality.

    Used as the potential axis of value-matrix grading (G3) and, for
    lifetime-value models, as evidence for the lifecycle.
    """

    def score(
        self, transactions: Sequence[Transaction], *, as_of: datetime
    ) -> Mapping[str, float]:
        """One score per customer id that has transactions before ``as_of``."""


StorageFactory = Callable[[Options], StorageBackend]
"""Builds a storage backend from its configured options."""

NotifierFactory = Callable[[Options], Notifier]
"""Builds a notifier from its configured options."""

ScoringFactory = Callable[[Options], ScoringStrategy]
"""Builds a scoring strategy from its configured options."""

CalendarFactory = Callable[[Options], BusinessCalendar]
"""Builds a business calendar from its configured options."""
