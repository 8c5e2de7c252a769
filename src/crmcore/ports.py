"""The ports plugins implement: storage, notification and scoring.

Storage backends store *documents* (JSON-ready dicts made by the shared
converter) under an entity kind and id, with the indexed fields
``customer_id`` and ``at``. They know nothing of the domain classes, so a
backend is small and a new entity kind needs no backend change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs

from crmcore.events import DomainEvent, EncodedEvent
from crmcore.options import Options

if TYPE_CHECKING:  # annotations only: opening a store imports neither model nor calendar
    from crmcore.model.activity import Transaction
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


def decoded_event(encoded: EncodedEvent) -> DomainEvent:
    """The :class:`~crmcore.events.DomainEvent` an :class:`EncodedEvent` holds."""
    import json

    from crmcore.serialization import structure

    return structure(json.loads(encoded.body), DomainEvent)


RECORD_ROW_HEAD = ("id", "version", "customer_id", "at")
"""What the first four values of a row given to :meth:`StorageSession.insert_rows` are."""


def rows_as_records(kind: str, fields: Sequence[str], rows: Iterable[Sequence[Any]]
                    ) -> list[StoredRecord]:
    """The :class:`StoredRecord` of each row given to :meth:`StorageSession.insert_rows`.

    A row is ``(id, version, customer_id, at, *values)``; its body is
    ``dict(zip(fields, values))``. Raises ValueError naming the row whose length
    does not fit ``fields``.
    """
    width = len(RECORD_ROW_HEAD) + len(fields)
    records = []
    for number, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"insert_rows: row {number} of {kind!r} has {len(row)} values, "
                             f"not {width} (id, version, customer_id, at and {len(fields)} "
                             f"fields)")
        records.append(StoredRecord(kind, row[0], row[1], row[2], row[3],
                                    dict(zip(fields, row[4:], strict=True))))
    return records


@attrs.frozen
class PendingDelivery:
    """An event not yet delivered to ``notifier``, with earlier failed attempts."""

    entry: OutboxEntry
    notifier: str
    attempts: int
    last_error: str | None


ColumnType = Literal["text", "integer", "real", "decimal", "instant", "json"]
"""How a column read by :meth:`StorageSession.scan` is typed.

``text``, ``integer`` and ``real`` are what they say; ``decimal`` is the
exact decimal text of an amount (``"1200.50"``); ``instant`` is an integer
count of microseconds since 1970-01-01 UTC; ``json`` is the decoded JSON
value (a list, a dict...). Absent fields read as None.
"""

INDEX_COLUMNS = frozenset({"id", "customer_id", "at", "version"})
"""Column names that read a record's indexed fields rather than its body."""

Columns = dict[str, list[Any]]
"""One chunk of a columnar read: column name -> values, all of one length."""

REDACTED_ERROR = "(erased)"
"""What :meth:`StorageSession.redact_events` leaves of a failed delivery's error."""

