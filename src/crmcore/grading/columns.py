"""Transactions as columns: the input of the fast path.

One entry per transaction: the customer's position in ``ids``, the time in
microseconds since 1970-01-01 UTC, the amount and the cost in hundredths
(amounts are rounded half-even to the cent; an unknown cost is ``-1``).
Integer money keeps sums exact, so the numpy path and the pure-Python
reference give identical metrics and identical ties.

:func:`read_transaction_columns` reads a CSV export straight into columns.
It uses the :mod:`csv` module row by row and caches parsed dates (an export
repeats few distinct dates): building a :class:`~crmcore.model.Transaction`
per row costs about ten times more. See the grading chapter for numbers.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from crmcore.csv_import import (
    CsvLayout,
    Progress,
    _cell,
    date_reason,
    parse_timestamp,
    transaction_header,
)
from crmcore.errors import ImportRowError
from crmcore.grading._backend import np, use_numpy
from crmcore.i18n import tr
from crmcore.model import Customer, Transaction

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_DAY = 86_400_000_000
UNKNOWN_COST = -1
"""The cost entry of a transaction whose cost is not known."""


def to_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_cents(amount: Decimal) -> int:
    """An amount in hundredths, rounded half-even."""
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_EVEN))


@attrs.frozen
class TransactionColumns:
    """Transactions as parallel columns (lists, or numpy arrays on the fast path).

    ``ids`` are the customer ids; ``customer[i]`` indexes into them. Ids
    without transactions are allowed (customers who did not buy).
    ``attributes`` and ``acquired_us`` (``None`` entries when unknown) are
    per customer, aligned with ``ids``.
    """

    ids: tuple[str, ...]
    customer: Sequence[int] | Any
    at_us: Sequence[int] | Any
    amount_cents: Sequence[int] | Any
    cost_cents: Sequence[int] | Any | None = None
    attributes: tuple[dict[str, Any], ...] | None = None
    acquired_us: tuple[int | None, ...] | None = None

    def __len__(self) -> int:
        return len(self.customer)

    @classmethod
    def from_transactions(cls, transactions: Iterable[Transaction],
                          customers: Iterable[Customer] = ()) -> TransactionColumns:
        """Columns of ``transactions``; ``customers`` first, in their order, with attributes."""
        index: dict[str, int] = {}
        attributes: list[dict[str, Any]] = []
        acquired: list[int | None] = []
        for customer in customers:
            if customer.id not in index:
                index[customer.id] = len(index)
                attributes.append(dict(customer.attributes))
                acquired.append(None if customer.acquired_at is None
                                else to_micros(customer.acquired_at))
        codes, times, amounts, costs = [], [], [], []
        for transaction in transactions:
            code = index.get(transaction.customer_id)
            if code is None:
                code = index[transaction.customer_id] = len(index)
                attributes.append({})
                acquired.append(None)
            codes.append(code)
            times.append(to_micros(transaction.occurred_at))
            amounts.append(to_cents(transaction.amount))
            costs.append(UNKNOWN_COST if transaction.cost is None else to_cents(transaction.cost))
        return cls(tuple(index), codes, times, amounts, costs, tuple(attributes),
                   tuple(acquired))

    def as_numpy(self) -> TransactionColumns:
        """The same columns as numpy arrays (requires numpy)."""
        return attrs.evolve(
            self, customer=np.asarray(self.customer, dtype=np.int64),
            at_us=np.asarray(self.at_us, dtype=np.int64),
            amount_cents=np.asarray(self.amount_cents, dtype=np.int64),
            cost_cents=None if self.cost_cents is None
            else np.asarray(self.cost_cents, dtype=np.int64),
        )

    def with_customers(self, customers: Iterable[Customer]) -> TransactionColumns:
        """Add customers (and their attributes, acquisition times) to ``ids``."""
        listed = list(customers)
        return self.with_customer_columns(
            [customer.id for customer in listed],
            [None if customer.acquired_at is None else to_micros(customer.acquired_at)
             for customer in listed],
            [dict(customer.attributes) for customer in listed])

    def with_customer_columns(self, ids: Sequence[str], acquired_us: Sequence[int | None],
                              attributes: Sequence[dict[str, Any]] | None = None
                              ) -> TransactionColumns:
        """Add customers given as columns (see :func:`crmcore.book.read_customers`).

        Their acquisition times, and attributes unless None, replace what is known.
        """
        index = {customer_id: code for code, customer_id in enumerate(self.ids)}
        known_attributes = list(self.attributes or ({} for _ in self.ids))
        acquired = list(self.acquired_us or (None for _ in self.ids))
        for position, customer_id in enumerate(ids):
            code = index.setdefault(customer_id, len(index))
            if code == len(known_attributes):
                known_attributes.append({})
                acquired.append(None)
            if attributes is not None:
                known_attributes[code] = dict(attributes[position])
            acquired[code] = acquired_us[position]
        return attrs.evolve(self, ids=tuple(index), attributes=tuple(known_attributes),
                            acquired_us=tuple(acquired))


def read_transaction_columns(lines: Iterable[str], layout: CsvLayout = CsvLayout(), *,  # noqa: B008
                             progress: Progress | None = None, fast: bool | None = None
                             ) -> TransactionColumns:
    """Read a transactions CSV export (columns named by ``layout``) into columns.

    Bad cells raise :class:`~crmcore.errors.ImportRowError` with the line,
    column and value, as :func:`crmcore.csv_import.read_transactions` does.
    """
    reader = csv.reader(lines, delimiter=layout.delimiter)
    header = next(reader, [])
    checked = transaction_header(header, layout)
    who_at, when_at, amount_at = (checked.positions[column] for column in (
        layout.customer_col, layout.date_col, layout.amount_col))
    cost_at = checked.get(layout.cost_col)
    date_refusal = date_reason(layout)
    index: dict[str, int] = {}
    dates: dict[str, int] = {}
    codes, times = array("q"), array("q")
    amounts, costs = array("q"), array("q")
    width = len(header)
    for count, row in enumerate(reader, start=1):
        line = reader.line_num
        if len(row) != width:
            if not row:
                continue
            raise ImportRowError(line, "(row)", row, tr(
                "has {count} fields, the header {width}").format(count=len(row), width=width))
        customer_id = row[who_at].strip()
        if not customer_id:
            raise ImportRowError(line, layout.customer_col, customer_id, "is not a customer id")
        code = index.setdefault(customer_id, len(index))
        text = row[when_at].strip()
        micros = dates.get(text)
        if micros is None:
            micros = dates[text] = to_micros(_cell(
                line, layout.date_col, text, lambda t: parse_timestamp(t, layout), date_refusal))
        codes.append(code)
        times.append(micros)
        amounts.append(money_cents(line, layout.amount_col, row[amount_at], layout))
        cost_text = row[cost_at].strip() if cost_at is not None else ""
        costs.append(money_cents(line, layout.cost_col, cost_text, layout) if cost_text
                     else UNKNOWN_COST)
        if progress is not None:
            progress(count)
    columns = TransactionColumns(tuple(index), codes, times, amounts, costs)
    return columns.as_numpy() if use_numpy(fast) else attrs.evolve(
        columns, customer=codes.tolist(), at_us=times.tolist(),
        amount_cents=amounts.tolist(), cost_cents=costs.tolist())


def money_cents(line: int, column: str, text: str, layout: CsvLayout) -> int:
    """Hundredths of an amount cell; the common ``123.45`` form skips Decimal."""
    text = text.strip()
    whole, dot, fraction = text.partition(".")
    if not layout.comma_point and whole.isdigit() and whole.isascii() and (not dot or (
            fraction.isdigit() and fraction.isascii() and len(fraction) <= 2)):
        return int(whole) * 100 + (int(fraction.ljust(2, "0")) if dot else 0)
    amount: Decimal = _cell(line, column, text, layout.amount, "is not an amount")
    if amount < 0:
        raise ImportRowError(line, column, text, "must not be negative")
    return to_cents(amount)
