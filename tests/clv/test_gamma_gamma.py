"""Tests of the Gamma-Gamma spend model and the CLV calculation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike

pytest.importorskip("scipy")

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore_plugins.clv import (
    BgNbdFit,
    ClvInputError,
    GammaGammaFit,
    customer_lifetime_value,
    fit_gamma_gamma,
)

COUNTS = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426)
SPEND = GammaGammaFit(p=6.25, q=3.74, gamma=15.44)


def simulate_spend(n: int, seed: int, true: GammaGammaFit) -> tuple[np.ndarray, np.ndarray]:
    """Draw repeat counts and mean spends from the Gamma-Gamma model."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(true.q, 1 / true.gamma, n)
    mean = rng.gamma(true.p * x, 1 / (nu * x))  # mean of x Gamma(p, nu) draws
    return x, mean


def reference_log_likelihood(p: float, q: float, g: float, x: np.ndarray, m: np.ndarray) -> float:
    """Log-density of the mean spend, written plainly per customer."""
    total = 0.0
    for xi, mi in zip(x.tolist(), m.tolist(), strict=True):
        total += (math.lgamma(p * xi + q) - math.lgamma(p * xi) - math.lgamma(q)
                  + q * math.log(g) + p * xi * math.log(xi) + (p * xi - 1) * math.log(mi)
                  - (p * xi + q) * math.log(g + xi * mi))
    return total


def test_fit_recovers_simulated_parameters_and_its_likelihood_is_right() -> None:
    true = GammaGammaFit(p=5.0, q=4.0, gamma=20.0)
    x, m = simulate_spend(20_000, 11, true)
    fit = fit_gamma_gamma(x, m)
    assert fit.converged
    for name in ("p", "q", "gamma"):
        assert getattr(fit, name) == pytest.approx(getattr(true, name), rel=0.15), name
    reference = reference_log_likelihood(fit.p, fit.q, fit.gamma, x, m)
    assert fit.log_likelihood == pytest.approx(reference, rel=1e-10)


def test_zero_spend_repeat_buyers_and_one_time_buyers_are_excluded_and_counted() -> None:
    x, m = simulate_spend(500, 5, SPEND)
    base = fit_gamma_gamma(x, m)
    fit = fit_gamma_gamma(np.r_[x, 2, 3, 0], np.r_[m, 0.0, 0.0, 0.0])
    assert (fit.n_customers, fit.n_zero_spend_excluded) == (500, 2)
    assert (fit.p, fit.q, fit.gamma) == pytest.approx((base.p, base.q, base.gamma), rel=1e-8)


def test_no_usable_repeat_buyer_is_an_error() -> None:
    with pytest.raises(ClvInputError, match="frequency, monetary_value"):
        fit_gamma_gamma([0, 2], [0.0, 0.0])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.floats(0.0, 1000.0))
def test_expected_profit_lies_between_population_and_own_mean(x: int, m: float) -> None:
    population = SPEND.p * SPEND.gamma / (SPEND.q - 1)
    value = float(SPEND.conditional_expected_average_profit(x, m))
    low, high = sorted((population, m if x > 0 else population))
    assert low - 1e-9 <= value <= high + 1e-9


def test_q_at_most_one_raises_instead_of_a_negative_value() -> None:
    heavy = GammaGammaFit(p=2.0, q=0.8, gamma=10.0)
    with pytest.raises(ClvInputError, match="q") as info:
        heavy.conditional_expected_average_profit(1, 20.0)
    assert info.value.field == "q"
    with pytest.raises(ClvInputError, match="q"):
        customer_lifetime_value(COUNTS, heavy, 1, 5.0, 10.0, 20.0, horizon=3, unit_days=7.0,
                                period_days=30.0, discount_rate_per_period=0.01)


def _clv(horizon: int, rate: float, x: ArrayLike = 2, t_x: ArrayLike = 30.43,
         t_cal: ArrayLike = 38.86, m: ArrayLike = 22.0) -> np.ndarray:
    return customer_lifetime_value(COUNTS, SPEND, x, t_x, t_cal, m, horizon=horizon,
                                   unit_days=7.0, period_days=30.0,
                                   discount_rate_per_period=rate)


def test_undiscounted_clv_is_profit_times_expected_purchases() -> None:
    expected = float(COUNTS.expected_purchases(12 * 30 / 7, 2, 30.43, 38.86))
    profit = float(SPEND.conditional_expected_average_profit(2, 22.0))
    assert float(_clv(12, 0.0)) == pytest.approx(profit * expected, rel=1e-12)


def test_discounting_weights_each_period_by_its_end() -> None:
    one = float(_clv(1, 0.0))
    two = float(_clv(2, 0.0))
    assert float(_clv(2, 0.1)) == pytest.approx(one / 1.1 + (two - one) / 1.1**2, rel=1e-12)


def test_clv_grows_with_horizon_falls_with_discount_and_is_vectorised() -> None:
    x = np.array([0, 2, 10])
    t_x = np.array([0.0, 30.43, 38.0])
    t_cal = np.full(3, 38.86)
    m = np.array([0.0, 22.0, 40.0])
    short, long = _clv(6, 0.01, x, t_x, t_cal, m), _clv(24, 0.01, x, t_x, t_cal, m)
    assert short.shape == (3,)
    assert np.all(long > short)
    assert np.all(_clv(24, 0.05, x, t_x, t_cal, m) < long)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"unit_days": 0.0}, "unit_days"),
        ({"period_days": -1.0}, "period_days"),
        ({"discount_rate_per_period": -0.5}, "discount_rate_per_period"),
    ],
)
def test_bad_clv_arguments(kwargs: dict[str, float], field: str) -> None:
    args: dict[str, float] = {"horizon": 3, "unit_days": 7.0, "period_days": 30.0,
                              "discount_rate_per_period": 0.01}
    args.update(kwargs)
    with pytest.raises(ClvInputError) as info:
        customer_lifetime_value(COUNTS, SPEND, 1, 5.0, 10.0, 20.0, **args)  # type: ignore[arg-type]
    assert info.value.field == field
