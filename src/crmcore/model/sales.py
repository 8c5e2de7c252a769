"""Leads and opportunities (G4, L2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.validation import (
    as_tuple,
    aware_datetime,
    identifier,
    non_empty_text,
    optional,
    optional_decimal,
    optional_identifier,
    optional_non_negative_decimal,
)


def currency_code(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An ISO 4217 currency code: three capital letters (``EUR``, ``CNY``)."""
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() \
            or not value.isalpha() or not value.isupper():
        raise ValidationError(attribute.name, value,
                              "is not an ISO 4217 currency code (three capital letters)")


class OpportunityStatus(StrEnum):
    """Whether an opportunity is still open, won (invoiced) or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@attrs.frozen
class Opportunity:
    """A lead or sales opportunity with a customer or prospect.

    ``expected_close`` drives prospect grading by closing horizon (G4);
    ``poor_credit``, ``low_loyalty`` and ``haggles`` flag a prospect as grade D;
    open ``concerns``, a loss (``estimated_profit`` below zero) or a close date already
    passed keep it from A.
    ``currency`` is the ISO 4217 code of ``estimated_value`` (None: not stated;
    older records) and ``territory`` the sales territory it is assigned to (M1, M2).
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
    haggles: bool = False
    currency: str | None = attrs.field(default=None, validator=optional(currency_code))
    territory: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        if self.expected_close is not None and self.expected_close < self.received_at.date():
            raise ValidationError(
                "expected_close",
                self.expected_close.isoformat(),
                tr("is before {field} {value}").format(
                    field="received_at", value=self.received_at.date().isoformat()),
            )