DEFAULT_SCAN_BATCH = 65_536
"""Rows per chunk of :meth:`StorageSession.scan` unless told otherwise."""


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

    def scan(
        self,
        kind: str,
        columns: Mapping[str, ColumnType],
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = DEFAULT_SCAN_BATCH,
    ) -> Iterator[Columns]:
        """Records of ``kind`` read as columns, in chunks of at most ``batch_size`` rows.

        ``columns`` maps a name to its type: the names in :data:`INDEX_COLUMNS`
        read the record's indexed fields, any other name a body field (a dotted
        path such as ``preferences.time_zone`` reads a nested one). Filters are
        those of :meth:`query`. The order of rows is unspecified but stable; no
        body is decoded into objects, so a backend may do the work in its
        engine (see ADR 0007).
        """

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        """The stored records of ``kind`` among ``ids``, by id (one set-based look-up)."""

    def stored_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` stored as ``kind`` (one set-based look-up; no body is read)."""

    def insert_many(self, records: Sequence[StoredRecord]) -> None:
        """Store new records in one statement per batch.

        Raise :class:`~crmcore.errors.DuplicateError` naming the first record
        whose id is already stored (or repeated in ``records``); the caller's
        transaction then rolls back, so nothing is stored.
        """

    def update_many(self, changes: Sequence[tuple[StoredRecord, int]]) -> None:
        """Replace records, each paired with its expected stored version (as :meth:`update`)."""

    def delete_many(self, kind: str, ids: Sequence[str]) -> int:
        """Remove the records of ``kind`` with these ids; return how many were stored."""

    def redact_events(self, customer_id: str, data: Mapping[str, Any]) -> int:
        """Replace the ``data`` of every stored event about ``customer_id`` with ``data``.

        An event is about a customer when its ``customer_id`` is that id. Its
        id, type, time, subject and sequence number stay, so delivery state and
        order are kept; only what it carried is gone (erasure, K2), with the
        errors recorded for its failed deliveries (a notifier's message may
        quote the data). Returns how many stored events were rewritten.
        """

    def insert_rows(self, kind: str, fields: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Store new records of ``kind`` given as rows rather than :class:`StoredRecord` objects.

        Each row is ``(id, version, customer_id, at, *values)``, its body
        ``dict(zip(fields, values))`` (see :func:`rows_as_records`). The same
        as :meth:`insert_many` of those records, duplicates and all; a backend
        may encode the rows without building a record or a body dict each.
        """

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add events to the outbox, in order, in this transaction."""

    def append_encoded_events(self, events: Sequence[EncodedEvent]) -> None:
        """Add already encoded events to the outbox, in order, as :meth:`append_events` does.

        What is stored is what :meth:`append_events` stores for the events the
        bodies hold; a backend may store each body text as it is.
        """

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


class BatchFallbacks:
    """The batch methods of :class:`StorageSession` built on the single-row ones.

    A storage backend written before the columnar path (crmcore 0.1)
    inherits this in its session class and keeps working, record by record;
    the built-in backends implement the batch methods in their engines.
    """

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:  # pragma: no cover
        raise NotImplementedError

    def insert(self, record: StoredRecord) -> None:  # pragma: no cover
        raise NotImplementedError

    def update(self, record: StoredRecord, expected_version: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def query(self, kind: str, *, customer_id: str | None = None,
              since: datetime | None = None, until: datetime | None = None
              ) -> Iterator[StoredRecord]:  # pragma: no cover
        raise NotImplementedError

    def scan(self, kind: str, columns: Mapping[str, ColumnType], *,
             customer_id: str | None = None, since: datetime | None = None,
             until: datetime | None = None, batch_size: int = DEFAULT_SCAN_BATCH
             ) -> Iterator[Columns]:
        """Columns built from :meth:`query`, one decoded record at a time."""
        from crmcore.columns import records_as_columns

        return records_as_columns(
            self.query(kind, customer_id=customer_id, since=since, until=until),
            columns, batch_size)

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        """Each id looked up with :meth:`get`."""
        found = {}
        for entity_id in ids:
            record = self.get(kind, entity_id)
            if record is not None:
                found[entity_id] = record
        return found

    def stored_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        """The ids :meth:`get_many` finds."""
        return set(self.get_many(kind, ids))

    def insert_many(self, records: Sequence[StoredRecord]) -> None:
        """Each record stored with :meth:`insert`."""
        for record in records:
            self.insert(record)

    def update_many(self, changes: Sequence[tuple[StoredRecord, int]]) -> None:
        """Each record replaced with :meth:`update`."""
        for record, expected_version in changes:
            self.update(record, expected_version)

    def insert_rows(self, kind: str, fields: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """The rows' records (:func:`rows_as_records`) stored with :meth:`insert_many`."""
        self.insert_many(rows_as_records(kind, fields, rows))

    def append_events(self, events: Sequence[DomainEvent]) -> None:  # pragma: no cover
        raise NotImplementedError

    def append_encoded_events(self, events: Sequence[EncodedEvent]) -> None:
        """The events decoded (:func:`decoded_event`) and stored with :meth:`append_events`."""
        self.append_events([decoded_event(event) for event in events])

    def delete_many(self, kind: str, ids: Sequence[str]) -> int:
        """Refused: a 0.1 backend has no way to remove records."""
        from crmcore.errors import StorageError
        from crmcore.i18n import tr

        raise StorageError(tr("{backend} cannot delete {kind} records: implement delete_many "
                              "(see ADR 0007)").format(backend=type(self).__name__, kind=kind))

    def redact_events(self, customer_id: str, data: Mapping[str, Any]) -> int:
        """Refused: a 0.1 backend has no way to rewrite stored events."""
        from crmcore.errors import StorageError
        from crmcore.i18n import tr

        raise StorageError(tr("{backend} cannot erase the events about customer {customer!r}: "
                              "implement redact_events").format(backend=type(self).__name__,
                                                                customer=customer_id))


def ids_by_kind(records: Iterable[StoredRecord]) -> dict[str, list[str]]:
    """The distinct ids of ``records`` per kind, in first-seen order (for set-based look-ups)."""
    found: dict[str, dict[str, None]] = {}
    for record in records:
        found.setdefault(record.kind, {})[record.id] = None
    return {kind: list(ids) for kind, ids in found.items()}


def check_versions(changes: Sequence[tuple[StoredRecord, int]],
                   stored: Mapping[tuple[str, str], int]) -> None:
    """Raise what :meth:`StorageSession.update_many` raises, before anything is written.

    ``stored`` holds the stored version of each record by ``(kind, id)``.
    Changes apply in order, so a record changed twice names its first new
    version the second time. Raises :class:`~crmcore.errors.NotFoundError`
    or :class:`~crmcore.errors.ConflictError` for the first change that fails.
    """
    from crmcore.errors import ConflictError, NotFoundError

    current = dict(stored)
    for record, expected in changes:
        key = (record.kind, record.id)
        version = current.get(key)
        if version is None:
            raise NotFoundError(record.kind, record.id)
        if version != expected:
            raise ConflictError(record.kind, record.id, expected, version)
        current[key] = record.version


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

CalendarFactory = Callable[[Options], "BusinessCalendar"]
"""Builds a business calendar from its configured options."""
