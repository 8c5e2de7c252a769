"""Leads and opportunities (G4, L2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import attrs

from crmcore.errors import ValidationError
from crmcore.validation import (
    as_tuple,
    aware_datetime,
    identifier,
    non_empty_text,
    optional_decimal,
    optional_non_negative_decimal,
)


class OpportunityStatus(StrEnum):
    """Whether an opportunity is still open, won (invoiced) or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@attrs.frozen
class Opportunity:
    """A lead or sales opportunity with a customer or prospect.

    ``expected_close`` drives prospect grading by closing horizon (G4);
    ``poor_credit`` and ``low_loyalty`` flag a prospect as grade D.
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    title: str = attrs.field(validator=non_empty_text)
    received_at: datetime = attrs.field(validator=aware_datetime)
    source: str | None = None
    owner: str | None = None
    expected_close: date | None = None
    estimated_value: Decimal | None = attrs.field(
        default=None, validator=optional_non_negative_decimal
    )
    estimated_profit: Decimal | None = attrs.field(default=None, validator=optional_decimal)
    status: OpportunityStatus = attrs.field(
        default=OpportunityStatus.OPEN, validator=attrs.validators.instance_of(OpportunityStatus)
    )
    concerns: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    poor_credit: bool = False
    low_loyalty: bool = False

    def __attrs_post_init__(self) -> None:
        if self.expected_close is not None and self.expected_close < self.received_at.date():
            raise ValidationError(
                "expected_close",
                self.expected_close.isoformat(),
                f"is before received_at {self.received_at.date().isoformat()}",
            )
