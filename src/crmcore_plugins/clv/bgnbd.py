"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``
(shape ``r``, rate ``alpha``); after every purchase the customer drops out with
probability ``p ~ Beta(a, b)``. The data of a customer are ``frequency`` ``x``
(repeat purchases), ``recency`` ``t_x`` (time of the last purchase, measured
from the first) and ``T`` (time from the first purchase to the end of the
calibration period), all in one time unit of the caller's choice.

Numerics
--------
The per-customer log-likelihood is evaluated as::

    ln L = ln G(r+x) - ln G(r) + r ln(alpha) - (r+x) ln(alpha+T)
           + ln B(a, b+x) - ln B(a, b) + [x > 0] log(1 + exp(D))
    D    = ln a - ln(b+x-1) + (r+x) (ln(alpha+T) - ln(alpha+t_x))

with ``gammaln`` and ``logaddexp``, so no power or gamma function is formed
and frequencies of many thousands stay finite. ``P(alive) = 1 / (1 + exp(D))``
is evaluated as ``expit(-D)`` for the same reason. The fit maximises the
likelihood over log-parameters with L-BFGS-B and an analytic gradient, after
collapsing customers with identical ``(x, t_x, T)`` into weighted rows.

Predictions are evaluated once per distinct row of their arguments
(:func:`per_distinct_row`) and taken back to every customer: a book of a
million customers holds far fewer distinct ``(x, t_x, T)`` rows, since times
are whole days.

