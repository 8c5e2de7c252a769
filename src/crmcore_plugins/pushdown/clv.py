"""Lifetime-value scores of a source's purchases, summarised inside its engine.

A CLV model (BG/NBD, Gamma-Gamma) needs per customer only the purchase-day
figures: first and last purchase day, the number of distinct purchase days
and the value of the days after the first. :func:`clv_day_statistics`
computes them where the purchases live (one row per customer leaves the
engine, money in integer cents); :func:`source_scores` hands them to the
scoring strategy, so ``lifecycle advance`` with a ``[source]`` gets the same
probability alive as from crmcore's own storage. A strategy that cannot take
a summary gets the purchases themselves, as columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import ibis.expr.types as ir

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore_plugins.pushdown.metrics import check_columns, moment, utc_day

STATISTICS = ("customer_id", "first_day", "last_day", "purchase_days", "repeat_cents")
"""The columns of :func:`clv_day_statistics`."""


def clv_day_statistics(purchases: ir.Table, *, as_of: datetime) -> ir.Table:
    """One row per customer who bought before ``as_of``: ``first_day`` and ``last_day``
    (UTC day numbers), ``purchase_days`` (distinct UTC days) and ``repeat_cents`` (the
    cents of every purchase day after the first), computed in the engine."""
    check_columns(purchases, ("customer_id", "at", "amount_cents"), "purchases")
    at = purchases["at"]
    before = purchases.filter(at < moment(at, as_of))
    days = before.group_by(customer_id=before["customer_id"], day=utc_day(before["at"])) \
        .aggregate(cents=lambda t: t["amount_cents"].sum())
    per_customer = days.group_by("customer_id").aggregate(
        first_day=days["day"].min(), last_day=days["day"].max(),
        purchase_days=days["day"].count(), total_cents=days["cents"].sum())
    first = days.join(per_customer, (days["customer_id"] == per_customer["customer_id"])
                      & (days["day"] == per_customer["first_day"]))
    return first.select(
        customer_id=first["customer_id"], first_day=first["first_day"].cast("int64"),
        last_day=first["last_day"].cast("int64"),
        purchase_days=first["purchase_days"].cast("int64"),
        repeat_cents=(first["total_cents"] - first["cents"]).cast("int64"))


def source_scores(purchases: ir.Table, strategy: Any, *, until: datetime, as_of: datetime
                  ) -> dict[str, float]:
    """The scores of ``strategy`` for the ``purchases`` (an Ibis table of a source) before
    ``until``, fitted as of ``as_of`` (the lifecycle's two moments).

    A strategy with ``score_summary`` (the ``clv`` one) gets the summary of
    :func:`clv_day_statistics`; one with ``score_columns`` the purchases as
    columns; any other is refused (:class:`~crmcore.errors.ConfigError`).
    """
    if callable(getattr(strategy, "score_summary", None)):
        from crmcore_plugins.clv import summarize_day_statistics

        rows = clv_day_statistics(purchases, as_of=min(until, as_of)) \
            .order_by("customer_id").to_pyarrow()
        if rows.num_rows == 0:
            return {}
        summary = summarize_day_statistics(
            rows.column("customer_id").to_pylist(), rows.column("first_day").to_numpy(),
            rows.column("last_day").to_numpy(), rows.column("purchase_days").to_numpy(),
            rows.column("repeat_cents").to_numpy() / 100.0,
            calibration_end=as_of.astimezone(UTC).date(), unit_days=strategy.unit_days)
        return dict(strategy.score_summary(summary))
    if callable(getattr(strategy, "score_columns", None)):
        return dict(strategy.score_columns(_purchase_columns(purchases, until), as_of=as_of))
    raise ConfigError(tr("scoring strategy {name!r} cannot score a source's purchases (it "
                         "takes neither a summary nor columns)").format(
                             name=type(strategy).__name__))


def _purchase_columns(purchases: ir.Table, until: datetime) -> Any:
    """The purchases before ``until`` as :class:`~crmcore.grading.TransactionColumns`."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    from crmcore.grading.columns import TransactionColumns

    at = purchases["at"]
    rows = purchases.filter(at < moment(at, until)).select(
        "customer_id", "at", "amount_cents").to_pyarrow()
    customers = rows.column("customer_id").cast(pa.string()).combine_chunks() \
        .dictionary_encode()
    micros = rows.column("at").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return TransactionColumns(tuple(customers.dictionary.to_pylist()),
                              customers.indices.cast(pa.int64()).to_numpy(),
                              micros.to_numpy(), rows.column("amount_cents").to_numpy())
