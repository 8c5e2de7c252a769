"""Typed repositories over a storage session, and the unit of work.

A :class:`UnitOfWork` wraps one storage transaction: entities go in and out
as attrs objects, events emitted during the work are appended to the outbox
in the same transaction, so state and events are committed together or not
at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from crmcore.errors import DuplicateError, NotFoundError
from crmcore.events import DomainEvent, EncodedEvent
from crmcore.model.registry import EntityType, entity_type, entity_type_of
from crmcore.ports import StorageBackend, StorageSession, StoredRecord
from crmcore.serialization import structure, unstructure

E = TypeVar("E")


def to_record(entity: Any, version: int = 1) -> StoredRecord:
    """The :class:`~crmcore.ports.StoredRecord` of an entity at ``version``."""
    kind = entity_type_of(entity)
    return StoredRecord(
        kind=kind.kind, id=entity.id, version=version,
        customer_id=kind.customer_id(entity), at=_utc(kind.timestamp(entity)),
        body=unstructure(entity),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def from_record(record: StoredRecord, cls: type[E]) -> E:
    """Rebuild an entity from its stored record."""
    return structure(record.body, cls, path=f"{record.kind}[{record.id!r}]")


class Repository(Generic[E]):
    """Typed access to the stored entities of one kind inside a unit of work."""

    def __init__(self, session: StorageSession, cls: type[E]) -> None:
        self._session = session
        self.cls = cls
        self.entity_type: EntityType = entity_type(cls)

    @property
    def kind(self) -> str:
        """The kind name, e.g. ``"customer"``."""
        return self.entity_type.kind

    def get(self, entity_id: str) -> E | None:
        """The entity with ``entity_id``, or None."""
        record = self._session.get(self.kind, entity_id)
        return None if record is None else from_record(record, self.cls)

    def require(self, entity_id: str, *, field: str | None = None) -> E:
        """The entity with ``entity_id``; :class:`NotFoundError` naming ``field`` if absent."""
        found = self.get(entity_id)
        if found is None:
            raise NotFoundError(self.kind, entity_id, field)
        return found

    def version(self, entity_id: str) -> int | None:
        """The stored version of ``entity_id``, or None."""
        record = self._session.get(self.kind, entity_id)
        return None if record is None else record.version

    def find(
        self,
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[E]:
        """Entities of this kind, filtered; ordered by their time index, then id."""
        for record in self._session.query(
            self.kind, customer_id=customer_id, since=since, until=until
        ):
            yield from_record(record, self.cls)

    def count(self) -> int:
        """How many entities of this kind are stored."""
        return self._session.count(self.kind)

    def add(self, entity: E) -> bool:
        """Store a new entity; return False if an identical one is already stored.

        Raises :class:`~crmcore.errors.DuplicateError` if the id is taken by
        different content: an import run twice is harmless, a clash is not.
        """
        record = to_record(entity)
        existing = self._session.get(self.kind, record.id)
        if existing is not None:
            if dict(existing.body) == record.body:
                return False
            raise DuplicateError(self.kind, record.id)
        self._session.insert(record)
        return True

    def replace(self, entity: E, *, expected_version: int | None = None) -> int:
        """Store a new version of an existing entity; return the new version.

        With ``expected_version`` the write fails with
        :class:`~crmcore.errors.ConflictError` if someone changed the entity
        since it was read.
        """
        current = self._session.get(self.kind, getattr(entity, "id"))  # noqa: B009
        if current is None:
            raise NotFoundError(self.kind, getattr(entity, "id"))  # noqa: B009
        expected = current.version if expected_version is None else expected_version
        self._session.update(to_record(entity, expected + 1), expected)
        return expected + 1


class UnitOfWork:
    """One transaction: repositories plus the events to commit with it."""

    def __init__(self, session: StorageSession) -> None:
        self.session = session
        self.events: list[DomainEvent] = []
        self.stored_events: list[DomainEvent | EncodedEvent] = []
        """Events already in the outbox of this transaction, in order (see :meth:`committed`)."""
        self._repositories: dict[type[Any], Repository[Any]] = {}

    def repository(self, cls: type[E]) -> Repository[E]:
        """The repository of entity class ``cls``."""
        if cls not in self._repositories:
            self._repositories[cls] = Repository(self.session, cls)
        return self._repositories[cls]

    def emit(self, event: DomainEvent) -> None:
        """Queue ``event`` to be stored with this transaction."""
        self.events.append(event)

    def emit_encoded(self, events: Sequence[EncodedEvent]) -> None:
        """Store already encoded events in the outbox now, after every event emitted so far
        (:meth:`~crmcore.ports.StorageSession.append_encoded_events`): a writer of many
        events builds no :class:`~crmcore.events.DomainEvent` each."""
        self.store_events()
        if events:
            self.session.append_encoded_events(events)
            self.stored_events.extend(events)

    def store_events(self) -> None:
        """Append the events emitted and not yet stored to the outbox, in order."""
        if self.events:
            self.session.append_events(self.events)
            self.stored_events.extend(self.events)
            self.events = []

    def committed(self) -> list[DomainEvent | EncodedEvent]:
        """Every event of this transaction, in outbox order (what observers are told of once
        it commits; an encoded one is decoded only for an observer)."""
        return [*self.stored_events, *self.events]


@contextmanager
def unit_of_work(storage: StorageBackend) -> Iterator[UnitOfWork]:
    """Open a unit of work; its events are written to the outbox before commit."""
    with storage.transaction() as session:
        work = UnitOfWork(session)
        yield work
        work.store_events()