The conditional expectation (FHL 2005, eq. 10) needs
``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` with ``z = t / (alpha+T+t)``. For
large ``x`` or ``z`` near 1 that hypergeometric function is astronomically
large (it grows like ``(1-z)^(a-1-r-x)``), so ``scipy.special.hyp2f1``
overflows or loses all accuracy to cancellation. Euler's transformation
``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)`` turns the product into
``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, of order 1, whose first two
parameters stay small while ``C`` grows with ``x``. ``scipy.special.hyp2f1``
still returns NaN for ``C`` above about 100 with ``z`` near 1; there
:func:`hyp2f1` sums the power series itself, which converges fast exactly
there (checked against 50-digit mpmath: relative error below 1e-9 over
``x`` up to 10,000 and horizons up to 1e8).
Two caveats remain: ``a == 1`` is a removable singularity of the formula
(handled by interpolating across ``a = 1 +- 3e-5``, relative error below
1e-7), and for horizons tiny relative to ``alpha + T`` the result
``1 - (...)`` loses relative precision to cancellation (about
``1e-16 / z``).

Large ``a`` (and a failing series) use the equivalent mixture form
``E = P(alive) E[(1 - (1 + p s)^-(r+x)) / p]`` over ``p ~ Beta(a, b+x)``
with ``s = t / (alpha+T)``, summed by Gauss quadrature of that Beta
distribution (:func:`beta_gauss_rule`). It is exact in both limits of
``a, b -> inf``: a common dropout probability ``p0 = a/(a+b)`` and, for
``p0 -> 0``, the NBD expectation ``(r+x) t / (alpha+T)``.

Degenerate data
---------------
Books of regular buyers often have no interior maximum: the likelihood keeps
rising as ``a, b -> inf`` (every customer has the same dropout probability,
or none drops out) or ``r, alpha -> inf`` (every customer buys at the same
rate). The fit therefore keeps log-parameters in a box (``a, b`` in
``e^[-12, 12]``, ``r`` in ``e^[-12, 8]`` (a rate CV of 1.8 %, and the range
where eq. 10 stays accurate), ``alpha`` within ``e^24`` of the data's mean
inter-purchase time) and names the parameters that end on a bound in
``at_bound``: there the model is at (a numerically indistinguishable
approximation of) its limiting form, and predictions are those of that limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import linalg, optimize, special  # type: ignore[import-untyped, unused-ignore]

from crmcore.i18n import N_, tr
from crmcore_plugins.clv.summary import (
    ClvInputError,
    check_positive,
    finite_array,
    rfm_arrays,
)

__all__ = [
    "BgNbdFit",
    "beta_gauss_rule",
    "bgnbd_log_likelihood",
    "distinct_rows",
    "fit_bgnbd",
    "per_distinct_row",
]

FloatArray = npt.NDArray[np.float64]

_A_ONE_GAP = 3e-5  # half-width of the interpolation across the a == 1 singularity
SHAPE_LOG_BOUND = 12.0  # |ln| of shape parameters during a fit
R_LOG_MAX = 8.0  # ln r above which eq. 10 (via scipy's 2F1) is no longer reliable
SCALE_LOG_BOUND = 24.0  # |ln| of a scale parameter relative to the data's scale
_A_QUADRATURE = 50.0  # from this a on, the Beta(a, b+x) mixture is summed by quadrature
_QUADRATURE_NODES = 32
_QUADRATURE_CHUNK = 8192  # rows per block of the quadrature sum (bounds memory)


@dataclass(frozen=True)
class BgNbdFit:
    """Fitted (or given) BG/NBD parameters and prediction methods.

    ``log_likelihood`` is the maximised log-likelihood (``nan`` when the
    parameters were not fitted) and ``n_customers`` the number of customers
    fitted. ``at_bound`` names the parameters the fit left on a bound of its
    search box: ``("a", "b")`` or one of them means the data show no
    heterogeneity in dropout (``a, b -> inf``: one dropout probability
    ``a/(a+b)`` for all, or none when that tends to 0), ``r``/``alpha`` the
    same for purchase rates; predictions then follow that limiting model.
    Methods accept scalars or arrays that broadcast together and return float
    arrays of the broadcast shape, in the time unit of the fit.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = math.nan
    n_customers: int = 0
    converged: bool = True
    at_bound: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject parameters that are not finite and positive."""
        for name in ("r", "alpha", "a", "b"):
            check_positive(name, getattr(self, name))

    def probability_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike  # noqa: N803
    ) -> FloatArray:
        """Probability that a customer with these statistics has not dropped out."""
        x, t_x, t_cal = rfm_arrays(frequency, recency, T)
        params = self._params()
        return per_distinct_row(lambda *rows: _alive(params, *rows), x, t_x, t_cal)

    def expected_purchases(
        self,
        horizon: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """Expected number of purchases in the next ``horizon`` time units (FHL eq. 10)."""
        t = finite_array("horizon", horizon)
        x, t_x, t_cal = rfm_arrays(frequency, recency, T)
        t, x, t_x, t_cal = np.broadcast_arrays(t, x, t_x, t_cal)
        params = self._params()
        return per_distinct_row(lambda *rows: _conditional_expectation(params, *rows),
                                t, x, t_x, t_cal)

    def discounted_expected_purchases(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803
        *,
        period: float,
        periods: int,
        discount_rate: float,
    ) -> FloatArray:
        """``sum_{k=1..periods} (E[Y(k period)] - E[Y((k-1) period)]) / (1 + d)^k``.

        The purchases expected in each of the next ``periods`` periods of
        length ``period`` (in the fit's time unit), discounted at
        ``discount_rate`` per period to the end of the period. Evaluated one
        period at a time, so memory stays proportional to the customers.
        """
        check_positive("period", period)
        x, t_x, t_cal = rfm_arrays(frequency, recency, T)
        params = self._params()

        def discounted(*rows: FloatArray) -> FloatArray:
            total, previous = np.zeros_like(rows[0]), np.zeros_like(rows[0])
            for k in range(1, periods + 1):
                cumulative = _conditional_expectation(
                    params, np.full_like(rows[0], k * period), *rows)
                total += (cumulative - previous) * (1.0 + discount_rate) ** -k
                previous = cumulative
            return total

        return per_distinct_row(discounted, x, t_x, t_cal)

    def expected_purchases_unconditional(self, horizon: npt.ArrayLike) -> FloatArray:
        """Expected repeat purchases in ``(0, horizon]`` of a new customer (FHL eq. 9)."""
        t = finite_array("horizon", horizon)
        zero = np.zeros_like(t)
        return _conditional_expectation(self._params(), t, zero, zero, zero)

    def _params(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.a, self.b])


def fit_bgnbd(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
    *,
    initial: tuple[float, float, float, float] | None = None,
) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood.

    :param frequency: repeat purchases per customer (whole numbers).
    :param recency: time from first to last purchase (0 when frequency is 0).
    :param T: time from first purchase to the end of calibration.
    :param initial: starting ``(r, alpha, a, b)``; by default ``r = a = b = 1``
        and ``alpha`` the mean ``T`` over the mean frequency.
    :raises ClvInputError: for empty or invalid input or all-zero frequency.
    """
    x, t_x, t_cal = _fit_data(frequency, recency, T)
    (x_u, t_x_u, t_cal_u), weights = aggregate_rows(x, t_x, t_cal)
    default = _default_start(x, t_cal)
    start = initial if initial is not None else default
    for name, value in zip(("r", "alpha", "a", "b"), start, strict=True):
        check_positive(f"initial.{name}", value)
    r_box, alpha_box = log_bounds(1, default[1])
    bounds = [(r_box[0], R_LOG_MAX), alpha_box, r_box, r_box]

    def objective(log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _loglik_and_gradient(np.exp(log_params), x_u, t_x_u, t_cal_u)

    params, log_likelihood, converged, on_bound = maximise(
        objective, np.log(start), weights, bounds
    )
    r, alpha, a, b = (float(v) for v in params)
    at_bound = tuple(n for n, hit in zip(("r", "alpha", "a", "b"), on_bound, strict=True) if hit)
    return BgNbdFit(r, alpha, a, b, log_likelihood, int(x.size), converged, at_bound)


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float],
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
) -> float:
    """Total BG/NBD log-likelihood of ``(r, alpha, a, b)`` for these customers."""
    x, t_x, t_cal = rfm_arrays(frequency, recency, T)
    columns, weights = aggregate_rows(x.ravel(), t_x.ravel(), t_cal.ravel())
    terms, _ = _loglik_and_gradient(np.asarray(params, dtype=np.float64), *columns)
    return weighted_sum(terms, weights)


def aggregate_rows(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows of equal-length columns; return them (sorted) and counts."""
    rows, inverse = distinct_rows(*columns)
    return rows, np.bincount(inverse, minlength=rows[0].size).astype(np.float64)


def distinct_rows(*columns: FloatArray) -> tuple[list[FloatArray], npt.NDArray[np.intp]]:
    """The distinct rows of equal-length 1-d columns (sorted) and each row's index into them.

    ``[c[inverse] for c in rows]`` gives back ``columns``. Rows that are
    already distinct and sorted (e.g. the output of an earlier call) are
    recognised in one pass and not sorted again.
    """
    if _strictly_increasing(columns):
        return list(columns), np.arange(columns[0].size)
    order = np.lexsort(columns[::-1])
    change = np.zeros(order.size, dtype=bool)
    change[:1] = True
    rows = []
    for column in columns:
        ordered = column[order]
        change[1:] |= ordered[1:] != ordered[:-1]
        rows.append(ordered)
    starts = np.flatnonzero(change)
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.cumsum(change) - 1
    return [row[starts] for row in rows], inverse


def _strictly_increasing(columns: tuple[FloatArray, ...]) -> bool:
    """Whether the rows of ``columns`` are in strictly increasing lexicographic order."""
    greater = np.zeros(max(columns[0].size - 1, 0), dtype=bool)
    equal = ~greater
    for column in columns:
        later, earlier = column[1:], column[:-1]
        greater |= equal & (later > earlier)
        equal &= later == earlier
    return bool(greater.all())


def per_distinct_row(
    function: Callable[..., FloatArray], *columns: npt.NDArray[np.float64]
) -> FloatArray:
    """``function(*columns)`` evaluated once per distinct row, for arrays of one shape.

    ``function`` must compute each row from that row alone; its result for
    the distinct rows is taken back to every element, in ``columns``' shape.
    """
    shape = np.shape(columns[0])
    rows, inverse = distinct_rows(*(np.ravel(column) for column in columns))
    values = np.asarray(function(*rows), dtype=np.float64)
    return values[inverse].reshape(shape)


def weighted_sum(terms: FloatArray, weights: FloatArray) -> float:
    """``sum(terms * weights)`` without BLAS (whose threads stall on busy machines)."""
    return float((terms * weights).sum())


def log_bounds(shapes: int, scale: float) -> list[tuple[float, float]]:
    """Search box of ``shapes`` log-shape parameters within ``e^+-12`` and one log-scale.

    The scale (last) stays within ``e^+-24`` of ``scale``, the data's own
    scale: a scale may need ``e^12`` times a shape. Wide enough for any
    non-degenerate fit, narrow enough that ``exp`` and gamma functions stay finite.
    """
    shape = (-SHAPE_LOG_BOUND, SHAPE_LOG_BOUND)
    return [shape] * shapes + [(math.log(scale) - SCALE_LOG_BOUND,
                                math.log(scale) + SCALE_LOG_BOUND)]


def maximise(
    objective: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    start: FloatArray,
    weights: FloatArray,
    bounds: list[tuple[float, float]],
) -> tuple[FloatArray, float, bool, tuple[bool, ...]]:
    """Maximise a weighted sum of per-row log-likelihoods over boxed log-parameters.

    ``objective(log_params)`` returns the per-row log-likelihoods and their
    gradients with respect to the log-parameters (shape ``(k, rows)``).
    Returns the parameters, the maximum, whether the optimiser converged and
    which log-parameters ended on a bound. A line search that fails at a
    bound with a vanishing projected gradient counts as converged: on the
    flat ridge of a degenerate fit no further progress is possible.
    """
    total = float(weights.sum())
    low, high = (np.array(side, dtype=np.float64) for side in zip(*bounds, strict=True))

    def negative_mean(log_params: FloatArray) -> tuple[float, FloatArray]:
        terms, gradient = objective(log_params)
        value = -weighted_sum(terms, weights) / total
        if not math.isfinite(value):
            return math.inf, np.zeros_like(log_params)
        return value, -(gradient * weights).sum(axis=1) / total

    result = optimize.minimize(
        negative_mean, np.clip(start, low, high), jac=True, method="L-BFGS-B",
        bounds=bounds, options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    log_params = np.asarray(result.x, dtype=np.float64)
    maximum = weighted_sum(objective(log_params)[0], weights)
    span = 1e-9 * (high - low)
    on_bound = (log_params <= low + span) | (log_params >= high - span)
    converged = bool(result.success)
    if not converged and np.any(on_bound) and result.status == 2:  # line search at a bound
        gradient = np.asarray(result.jac, dtype=np.float64)
        free = ~(((log_params <= low + span) & (gradient > 0))
                 | ((log_params >= high - span) & (gradient < 0)))
        converged = bool(np.all(np.abs(gradient[free]) <= 1e-6))
    return np.exp(log_params), maximum, converged, tuple(bool(v) for v in on_bound)


def _fit_data(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike  # noqa: N803
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate fit input: non-empty, one customer per element, some repeat buying."""
    x, t_x, t_cal = (a.ravel() for a in rfm_arrays(frequency, recency, T))
    if x.size == 0:
        raise ClvInputError("frequency", [], N_("is empty"))
    if not np.any(x > 0):
        raise ClvInputError("frequency", "all 0", N_("has no repeat purchase to fit the model to"))
    return x, t_x, t_cal


def _default_start(x: FloatArray, t_cal: FloatArray) -> tuple[float, float, float, float]:
    """Starting point: unit shapes and a rate matching the mean purchase rate."""
    alpha = max(float(t_cal.mean()), 1e-6) / max(float(x.mean()), 1e-2)
    return 1.0, alpha, 1.0, 1.0


def _log_odds_dead(
    params: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """``D`` of the module docstring (``-inf`` where ``x == 0``)."""
    r, alpha, a, b = params
    repeat = x > 0
    b_x_1 = np.where(repeat, b + x - 1.0, 1.0)
    d = np.log(a) - np.log(b_x_1) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
    return np.where(repeat, d, -np.inf)


def _alive(params: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> FloatArray:
    """P(alive | x, t_x, T); exactly 1 when ``x == 0``."""
    return np.asarray(special.expit(-_log_odds_dead(params, x, t_x, t_cal)), dtype=np.float64)


def _loglik_and_gradient(
    params: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its gradient w.r.t. the log-parameters.

    Gamma and digamma functions depend on ``x`` only; they are evaluated once
    per distinct frequency (``x`` is sorted after :func:`aggregate_rows`).
    """
    r, alpha, a, b = params
    x_values, x_index = distinct_values(x)
    ln_alpha_t = np.log(alpha + t_cal)
    d = _log_odds_dead(params, x, t_x, t_cal)
    per_x = (
        special.gammaln(r + x_values) - special.gammaln(r)
        + special.gammaln(b + x_values) + special.gammaln(a + b)
        - special.gammaln(b) - special.gammaln(a + b + x_values)
    )
    terms = per_x[x_index] + r * np.log(alpha) - (r + x) * ln_alpha_t + np.logaddexp(0.0, d)
    s = special.expit(d)
    b_x_1 = np.where(x > 0, b + x - 1.0, 1.0)
    psi_ab_abx = (special.digamma(a + b) - special.digamma(a + b + x_values))[x_index]
    psi_r = (special.digamma(r + x_values) - special.digamma(r))[x_index]
    psi_b = (special.digamma(b + x_values) - special.digamma(b))[x_index]
    gradient = np.stack([
        psi_r + np.log(alpha) - ln_alpha_t + s * (ln_alpha_t - np.log(alpha + t_x)),
        r / alpha - (r + x) / (alpha + t_cal)
        + s * (r + x) * (1.0 / (alpha + t_cal) - 1.0 / (alpha + t_x)),
        psi_ab_abx + s / a,
        psi_b + psi_ab_abx - s / b_x_1,
    ]) * params[:, None]
    return np.asarray(terms, dtype=np.float64), np.asarray(gradient, dtype=np.float64)


def distinct_values(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Distinct values and each element's index into them (fast when sorted)."""
    if values.size and np.all(values[1:] >= values[:-1]):
        change = np.r_[True, values[1:] != values[:-1]]
        return values[change], np.cumsum(change) - 1
    unique, index = np.unique(values, return_inverse=True)
    return unique, index.reshape(-1)


def _conditional_expectation(
    params: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: FHL eq. 10, or the Beta mixture by quadrature.

    The formula is interpolated across its removable singularity ``a == 1``;
    the quadrature is used for large ``a`` and wherever the formula fails
    (overflow, or a value outside the bounds the mixture form implies).
    """
    a = params[2]
    if a >= _A_QUADRATURE:
        return _expectation_quadrature(params, t, x, t_x, t_cal)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = _interpolated_formula(params, t, x, t_x, t_cal)
    except FloatingPointError:
        return _expectation_quadrature(params, t, x, t_x, t_cal)
    failed = ~_within_mixture_bounds(params, result, t, x, t_x, t_cal)
    if np.any(failed):
        result[failed] = _expectation_quadrature(
            params, t[failed], x[failed], t_x[failed], t_cal[failed]
        )
    return result


def _interpolated_formula(
    params: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """FHL eq. 10, interpolated across ``a == 1``."""
    a = params[2]
    if abs(a - 1.0) >= _A_ONE_GAP:
        return _expectation_formula(params, t, x, t_x, t_cal)
    below, above = params.copy(), params.copy()
    below[2], above[2] = 1.0 - _A_ONE_GAP, 1.0 + _A_ONE_GAP
    low = _expectation_formula(below, t, x, t_x, t_cal)
    high = _expectation_formula(above, t, x, t_x, t_cal)
    weight = (a - below[2]) / (2 * _A_ONE_GAP)
    return np.asarray(low + weight * (high - low), dtype=np.float64)


def _within_mixture_bounds(
    params: FloatArray, value: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray,
    t_cal: FloatArray,
) -> npt.NDArray[np.bool_]:
    """Where ``value`` is finite and in ``P(alive) [g(1), g(0)]`` (``g`` decreasing in ``p``).

    Guards against ``scipy.special.hyp2f1`` returning finite nonsense for
    extreme parameters (e.g. ``r`` of 1e5, where ``a+b-1-r`` is hugely negative).
    """
    r, alpha, _, _ = params
    k, s = r + x, t / (alpha + t_cal)
    alive = _alive(params, x, t_x, t_cal)
    upper = alive * k * s * (1.0 + 1e-9)
    lower = alive * -np.expm1(-k * np.log1p(s)) * (1.0 - 1e-9)
    return np.asarray(np.isfinite(value) & (value <= upper) & (value >= lower), dtype=np.bool_)


def beta_gauss_rule(a: float, b: float, n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights (summing to 1) of the ``n``-point Gauss rule of ``Beta(a, b)``.

    Golub-Welsch on the recurrence of the shifted Jacobi polynomials, written
    as sums of positive terms for ``a + b > 2`` so that tiny means
    ``a / (a + b)`` keep their relative precision.
    """
    k = np.arange(n, dtype=np.float64)
    big_a, big_b = b - 1.0, a - 1.0  # Jacobi exponents of (1 - p) and p
    s = 2.0 * k + big_a + big_b
    diag = (4.0 * k * k + 4.0 * k * (big_a + big_b + 1.0) + 2.0 * (big_a + big_b) * (big_b + 1.0)
            ) / (2.0 * s * (s + 2.0))
    diag[0] = a / (a + b)
    j, s_j = k[1:], s[1:]
    off = np.sqrt(j * (j + big_a) * (j + big_b) * (j + big_a + big_b)
                  / (s_j * s_j * (s_j + 1.0) * (s_j - 1.0)))
    nodes, vectors = linalg.eigh_tridiagonal(diag, off)
    return np.asarray(nodes, dtype=np.float64), np.asarray(vectors[0] ** 2, dtype=np.float64)


def _expectation_quadrature(
    params: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """``P(alive) E[(1 - (1 + p s)^-(r+x)) / p]``, ``p ~ Beta(a, b+x)``, ``s = t/(alpha+T)``.

    Exact for every ``a > 0``; fast and accurate when the Beta is concentrated
    (large ``a``) or the integrand nearly polynomial (``p s (r+x)`` small).
    """
    r, alpha, a, b = params
    shape = t.shape
    t, x, t_x, t_cal = (v.ravel() for v in (t, x, t_x, t_cal))
    x_values, x_index = distinct_values(x)
    rules = [beta_gauss_rule(a, b + v, _QUADRATURE_NODES) for v in x_values]
    nodes = np.maximum(np.stack([rule[0] for rule in rules]), np.finfo(np.float64).tiny)
    weights = np.stack([rule[1] for rule in rules])
    k, s = r + x, t / (alpha + t_cal)
    mixture = np.empty_like(t)
    for start in range(0, t.size, _QUADRATURE_CHUNK):
        rows = slice(start, start + _QUADRATURE_CHUNK)
        p = nodes[x_index[rows]]
        g = -np.expm1(-k[rows, None] * np.log1p(p * s[rows, None])) / p
        mixture[rows] = (g * weights[x_index[rows]]).sum(axis=1)
    result = mixture * _alive(params, x, t_x, t_cal)
    return np.asarray(result.reshape(shape), dtype=np.float64)


def hyp2f1(
    a: float, b: float, c: FloatArray, z: FloatArray, one_minus_z: FloatArray
) -> FloatArray:
    """Gauss hypergeometric 2F1(a, b; c; z) for real ``0 <= z < 1`` and ``c > max(a, b)``.

    Uses ``scipy.special.hyp2f1`` and, where it returns NaN or infinity (it
    does for ``c`` of about 100 and more with ``z`` near 1), the power series
    summed term by term, which converges fast exactly there because
    ``c - a - b`` is then large. ``one_minus_z`` must be ``1 - z`` computed
    without cancellation.

    :raises FloatingPointError: where neither method gives a finite value
        (the series stops at the first overflow).
    """
    c, z, one_minus_z = np.broadcast_arrays(c, z, one_minus_z)
    result = np.array(special.hyp2f1(a, b, c, z), dtype=np.float64)
    failed = ~np.isfinite(result)
    if np.any(failed):
        result[failed] = _hyp2f1_series(a, b, c[failed], z[failed], one_minus_z[failed])
    return result


_SERIES_MAX_TERMS = 200_000


def _hyp2f1_series(
    a: float, b: float, c: FloatArray, z: FloatArray, one_minus_z: FloatArray
) -> FloatArray:
    """Sum the 2F1 power series until the tail bound ``|term| z / (1-z)`` is negligible.

    Terms decrease monotonically once ``n`` passes ``n_safe`` (where the term
    ratio ``(a+n)(b+n) z / ((c+n)(n+1))`` falls and stays below ``z``), so the
    rest of the series is then at most ``|term| z / (1-z)``.
    """
    n_safe = np.maximum(max(0.0, -a, -b), (a * b - c) / np.maximum(c + 1.0 - a - b, 1e-300))
    total, term = np.ones_like(z), np.ones_like(z)
    for n in range(_SERIES_MAX_TERMS):
        term = term * ((a + n) * (b + n) / ((c + n) * (n + 1.0)) * z)
        total = total + term
        tail = np.abs(term) * z / one_minus_z
        if np.all((n > n_safe) & (tail <= 1e-17 * np.abs(total))):
            return total
        if not np.all(np.isfinite(total)):
            break
    raise FloatingPointError(tr(
        "2F1({a}, {b}; c; z) did not converge for c in {c} and z up to {z}: horizon too long "
        "for these parameters").format(a=a, b=b, c=np.unique(c)[:5], z=float(np.max(z))))


def _expectation_formula(
    params: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """FHL eq. 10 with the Euler-transformed hypergeometric term (``a != 1``)."""
    r, alpha, a, b = params
    log_one_minus_z = np.log(alpha + t_cal) - np.log(alpha + t_cal + t)
    z = -np.expm1(log_one_minus_z)
    hyper = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z, -np.expm1(log_one_minus_z))
    remaining = -np.expm1((a - 1.0) * log_one_minus_z) - np.exp(
        (a - 1.0) * log_one_minus_z
    ) * (hyper - 1.0)
    result = (a + b + x - 1.0) / (a - 1.0) * remaining * _alive(params, x, t_x, t_cal)
    return np.asarray(result, dtype=np.float64)
