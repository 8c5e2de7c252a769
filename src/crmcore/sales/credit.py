"""Credit limits (M4, 信用管理) and the early-warning route when a customer passes one (P7).

A :class:`CreditLimit` is one per customer, in one currency, never negative.
:func:`credit_statuses` compares each limit with the customer's open
balance (:mod:`crmcore.sales.receivables_columns`): ``within``, ``over``, or
``unknown`` when something open is in another currency than the limit (it
is not converted, and not summed). :func:`raise_credit_warnings` takes the
P7 route of :mod:`crmcore.improvement.early_warning`: an
:class:`~crmcore.improvement.early_warning.EarlyWarning` stored once per
customer and month while over, and an ``improvement.warning`` event about
the customer for the notifiers (the catalogued shape: the text names the
balance and the limit; ``values`` holds what is open).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import NotFoundError, ValidationError
from crmcore.events import ENTITY_RECORDED, ENTITY_UPDATED, DomainEvent, entity_event
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.improvement.early_warning import EarlyWarning, warning_event
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.model.sales import currency_code
from crmcore.ports import StorageSession
from crmcore.sales.receivables import (
    Balance,
    cent_amount,
    cents_text,
    money_text,
    to_hundredths,
)
from crmcore.sales.receivables_columns import stored_balances
from crmcore.validation import identifier

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = [
    "CREDIT_LIMIT",
    "CREDIT_MEASURE",
    "CreditLimit",
    "CreditState",
    "CreditStatus",
    "credit_statuses",
    "credit_warning",
    "raise_credit_warnings",
    "read_limits",
    "set_credit_limit",
]

CREDIT_MEASURE = "credit_balance"
"""The measure name credit warnings are raised on (P7)."""


@attrs.frozen
class CreditLimit:
    """How much a customer may owe us, in one currency (M4); its id is the customer's."""

    customer_id: str = attrs.field(validator=identifier)
    limit: Decimal = attrs.field(validator=cent_amount)
    currency: str = attrs.field(validator=currency_code)

    @property
    def id(self) -> str:
        """The customer's id: one limit per customer."""
        return self.customer_id


CREDIT_LIMIT = register_entity_type(EntityType("credit_limit", CreditLimit, "customer_id",
                                               None))
"""The storable entity kind of :class:`CreditLimit`."""


def set_credit_limit(crm: CRM, customer_id: str, limit: Decimal | str, currency: str
                     ) -> CreditLimit:
    """Store (or replace) the credit limit of a stored customer.

    A limit that is not an amount, negative, or in a malformed currency
    raises :class:`~crmcore.errors.ValidationError` naming ``limit`` or
    ``currency``; an unknown customer raises
    :class:`~crmcore.errors.NotFoundError`. Nothing is stored then. Emits
    ``credit_limit.recorded`` (or ``.updated`` with the new version).
    """
    if not isinstance(limit, Decimal):
        try:
            limit = Decimal(str(limit).strip())
        except InvalidOperation:
            raise ValidationError("limit", limit, "is not an amount") from None
    made = CreditLimit(customer_id, limit, currency)
    with crm.transaction() as work:
        if work.session.get("customer", customer_id) is None:
            raise NotFoundError("customer", customer_id, "customer_id")
        stored = work.repository(CreditLimit)
        before = stored.get(customer_id)
        if before is None:
            stored.add(made)
            work.emit(entity_event(ENTITY_RECORDED, made, at=crm.now()))
        elif before != made:
            version = stored.replace(made)
            work.emit(entity_event(ENTITY_UPDATED, made, at=crm.now(), version=version))
    return made


class CreditState(StrEnum):
    """Where a customer stands against its limit."""

    WITHIN = "within"
    OVER = "over"
    UNKNOWN = "unknown"


