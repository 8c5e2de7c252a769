"""One call from raw purchases to fitted models and per-customer predictions.

:func:`analyse_purchases` is what the ``crmcore clv`` command and the ``clv``
scoring strategy use: it summarises, fits BG/NBD and (when there are repeat
buyers with spend) Gamma-Gamma, and predicts for every customer. The horizon
is given in days and converted explicitly into the model's time unit.
:func:`analyse_summary` does the same from a summary already built (e.g. by
:func:`~crmcore_plugins.clv.summary.summarize_codes` from columns).
Predictions are evaluated once per distinct ``(frequency, recency, T)`` row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crmcore.i18n import N_, tr
from crmcore_plugins.clv.bgnbd import BgNbdFit, distinct_rows, fit_bgnbd
from crmcore_plugins.clv.gamma_gamma import (
    GammaGammaFit,
    customer_lifetime_value,
    fit_gamma_gamma,
)
from crmcore_plugins.clv.summary import ClvInputError, RfmSummary, summarize_purchases

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ClvAnalysis:
    """Fitted models and per-customer predictions, all in ``summary`` order.

    ``clv`` is None (with ``clv_unavailable`` saying why) when the spend model
    cannot be fitted, has no finite mean (``q <= 1``) or the CLV sum cannot be
    evaluated. ``notes`` lists what the caller should know: fits that ended on
    a bound (degenerate data, limiting model used) or did not converge, and
    predictions that could not be computed (left ``nan``).
    """

    summary: RfmSummary
    counts: BgNbdFit
    spend: GammaGammaFit | None
    horizon_days: float
    probability_alive: FloatArray
    expected_purchases: FloatArray
    clv: FloatArray | None
    clv_unavailable: str | None
    notes: tuple[str, ...] = ()


def analyse_purchases(
    customer_ids: Iterable[object] | npt.ArrayLike,
    dates: Iterable[dt.date] | npt.ArrayLike,
    amounts: npt.ArrayLike,
    *,
    calibration_end: dt.date,
    unit_days: float = 7.0,
    horizon_days: float = 365.0,
    period_days: float = 30.0,
    discount_rate_per_period: float = 0.01,
) -> ClvAnalysis:
    """Fit BG/NBD and Gamma-Gamma to purchases up to ``calibration_end`` and predict.

    :param unit_days: the model's time unit in days (7.0: weeks).
    :param horizon_days: how far ahead expected purchases and CLV look.
    :param period_days: the discounting period of the CLV sum.
    """
    _check_horizon(horizon_days)
    summary = summarize_purchases(customer_ids, dates, amounts,
                                  calibration_end=calibration_end, unit_days=unit_days)
    return analyse_summary(summary, horizon_days=horizon_days, period_days=period_days,
                           discount_rate_per_period=discount_rate_per_period)


def analyse_summary(
    summary: RfmSummary,
    *,
    horizon_days: float = 365.0,
    period_days: float = 30.0,
    discount_rate_per_period: float = 0.01,
) -> ClvAnalysis:
    """Fit both models to ``summary`` and predict for each of its customers.

    The arguments are those of :func:`analyse_purchases`; the time unit is
    the summary's ``unit_days``.
    """
    _check_horizon(horizon_days)
    unit_days = summary.unit_days
    counts = fit_bgnbd(summary.frequency, summary.recency, summary.T)
    notes = _fit_notes("BG/NBD", counts.converged, counts.at_bound)
    rows, inverse = distinct_rows(summary.frequency.astype(np.float64), summary.recency,
                                  summary.T)
    alive = counts.probability_alive(*rows)[inverse]
    try:
        expected = counts.expected_purchases(horizon_days / unit_days, *rows)[inverse]
    except ArithmeticError as error:
        expected = np.full(len(summary), math.nan)
        notes.append(tr("expected purchases could not be computed: {error}").format(
            error=error))
    spend: GammaGammaFit | None = None
    clv: FloatArray | None = None
    unavailable: str | None = None
    try:
        spend = fit_gamma_gamma(summary.frequency, summary.monetary_value)
        notes.extend(_fit_notes("Gamma-Gamma", spend.converged, spend.at_bound))
        clv = customer_lifetime_value(
            counts, spend, summary.frequency, summary.recency, summary.T,
            summary.monetary_value, horizon=max(1, round(horizon_days / period_days)),
            unit_days=unit_days, period_days=period_days,
            discount_rate_per_period=discount_rate_per_period,
        )
    except ClvInputError as error:
        unavailable = str(error)
    except ArithmeticError as error:
        unavailable = tr("the CLV sum could not be evaluated: {error}").format(error=error)
    for name, values in (("probability_alive", alive), ("expected_purchases", expected),
                         ("clv", clv)):
        bad = 0 if values is None else int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            notes.append(tr("{name}: {bad} of {count} customers not computable (nan)").format(
                name=name, bad=bad, count=len(summary)))
    return ClvAnalysis(summary, counts, spend, horizon_days, alive, expected, clv, unavailable,
                       tuple(notes))


def _check_horizon(horizon_days: float) -> None:
    if not (math.isfinite(horizon_days) and horizon_days > 0):
        raise ClvInputError("horizon_days", horizon_days, N_("is not a number of days > 0"))


def _fit_notes(model: str, converged: bool, at_bound: tuple[str, ...]) -> list[str]:
    """Plain-language notes on a fit that did not converge or ended on a bound."""
    notes = [] if converged else [
        tr("{model}: the optimiser did not converge").format(model=model)]
    if at_bound:
        notes.append(tr("{model}: {parameters} at the bound of the search box (the data show "
                        "no heterogeneity there; the limiting model is used)").format(
            model=model, parameters=", ".join(at_bound)))
    return notes
