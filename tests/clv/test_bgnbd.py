"""Tests of the BG/NBD model on synthetic data and against plain references."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("scipy")

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore_plugins.clv import BgNbdFit, ClvInputError, bgnbd_log_likelihood, fit_bgnbd

PUBLISHED = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426)

positive = st.floats(min_value=0.05, max_value=20.0)
params = st.tuples(positive, st.floats(0.1, 100.0), positive, positive)


@st.composite
def customers(draw: st.DrawFn) -> tuple[int, float, float]:
    """A valid (frequency, recency, T) triple."""
    t_cal = draw(st.floats(0.0, 200.0))
    x = draw(st.integers(0, 60))
    t_x = 0.0 if x == 0 else draw(st.floats(0.0, t_cal))
    return x, t_x, t_cal


def reference_log_likelihood(
    p: tuple[float, float, float, float], rows: list[tuple[int, float, float]]
) -> float:
    """FHL 2005 eq. 6 per customer, written plainly with math.lgamma."""
    r, alpha, a, b = p

    def log_beta(u: float, v: float) -> float:
        return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)

    total = 0.0
    for x, t_x, t_cal in rows:
        common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
        first = common + log_beta(a, b + x) - log_beta(a, b) - (r + x) * math.log(alpha + t_cal)
        if x == 0:
            total += first
            continue
        second = (common + log_beta(a + 1, b + x - 1) - log_beta(a, b)
                  - (r + x) * math.log(alpha + t_x))
        top: float = max(first, second)
        total += top + math.log(math.exp(first - top) + math.exp(second - top))
    return total


def reference_expectation(fit: BgNbdFit, t: float, x: int, t_x: float, t_cal: float) -> float:
    """FHL 2005 eq. 10 in its original form with the 2F1 series summed in a loop."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + t_cal + t)
    series, term, n = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(series) or n < 5:
        term *= (r + x + n) * (b + x + n) / ((a + b + x - 1 + n) * (n + 1)) * z
        series += term
        n += 1
    ratio = (alpha + t_cal) / (alpha + t_cal + t)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ratio ** (r + x) * series)
    odds = a / (b + x - 1) * ((alpha + t_cal) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return float(numerator / (1 + odds))


def simulate(n: int, seed: int, true: BgNbdFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw BG/NBD customers observed for T in [20, 40) time units."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(true.r, 1 / true.alpha, n)
    drop = rng.beta(true.a, true.b, n)
    t_cal = rng.uniform(20, 40, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        now = rng.exponential(1 / lam[i])
        while now <= t_cal[i]:
            x[i], t_x[i] = x[i] + 1, now
            if rng.random() < drop[i]:
                break
            now += rng.exponential(1 / lam[i])
    return x, t_x, t_cal


def test_fit_recovers_simulated_parameters() -> None:
    true = BgNbdFit(r=0.5, alpha=3.0, a=0.8, b=2.5)
    fit = fit_bgnbd(*simulate(20_000, 7, true))
    assert fit.converged
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(true, name), rel=0.15), name


def test_fit_is_the_maximum_of_the_likelihood() -> None:
    data = simulate(3000, 3, PUBLISHED)
    fit = fit_bgnbd(*data)
    best = (fit.r, fit.alpha, fit.a, fit.b)
    assert bgnbd_log_likelihood(best, *data) == pytest.approx(fit.log_likelihood, rel=1e-12)
    for i in range(4):
        for step in (0.99, 1.01):
            moved = tuple(v * step if j == i else v for j, v in enumerate(best))
            assert bgnbd_log_likelihood(moved, *data) < fit.log_likelihood  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(params, st.lists(customers(), min_size=1, max_size=30))
def test_fast_log_likelihood_equals_plain_reference(
    p: tuple[float, float, float, float], rows: list[tuple[int, float, float]]
) -> None:
    rows = rows + rows[:3]  # duplicates exercise the aggregation weights
    x, t_x, t_cal = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    fast = bgnbd_log_likelihood(p, x, t_x, t_cal)
    assert fast == pytest.approx(reference_log_likelihood(p, rows), rel=1e-9, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(params, customers())
def test_probability_alive_is_a_probability_and_one_without_repeats(
    p: tuple[float, float, float, float], row: tuple[int, float, float]
) -> None:
    fit = BgNbdFit(*p)
    x, t_x, t_cal = row
    alive = float(fit.probability_alive(x, t_x, t_cal))
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0


@settings(max_examples=80, deadline=None)
@given(params, customers(), st.floats(0.01, 500.0), st.floats(1.01, 3.0))
def test_expected_purchases_increase_with_horizon(
    p: tuple[float, float, float, float], row: tuple[int, float, float], t: float, factor: float
) -> None:
    fit = BgNbdFit(*p)
    short, long = fit.expected_purchases([t, t * factor], *row)
    assert 0.0 <= short <= long
    assert math.isfinite(long)


@pytest.mark.parametrize(
    ("t", "x", "t_x", "t_cal"),
    [(39.0, 2, 30.43, 38.86), (1.0, 0, 0.0, 38.86), (52.0, 7, 20.0, 30.0), (10.0, 25, 38.0, 39.0)],
)
def test_expected_purchases_match_the_untransformed_formula(
    t: float, x: int, t_x: float, t_cal: float
) -> None:
    ours = float(PUBLISHED.expected_purchases(t, x, t_x, t_cal))
    assert ours == pytest.approx(reference_expectation(PUBLISHED, t, x, t_x, t_cal), rel=1e-9)


def test_unconditional_expectation_starts_at_the_mean_rate() -> None:
    # Everyone is alive at first, so E[X(t)] / t -> E[lambda] = r / alpha as t -> 0.
    tiny = float(PUBLISHED.expected_purchases_unconditional(1e-4)) / 1e-4
    assert tiny == pytest.approx(PUBLISHED.r / PUBLISHED.alpha, rel=1e-3)
    new_customer = float(PUBLISHED.expected_purchases(39.0, 0, 0.0, 0.0))
    assert float(PUBLISHED.expected_purchases_unconditional(39.0)) == new_customer


def test_parameter_a_equal_to_one_is_continuous() -> None:
    values = [
        float(BgNbdFit(0.5, 3.0, a, 2.0).expected_purchases(20.0, 3, 10.0, 15.0))
        for a in (1.0 - 1e-3, 1.0, 1.0 + 1e-3)
    ]
    assert values[1] == pytest.approx((values[0] + values[2]) / 2, rel=1e-6)


def test_large_frequencies_give_finite_results() -> None:
    x = np.array([10_000, 10_000, 50_000])
    t_x = np.array([38.0, 38.86, 38.8])
    t_cal = np.full(3, 38.86)
    alive = PUBLISHED.probability_alive(x, t_x, t_cal)
    assert np.all(np.isfinite(alive))
    assert alive[1] > 0.99  # bought at the very end: almost surely alive
    expected = PUBLISHED.expected_purchases(39.0, x, t_x, t_cal)
    assert np.all(np.isfinite(expected))
    # An alive customer buying ~257 times a week keeps that pace for a while.
    assert 5_000 < expected[1] < 10_000
    ll = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), x, t_x, t_cal)
    assert math.isfinite(ll)
    fit = fit_bgnbd(np.r_[x, 0, 1], np.r_[t_x, 0, 5], np.r_[t_cal, 30, 30])
    assert math.isfinite(fit.log_likelihood)


def test_large_frequency_long_horizon_where_scipy_hyp2f1_returns_nan() -> None:
    fit = BgNbdFit(2.0, 0.5, 3.0, 0.7)
    value = float(fit.expected_purchases(1000.0, 1000, 0.9, 1.0))
    assert math.isfinite(value)
    assert value > 0


@pytest.mark.parametrize(
    ("x", "t_x", "t_cal", "field"),
    [
        ([], [], [], "frequency"),
        ([1, -1], [1, 1], [2, 2], "frequency[1]"),
        ([1, 1], [1, float("nan")], [2, 2], "recency[1]"),
        ([1, 1], [1, 3], [2, 2], "recency[1]"),
        ([0, 1], [1, 1], [2, 2], "recency[0]"),
        ([1.5], [1], [2], "frequency[0]"),
        ([1], [1], [float("inf")], "T[0]"),
        ([0, 0], [0, 0], [1, 2], "frequency"),
        ([1, 1], [1, 1], [2, 2, 2], "frequency, recency, T"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(
    x: list[float], t_x: list[float], t_cal: list[float], field: str
) -> None:
    with pytest.raises(ClvInputError) as info:
        fit_bgnbd(x, t_x, t_cal)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_bad_parameters_and_horizon_are_rejected() -> None:
    with pytest.raises(ClvInputError, match="alpha"):
        BgNbdFit(0.2, -1.0, 0.5, 0.5)
    with pytest.raises(ClvInputError, match="horizon"):
        PUBLISHED.expected_purchases(-1.0, 1, 1.0, 2.0)
