"""Predictions once per distinct row, and summaries from columns, against plain references."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

pytest.importorskip("scipy")

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crmcore.grading.columns import TransactionColumns
from crmcore.model import Transaction
from crmcore_plugins.clv import (
    BgNbdFit,
    ClvInputError,
    GammaGammaFit,
    customer_lifetime_value,
    summarize_codes,
    summarize_purchases,
)
from crmcore_plugins.clv.bgnbd import _alive, _conditional_expectation, distinct_rows
from crmcore_plugins.scoring_clv import ClvScoring

positive = st.floats(min_value=0.05, max_value=20.0)
bgnbd_params = st.tuples(positive, st.floats(0.1, 100.0), positive, positive)


@st.composite
def customer_row(draw: st.DrawFn) -> tuple[float, float, float]:
    """A valid (frequency, recency, T) row in whole days of weeks, as summaries hold."""
    t_cal = draw(st.integers(0, 700)) / 7.0
    x = draw(st.integers(0, 40))
    t_x = 0.0 if x == 0 else draw(st.integers(0, round(t_cal * 7))) / 7.0
    return float(x), t_x, t_cal


@st.composite
def book(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers drawn from a few distinct rows, so that rows repeat."""
    pool = draw(st.lists(customer_row(), min_size=1, max_size=6))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=40))
    x, t_x, t_cal = (np.array([pool[i][k] for i in picks]) for k in range(3))
    return x, t_x, t_cal


@settings(max_examples=60, deadline=None)
@given(bgnbd_params, book(), st.floats(0.5, 60.0))
def test_predictions_per_distinct_row_equal_the_per_customer_reference(
        params: tuple[float, float, float, float],
        rows: tuple[np.ndarray, np.ndarray, np.ndarray], horizon: float) -> None:
    # a + b == 1 makes the 2F1 of a non-buyer's expectation singular (c = 0) on both
    # paths alike: a known gap of the expectation, not of the per-row evaluation.
    assume(abs(params[2] + params[3] - 1.0) > 1e-6)
    fit = BgNbdFit(*params)
    x, t_x, t_cal = rows
    p = np.array(params)
    np.testing.assert_allclose(fit.probability_alive(x, t_x, t_cal), _alive(p, x, t_x, t_cal),
                               rtol=1e-12)
    np.testing.assert_allclose(
        fit.expected_purchases(horizon, x, t_x, t_cal),
        _conditional_expectation(p, np.full_like(x, horizon), x, t_x, t_cal), rtol=1e-9)


def reference_clv(counts: BgNbdFit, spend: GammaGammaFit, x: np.ndarray, t_x: np.ndarray,
                  t_cal: np.ndarray, m: np.ndarray, periods: int, period: float,
                  rate: float) -> np.ndarray:
    """Every customer and every period end at once, differenced and discounted."""
    ends = np.arange(periods + 1, dtype=np.float64)[:, None] * period
    params = np.array([counts.r, counts.alpha, counts.a, counts.b])
    t, xs, t_xs, t_cals = np.broadcast_arrays(ends, x, t_x, t_cal)
    cumulative = _conditional_expectation(params, t, xs, t_xs, t_cals)
    discount = (1.0 + rate) ** -np.arange(1, periods + 1, dtype=np.float64)
    profit = spend.p * (spend.gamma + x * m) / (spend.p * x + spend.q - 1.0)
    return np.asarray(profit * (discount @ np.diff(cumulative, axis=0)))


@settings(max_examples=40, deadline=None)
@given(bgnbd_params, book(), st.integers(1, 12), st.floats(0.0, 0.2))
def test_clv_per_distinct_row_equals_the_per_customer_reference(
        params: tuple[float, float, float, float],
        rows: tuple[np.ndarray, np.ndarray, np.ndarray], periods: int, rate: float) -> None:
    counts, spend = BgNbdFit(*params), GammaGammaFit(p=6.25, q=3.74, gamma=15.44)
    x, t_x, t_cal = rows
    m = np.where(x > 0, 10.0 + x, 0.0)
    got = customer_lifetime_value(counts, spend, x, t_x, t_cal, m, horizon=periods,
                                  unit_days=7.0, period_days=30.0,
                                  discount_rate_per_period=rate)
    np.testing.assert_allclose(
        got, reference_clv(counts, spend, x, t_x, t_cal, m, periods, 30.0 / 7.0, rate),
        rtol=1e-9, atol=1e-12)


