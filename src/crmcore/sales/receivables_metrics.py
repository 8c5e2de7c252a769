"""Payment behaviour as grading metrics (M4, G2): ``days_to_pay`` and ``days_overdue``.

``days_to_pay``
    mean days from issue to full payment over the invoices fully paid in the
    metrics window (paid on or after the window's first day and by the as-of
    day); missing (NaN) when none was.
``days_overdue``
    the most days any invoice open at the end of the as-of day is past its
    due date; 0 when nothing is overdue (or nothing was invoiced).

The as-of day is the UTC date of ``as_of``; the window is that of
:func:`crmcore.grading.metrics.window_start`. When grading what is stored,
a scheme that reads either name (a G2 threshold such as
``{ metric = "days_to_pay", op = ">", value = 60 }``, a ranked metric, an RFM
axis) gets them next to the purchase metrics
(:func:`stored_payment_metrics`). :func:`payment_metrics` runs on numpy when
it is installed (``bincount`` and ``maximum.at``, as the purchase metrics do)
and otherwise in pure Python; :func:`reference_payment_metrics` is the plain
reference over :class:`~crmcore.sales.receivables.Receivable` objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crmcore.grading._backend import np, use_numpy
from crmcore.grading.metrics import window_start
from crmcore.ports import StorageSession
from crmcore.sales.receivables import Receivable
from crmcore.sales.receivables_columns import ReceivableColumns, day_number, read_receivables

if TYPE_CHECKING:
    from crmcore.grading.schemes import GradeScheme

__all__ = [
    "PAYMENT_METRICS",
    "payment_metrics",
    "reference_payment_metrics",
    "scheme_reads",
    "stored_payment_metrics",
]

PAYMENT_METRICS = ("days_to_pay", "days_overdue")
"""The payment-behaviour metric names."""


def _days(as_of: datetime, window_months: int) -> tuple[int, int]:
    """The as-of day and the window's first day, as day numbers."""
    first = window_start(as_of, window_months).astimezone(UTC).date()
    return day_number(as_of.astimezone(UTC).date()), day_number(first)


def payment_metrics(columns: ReceivableColumns, ids: Sequence[str], as_of: datetime, *,
                    window_months: int = 12, fast: bool | None = None) -> dict[str, Any]:
    """Both metrics for the customers ``ids``, in their order (invoices of others are ignored)."""
    today, first = _days(as_of, window_months)
    index = {customer_id: code for code, customer_id in enumerate(ids)}
    codes = [index.get(customer_id, -1) for customer_id in columns.customer]
    if use_numpy(fast):
        return _numpy_metrics(columns, codes, len(ids), today, first)
    n = len(ids)
    days_sum, paid_count, overdue = [0] * n, [0] * n, [0] * n
    for code, amount, paid, issued, due, paid_day in zip(
            codes, columns.amount_cents, columns.paid_cents, columns.issued_day,
            columns.due_day, columns.paid_day, strict=True):
        if code < 0 or issued > today:
            continue
        if paid == amount and first <= paid_day <= today:
            days_sum[code] += paid_day - issued
            paid_count[code] += 1
        if amount - (paid if paid_day <= today else 0) > 0:
            overdue[code] = max(overdue[code], today - due)
    return {"days_to_pay": [s / c if c else math.nan for s, c in zip(days_sum, paid_count,
                                                                     strict=True)],
            "days_overdue": [float(days) for days in overdue]}


def _numpy_metrics(columns: ReceivableColumns, codes: list[int], n: int, today: int,
                   first: int) -> dict[str, Any]:
    code = np.asarray(codes, dtype=np.int64)
    amount = np.asarray(columns.amount_cents, dtype=np.int64)
    paid = np.asarray(columns.paid_cents, dtype=np.int64)
    issued = np.asarray(columns.issued_day, dtype=np.int64)
    due = np.asarray(columns.due_day, dtype=np.int64)
    paid_day = np.asarray(columns.paid_day, dtype=np.int64)
    known = (code >= 0) & (issued <= today)
    settled = known & (paid == amount) & (paid_day >= first) & (paid_day <= today)
    days_sum = np.bincount(code[settled], weights=(paid_day - issued)[settled], minlength=n)
    count = np.bincount(code[settled], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        days_to_pay = np.where(count > 0, days_sum / np.maximum(count, 1), np.nan)
    open_ = known & (amount - np.where(paid_day <= today, paid, 0) > 0)
    overdue = np.zeros(n, dtype=np.int64)
    np.maximum.at(overdue, code[open_], (today - due)[open_])
    return {"days_to_pay": days_to_pay, "days_overdue": overdue.astype(np.float64)}


def reference_payment_metrics(receivables: Iterable[Receivable], ids: Sequence[str],
                              as_of: datetime, *, window_months: int = 12
                              ) -> dict[str, list[float]]:
    """The plain reference: both metrics from invoice objects."""
    day = as_of.astimezone(UTC).date()
    first = window_start(as_of, window_months).astimezone(UTC).date()
    spans: dict[str, list[int]] = {customer_id: [] for customer_id in ids}
    overdue = dict.fromkeys(ids, 0)
    for receivable in receivables:
        who = receivable.customer_id
        if who not in overdue or receivable.issued_on > day:
            continue
        paid_on = receivable.paid_on
        if receivable.days_to_pay is not None and paid_on is not None and first <= paid_on <= day:
            spans[who].append(receivable.days_to_pay)
        overdue[who] = max(overdue[who], receivable.days_overdue(day))
    return {"days_to_pay": [sum(spans[i]) / len(spans[i]) if spans[i] else math.nan
                            for i in ids],
            "days_overdue": [float(overdue[i]) for i in ids]}


def scheme_reads(scheme: GradeScheme) -> tuple[str, ...]:
    """The payment metrics ``scheme`` names (in :data:`PAYMENT_METRICS` order)."""
    from crmcore.grading.conditions import Source
    from crmcore.grading.engine import metrics_named
    from crmcore.grading.thresholds import ThresholdRules

    rules = scheme.rules
    names = metrics_named(scheme) or frozenset()
    if isinstance(rules, ThresholdRules):
        names = frozenset(field.name for tier in rules.tiers
                          for field in tier.condition.fields() if field.source is Source.METRIC)
    return tuple(name for name in PAYMENT_METRICS if name in names)


def stored_payment_metrics(session: StorageSession, scheme: GradeScheme, ids: Sequence[str],
                           as_of: datetime, *, window_months: int = 12,
                           fast: bool | None = None) -> dict[str, Any]:
    """The payment metrics ``scheme`` reads, from the stored invoices (none: no scan)."""
    wanted = scheme_reads(scheme)
    if not wanted:
        return {}
    found = payment_metrics(read_receivables(session), ids, as_of,
                            window_months=window_months, fast=fast)
    return {name: found[name] for name in wanted}