@attrs.frozen
class CreditStatus:
    """One customer's limit against its open balance; ``reason`` says why when unknown."""

    customer_id: str
    limit_cents: int
    currency: str
    balance: Balance | None
    state: CreditState
    reason: str = ""

    @property
    def open_cents(self) -> int | None:
        """What is open in the limit's currency (None when unknown)."""
        if self.state is CreditState.UNKNOWN:
            return None
        return 0 if self.balance is None else self.balance.open_cents.get(self.currency, 0)

    def text(self) -> str:
        """``open 12,000.00 EUR of a 10,000.00 EUR limit: over`` style text."""
        limit = money_text(self.limit_cents, self.currency)
        if self.state is CreditState.UNKNOWN:
            return tr("limit {limit}: unknown ({reason})").format(limit=limit,
                                                                  reason=self.reason)
        return tr("open {open} of a {limit} limit: {state}").format(
            open=money_text(self.open_cents or 0, self.currency), limit=limit,
            state=term(self.state.value))

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON values."""
        return {"customer_id": self.customer_id, "state": self.state.value,
                "limit": cents_text(self.limit_cents),
                "currency": self.currency, "reason": self.reason or None,
                "balance": None if self.balance is None else self.balance.as_dict()}


def _status(limit: CreditLimit, balance: Balance | None) -> CreditStatus:
    cents = to_hundredths(limit.limit)
    others = sorted(set(balance.open_cents) - {limit.currency}) if balance else []
    if others:
        return CreditStatus(limit.customer_id, cents, limit.currency, balance,
                            CreditState.UNKNOWN,
                            tr("open in {others}, limit in {currency}: not converted, not "
                               "compared").format(others=", ".join(others),
                                                  currency=limit.currency))
    open_ = 0 if balance is None else balance.open_cents.get(limit.currency, 0)
    return CreditStatus(limit.customer_id, cents, limit.currency, balance,
                        CreditState.OVER if open_ > cents else CreditState.WITHIN)


def read_limits(session: StorageSession) -> dict[str, CreditLimit]:
    """Every stored credit limit by customer id (read as columns)."""
    found: dict[str, CreditLimit] = {}
    columns: Mapping[str, Any] = {"customer_id": "text", "limit": "decimal", "currency": "text"}
    for chunk in session.scan(CREDIT_LIMIT.kind, columns):
        for who, limit, currency in zip(chunk["customer_id"], chunk["limit"],
                                        chunk["currency"], strict=True):
            found[who] = CreditLimit(who, Decimal(limit), currency)
    return found


def credit_statuses(session: StorageSession, as_of: date) -> list[CreditStatus]:
    """Every customer with a limit, against its balance at the end of ``as_of`` (by id)."""
    limits = read_limits(session)
    balances = stored_balances(session, as_of, customers=limits.keys())
    return [_status(limits[who], balances.get(who)) for who in sorted(limits)]


def credit_warning(status: CreditStatus, at: datetime) -> EarlyWarning:
    """The P7 warning of a customer over its limit (one per customer and month)."""
    month = at.strftime("%Y-%m")
    return EarlyWarning(
        id=f"credit_limit:{status.customer_id}@{month}", rule="credit_limit",
        measure=CREDIT_MEASURE,
        text=tr("customer {customer} is over its credit limit: {status} (M4)").format(
            customer=status.customer_id, status=status.text()),
        periods=(month,), values=((status.open_cents or 0) / 100,),
        sample_sizes=(0 if status.balance is None else status.balance.invoices,),
        small_sample=False, raised_at=at)


def _event(warning: EarlyWarning, status: CreditStatus) -> DomainEvent:
    """The catalogued ``improvement.warning`` event, about the customer (not a measure)."""
    return attrs.evolve(warning_event(warning), subject=f"customer:{status.customer_id}",
                        customer_id=status.customer_id)


def raise_credit_warnings(crm: CRM, as_of: datetime) -> list[tuple[EarlyWarning, bool]]:
    """Warn about every customer over its limit (P7); each warning with whether it is new.

    New warnings are stored with the improvement warnings and emitted as
    ``improvement.warning`` events about the customer; one raised before in
    the same month is returned as stored and not emitted again.
    """
    import crmcore.improvement.service  # noqa: F401 - registers the warning entity kind

    reviewed = []
    with crm.transaction() as work:
        over = [s for s in credit_statuses(work.session, as_of.date())
                if s.state is CreditState.OVER]
        stored = work.repository(EarlyWarning)
        for status in over:
            warning = credit_warning(status, as_of)
            earlier = stored.get(warning.id)
            if earlier is None:
                stored.add(warning)
                work.emit(_event(warning, status))
            reviewed.append((earlier or warning, earlier is None))
    return reviewed
