"""The check phase's statistics (P3) against textbook values and, when installed, scipy."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.improvement.statistics import (
    mean_interval,
    nps_interval,
    nps_z_test,
    regularized_beta,
    student_t_cdf,
    student_t_ppf,
    two_proportion_z_test,
    welch_t_test,
    wilson_interval,
)

DFS = [0.5, 1, 1.5, 2, 3, 4.7, 5, 10, 29, 30, 120, 1000]
PROBABILITIES = [1e-6, 0.001, 0.025, 0.3, 0.5001, 0.6, 0.9, 0.95, 0.975, 0.995, 0.9995]


# -- textbook values ----------------------------------------------------------------------------

@pytest.mark.parametrize(("probability", "df", "expected"), [
    (0.975, 1, 12.706),   # every t table
    (0.975, 10, 2.228),
    (0.95, 5, 2.015),
    (0.975, 30, 2.042),
    (0.995, 20, 2.845),
    (0.9, 2, 1.886),
])
def test_p3_t_quantiles_match_the_t_table(probability: float, df: int, expected: float) -> None:
    assert student_t_ppf(probability, df) == pytest.approx(expected, abs=5e-4)
    assert student_t_ppf(1 - probability, df) == pytest.approx(-expected, abs=5e-4)


def test_p3_t_distribution_closed_forms() -> None:
    # df = 1 is the Cauchy distribution, df = 2 has a closed-form cdf.
    for t in (-7.5, -1.0, 0.3, 2.0, 40.0):
        assert student_t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-13)
        assert student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)),
                                                    abs=1e-13)
    assert regularized_beta(0.3, 1, 1) == pytest.approx(0.3)
    assert regularized_beta(0.3, 2, 1) == pytest.approx(0.09)


def test_p3_two_proportion_z_test_textbook_example() -> None:
    # 45/100 before, 60/100 after: pooled 0.525, se 0.07062, z 2.124, p 0.0337.
    result = two_proportion_z_test(45, 100, 60, 100)
    assert result.difference == pytest.approx(0.15)
    assert result.statistic == pytest.approx(2.1240, abs=1e-4)
    assert result.p_value == pytest.approx(0.0337, abs=1e-4)
    assert result.significant(0.05)
    assert not result.significant(0.01)


def test_p3_wilson_interval_textbook_values() -> None:
    # 0 of 10: the upper bound is z^2 / (n + z^2).
    z2 = 1.959963984540054 ** 2
    assert wilson_interval(0, 10).high == pytest.approx(z2 / (10 + z2))
    assert wilson_interval(0, 10).low == 0.0
    # 81 of 263 (a classic example): 0.2553 - 0.3662.
    interval = wilson_interval(81, 263)
    assert (interval.low, interval.high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_p3_mean_interval_textbook_value() -> None:
    # mean 4.0, sd 1.0, n 25: 4 +- 2.0639 * 0.2.
    interval = mean_interval(4.0, 1.0, 25)
    assert (interval.low, interval.high) == pytest.approx((3.5872, 4.4128), abs=1e-4)


def test_p3_nps_interval_from_the_variance_of_the_score() -> None:
    # 50 promoters, 20 detractors of 100: NPS 30, variance (0.5 + 0.2 - 0.09) / 100.
    interval = nps_interval(50, 20, 100)
    error = 100 * math.sqrt(0.61 / 100)
    assert interval.estimate == pytest.approx(30.0)
    assert interval.high - 30 == pytest.approx(1.959963984540054 * error)
    scores = [1] * 50 + [-1] * 20 + [0] * 30
    mean = sum(scores) / 100
    population_variance = sum((s - mean) ** 2 for s in scores) / 100
    assert error == pytest.approx(100 * math.sqrt(population_variance / 100))


def test_p3_nps_z_test_combines_both_errors() -> None:
    result = nps_z_test(50, 20, 100, 60, 10, 100)
    error = 100 * math.hypot(math.sqrt(0.61 / 100), math.sqrt((0.7 - 0.25) / 100))
    assert result.difference == pytest.approx(20.0)
    assert result.statistic == pytest.approx(20 / error)


def test_p3_degenerate_samples_give_no_difference_instead_of_dividing_by_zero() -> None:
    assert two_proportion_z_test(0, 10, 0, 20).p_value == 1.0
    assert welch_t_test(3.0, 0.0, 5, 3.0, 0.0, 5).p_value == 1.0
    assert welch_t_test(3.0, 0.0, 5, 4.0, 0.0, 5).p_value == 0.0


@pytest.mark.parametrize("call", [
    lambda: wilson_interval(11, 10),
    lambda: wilson_interval(1, 0),
    lambda: mean_interval(1.0, 1.0, 1),
    lambda: student_t_ppf(1.0, 3),
    lambda: student_t_cdf(0.0, 0),
    lambda: nps_interval(8, 5, 10),
    lambda: wilson_interval(1, 10, confidence=1.5),
])
def test_p3_bad_inputs_are_refused(call: object) -> None:
    with pytest.raises(ValidationError):
        call()  # type: ignore[operator]


@given(st.floats(0.0005, 0.9995), st.floats(0.3, 500))
def test_p3_t_quantile_inverts_the_cdf(probability: float, df: float) -> None:
    assert student_t_cdf(student_t_ppf(probability, df), df) == pytest.approx(probability,
                                                                              abs=1e-10)


# -- against scipy ------------------------------------------------------------------------------

def test_p3_t_distribution_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in DFS:
        for probability in PROBABILITIES:
            assert student_t_ppf(probability, df) == pytest.approx(
                stats.t.ppf(probability, df), rel=1e-9, abs=1e-12)
        for t in (-60.0, -3.0, -0.2, 0.0, 1.0, 2.5, 100.0):
            assert student_t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-12)


def test_p3_incomplete_beta_matches_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    for a, b in ((0.5, 0.5), (2, 3), (15, 0.5), (0.5, 40), (200, 300)):
        for x in (0.001, 0.2, 0.5, 0.77, 0.999):
            assert regularized_beta(x, a, b) == pytest.approx(special.betainc(a, b, x),
                                                              rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(("before", "after"), [((45, 100), (60, 100)), ((3, 40), (9, 41)),
                                               ((120, 800), (95, 790))])
def test_p3_two_proportion_z_test_matches_scipy_chi_square(
        before: tuple[int, int], after: tuple[int, int]) -> None:
    stats = pytest.importorskip("scipy.stats")
    table = [[before[0], before[1] - before[0]], [after[0], after[1] - after[0]]]
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    result = two_proportion_z_test(*before, *after)
    assert result.statistic ** 2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p_value, rel=1e-9)


def test_p3_wilson_interval_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for successes, n in ((0, 10), (81, 263), (7, 7), (12, 31)):
        expected = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
        interval = wilson_interval(successes, n)
        assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high),
                                                              abs=1e-12)


def test_p3_mean_interval_and_welch_test_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    interval = mean_interval(3.9, 0.8, 17, confidence=0.9)
    expected = stats.t.interval(0.9, 16, loc=3.9, scale=0.8 / math.sqrt(17))
    assert (interval.low, interval.high) == pytest.approx(expected, rel=1e-10)
    result = welch_t_test(3.8, 0.9, 40, 4.1, 1.1, 35)
    reference = stats.ttest_ind_from_stats(4.1, 1.1, 35, 3.8, 0.9, 40, equal_var=False)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
