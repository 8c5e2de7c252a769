"""Gamma-Gamma model of spend per transaction, and customer lifetime value.

Each transaction value of a customer is ``Gamma(p, nu)`` (shape ``p``, rate
``nu``) and ``nu ~ Gamma(q, gamma)`` across customers (Fader, Hardie & Lee
2005, "RFM and CLV"; Fader & Hardie, "The Gamma-Gamma Model of Monetary
Value", 2013). The mean ``m`` of a customer's ``x`` repeat transactions has
log-density::

    ln G(px+q) - ln G(px) - ln G(q) + q ln(gamma) + px ln(x)
    + (px-1) ln(m) - (px+q) ln(gamma + x m)

which is maximised over log-parameters, in the box of
:func:`~crmcore_plugins.clv.bgnbd.log_bounds` (``gamma`` relative to the mean
spend). Only repeat buyers (``x > 0``) carry information; those whose mean
repeat spend is 0 (free goods, full refunds) have zero density under the
model and are excluded and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special  # type: ignore[import-untyped, unused-ignore]

from crmcore.i18n import N_
from crmcore_plugins.clv.bgnbd import (
    BgNbdFit,
    aggregate_rows,
    distinct_values,
    log_bounds,
    maximise,
    weighted_sum,
)
from crmcore_plugins.clv.summary import (
    ClvInputError,
    check_positive,
    finite_array,
    rfm_arrays,
)

__all__ = [
    "GammaGammaFit",
    "customer_lifetime_value",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted (or given) Gamma-Gamma parameters.

    ``n_customers`` repeat buyers were fitted; ``n_zero_spend_excluded``
    repeat buyers were left out because their mean repeat spend was 0.
    ``at_bound`` names the parameters left on a bound of the fit's search
    box: ``q``/``gamma`` when customers' mean spends show no heterogeneity
    (``q -> inf``, the prediction tends to the population mean), ``p`` when
    each customer's transactions show none. The fitted values remain valid
    parameters and predictions use them.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float = math.nan
    n_customers: int = 0
    n_zero_spend_excluded: int = 0
    converged: bool = True
    at_bound: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject parameters that are not finite and positive."""
        for name in ("p", "q", "gamma"):
            check_positive(name, getattr(self, name))

    def conditional_expected_average_profit(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> FloatArray:
        """Expected mean transaction value given ``x`` repeat purchases of mean ``m``.

        ``(p (gamma + x m)) / (p x + q - 1)``: a weighted mean of the
        population mean ``p gamma / (q - 1)`` and the customer's own mean.

        :raises ClvInputError: when ``q <= 1`` (the population mean spend is
            infinite, the formula would give negative or meaningless values).
        """
        if self.q <= 1.0:
            raise ClvInputError(
                "q", self.q, N_("is <= 1: the fitted spend distribution has no finite mean")
            )
        x, m = _spend_arrays(frequency, monetary_value)
        return np.asarray(
            self.p * (self.gamma + x * m) / (self.p * x + self.q - 1.0), dtype=np.float64
        )


def fit_gamma_gamma(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    initial: tuple[float, float, float] | None = None,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma model to the repeat buyers among these customers.

    :param frequency: repeat purchases per customer; rows with 0 are ignored.
    :param monetary_value: mean value of each customer's repeat purchases.
    :param initial: starting ``(p, q, gamma)``; by default ``(1, 1, 1)``, or
        for more than :data:`WARM_START_ROWS` buyers the fit of an evenly
        spaced subsample of them (same optimum, a third of the iterations).
    :raises ClvInputError: for invalid input or no repeat buyer with spend > 0.
    """
    x, m, repeat, usable = _usable_rows(frequency, monetary_value)
    if initial is None:
        initial = _warm_start(x[usable], m[usable])
    for name, value in zip(("p", "q", "gamma"), initial, strict=True):
        check_positive(f"initial.{name}", value)
    (x_u, m_u), weights = aggregate_rows(x[usable], m[usable])

    def objective(log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _loglik_and_gradient(np.exp(log_params), x_u, m_u)

    bounds = log_bounds(2, float(m[usable].mean()))
    params, log_likelihood, converged, on_bound = maximise(
        objective, np.log(initial), weights, bounds
    )
    p, q, gamma = (float(v) for v in params)
    excluded = int(np.count_nonzero(repeat & ~usable))
    at_bound = tuple(n for n, hit in zip(("p", "q", "gamma"), on_bound, strict=True) if hit)
    return GammaGammaFit(
        p, q, gamma, log_likelihood, int(np.count_nonzero(usable)), excluded, converged,
        at_bound,
    )


WARM_START_ROWS = 2000
"""Above this many buyers, the fit starts from the fit of a subsample."""


def _warm_start(x: FloatArray, m: FloatArray) -> tuple[float, float, float]:
    """``(1, 1, 1)``, or the fit of every k-th buyer (in spend order) for large inputs."""
    if x.size <= WARM_START_ROWS:
        return (1.0, 1.0, 1.0)
    order = np.argsort(m, kind="stable")
    sample = order[:: x.size // (WARM_START_ROWS // 2)]
    rough = fit_gamma_gamma(x[sample], m[sample], initial=(1.0, 1.0, 1.0))
    return (rough.p, rough.q, rough.gamma)


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float],
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
) -> float:
    """Log-likelihood of ``(p, q, gamma)`` over the repeat buyers with spend > 0."""
    x, m, _, usable = _usable_rows(frequency, monetary_value)
    (x_u, m_u), weights = aggregate_rows(x[usable], m[usable])
    terms, _ = _loglik_and_gradient(np.asarray(params, dtype=np.float64), x_u, m_u)
    return weighted_sum(terms, weights)


def customer_lifetime_value(
    bgnbd_fit: BgNbdFit,
    gg_fit: GammaGammaFit,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
    monetary_value: npt.ArrayLike,
    *,
    horizon: int,
    unit_days: float,
    period_days: float,
    discount_rate_per_period: float,
) -> FloatArray:
    """Discounted expected value of each customer's purchases over ``horizon`` periods.

    ``CLV = sum_{k=1..horizon} E[M] (E[Y(k P)] - E[Y((k-1) P)]) / (1 + d)^k``
    where ``P = period_days / unit_days`` converts one discount period into
    the model's time unit, ``E[Y(t)]`` is the BG/NBD conditional expectation,
    ``E[M]`` the Gamma-Gamma conditional expected average profit and ``d``
    the discount rate per period: the purchases expected during period ``k``
    are valued at its end.

    :param horizon: number of discount periods (whole number >= 1).
    :param unit_days: days per time unit of the BG/NBD statistics and fit.
    :param period_days: days per discount period, e.g. 30.0 for months.
    :param discount_rate_per_period: e.g. 0.01 for 1 % per period; >= 0.
    :raises ClvInputError: for bad arguments or a Gamma-Gamma ``q <= 1``.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ClvInputError("horizon", horizon, N_("is not a whole number of periods >= 1"))
    check_positive("unit_days", unit_days)
    check_positive("period_days", period_days)
    if not (math.isfinite(discount_rate_per_period) and discount_rate_per_period >= 0):
        raise ClvInputError(
            "discount_rate_per_period", discount_rate_per_period, N_("is not a finite number >= 0")
        )
    profit = gg_fit.conditional_expected_average_profit(frequency, monetary_value)
    purchases = bgnbd_fit.discounted_expected_purchases(
        frequency, recency, T, period=period_days / unit_days, periods=horizon,
        discount_rate=discount_rate_per_period)
    return np.asarray(profit * purchases, dtype=np.float64)


def _spend_arrays(
    frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Validate and broadcast frequency and mean repeat spend."""
    x, _, _ = rfm_arrays(frequency, 0.0, 0.0)
    m = finite_array("monetary_value", monetary_value)
    try:
        x, m = np.broadcast_arrays(x, m)
    except ValueError:
        raise ClvInputError(
            "frequency, monetary_value", (x.shape, m.shape), N_("do not broadcast")
        ) from None
    return x, m


def _usable_rows(
    frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Flatten the input; flag repeat buyers and those of them with spend > 0."""
    x, m = (a.ravel() for a in _spend_arrays(frequency, monetary_value))
    repeat = x > 0
    usable = repeat & (m > 0)
    if not np.any(usable):
        raise ClvInputError(
            "frequency, monetary_value", "no row", N_("has frequency > 0 and monetary_value > 0")
        )
    return x, m, repeat, usable


def _loglik_and_gradient(
    params: FloatArray, x: FloatArray, m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-density of the mean spend and its gradient w.r.t. log-parameters."""
    p, q, gamma = params
    x_values, x_index = distinct_values(x)
    px = p * x
    ln_x, ln_total = np.log(x), np.log(gamma + x * m)
    px_values = p * x_values
    psi_pxq = special.digamma(px_values + q)[x_index]
    per_x = special.gammaln(px_values + q) - special.gammaln(px_values) - special.gammaln(q)
    terms = (
        per_x[x_index] + q * np.log(gamma) + px * ln_x + (px - 1.0) * np.log(m)
        - (px + q) * ln_total
    )
    gradient = np.stack([
        x * (psi_pxq - special.digamma(px_values)[x_index] + ln_x + np.log(m) - ln_total),
        psi_pxq - special.digamma(q) + np.log(gamma) - ln_total,
        q / gamma - (px + q) / (gamma + x * m),
    ]) * params[:, None]
    return np.asarray(terms, dtype=np.float64), np.asarray(gradient, dtype=np.float64)
