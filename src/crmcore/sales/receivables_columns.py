"""Stored receivables read as columns (ADR 0007): balances without an object per invoice.

:func:`read_receivables` scans the ``receivable`` records through
:meth:`~crmcore.ports.StorageSession.scan`; dates become day numbers (days
since 1970-01-01) and amounts exact hundredths. :func:`balances_of` is the
columnar twin of :func:`crmcore.sales.receivables.open_balances` (a property
test holds them equal).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date
from typing import Any

import attrs

from crmcore.book import cents_of
from crmcore.ports import StorageSession
from crmcore.sales.receivables import RECEIVABLE, Balance, Receivable, to_hundredths

__all__ = [
    "NEVER",
    "ReceivableColumns",
    "balances_of",
    "day_number",
    "open_invoices",
    "read_receivables",
    "receivable_columns",
    "stored_balances",
]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

NEVER = 2**62
"""The day number standing for "not paid" (later than any as-of day)."""


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the day numbers of :class:`ReceivableColumns`)."""
    return day.toordinal() - _EPOCH_ORDINAL


@attrs.frozen
class ReceivableColumns:
    """Invoices as aligned columns; ``paid_day`` is :data:`NEVER` when nothing was paid.

    ``products`` (the invoiced product names) is read only when asked for.
    """

    customer: list[str]
    currency: list[str]
    amount_cents: list[int]
    paid_cents: list[int]
    issued_day: list[int]
    due_day: list[int]
    paid_day: list[int]
    products: list[tuple[str, ...]] | None = None

    def __len__(self) -> int:
        return len(self.customer)


_COLUMNS: dict[str, Any] = {
    "customer_id": "text", "currency": "text", "amount": "decimal", "paid_amount": "decimal",
    "issued_on": "text", "due_on": "text", "paid_on": "text"}


def read_receivables(session: StorageSession, *, customer_id: str | None = None,
                     products: bool = False) -> ReceivableColumns:
    """Every stored invoice (or one customer's) as columns (with ``products`` when asked)."""
    days: dict[str | None, int] = {None: NEVER}

    def day(text: str | None) -> int:
        found = days.get(text)
        if found is None:
            found = days[text] = day_number(date.fromisoformat(str(text)))
        return found

    columns = ReceivableColumns([], [], [], [], [], [], [], [] if products else None)
    wanted = {**_COLUMNS, "products": "json"} if products else _COLUMNS
    for chunk in session.scan(RECEIVABLE.kind, wanted, customer_id=customer_id):
        columns.customer.extend(chunk["customer_id"])
        columns.currency.extend(chunk["currency"])
        columns.amount_cents.extend(map(cents_of, chunk["amount"]))
        columns.paid_cents.extend(cents_of(text or "0") for text in chunk["paid_amount"])
        columns.issued_day.extend(map(day, chunk["issued_on"]))
        columns.due_day.extend(map(day, chunk["due_on"]))
        columns.paid_day.extend(map(day, chunk["paid_on"]))
        if columns.products is not None:
            columns.products.extend(tuple(names or ()) for names in chunk["products"])
    return columns


def receivable_columns(receivables: Iterable[Receivable]) -> ReceivableColumns:
    """The columns of invoice objects (what :func:`read_receivables` reads back)."""
    bought: list[tuple[str, ...]] = []
    columns = ReceivableColumns([], [], [], [], [], [], [], bought)
    for item in receivables:
        columns.customer.append(item.customer_id)
        columns.currency.append(item.currency)
        columns.amount_cents.append(to_hundredths(item.amount))
        columns.paid_cents.append(to_hundredths(item.paid_amount))
        columns.issued_day.append(day_number(item.issued_on))
        columns.due_day.append(day_number(item.due_on))
        columns.paid_day.append(NEVER if item.paid_on is None else day_number(item.paid_on))
        bought.append(item.products)
    return columns


def open_invoices(columns: ReceivableColumns, as_of: date
                  ) -> Iterator[tuple[str, str, int, int]]:
    """``(customer, currency, open hundredths, days overdue)`` of each invoice open at the end
    of ``as_of`` (days overdue never negative)."""
    today = day_number(as_of)
    for who, currency, amount, paid, issued, due, paid_day in zip(
            columns.customer, columns.currency, columns.amount_cents, columns.paid_cents,
            columns.issued_day, columns.due_day, columns.paid_day, strict=True):
        left = amount - (paid if paid_day <= today else 0)
        if issued <= today and left > 0:
            yield who, currency, left, max(0, today - due)


def balances_of(columns: ReceivableColumns, as_of: date, *,
                customers: Collection[str] | None = None) -> dict[str, Balance]:
    """Each customer (among ``customers``, when given) with something open at ``as_of``."""
    found: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for who, currency, left, late in open_invoices(columns, as_of):
        if customers is not None and who not in customers:
            continue
        per_currency = found.setdefault(who, {})
        per_currency[currency] = per_currency.get(currency, 0) + left
        counts[who] = counts.get(who, 0) + 1
        overdue[who] = max(overdue.get(who, 0), late)
    return {who: Balance(who, dict(sorted(amounts.items())), counts[who], overdue[who])
            for who, amounts in sorted(found.items())}


def stored_balances(session: StorageSession, as_of: date, *,
                    customers: Collection[str] | None = None) -> dict[str, Balance]:
    """:func:`balances_of` the stored invoices (one scan)."""
    return balances_of(read_receivables(session), as_of, customers=customers)
