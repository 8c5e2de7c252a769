"""Domain events: what happened, as data, for notifiers and observers.

An event is stored in the same transaction as the state change that produced
it (the transactional outbox), then delivered to every configured notifier
at least once. ``id`` is the idempotency key receivers use to drop repeats.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import attrs

from crmcore.serialization import dump_json, unstructure
from crmcore.validation import as_dict, aware_datetime, non_empty_text, optional_identifier

JsonValue = Any
"""A value that :func:`json.dumps` accepts (str, number, bool, None, list, dict)."""


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
    id: str = attrs.field(factory=lambda: os.urandom(16).hex(), validator=non_empty_text)


def event_json(event: DomainEvent) -> str:
    """The outbox body of ``event``: the text of ``dump_json(unstructure(event))``, encoded in
    one pass without copying ``data`` (a value that is not JSON data, a datetime or a
    Decimal, goes through the shared converter as the encoder meets it)."""
    return dump_json({"type": event.type, "occurred_at": event.occurred_at.isoformat(),
                      "subject": event.subject, "customer_id": event.customer_id,
                      "data": event.data, "id": event.id}, default=unstructure)


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
