"""Small builders shared by the grading tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from crmcore.grading import MetricTable
from crmcore.model import Transaction

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def table(values: list[float], *, name: str = "revenue", **more: list[float]) -> MetricTable:
    """A metric table of customers C0, C1, ... with the given columns."""
    ids = tuple(f"C{i}" for i in range(len(values)))
    return MetricTable(ids, {name: values, **more}, AS_OF)


def buy(customer: str, days_ago: float, amount: str, *, cost: str | None = None,
        number: int = 0, **extra: Any) -> Transaction:
    """A purchase ``days_ago`` days before :data:`AS_OF`."""
    at = AS_OF - timedelta(days=days_ago)
    return Transaction(id=f"{customer}-{days_ago}-{amount}-{number}", customer_id=customer,
                       occurred_at=at, amount=Decimal(amount),
                       cost=None if cost is None else Decimal(cost), **extra)
