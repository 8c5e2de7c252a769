"""Metrics as of a date and window; the columnar fast path against the reference."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.csv_import import CsvLayout
from crmcore.errors import ImportRowError
from crmcore.grading import (
    TransactionColumns,
    compute_metrics,
    read_transaction_columns,
    reference_metrics,
    window_start,
)
from crmcore.model import Customer, Transaction

from .helpers import AS_OF, buy


def test_metrics_from_transactions_as_of_a_date() -> None:
    transactions = [
        buy("C1", 10, "100.00", cost="60.00"),
        buy("C1", 9.9, "50.00", number=1),  # same UTC day: one purchase
        buy("C1", 40, "25.50", cost="5.50"),
        buy("C1", 500, "999.00"),  # before the 12-month window
        buy("C2", 3, "10.00"),
        buy("C2", -1, "70.00"),  # after as_of: ignored
    ]
    customers = [Customer(id="C3", name="three", acquired_at=AS_OF - timedelta(days=30))]
    metrics = reference_metrics(transactions, AS_OF, customers=customers)
    one = metrics.row(metrics.position("C1"))
    assert one["revenue"] == 175.5
    assert one["transactions"] == 3.0
    assert one["frequency"] == 2.0  # two purchase days in the window
    assert one["profit"] == 60.0  # (100 - 60) + (25.50 - 5.50); cost unknown: left out
    assert one["average_order_value"] == 58.5
    assert one["recency_days"] == 10.0
    assert one["tenure_days"] == 500.0
    two = metrics.row(metrics.position("C2"))
    assert two["revenue"] == 10.0
    assert "profit" not in two
    three = metrics.row(metrics.position("C3"))
    assert three["revenue"] == 0.0
    assert "recency_days" not in three
    assert three["tenure_days"] == 30.0  # from acquired_at
    assert metrics.ids[0] == "C3"  # customers first, then buyers in order of appearance


def test_window_is_calendar_months_with_clamped_days() -> None:
    assert window_start(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28,
                                                                          tzinfo=UTC)
    assert window_start(AS_OF, 12) == datetime(2025, 6, 30, tzinfo=UTC)
    short = reference_metrics([buy("C1", 40, "5.00"), buy("C1", 10, "7.00")], AS_OF,
                              window_months=1)
    assert short.row(0)["revenue"] == 7.0


def test_read_transaction_columns_reads_renamed_columns_and_reports_bad_cells() -> None:
    layout = CsvLayout(customer_col="client", date_col="day", amount_col="total",
                       date_format="%d/%m/%Y")
    lines = ["client,day,total,cost\n", "A,01/06/2026,12.5,\n", "B,02/06/2026,\"1,200.00\",3\n"]
    columns = read_transaction_columns(lines, layout, fast=False)
    assert columns.ids == ("A", "B")
    assert list(columns.amount_cents) == [1250, 120000]
    assert list(columns.cost_cents) == [-1, 300]
    with pytest.raises(ImportRowError, match=r"line 2, column 'day': '2026-06-01' is not a date"):
        read_transaction_columns(["client,day,total\n", "A,2026-06-01,1\n"], layout)
    with pytest.raises(ImportRowError, match=r"line 2, column 'total': 'x' is not an amount"):
        read_transaction_columns(["client,day,total\n", "A,01/06/2026,x\n"], layout)
    with pytest.raises(ImportRowError, match=r"column 'client'.*missing from the header"):
        read_transaction_columns(["customer_id,day,total\n"], layout)


moments = st.integers(-800 * 86_400, 2 * 86_400).map(
    lambda seconds: AS_OF + timedelta(seconds=seconds))
amounts = st.integers(0, 10**9).map(lambda cents: Decimal(cents) / 100)
purchases = st.builds(
    lambda n, customer, at, amount, cost: Transaction(
        id=f"T{n}", customer_id=customer, occurred_at=at, amount=amount, cost=cost),
    st.integers(0, 10**9), st.sampled_from(["A", "B", "C", "D", "E"]), moments, amounts,
    st.none() | amounts)


@settings(max_examples=150)
@given(transactions=st.lists(purchases, max_size=40), months=st.integers(1, 24))
def test_fast_metrics_equal_the_reference(transactions: list[Transaction], months: int) -> None:
    customers = [Customer(id="Z", name="no purchases")]
    reference = reference_metrics(transactions, AS_OF, customers=customers,
                                  window_months=months)
    columns = TransactionColumns.from_transactions(transactions, customers)
    fast = compute_metrics(columns, AS_OF, window_months=months, fast=True)
    assert fast.ids == reference.ids
    for name, column in reference.columns.items():
        got = [float(v) for v in fast.columns[name]]
        want = [float(v) for v in column]
        assert [(math.isnan(g), g if g == g else 0) for g in got] == \
            [(math.isnan(w), w if w == w else 0) for w in want], name
