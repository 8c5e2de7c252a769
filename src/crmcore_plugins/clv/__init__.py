"""Customer-lifetime-value models: BG/NBD purchase counts and Gamma-Gamma spend.

Typical use::

    summary = summarize_purchases(ids, dates, amounts,
                                  calibration_end=date(1997, 9, 30), unit_days=7.0)
    counts = fit_bgnbd(summary.frequency, summary.recency, summary.T)
    spend = fit_gamma_gamma(summary.frequency, summary.monetary_value)
    clv = customer_lifetime_value(counts, spend, summary.frequency, summary.recency,
                                  summary.T, summary.monetary_value, horizon=12,
                                  unit_days=7.0, period_days=30.0,
                                  discount_rate_per_period=0.01)

Requires numpy and scipy. Bad input raises :class:`ClvInputError`, a
:class:`ValueError` naming the argument and the value.
"""

from crmcore_plugins.clv.analysis import ClvAnalysis, analyse_purchases, analyse_summary
from crmcore_plugins.clv.bgnbd import BgNbdFit, bgnbd_log_likelihood, fit_bgnbd
from crmcore_plugins.clv.cdnow import (
    CDNOW_CALIBRATION_END,
    CdnowPurchases,
    parse_cdnow,
    read_cdnow,
)
from crmcore_plugins.clv.gamma_gamma import (
    GammaGammaFit,
    customer_lifetime_value,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from crmcore_plugins.clv.summary import (
    ClvInputError,
    RfmSummary,
    summarize_codes,
    summarize_day_statistics,
    summarize_purchases,
)

__all__ = [
    "CDNOW_CALIBRATION_END",
    "BgNbdFit",
    "CdnowPurchases",
    "ClvAnalysis",
    "ClvInputError",
    "GammaGammaFit",
    "RfmSummary",
    "analyse_purchases",
    "analyse_summary",
    "bgnbd_log_likelihood",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "parse_cdnow",
    "read_cdnow",
    "summarize_codes",
    "summarize_day_statistics",
    "summarize_purchases",
]
