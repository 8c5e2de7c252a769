"""Receivables (M4): invoices with their open balance, days overdue and days to pay.

A :class:`Receivable` is one invoice as the ERP keeps it: customer, amount and
currency, issue and due dates, and what was paid by when. Everything is
dated in whole days; "as of" a date means at the end of that day, so a
payment dated on the as-of date counts, and an invoice due yesterday is one
day overdue today.

Money stays in its currency: :class:`Balance` holds one open amount per
currency and :meth:`Balance.single` refuses (:class:`~crmcore.sales.money.MixedCurrencyError`)
to turn several into one number. Amounts carry at most two decimal places,
so they are exact in hundredths on the columnar path
(:mod:`crmcore.sales.receivables_columns`).

:func:`open_balances` is the plain reference over objects; the whole stored
book is read as columns by :func:`crmcore.sales.receivables_columns.stored_balances`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.model.sales import currency_code
from crmcore.sales.money import MixedCurrencyError
from crmcore.validation import as_tuple, identifier, non_negative_decimal

__all__ = [
    "RECEIVABLE",
    "Balance",
    "Receivable",
    "cent_amount",
    "cents_text",
    "money_text",
    "open_balances",
    "to_hundredths",
]

def cent_amount(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A non-negative Decimal with at most two decimal places."""
    non_negative_decimal(_instance, attribute, value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValidationError(attribute.name, value, "has more than two decimal places")


def _day(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(attribute.name, value, "is not a date (YYYY-MM-DD)")


def _optional_day(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _day(instance, attribute, value)


def _product_names(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"{attribute.name}[{index}]", name, "must be a non-empty text")


@attrs.frozen
class Receivable:
    """One invoice and what was paid on it (M4, 应收帐款).

    ``paid_amount`` is what was received by ``paid_on`` (the last payment's
    date); both are given or neither. ``products`` names the product lines
    invoiced, when the ERP says (the G9 breadth report reads them).
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    amount: Decimal = attrs.field(validator=cent_amount)
    currency: str = attrs.field(validator=currency_code)
    issued_on: date = attrs.field(validator=_day)
    due_on: date = attrs.field(validator=_day)
    paid_on: date | None = attrs.field(default=None, validator=_optional_day)
    paid_amount: Decimal = attrs.field(default=Decimal(0), validator=cent_amount)
    products: tuple[str, ...] = attrs.field(default=(), converter=as_tuple,
                                            validator=_product_names)

    def __attrs_post_init__(self) -> None:
        if self.due_on < self.issued_on:
            raise ValidationError("due_on", self.due_on.isoformat(),
                                  tr("is before {field} {value}").format(
                                      field="issued_on", value=self.issued_on.isoformat()))
        if self.paid_amount > self.amount:
            raise ValidationError("paid_amount", self.paid_amount,
                                  tr("is more than the amount {amount}").format(
                                      amount=self.amount))
        if self.paid_on is None and self.paid_amount:
            raise ValidationError("paid_on", None,
                                  tr("is missing: paid_amount {amount} needs its date").format(
                                      amount=self.paid_amount))
        if self.paid_on is not None:
            if not self.paid_amount:
                raise ValidationError("paid_amount", self.paid_amount,
                                      tr("is zero although paid_on {date} is given").format(
                                          date=self.paid_on))
            if self.paid_on < self.issued_on:
                raise ValidationError("paid_on", self.paid_on.isoformat(),
                                      tr("is before {field} {value}").format(
                                          field="issued_on", value=self.issued_on.isoformat()))

    @property
    def issued_at(self) -> datetime:
        """Midnight UTC of the issue date: the time index storage files the invoice under."""
        return datetime.combine(self.issued_on, time(), tzinfo=UTC)

    def paid_by(self, as_of: date) -> Decimal:
        """What was paid by the end of ``as_of``."""
        return self.paid_amount if self.paid_on is not None and self.paid_on <= as_of \
            else Decimal(0)

    def balance(self, as_of: date) -> Decimal:
        """The open amount at the end of ``as_of`` (0 before the invoice is issued)."""
        return Decimal(0) if self.issued_on > as_of else self.amount - self.paid_by(as_of)

    def days_overdue(self, as_of: date) -> int:
        """Days past the due date with a balance still open at ``as_of`` (never negative)."""
        return max(0, (as_of - self.due_on).days) if self.balance(as_of) > 0 else 0

    @property
    def days_to_pay(self) -> int | None:
        """Days from issue to full payment, or None while anything is unpaid."""
        if self.paid_on is None or self.paid_amount != self.amount:
            return None
        return (self.paid_on - self.issued_on).days


RECEIVABLE = register_entity_type(EntityType("receivable", Receivable, "customer_id",
                                             "issued_at"))
"""The storable entity kind of :class:`Receivable` (filed under its issue date)."""


def cents_text(cents: int, *, grouped: bool = False) -> str:
    """Hundredths as decimal text: ``1234.50`` (``1,234.50`` when ``grouped``)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}" if grouped else f"{sign}{whole}.{part:02d}"


def money_text(cents: int, currency: str) -> str:
    """``1,234.50 EUR`` from hundredths."""
    return f"{cents_text(cents, grouped=True)} {currency}"


@attrs.frozen
class Balance:
    """One customer's open receivables as of a date, per currency (never summed across).

    ``open_cents`` maps a currency to the open amount in hundredths (only
    currencies with something open); ``days_overdue`` is the most of any open
    invoice.
    """

    customer_id: str
    open_cents: Mapping[str, int]
    invoices: int
    days_overdue: int

    def single(self) -> tuple[int, str] | None:
        """The open amount and its currency; None when nothing is open.

        Raises :class:`~crmcore.sales.money.MixedCurrencyError` when several currencies are open.
        """
        if not self.open_cents:
            return None
        if len(self.open_cents) > 1:
            raise MixedCurrencyError(self.open_cents,
                                     field=f"balances[{self.customer_id!r}].currency")
        ((currency, cents),) = self.open_cents.items()
        return cents, currency

    def text(self) -> str:
        """``1,200.00 EUR`` or ``1,200.00 EUR + 30.00 USD`` (each currency on its own)."""
        return " + ".join(money_text(cents, currency)
                          for currency, cents in sorted(self.open_cents.items())) or "0.00"

    def as_dict(self) -> dict[str, Any]:
        """The balance as JSON values (amounts as decimal text per currency)."""
        return {"customer_id": self.customer_id, "invoices": self.invoices,
                "days_overdue": self.days_overdue,
                "open": {currency: cents_text(cents)
                         for currency, cents in sorted(self.open_cents.items())}}


def to_hundredths(amount: Decimal) -> int:
    """An amount of at most two decimal places in exact hundredths."""
    return int(amount * 100)


def open_balances(receivables: Iterable[Receivable], as_of: date) -> dict[str, Balance]:
    """The plain reference: each customer with an open invoice at the end of ``as_of``."""
    found: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for receivable in receivables:
        left = receivable.balance(as_of)
        if left <= 0:
            continue
        who = receivable.customer_id
        per_currency = found.setdefault(who, {})
        per_currency[receivable.currency] = (per_currency.get(receivable.currency, 0)
                                             + to_hundredths(left))
        counts[who] = counts.get(who, 0) + 1
        overdue[who] = max(overdue.get(who, 0), receivable.days_overdue(as_of))
    return {who: Balance(who, dict(sorted(amounts.items())), counts[who], overdue[who])
            for who, amounts in sorted(found.items())}
