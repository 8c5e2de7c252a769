"""Grade from metrics computed in the engine: one row per customer crosses into Python.

:func:`fetch_metrics` turns the integer rows of
:func:`~crmcore_plugins.pushdown.metrics.grading_metrics`
into crmcore's :class:`~crmcore.grading.MetricTable` with the same float
arithmetic as the embedded path (cents / 100, revenue / transactions), so
every scheme kind that grades metrics grades them with the one
implementation in :mod:`crmcore.grading`, explanations included.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import ibis.expr.types as ir
import numpy as np

from crmcore.errors import ConfigError
from crmcore.grading import GradeScheme, GradeTable, MetricTable, SchemeKind, grade_metrics
from crmcore.grading.engine import metrics_needed
from crmcore.grading.metrics import METRICS
from crmcore.i18n import tr
from crmcore_plugins.pushdown.metrics import METRIC_COLUMNS, check_columns, grading_metrics

PUSHED_KINDS = (SchemeKind.PARETO_ABC, SchemeKind.PYRAMID, SchemeKind.RFM, SchemeKind.THRESHOLDS)
"""The scheme kinds graded from pushed-down metrics (value-matrix needs a scoring strategy
over every purchase, prospect-abcd grades opportunities)."""


def _floats(column: Any) -> Any:
    """An integer column with NULLs as float64 with NaN."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def fetch_metrics(metrics: ir.Table, *, as_of: datetime, window_months: int = 12,
                  customers: ir.Table | None = None,
                  only: Collection[str] | None = None) -> MetricTable:
    """Run ``metrics`` (a :func:`grading_metrics` table) and build crmcore's metric table.

    Customers are sorted by id. Extra columns of ``customers`` (besides
    ``customer_id`` and ``acquired_at``) become each customer's attributes,
    for threshold rules (G2). ``only`` limits the table to those metrics (all
    when None); only their columns leave the engine.
    """
    check_columns(metrics, METRIC_COLUMNS, "metrics")
    names = [name for name in METRICS if only is None or name in only]
    fetched = sorted({_FETCHED.get(name, name) for name in names}
                     | ({"revenue_cents", "transactions"}
                        if "average_order_value" in names else set()))
    table = metrics.select("customer_id", *fetched).to_pyarrow().sort_by("customer_id")
    ids = tuple(str(value) for value in table.column("customer_id").to_pylist())
    got = {name: _floats(table.column(name)) for name in fetched}
    columns: dict[str, Any] = {}
    for name in names:
        if name == "average_order_value":
            revenue, count = got["revenue_cents"] / 100, got["transactions"]
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[name] = np.where(count > 0, revenue / count, np.nan)
        elif name in ("revenue", "profit"):
            columns[name] = got[_FETCHED[name]] / 100
        else:
            columns[name] = got[name]
    return MetricTable(ids, columns, as_of, window_months, _attributes(customers, ids))


_FETCHED = {"revenue": "revenue_cents", "profit": "profit_cents",
            "average_order_value": "transactions"}


def _attributes(customers: ir.Table | None, ids: tuple[str, ...]
                ) -> tuple[dict[str, Any], ...] | None:
    """Each customer's extra columns as attributes, aligned with ``ids`` (None: no extras)."""
    if customers is None:
        return None
    extra = [name for name in customers.columns if name not in ("customer_id", "acquired_at")]
    if not extra:
        return None
    rows = customers.select("customer_id", *extra).to_pyarrow().to_pylist()
    found = {str(row.pop("customer_id")): {k: v for k, v in row.items() if v is not None}
             for row in rows}
    return tuple(found.get(customer_id, {}) for customer_id in ids)


def pushdown_metrics(purchases: ir.Table, *, as_of: datetime, window_months: int = 12,
                     customers: ir.Table | None = None,
                     only: Collection[str] | None = None) -> MetricTable:
    """The metrics of every buyer (and every customer of ``customers``), computed in the engine.

    ``only`` limits them to those metrics (all when None).
    """
    expression = grading_metrics(purchases, as_of=as_of, window_months=window_months,
                                 customers=customers, only=only)
    return fetch_metrics(expression, as_of=as_of, window_months=window_months,
                         customers=customers, only=only)


def grade_pushdown(scheme: GradeScheme, purchases: ir.Table, *, as_of: datetime,
                   window_months: int = 12, customers: ir.Table | None = None) -> GradeTable:
    """Grade every customer by ``scheme`` from metrics computed where the purchases live.

    The same grades as :func:`crmcore.grading.grade_book` over the same
    purchases; value-matrix and prospect-abcd schemes are refused (see
    :data:`PUSHED_KINDS`).
    """
    if scheme.kind not in PUSHED_KINDS:
        raise ConfigError(tr("scheme {name}: {kind} schemes are not graded from pushed-down "
                             "metrics (supported: {supported})").format(
                                 name=scheme.name, kind=scheme.kind.value,
                                 supported=", ".join(kind.value for kind in PUSHED_KINDS)))
    metrics = pushdown_metrics(purchases, as_of=as_of, window_months=window_months,
                               customers=customers, only=metrics_needed(scheme))
    return grade_metrics(scheme, metrics)