@given(book())
def test_distinct_rows_are_sorted_unique_and_give_back_every_row(
        rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    distinct, inverse = distinct_rows(*rows)
    for column, values in zip(rows, distinct, strict=True):
        assert np.array_equal(values[inverse], column)
    as_tuples = list(zip(*(values.tolist() for values in distinct), strict=True))
    assert as_tuples == sorted(set(zip(*(c.tolist() for c in rows), strict=True)))
    _, identity = distinct_rows(*distinct)
    assert identity.tolist() == list(range(len(as_tuples)))


@st.composite
def purchases(draw: st.DrawFn) -> tuple[list[str], list[int], list[int], list[float]]:
    """Raw purchases: ids, codes into ids, days since 1970, amounts."""
    ids = draw(st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=1, max_size=8,
                        unique=True))
    size = draw(st.integers(1, 60))
    codes = draw(st.lists(st.integers(0, len(ids) - 1), min_size=size, max_size=size))
    days = draw(st.lists(st.integers(18_000, 18_060), min_size=size, max_size=size))
    amounts = draw(st.lists(st.integers(0, 10_000).map(lambda c: c / 100), min_size=size,
                            max_size=size))
    return ids, codes, days, amounts


@settings(max_examples=80, deadline=None)
@given(purchases(), st.integers(18_000, 18_070))
def test_summary_from_codes_equals_the_summary_from_ids(
        data: tuple[list[str], list[int], list[int], list[float]], end: int) -> None:
    ids, codes, days, amounts = data
    end_date = dt.date(1970, 1, 1) + dt.timedelta(days=end)
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in days]
    try:
        expected = summarize_purchases([ids[c] for c in codes], dates, amounts,
                                       calibration_end=end_date, unit_days=7.0)
    except ClvInputError:
        with pytest.raises(ClvInputError, match="calibration_end"):
            summarize_codes(ids, codes, days, amounts, calibration_end=end_date,
                            unit_days=7.0)
        return
    got = summarize_codes(ids, codes, days, amounts, calibration_end=end_date, unit_days=7.0)
    order = np.argsort(got.customer_ids.astype(str))
    assert got.customer_ids[order].tolist() == expected.customer_ids.tolist()
    assert got.frequency[order].tolist() == expected.frequency.tolist()
    assert got.recency[order].tolist() == expected.recency.tolist()
    assert got.T[order].tolist() == expected.T.tolist()
    np.testing.assert_allclose(got.monetary_value[order], expected.monetary_value, rtol=1e-12)


def test_summarize_codes_names_a_code_outside_ids() -> None:
    with pytest.raises(ClvInputError, match=r"codes\[1\]: 2 is not a position in ids"):
        summarize_codes(["a", "b"], [0, 2], [18_000, 18_001], [1.0, 2.0],
                        calibration_end=dt.date(2020, 1, 1), unit_days=7.0)
    with pytest.raises(ClvInputError, match="days"):
        summarize_codes(["a"], [0], [18_000.5], [1.0], calibration_end=dt.date(2020, 1, 1),
                        unit_days=7.0)


def _transactions() -> list[Transaction]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rng = np.random.default_rng(5)
    found = []
    for customer in range(60):
        gap = int(rng.integers(5, 40))
        for k in range(int(rng.integers(1, 12))):
            found.append(Transaction(
                id=f"t{customer}-{k}", customer_id=f"c{customer:02d}",
                occurred_at=start + timedelta(days=customer % 30 + k * gap),
                amount=Decimal(int(rng.integers(100, 9_000))) / 100))
    return found


@pytest.mark.parametrize("measure", ["clv", "probability_alive", "expected_purchases"])
def test_scoring_columns_equals_scoring_transactions(measure: str) -> None:
    transactions, as_of = _transactions(), datetime(2024, 9, 1, tzinfo=UTC)
    strategy = ClvScoring(measure)
    by_objects = strategy.score(transactions, as_of=as_of)
    columns = TransactionColumns.from_transactions(transactions)
    assert strategy.score_columns(columns, as_of=as_of) == by_objects
    assert strategy.score_columns(columns.as_numpy(), as_of=as_of) == by_objects
    assert len(by_objects) == 60
    reference = summarize_purchases(
        [t.customer_id for t in transactions if t.occurred_at < as_of],
        [t.occurred_at.date() for t in transactions if t.occurred_at < as_of],
        [float(t.amount) for t in transactions if t.occurred_at < as_of],
        calibration_end=as_of.date(), unit_days=7.0)
    assert sorted(by_objects) == reference.customer_ids.tolist()
    assert strategy.score_columns(columns, as_of=datetime(2023, 1, 1, tzinfo=UTC)) == {}
