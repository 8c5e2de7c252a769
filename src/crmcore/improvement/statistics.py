"""Pure-Python statistics for the check phase (P3): is a change real or noise?

No numpy or scipy: the core must run without them. What is here:

- :func:`student_t_cdf` and :func:`student_t_ppf`: Student's t distribution,
  from the regularized incomplete beta function (:func:`regularized_beta`,
  a continued fraction evaluated with the modified Lentz method); any
  positive (also fractional) degrees of freedom;
- :func:`wilson_interval`: the Wilson score interval of a proportion;
- :func:`two_proportion_z_test`: the pooled two-proportion z test;
- :func:`mean_interval` and :func:`welch_t_test`: the t interval of a mean
  and Welch's unequal-variance t test, from summary statistics;
- :func:`nps_interval` and :func:`nps_z_test`: the net promoter score with
  its own interval. A response scores +1 (promoter, 9-10), 0 (passive, 7-8)
  or -1 (detractor, 0-6); NPS is 100 times the mean score, and the variance
  of one score is ``p + d - (p - d)**2`` (``p``, ``d`` the promoter and
  detractor shares), so the standard error of NPS is
  ``100 * sqrt((p + d - (p - d)**2) / n)``. Intervals and tests on NPS
  use the normal approximation with that standard error and are in NPS
  points (-100..100).

Every test is two-sided and returns a :class:`TestResult`.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr

_STANDARD_NORMAL = NormalDist()
_EPSILON = 1e-15
_TINY = 1e-300
_MAX_ITERATIONS = 500


@attrs.frozen
class Interval:
    """A confidence interval ``[low, high]`` around ``estimate`` at ``confidence``."""

    estimate: float
    low: float
    high: float
    confidence: float


@attrs.frozen
class TestResult:
    """A two-sided test of a difference ``after - before``.

    ``statistic`` is the z or t value, ``p_value`` its two-sided p value,
    ``df`` the degrees of freedom of a t test (None for z tests).
    """

    __test__ = False  # not a pytest test class

    test: str
    difference: float
    statistic: float
    p_value: float
    df: float | None = None

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the difference is significant at level ``alpha``."""
        return self.p_value < alpha


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValidationError("confidence", confidence, "must be between 0 and 1 (e.g. 0.95)")


def _check_count(name: str, value: int, *, low: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(name, value, tr("must be a whole number of at least {low}")
                              .format(low=low))


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (``NormalDist().inv_cdf``)."""
    return _STANDARD_NORMAL.inv_cdf(probability)


def _two_sided_normal(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


# -- the t distribution --------------------------------------------------------------------------

def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    fraction = d
    for m in range(1, _MAX_ITERATIONS + 1):
        two_m = 2 * m
        for numerator in (m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m)),
                          -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            fraction *= step
        if abs(step - 1.0) < _EPSILON:
            return fraction
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)`` for ``0 <= x <= 1``."""
    if not 0.0 <= x <= 1.0:
        raise ValidationError("x", x, "must be between 0 and 1")
    if a <= 0 or b <= 0:
        raise ValidationError("a, b", (a, b), "must be positive")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _check_df(df: float) -> None:
    if isinstance(df, bool) or not isinstance(df, int | float) or not df > 0:
        raise ValidationError("df", df, "must be a positive number of degrees of freedom")


def _t_tail(t: float, df: float) -> float:
    """P(T > |t|) for Student's t with ``df`` degrees of freedom.

    Near the centre it is computed from P(|T| < t) so that no digits cancel.
    """
    square = t * t
    if square < df:
        return 0.5 - 0.5 * regularized_beta(square / (df + square), 0.5, df / 2.0)
    return 0.5 * regularized_beta(df / (df + square), df / 2.0, 0.5)


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with ``df`` degrees of freedom."""
    _check_df(df)
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = _t_tail(t, df)
    return 1.0 - tail if t > 0 else tail


def student_t_ppf(probability: float, df: float) -> float:
    """The quantile of Student's t: the ``t`` with ``student_t_cdf(t, df) == probability``.

    Solved by Newton steps on the cdf from the normal quantile, safeguarded by
    bisection. Agrees with scipy to about 1e-12 for moderate degrees of freedom
    and 1e-8 beyond 10,000 (where ``lgamma`` differences lose digits).
    """
    _check_df(df)
    if not 0 < probability < 1:
        raise ValidationError("probability", probability, "must be between 0 and 1")
    if probability == 0.5:
        return 0.0
    if probability < 0.5:
        return -student_t_ppf(1.0 - probability, df)
    tail = 1.0 - probability
    low, high = 0.0, max(1.0, normal_quantile(probability))
    while _t_tail(high, df) > tail:
        low, high = high, high * 2.0
    guess = min(max(normal_quantile(probability), low), high)
    log_norm = (math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                - 0.5 * math.log(df * math.pi))
    for _ in range(200):
        excess = _t_tail(guess, df) - tail  # > 0: guess too small
        if excess > 0:
            low = guess
        else:
            high = guess
        density = math.exp(log_norm - (df + 1) / 2 * math.log1p(guess * guess / df))
        step = guess + excess / density if density > 0 else (low + high) / 2
        if abs(step - guess) <= 1e-14 * max(1.0, abs(guess)):
            return step
        guess = step if low < step < high else (low + high) / 2
        if high - low <= 1e-14 * max(1.0, abs(guess)):
            break
    return guess


# -- proportions ---------------------------------------------------------------------------------

def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of the proportion ``successes / n``."""
    _check_count("successes", successes)
    _check_count("n", n, low=1)
    if successes > n:
        raise ValidationError("successes", successes, tr("must not exceed n ({n})").format(n=n))
    _check_confidence(confidence)
    z = normal_quantile(0.5 + confidence / 2)
    share = successes / n
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(share, low, high, confidence)


def two_proportion_z_test(successes_before: int, n_before: int, successes_after: int,
                          n_after: int) -> TestResult:
    """The pooled two-proportion z test of ``after - before`` (two-sided).

    Its z squared equals the chi-square statistic of the 2x2 table without
    continuity correction.
    """
    for name, count, n in (("successes_before", successes_before, n_before),
                           ("successes_after", successes_after, n_after)):
        _check_count(name.replace("successes", "n"), n, low=1)
        _check_count(name, count)
        if count > n:
            raise ValidationError(name, count, tr("must not exceed its n ({n})").format(n=n))
    before, after = successes_before / n_before, successes_after / n_after
    pooled = (successes_before + successes_after) / (n_before + n_after)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n_before + 1 / n_after))
    difference = after - before
    if error == 0:
        return TestResult("two-proportion z", difference, 0.0, 1.0)
    z = difference / error
    return TestResult("two-proportion z", difference, z, _two_sided_normal(z))


