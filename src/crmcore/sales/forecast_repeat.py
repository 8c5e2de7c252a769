"""Repeat purchases for the M3 forecast, from the lifetime-value model (``clv`` extra).

:func:`repeat_purchases` fits the ``crmcore clv`` models (BG/NBD purchase counts,
Gamma-Gamma spend: :func:`crmcore_plugins.clv.analyse_purchases`) to the purchases up to
``as_of`` and spreads each customer's expected revenue over the next months: the
expected number of purchases in a month is ``E[Y(end)] - E[Y(start)]`` (BG/NBD,
conditional on the customer's history) and each purchase is worth the Gamma-Gamma
expected spend of that customer. The first month runs from ``as_of`` to its end.

The variance of a customer's month is taken as that of a Poisson count of purchases of
that size, ``E[N] m^2`` (stated in the forecast's method). This module imports numpy
(through the CLV plugin) only when :func:`repeat_purchases` is called; without it the
error names the extra: ``pip install 'crmcore[clv]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from crmcore.errors import CrmError, ValidationError
from crmcore.i18n import tr

if TYPE_CHECKING:
    from crmcore_plugins.clv import ClvAnalysis

__all__ = ["ClvUnavailableError", "RepeatPurchases", "month_starts", "repeat_from_analysis",
           "repeat_purchases"]


class ClvUnavailableError(CrmError):
    """numpy or scipy (the ``clv`` extra) is not installed."""


@dataclass(frozen=True)
class RepeatPurchases:
    """Expected repeat revenue per customer and month, in one currency.

    ``expected[i][k]`` and ``variance[i][k]`` belong to ``customer_ids[i]`` and
    ``periods[k]`` (``"YYYY-MM"``).
    """

    currency: str
    customer_ids: tuple[str, ...]
    periods: tuple[str, ...]
    expected: tuple[tuple[float, ...], ...]
    variance: tuple[tuple[float, ...], ...]
    notes: tuple[str, ...] = ()

    def totals(self, by: str, group_of: Callable[[str], str]
               ) -> dict[str, tuple[float, float]]:
        """``{group: (expected, variance)}`` per period (``by="period"``) or per customer
        group (``group_of(customer_id)``, summed over the months)."""
        sums: dict[str, tuple[list[float], list[float]]] = {}
        for customer, expected, variance in zip(self.customer_ids, self.expected,
                                                self.variance, strict=True):
            for k, period in enumerate(self.periods):
                group = period if by == "period" else group_of(customer)
                values, variances = sums.setdefault(group, ([], []))
                values.append(expected[k])
                variances.append(variance[k])
        return {group: (math.fsum(v), math.fsum(w)) for group, (v, w) in sums.items()}


def month_starts(as_of: date, months: int) -> list[date]:
    """``as_of``, then the first day of each of the next ``months`` months.

    >>> from datetime import date
    >>> from crmcore.sales.forecast_repeat import month_starts
    >>> [d.isoformat() for d in month_starts(date(2026, 11, 20), 2)]
    ['2026-11-20', '2026-12-01', '2027-01-01']
    """
    starts = [as_of]
    year, month = as_of.year, as_of.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        starts.append(date(year, month, 1))
    return starts


def repeat_purchases(
    customer_ids: Sequence[str],
    dates: Sequence[date],
    amounts: Sequence[Decimal | float],
    *,
    as_of: date,
    months: int,
    currency: str,
    unit_days: float = 7.0,
) -> RepeatPurchases:
    """Fit the CLV models to purchases up to ``as_of``; expected repeat revenue per month.

    :raises ClvUnavailableError: numpy/scipy are missing.
    :raises ValidationError: bad ``months`` or a spend model that cannot be fitted.
    """
    _check_months(months)
    try:
        from crmcore_plugins.clv import analyse_purchases
    except ImportError as error:
        raise ClvUnavailableError(
            tr("repeat purchases need the lifetime-value model ({error}): pip install "
               "'crmcore[clv]'").format(error=error)) from None
    analysis = analyse_purchases(customer_ids, dates, [float(a) for a in amounts],
                                 calibration_end=as_of, unit_days=unit_days)
    return repeat_from_analysis(analysis, months=months, currency=currency)


def _check_months(months: int) -> None:
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValidationError("months", months, "is not a whole number >= 1")


def repeat_from_analysis(analysis: ClvAnalysis, *, months: int, currency: str
                         ) -> RepeatPurchases:
    """Expected repeat revenue per month from a fitted CLV analysis (``crmcore clv``'s or
    the ``clv`` scoring strategy's), starting at its calibration end."""
    import numpy as np

    _check_months(months)
    if analysis.spend is None or analysis.clv is None:
        raise ValidationError(
            "repeat purchases", tr("{count} customers").format(count=len(analysis.summary)),
            tr("cannot be forecast, the spend model is unusable ({why}); forecast the "
               "pipeline alone, or with a longer purchase history").format(
                why=analysis.clv_unavailable))
    summary = analysis.summary
    as_of, unit_days = summary.calibration_end, summary.unit_days
    starts = month_starts(as_of, months)
    spend = analysis.spend.conditional_expected_average_profit(summary.frequency,
                                                               summary.monetary_value)
    cumulative = [np.zeros(len(summary))] + [
        analysis.counts.expected_purchases((start - as_of).days / unit_days,
                                           summary.frequency, summary.recency, summary.T)
        for start in starts[1:]]
    counts = np.column_stack([b - a for a, b in pairwise(cumulative)])
    expected = counts * spend[:, None]
    variance = counts * (spend * spend)[:, None]
    periods = tuple(f"{d.year:04d}-{d.month:02d}" for d in starts[:-1])
    return RepeatPurchases(
        currency, tuple(str(c) for c in summary.customer_ids), periods,
        tuple(tuple(float(v) for v in row) for row in expected),
        tuple(tuple(float(v) for v in row) for row in variance),
        tuple(analysis.notes))
