"""Degenerate books: fits that end on a bound, and predictions in the limiting models."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

pytest.importorskip("scipy")

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore_plugins.clv import (
    BgNbdFit,
    RfmSummary,
    analyse_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    summarize_purchases,
)
from crmcore_plugins.clv.bgnbd import beta_gauss_rule


def _demo_purchases() -> tuple[list[str], list[object], list[float], object]:
    from crmcore.demo import DEFAULT_AS_OF, generate_book
    from crmcore.model import Transaction

    book = generate_book(200, seed=7)
    bought = [e for e in book.entities
              if isinstance(e, Transaction) and e.occurred_at < DEFAULT_AS_OF]
    return ([t.customer_id for t in bought], [t.occurred_at.date() for t in bought],
            [float(t.amount) for t in bought], DEFAULT_AS_OF.date())


@pytest.fixture(scope="module")
def demo() -> RfmSummary:
    ids, dates, amounts, end = _demo_purchases()
    return summarize_purchases(ids, dates, amounts, calibration_end=end, unit_days=7.0)


def test_demo_book_fit_ends_on_a_bound_without_warnings(demo: RfmSummary) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_bgnbd(demo.frequency, demo.recency, demo.T)
        alive = fit.probability_alive(demo.frequency, demo.recency, demo.T)
        expected = fit.expected_purchases(52.0, demo.frequency, demo.recency, demo.T)
    assert fit.converged
    assert "b" in fit.at_bound
    assert fit.b == pytest.approx(math.exp(12.0))
    assert fit.a / (fit.a + fit.b) < 0.05  # one small dropout probability for all
    assert np.all(np.isfinite(alive))
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected))
    assert np.all(expected >= 0)
    bound = 52.0 * (fit.r + demo.frequency) / (fit.alpha + demo.T)  # NBD: no dropout at all
    assert np.all(expected <= alive * bound * (1 + 1e-9))


def test_demo_book_analysis_reports_the_bound_and_gives_finite_predictions() -> None:
    ids, dates, amounts, end = _demo_purchases()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis = analyse_purchases(ids, dates, amounts, calibration_end=end)
    assert np.all(np.isfinite(analysis.probability_alive))
    assert np.all(np.isfinite(analysis.expected_purchases))
    assert analysis.clv is not None or analysis.clv_unavailable
    assert any("BG/NBD" in note and "bound" in note for note in analysis.notes)


def test_interior_fit_reports_no_bound() -> None:
    fit = fit_bgnbd([2, 1, 0, 0, 5, 3, 0, 1], [30.0, 5.0, 0.0, 0.0, 35.0, 20.0, 0.0, 2.0],
                    [38.0, 38.0, 38.0, 30.0, 38.0, 36.0, 20.0, 38.0])
    assert all(name in ("r", "alpha", "a", "b") for name in fit.at_bound)
    assert BgNbdFit(0.243, 4.414, 0.793, 2.426).at_bound == ()


def test_homogeneous_spend_fits_without_warnings() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 10, 300)
    spend = rng.gamma(4.0 * x, 10.0 / x)  # mean of x Gamma(4, rate 0.1) values: one rate for all
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_gamma_gamma(x, spend)
        profit = fit.conditional_expected_average_profit(x, spend)
    assert fit.q > 50.0  # heads for q -> inf: no heterogeneity in spend rates
    assert all(name in ("p", "q", "gamma") for name in fit.at_bound)
    assert np.all(np.isfinite(profit))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.05, 20.0), st.floats(0.1, 100.0), st.floats(6.0, 16.0), st.floats(9.0, 12.0),
    st.integers(0, 60), st.floats(0.0, 1.0), st.floats(0.0, 200.0), st.floats(0.0, 100.0),
)
def test_huge_a_b_with_vanishing_dropout_gives_the_nbd_limit(
    r: float, alpha: float, log10_a: float, log10_ratio: float, x: int, share: float,
    t_cal: float, horizon: float,
) -> None:
    a = 10.0**log10_a
    fit = BgNbdFit(r, alpha, a, a * 10.0**log10_ratio)
    t_x = share * t_cal if x else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = float(fit.expected_purchases(horizon, x, t_x, t_cal))
        alive = float(fit.probability_alive(x, t_x, t_cal))
    scaled_horizon = horizon / (alpha + t_cal)
    nbd = (r + x) * scaled_horizon
    # The NBD value is the first-order term in the dropout probability p; the
    # next term is relatively (r + x + 1) p s / 2, so allow for it.
    dropout = a / (a + a * 10.0**log10_ratio)
    second_order = (r + x + 1.0) * dropout * scaled_horizon
    assert expected == pytest.approx(alive * nbd, rel=1e-5 + second_order, abs=1e-300)
    if t_x == t_cal:
        assert alive == pytest.approx(1.0, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.05, 20.0), st.floats(0.1, 100.0), st.floats(1e-3, 0.5), st.integers(0, 60),
       st.floats(0.0, 200.0), st.floats(0.0, 100.0))
def test_huge_a_b_with_fixed_dropout_gives_the_homogeneous_limit(
    r: float, alpha: float, p0: float, x: int, t_cal: float, horizon: float
) -> None:
    a = 1e14
    fit = BgNbdFit(r, alpha, a, a * (1.0 - p0) / p0)
    t_x = t_cal if x else 0.0  # the last purchase at the end; no repeat: recency 0
    expected = float(fit.expected_purchases(horizon, x, t_x, t_cal))
    alive = float(fit.probability_alive(x, t_x, t_cal))
    s = horizon / (alpha + t_cal)
    limit = -math.expm1(-(r + x) * math.log1p(p0 * s)) / p0  # every customer drops with p0
    assert expected == pytest.approx(alive * limit, rel=1e-6, abs=1e-300)


@pytest.mark.parametrize("x", [0, 3, 40])
def test_formula_and_quadrature_agree_across_the_switch(x: int) -> None:
    below = BgNbdFit(0.5, 6.0, 49.999999, 900.0)
    above = BgNbdFit(0.5, 6.0, 50.0, 900.0)
    horizons = np.array([0.5, 10.0, 52.0, 500.0])
    t_x = 20.0 if x else 0.0
    low = below.expected_purchases(horizons, x, t_x, 30.0)
    high = above.expected_purchases(horizons, x, t_x, 30.0)
    np.testing.assert_allclose(low, high, rtol=1e-6)


@pytest.mark.parametrize(("a", "b"), [(3.0, 5.0), (0.8, 9.4), (3e3, 1.6e5), (1e16, 5e17)])
def test_beta_gauss_rule_reproduces_the_moments(a: float, b: float) -> None:
    nodes, weights = beta_gauss_rule(a, b, 32)
    mean = a / (a + b)
    variance = a * b / ((a + b) ** 2 * (a + b + 1.0))
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.all((nodes > 0) & (nodes < 1))
    assert (weights * nodes).sum() == pytest.approx(mean, rel=1e-12)
    assert (weights * (nodes - mean) ** 2).sum() == pytest.approx(variance, rel=1e-6)
