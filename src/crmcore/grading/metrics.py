"""Grading metrics per customer, as of an explicit date and window.

Metrics (window = ``window_months`` calendar months before ``as_of``, 12 by
default; "before ``as_of``" is strict):

``revenue``
    sum of amounts in the window (money is summed in hundredths, exactly).
``profit``
    sum of ``amount - cost`` over the window's transactions whose cost is
    known; missing (NaN) when no cost is known.
``frequency``
    purchase days in the window: several transactions by one customer on one
    UTC day are one purchase.
``transactions``
    transactions in the window.
``average_order_value``
    ``revenue / transactions``; missing without transactions.
``recency_days``
    UTC days from the last purchase (any time before ``as_of``) to ``as_of``.
``tenure_days``
    UTC days from the first purchase or the customer's ``acquired_at``,
    whichever is earlier, to ``as_of``.

Grading what is stored adds the payment metrics ``days_to_pay`` and
``days_overdue`` (M4) from the stored invoices when a scheme names them: see
:mod:`crmcore.sales.receivables_metrics`.

Customers without purchases have zero revenue and frequency and missing
recency. :func:`compute_metrics` runs on numpy when it is installed and
otherwise in pure Python; :func:`reference_metrics` is the plain reference
implementation over :class:`~crmcore.model.Transaction` objects.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._backend import np, to_list, use_numpy
from crmcore.grading.columns import UNKNOWN_COST, US_PER_DAY, TransactionColumns, to_micros
from crmcore.i18n import tr
from crmcore.model import AttributeValue, Customer, Transaction

METRICS = ("revenue", "profit", "frequency", "transactions", "average_order_value",
           "recency_days", "tenure_days")
"""The metric names, in display order."""

NAN = math.nan
D = TypeVar("D", date, datetime)


def shift_months(moment: D, months: int) -> D:
    """``moment`` moved by ``months`` calendar months (the day is clamped: 31 Mar - 1 = 28 Feb)."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def window_start(as_of: datetime, months: int) -> datetime:
    """The start of the metrics window: ``as_of`` minus ``months`` calendar months."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ConfigError(tr("{key}: {value!r} must be a whole number of at least 1").format(
            key="window_months", value=months))
    return shift_months(as_of, -months)


@attrs.define(frozen=True)
class MetricTable:
    """Metric columns for a population of customers, aligned with ``ids``.

    ``columns`` maps a metric name to a list or numpy array of floats (NaN is
    missing); ``attributes`` holds each customer's own attributes (G2).
    """

    ids: tuple[str, ...]
    columns: Mapping[str, Any]
    as_of: datetime
    window_months: int = 12
    attributes: tuple[Mapping[str, AttributeValue], ...] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {customer_id: position for position, customer_id in enumerate(self.ids)}

    def position(self, customer_id: str) -> int:
        """Where ``customer_id`` is in ``ids`` (``KeyError`` if absent)."""
        return self._positions[customer_id]

    def column(self, name: str, *, key: str = "metric") -> Any:
        """The column of metric ``name``; :class:`ConfigError` naming ``key`` if unknown."""
        if name not in self.columns:
            raise ConfigError(tr("{key}: {value!r} is not a metric (known: {known})").format(
                key=key, value=name, known=", ".join(self.columns)))
        return self.columns[name]

    def row(self, position: int) -> dict[str, float]:
        """The known (finite) metric values of one customer."""
        values = {name: float(column[position]) for name, column in self.columns.items()}
        return {name: value for name, value in values.items() if math.isfinite(value)}

    def attributes_of(self, position: int) -> Mapping[str, AttributeValue]:
        """One customer's attributes (empty when none are known)."""
        return {} if self.attributes is None else self.attributes[position]

    def with_column(self, name: str, values: Sequence[float] | Any) -> MetricTable:
        """A copy with one more column (for example a potential score)."""
        if len(values) != len(self.ids):
            raise ValueError(tr("{name}: {count} values for {customers} customers").format(
                name=name, count=len(values), customers=len(self.ids)))
        return attrs.evolve(self, columns={**self.columns, name: values})


def compute_metrics(columns: TransactionColumns, as_of: datetime, *, window_months: int = 12,
                    fast: bool | None = None, only: Collection[str] | None = None
                    ) -> MetricTable:
    """Metrics of every customer in ``columns.ids`` as of ``as_of``.

    ``only`` limits the table to those metrics (all when None): ``revenue``,
    ``profit``, ``transactions`` and ``average_order_value`` skip the sort
    that purchase days need.
    """
    start_us = to_micros(window_start(as_of, window_months))
    as_of_us = to_micros(as_of)
    wanted = METRICS if only is None else tuple(name for name in METRICS if name in only)
    if use_numpy(fast):
        data = _numpy_metrics(columns.as_numpy(), as_of_us, start_us,
                              days=not _MONEY_METRICS.issuperset(wanted))
    else:
        data = _python_metrics(columns, as_of_us, start_us)
    return MetricTable(columns.ids, {name: data[name] for name in wanted}, as_of,
                       window_months, columns.attributes)


_MONEY_METRICS = frozenset({"revenue", "profit", "transactions", "average_order_value"})