# -- means ---------------------------------------------------------------------------------------

def _check_summary(mean: float, sd: float, n: int, suffix: str = "") -> None:
    _check_count(f"n{suffix}", n, low=2)
    if not math.isfinite(mean):
        raise ValidationError(f"mean{suffix}", mean, "must be a finite number")
    if not math.isfinite(sd) or sd < 0:
        raise ValidationError(f"sd{suffix}", sd, "must be a finite number >= 0")


def mean_interval(mean: float, sd: float, n: int, confidence: float = 0.95) -> Interval:
    """The t interval of a mean from its sample mean, sample sd (n - 1) and size."""
    _check_summary(mean, sd, n)
    _check_confidence(confidence)
    half = student_t_ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, confidence)


def welch_t_test(mean_before: float, sd_before: float, n_before: int, mean_after: float,
                 sd_after: float, n_after: int) -> TestResult:
    """Welch's t test of ``mean_after - mean_before`` from summary statistics (two-sided).

    Degrees of freedom by the Welch-Satterthwaite formula.
    """
    _check_summary(mean_before, sd_before, n_before, "_before")
    _check_summary(mean_after, sd_after, n_after, "_after")
    var_before, var_after = sd_before ** 2 / n_before, sd_after ** 2 / n_after
    difference = mean_after - mean_before
    error = math.sqrt(var_before + var_after)
    if error == 0:
        return TestResult("Welch t", difference, 0.0, 1.0 if difference == 0 else 0.0,
                          float(n_before + n_after - 2))
    df = (var_before + var_after) ** 2 / (var_before ** 2 / (n_before - 1)
                                          + var_after ** 2 / (n_after - 1))
    t = difference / error
    return TestResult("Welch t", difference, t, 2 * _t_tail(t, df), df)


# -- net promoter score --------------------------------------------------------------------------

def _nps_parts(promoters: int, detractors: int, n: int, suffix: str = "") -> tuple[float, float]:
    _check_count(f"n{suffix}", n, low=1)
    _check_count(f"promoters{suffix}", promoters)
    _check_count(f"detractors{suffix}", detractors)
    if promoters + detractors > n:
        raise ValidationError(f"promoters{suffix} + detractors{suffix}", promoters + detractors,
                              tr("must not exceed n ({n})").format(n=n))
    p, d = promoters / n, detractors / n
    return 100 * (p - d), 100 * math.sqrt((p + d - (p - d) ** 2) / n)


def nps_interval(promoters: int, detractors: int, n: int, confidence: float = 0.95) -> Interval:
    """NPS (in points) with its normal-approximation interval (see the module notes)."""
    _check_confidence(confidence)
    score, error = _nps_parts(promoters, detractors, n)
    half = normal_quantile(0.5 + confidence / 2) * error
    return Interval(score, max(-100.0, score - half), min(100.0, score + half), confidence)


def nps_z_test(promoters_before: int, detractors_before: int, n_before: int,
               promoters_after: int, detractors_after: int, n_after: int) -> TestResult:
    """z test of the NPS change ``after - before`` of two independent samples (two-sided)."""
    before, error_before = _nps_parts(promoters_before, detractors_before, n_before, "_before")
    after, error_after = _nps_parts(promoters_after, detractors_after, n_after, "_after")
    difference = after - before
    error = math.hypot(error_before, error_after)
    if error == 0:
        return TestResult("NPS z", difference, 0.0, 1.0 if difference == 0 else 0.0)
    z = difference / error
    return TestResult("NPS z", difference, z, _two_sided_normal(z))
