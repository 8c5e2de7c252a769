"""What happens between us and a customer: purchases and interactions (K1)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import attrs

from crmcore.model.customer import Channel
from crmcore.validation import (
    aware_datetime,
    identifier,
    int_between,
    non_negative_decimal,
    optional_identifier,
    optional_non_negative_decimal,
)


@attrs.frozen
class Transaction:
    """A purchase: who bought, when, for how much (``amount`` in book currency).

    ``cost`` is the cost of what was sold, when the host knows it; with it,
    profit-based grading (G5 by profit) becomes possible.
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    occurred_at: datetime = attrs.field(validator=aware_datetime)
    amount: Decimal = attrs.field(validator=non_negative_decimal)
    quantity: int = attrs.field(default=1, validator=int_between(0))
    cost: Decimal | None = attrs.field(default=None, validator=optional_non_negative_decimal)
    reference: str | None = None

    @property
    def profit(self) -> Decimal | None:
        """``amount - cost`` when the cost is known, else ``None``."""
        return None if self.cost is None else self.amount - self.cost


class InteractionKind(StrEnum):
    """What kind of contact an interaction was."""

    VISIT = "visit"
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    MEETING = "meeting"
    MESSAGE = "message"


class Direction(StrEnum):
    """Who started the contact."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(StrEnum):
    """How a contact ended."""

    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    FOLLOW_UP_NEEDED = "follow_up_needed"
    DECLINED = "declined"


DEFAULT_CHANNEL: dict[InteractionKind, Channel] = {
    InteractionKind.VISIT: Channel.IN_PERSON,
    InteractionKind.CALL: Channel.PHONE,
    InteractionKind.SMS: Channel.SMS,
    InteractionKind.EMAIL: Channel.EMAIL,
    InteractionKind.MEETING: Channel.IN_PERSON,
    InteractionKind.MESSAGE: Channel.INSTANT_MESSAGE,
}
"""The channel an interaction kind uses unless stated otherwise."""


@attrs.frozen
class Interaction:
    """A contact with a customer: a visit, call, SMS, e-mail, meeting or message."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    occurred_at: datetime = attrs.field(validator=aware_datetime)
    kind: InteractionKind = attrs.field(validator=attrs.validators.instance_of(InteractionKind))
    direction: Direction = attrs.field(
        default=Direction.OUTBOUND, validator=attrs.validators.instance_of(Direction)
    )
    channel: Channel = attrs.field(validator=attrs.validators.instance_of(Channel))
    outcome: Outcome = attrs.field(
        default=Outcome.COMPLETED, validator=attrs.validators.instance_of(Outcome)
    )
    contact_id: str | None = attrs.field(default=None, validator=optional_identifier)
    owner: str | None = None
    subject: str | None = None

    @channel.default
    def _channel_of_kind(self) -> Channel:
        return DEFAULT_CHANNEL[self.kind]
