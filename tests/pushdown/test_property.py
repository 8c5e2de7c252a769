"""Pushdown metrics equal the embedded metrics on small random books (DuckDB and SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.grading import METRICS, Basis, RankCut, rank_cut, reference_metrics, rfm_scores
from crmcore.lifecycle.evidence import Thresholds, _rhythm
from crmcore.model import Customer, Transaction
from crmcore_plugins.pushdown.grading import fetch_metrics, pushdown_metrics
from crmcore_plugins.pushdown.metrics import (
    grading_metrics,
    lifecycle_evidence,
    rfm_codes,
    value_ranks,
)

from .engines import ENGINES, connect, customer_table, load, purchase_table

BASE = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
MOMENTS = st.builds(lambda seconds, micros, zone: (BASE + timedelta(seconds=seconds,
                                                                     microseconds=micros)
                                                   ).astimezone(zone),
                    st.integers(-400 * 86_400, 400 * 86_400), st.integers(0, 999_999), ZONES)
IDS = st.sampled_from(["a", "b", "c", "d", "e", "f"])
PURCHASES = st.lists(st.tuples(IDS, MOMENTS, st.integers(0, 200_000),
                               st.one_of(st.none(), st.integers(0, 200_000))), max_size=40)
CUSTOMERS = st.lists(st.tuples(st.sampled_from(["a", "c", "x", "y"]),
                               st.one_of(st.none(), MOMENTS)),
                     max_size=4, unique_by=lambda item: item[0])


def _embedded(purchases: list[tuple[str, datetime, int, int | None]],
              customers: list[tuple[str, datetime | None]], as_of: datetime,
              window: int) -> dict[str, dict[str, float]]:
    # as grade_book and the stored book: only purchases before as_of make buyers
    transactions = [Transaction(id=f"T{n}", customer_id=c, occurred_at=at,
                                amount=Decimal(amount) / 100,
                                cost=None if cost is None else Decimal(cost) / 100)
                    for n, (c, at, amount, cost) in enumerate(purchases) if at < as_of]
    people = [Customer(id=c, name=c, acquired_at=acquired) for c, acquired in customers]
    metrics = reference_metrics(transactions, as_of, customers=people, window_months=window)
    return {customer_id: {name: float(column[position])
                          for name, column in metrics.columns.items()}
            for position, customer_id in enumerate(metrics.ids)}


def _same(left: dict[str, dict[str, float]], right: dict[str, dict[str, float]]) -> None:
    assert left.keys() == right.keys()
    for customer_id, row in left.items():
        other = right[customer_id]
        for name, value in row.items():
            assert (value == other[name]) or (value != value and other[name] != other[name]), (
                customer_id, name, value, other[name])


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=PURCHASES, customers=CUSTOMERS, as_of=MOMENTS, window=st.integers(1, 24))
def test_pushdown_metrics_equal_embedded_metrics(
        engine: str, purchases: list[tuple[str, datetime, int, int | None]],
        customers: list[tuple[str, datetime | None]], as_of: datetime, window: int) -> None:
    """G1/G5/RFM inputs: every metric of every customer, to the bit, on each engine."""
    backend = connect(engine)
    table = load(backend, purchase_table([p[0] for p in purchases], [p[1] for p in purchases],
                                         [p[2] for p in purchases], [p[3] for p in purchases]))
    people = load(backend, customer_table([c[0] for c in customers], [c[1] for c in customers]))
    pushed = pushdown_metrics(table, as_of=as_of, window_months=window,
                              customers=people if customers else None)
    got = {customer_id: {name: float(column[position])
                         for name, column in pushed.columns.items()}
           for position, customer_id in enumerate(pushed.ids)}
    _same(_embedded(purchases, customers, as_of, window), got)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.one_of(st.none(), st.integers(-3, 12)), max_size=30),
       shares=st.sampled_from([(Fraction(5, 100), Fraction(20, 100)), (Fraction(1, 3),),
                               (Fraction(1, 5),) * 4, (Fraction(1, 2), Fraction(1, 4))]),
       basis=st.sampled_from(list(Basis)), nonpositive_last=st.booleans())
def test_value_ranks_in_the_engine_follow_the_tie_rule(
        engine: str, values: list[int | None], shares: tuple[Fraction, ...], basis: Basis,
        nonpositive_last: bool) -> None:
    """G1 tie rule: a tie takes the better grade; count cut-offs round half up, as rank_cut."""
    cut = RankCut(shares, basis, nonpositive_last)
    backend = connect(engine)
    table = load(backend, pa.table({"customer_id": pa.array([str(i) for i in range(len(values))],
                                                            pa.string()),
                                    "value": pa.array(values, pa.int64())}))
    ranked = value_ranks(table, "value", cut).to_pyarrow().to_pylist()
    expected = rank_cut([float("nan") if v is None else float(v) for v in values], cut,
                        fast=False)
    by_id = {row["customer_id"]: row for row in ranked}
    for position in range(len(values)):
        row = by_id[str(position)]
        assert row["code"] == expected.codes[position], (values, position)
        assert row["ahead"] + 1 == expected.ranks[position], (values, position)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=PURCHASES, as_of=MOMENTS)
def test_rfm_scores_in_the_engine_equal_rfm_scores(
        engine: str, purchases: list[tuple[str, datetime, int, int | None]],
        as_of: datetime) -> None:
    """RFM quintiles computed in the engine equal crmcore's rfm_scores."""
    backend = connect(engine)
    table = load(backend, purchase_table([p[0] for p in purchases], [p[1] for p in purchases],
                                         [p[2] for p in purchases]))
    metrics = grading_metrics(table, as_of=as_of)
    expected = rfm_scores(fetch_metrics(metrics, as_of=as_of))
    ids = fetch_metrics(metrics, as_of=as_of).ids
    scored = {row["customer_id"]: row for row in rfm_codes(metrics).to_pyarrow().to_pylist()}
    for axis in ("r", "f", "m"):
        assert [scored[i][axis] for i in ids] == np.asarray(getattr(expected, axis)).tolist()


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=PURCHASES, until=MOMENTS)
def test_lifecycle_evidence_in_the_engine_equals_the_rules(
        engine: str, purchases: list[tuple[str, datetime, int, int | None]],
        until: datetime) -> None:
    """L3/L4 evidence: last purchase, purchase days and rhythm as the lifecycle rules see them."""
    backend = connect(engine)
    table = load(backend, purchase_table([p[0] for p in purchases], [p[1] for p in purchases],
                                         [p[2] for p in purchases]))
    rows = lifecycle_evidence(table, until=until).to_pyarrow().to_pylist()
    found = {row["customer_id"]: row for row in rows}
    expected: dict[str, list[datetime]] = {}
    for customer_id, at, _amount, _cost in purchases:
        if at < until:
            expected.setdefault(customer_id, []).append(at.astimezone(UTC))
    assert found.keys() == expected.keys()
    for customer_id, times in expected.items():
        row = found[customer_id]
        days = {t.date() for t in times}
        assert row["last_purchase_at"] == max(times).replace(tzinfo=None)
        assert row["first_purchase_at"] == min(times).replace(tzinfo=None)
        assert row["purchase_days"] == len(days)
        assert row["repeat_days"] == len(days) - 1
        if len(days) < 2:  # the rules then use their default rhythm
            assert row["rhythm_days"] is None
        else:
            assert row["rhythm_days"] == _rhythm(times, Thresholds())[0]


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=PURCHASES, as_of=MOMENTS,
       only=st.sets(st.sampled_from(list(METRICS)), min_size=1))
def test_only_the_wanted_metrics_leave_the_engine_with_the_same_values(
        purchases: list[tuple[str, datetime, int, int | None]], as_of: datetime,
        only: set[str]) -> None:
    """A scheme's metrics alone (metrics_needed) are the full table's, column for column."""
    backend = connect("duckdb")
    table = load(backend, purchase_table([p[0] for p in purchases], [p[1] for p in purchases],
                                         [p[2] for p in purchases], [p[3] for p in purchases]))
    full = pushdown_metrics(table, as_of=as_of)
    some = pushdown_metrics(table, as_of=as_of, only=only)
    assert some.ids == full.ids
    assert set(some.columns) == only
    for name in only:
        assert np.array_equal(np.asarray(some.columns[name]), np.asarray(full.columns[name]),
                              equal_nan=True), name
