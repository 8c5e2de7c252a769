"""Service records: tickets (complaints and requests) and commitments (S4, S7)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.validation import (
    aware_datetime,
    identifier,
    non_empty_text,
    optional_aware_datetime,
    optional_identifier,
)


class TicketKind(StrEnum):
    """A complaint (投诉) or a request for service."""

    COMPLAINT = "complaint"
    REQUEST = "request"


class Priority(StrEnum):
    """Ticket priority, most urgent first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent priority, 3 for the least."""
        return list(Priority).index(self)


class TicketStatus(StrEnum):
    """Where a ticket stands. Status changes go through the transition door."""

    NEW = "new"
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


def _not_before(earlier: str, later: str, start: datetime, end: datetime | None) -> None:
    if end is not None and end < start:
        raise ValidationError(later, end.isoformat(), tr("is before {field} {value}").format(
            field=earlier, value=start.isoformat()))


@attrs.frozen
class Ticket:
    """A complaint or service request raised by a customer."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    opened_at: datetime = attrs.field(validator=aware_datetime)
    kind: TicketKind = attrs.field(validator=attrs.validators.instance_of(TicketKind))
    category: str = attrs.field(validator=non_empty_text)
    priority: Priority = attrs.field(
        default=Priority.NORMAL, validator=attrs.validators.instance_of(Priority)
    )
    status: TicketStatus = attrs.field(
        default=TicketStatus.NEW, validator=attrs.validators.instance_of(TicketStatus)
    )
    owner: str | None = None
    subject: str | None = None
    first_response_at: datetime | None = attrs.field(
        default=None, validator=optional_aware_datetime
    )
    resolved_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    problem_id: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        _not_before("opened_at", "first_response_at", self.opened_at, self.first_response_at)
        _not_before("opened_at", "resolved_at", self.opened_at, self.resolved_at)


@attrs.frozen
class Commitment:
    """A promise made to a customer, due at a definite time (S4)."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    made_at: datetime = attrs.field(validator=aware_datetime)
    due_at: datetime = attrs.field(validator=aware_datetime)
    description: str = attrs.field(validator=non_empty_text)
    owner: str | None = None
    ticket_id: str | None = attrs.field(default=None, validator=optional_identifier)
    fulfilled_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)

    def __attrs_post_init__(self) -> None:
        _not_before("made_at", "due_at", self.made_at, self.due_at)
        _not_before("made_at", "fulfilled_at", self.made_at, self.fulfilled_at)