def reference_metrics(transactions: Iterable[Transaction], as_of: datetime, *,
                      customers: Iterable[Customer] = (), window_months: int = 12
                      ) -> MetricTable:
    """The plain reference: metrics straight from transaction objects, in pure Python."""
    columns = TransactionColumns.from_transactions(transactions, customers)
    return compute_metrics(columns, as_of, window_months=window_months, fast=False)


def _days(micros: int) -> int:
    return micros // US_PER_DAY


def _python_metrics(columns: TransactionColumns, as_of_us: int, start_us: int
                    ) -> dict[str, list[float]]:
    n = len(columns.ids)
    revenue, profit, count = [0] * n, [0] * n, [0] * n
    has_cost = [False] * n
    days: list[set[int]] = [set() for _ in range(n)]
    first: list[int | None] = [None] * n
    last: list[int | None] = [None] * n
    costs = (to_list(columns.cost_cents) if columns.cost_cents is not None
             else [UNKNOWN_COST] * len(columns.customer))
    for code, at, amount, cost in zip(to_list(columns.customer), to_list(columns.at_us),
                                      to_list(columns.amount_cents), costs, strict=True):
        if at >= as_of_us:
            continue
        day = _days(at)
        first_day, last_day = first[code], last[code]
        first[code] = day if first_day is None else min(first_day, day)
        last[code] = day if last_day is None else max(last_day, day)
        if at < start_us:
            continue
        revenue[code] += amount
        count[code] += 1
        days[code].add(day)
        if cost != UNKNOWN_COST:
            profit[code] += amount - cost
            has_cost[code] = True
    as_of_day = _days(as_of_us)
    acquired = columns.acquired_us or (None,) * n
    for code, moment in enumerate(acquired):
        if moment is not None and moment < as_of_us:
            day = _days(moment)
            current = first[code]
            first[code] = day if current is None else min(current, day)
    money = [cents / 100 for cents in revenue]
    return {
        "revenue": money,
        "profit": [cents / 100 if known else NAN
                   for cents, known in zip(profit, has_cost, strict=True)],
        "frequency": [float(len(seen)) for seen in days],
        "transactions": [float(c) for c in count],
        "average_order_value": [value / c if c else NAN
                                for value, c in zip(money, count, strict=True)],
        "recency_days": [NAN if day is None else float(as_of_day - day) for day in last],
        "tenure_days": [NAN if day is None else float(as_of_day - day) for day in first],
    }


def _where(mask: Any, *arrays: Any) -> list[Any]:
    """The arrays filtered by ``mask``; no copies when every entry is kept."""
    if bool(mask.all()):
        return list(arrays)
    return [None if array is None else array[mask] for array in arrays]


def _numpy_metrics(columns: TransactionColumns, as_of_us: int, start_us: int, *,
                   days: bool = True) -> dict[str, Any]:
    n = len(columns.ids)
    times: Any = columns.at_us
    code, at, amount, cost = _where(times < as_of_us, columns.customer, times,
                                    columns.amount_cents, columns.cost_cents)
    inside = at >= start_us
    w_code, w_amount, w_cost = _where(inside, code, amount, cost)
    revenue_cents = np.bincount(w_code, weights=w_amount, minlength=n)
    count = np.bincount(w_code, minlength=n).astype(np.float64)
    if w_cost is None:
        profit_cents = np.zeros(n)
        has_cost = np.zeros(n, dtype=bool)
    else:
        known = w_cost != UNKNOWN_COST
        profit_cents = np.bincount(w_code[known], weights=(w_amount - w_cost)[known],
                                   minlength=n)
        has_cost = np.bincount(w_code[known], minlength=n) > 0
    revenue = revenue_cents / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(count > 0, revenue / count, np.nan)
    money = {"revenue": revenue, "profit": np.where(has_cost, profit_cents / 100, np.nan),
             "transactions": count, "average_order_value": average}
    if not days:
        return money
    day = at // US_PER_DAY
    low = int(day.min()) if day.size else 0
    span = 2 * ((int(day.max()) - low + 1) if day.size else 1)
    # one sort finds distinct (customer, day) pairs; the low bit marks "in the window".
    # Sort and compare neighbours: numpy 2.3+'s hash-based np.unique is ~20x slower here.
    keys = code * span + (day - low) * 2 + inside
    keys.sort()
    distinct = np.empty(keys.size, dtype=bool)
    distinct[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
    keys = keys[distinct]
    k_code = keys // span
    k_day = (keys % span) // 2 + low
    frequency = np.bincount(k_code[(keys & 1) == 1], minlength=n).astype(np.float64)
    everyone = np.arange(n)
    starts = np.searchsorted(k_code, everyone, side="left")
    ends = np.searchsorted(k_code, everyone, side="right")
    bought = ends > starts
    as_of_day = _days(as_of_us)
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    first[bought] = k_day[starts[bought]]
    last[bought] = k_day[ends[bought] - 1]
    if columns.acquired_us is not None:
        acquired = np.asarray([np.nan if m is None or m >= as_of_us else _days(m)
                               for m in columns.acquired_us], dtype=np.float64)
        first = np.fmin(first, acquired)
    return {**money, "frequency": frequency, "recency_days": as_of_day - last,
            "tenure_days": as_of_day - first}
