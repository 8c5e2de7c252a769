"""One call from raw purchases to fitted models and per-customer predictions.

:func:`analyse_purchases` is what the ``crmcore clv`` command and the ``clv``
scoring strategy use: it summarises, fits BG/NBD and (when there are repeat
buyers with spend) Gamma-Gamma, and predicts for every customer. The horizon
is given in days and converted explicitly into the model's time unit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crmcore_plugins.clv.bgnbd import BgNbdFit, fit_bgnbd
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
    cannot be fitted or has no finite mean (``q <= 1``).
    """

    summary: RfmSummary
    counts: BgNbdFit
    spend: GammaGammaFit | None
    horizon_days: float
    probability_alive: FloatArray
    expected_purchases: FloatArray
    clv: FloatArray | None
    clv_unavailable: str | None


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
    if not (math.isfinite(horizon_days) and horizon_days > 0):
        raise ClvInputError("horizon_days", horizon_days, "is not a number of days > 0")
    summary = summarize_purchases(customer_ids, dates, amounts,
                                  calibration_end=calibration_end, unit_days=unit_days)
    counts = fit_bgnbd(summary.frequency, summary.recency, summary.T)
    alive = counts.probability_alive(summary.frequency, summary.recency, summary.T)
    expected = counts.expected_purchases(horizon_days / unit_days, summary.frequency,
                                         summary.recency, summary.T)
    spend: GammaGammaFit | None = None
    clv: FloatArray | None = None
    unavailable: str | None = None
    try:
        spend = fit_gamma_gamma(summary.frequency, summary.monetary_value)
        clv = customer_lifetime_value(
            counts, spend, summary.frequency, summary.recency, summary.T,
            summary.monetary_value, horizon=max(1, round(horizon_days / period_days)),
            unit_days=unit_days, period_days=period_days,
            discount_rate_per_period=discount_rate_per_period,
        )
    except ClvInputError as error:
        unavailable = str(error)
    return ClvAnalysis(summary, counts, spend, horizon_days, alive, expected, clv, unavailable)
