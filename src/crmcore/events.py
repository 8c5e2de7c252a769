"""Domain events: what happened, as data, for notifiers and observers.

An event is stored in the same transaction as the state change that produced
it (the transactional outbox), then delivered to every configured notifier
at least once. ``id`` is the idempotency key receivers use to drop repeats.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from crmcore.serialization import dump_json, unstructure
from crmcore.validation import as_dict, aware_datetime, non_empty_text, optional_identifier

JsonValue = Any
"""A value that :func:`json.dumps` accepts (str, number, bool, None, list, dict)."""

_SUFFIXES: list[str] = []
_SUFFIXES_PER_DRAW = 512


def new_event_id() -> str:
    """A new event id: 32 hex digits, the Unix time in milliseconds (48 bits) then 80 random
    bits, as in UUIDv7's layout.

    Ids made later sort after earlier ones (to the millisecond), so the outbox's unique
    index on them grows at its end instead of everywhere; the random part keeps them
    unique and unguessable. It comes from a pool filled by one ``os.urandom`` call per 512
    ids; a forked child starts with an empty pool, so it never repeats its parent's.
    """
    try:
        suffix = _SUFFIXES.pop()
    except IndexError:
        drawn = os.urandom(10 * _SUFFIXES_PER_DRAW).hex()
        _SUFFIXES.extend(drawn[i:i + 20] for i in range(20, len(drawn), 20))
        suffix = drawn[:20]
    return f"{time.time_ns() // 1_000_000:012x}{suffix}"


os.register_at_fork(after_in_child=_SUFFIXES.clear)


@attrs.frozen
class DomainEvent:
    """Something that happened in the domain.

    ``type`` is a dotted name such as ``"customer.created"`` or
    ``"grade.changed"``; ``subject`` names the entity (``"customer:C001"``);
    ``data`` carries the facts a receiver needs, as JSON values.
    """

    type: str = attrs.field(validator=non_empty_text)
    occurred_at: datetime = attrs.field(validator=aware_datetime)
    subject: str = attrs.field(validator=non_empty_text)
    customer_id: str | None = attrs.field(default=None, validator=optional_identifier)
    data: dict[str, JsonValue] = attrs.field(factory=dict, converter=as_dict)
    id: str = attrs.field(factory=new_event_id, validator=non_empty_text)


class EncodedEvent(NamedTuple):
    """A domain event ready for the outbox: its id, type and time, and its JSON body.

    ``body`` is the text :func:`event_json` gives for the event
    (:func:`encode_event` makes one); a writer of many events
    builds these instead of :class:`DomainEvent` objects.
    """

    id: str
    type: str
    occurred_at: datetime
    body: str


def event_json(event: DomainEvent) -> str:
    """The outbox body of ``event``: the text of ``dump_json(unstructure(event))``, encoded in
    one pass without copying ``data`` (a value that is not JSON data, a datetime or a
    Decimal, goes through the shared converter as the encoder meets it)."""
    return _body_json(event.type, event.occurred_at, event.subject, event.customer_id,
                      event.data, event.id)


def _body_json(kind: str, occurred_at: datetime, subject: str, customer_id: str | None,
               data: dict[str, JsonValue], event_id: str) -> str:
    return dump_json({"type": kind, "occurred_at": occurred_at.isoformat(), "subject": subject,
                      "customer_id": customer_id, "data": data, "id": event_id},
                     default=unstructure)


def encode_event(kind: str, occurred_at: datetime, subject: str, customer_id: str | None,
                 data: dict[str, JsonValue], event_id: str) -> EncodedEvent:
    """The outbox form of the event these values make, without a :class:`DomainEvent`.

    For values already checked (as the transition door's are): the body is
    the :func:`event_json` text of ``DomainEvent(kind, occurred_at, subject,
    customer_id, data, event_id)``.
    """
    return EncodedEvent(event_id, kind, occurred_at,
                        _body_json(kind, occurred_at, subject, customer_id, data, event_id))


ENTITY_RECORDED = "{kind}.recorded"
"""Event type pattern emitted when a new entity is recorded (``customer.recorded``)."""

ENTITY_UPDATED = "{kind}.updated"
"""Event type pattern emitted when a stored entity is replaced by a new version."""

ENTITY_IMPORTED = "{kind}.imported"
"""Event type pattern emitted once per kind for a batch import (``transaction.imported``)."""


def entity_event(pattern: str, entity: Any, *, at: datetime, **extra: JsonValue) -> DomainEvent:
    """The event saying ``entity`` was recorded or changed, with its data attached.

    ``pattern`` is :data:`ENTITY_RECORDED` or :data:`ENTITY_UPDATED`; ``extra``
    adds JSON values to ``data`` (the new ``version``, say). Capabilities that
    change an entity inside their own unit of work emit this, as the
    application service does, so receivers see one shape for every change.
    """
    from crmcore.model.registry import entity_type_of
    from crmcore.serialization import unstructure

    kind = entity_type_of(entity)
    return DomainEvent(
        type=pattern.format(kind=kind.kind), occurred_at=at, subject=f"{kind.kind}:{entity.id}",
        customer_id=kind.customer_id(entity), data={"entity": unstructure(entity), **extra},
    )
