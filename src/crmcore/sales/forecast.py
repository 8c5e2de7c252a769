"""M3 sales forecast: expected revenue per month, owner or territory, with an interval.

The forecast of an open opportunity is ``amount x probability``, placed by its expected
close date (timing: the month it is expected to close). Nothing is defaulted silently:

* an opportunity without an expected close date goes to the period ``"unknown"``, one
  whose expected close date is before ``as_of`` (still open, so late) to ``"overdue"``;
* one without an amount or a currency is left out of every total and listed in
  :attr:`Forecast.unpriced`;
* amounts of different currencies are never added: each row is one currency, unless a
  rate table converts every amount into one ``currency`` (a currency without a rate is
  an error naming it).

Repeat purchases of existing customers (from the lifetime-value model, see
:mod:`crmcore.sales.forecast_repeat`) are added per period, or per owner/territory of
the customer when a mapping is given.

**Interval.** Each opportunity is a Bernoulli trial: it brings ``amount`` with
probability ``p``, so its variance is ``amount^2 p (1 - p)``; opportunities are taken
as independent, so a row's variance is the sum. Repeat purchases add the variance of a
Poisson count of purchases of the expected size (``E[N] m^2``). The interval is the
normal approximation ``expected +/- z sd`` at the chosen ``level`` (default 90 %:
``z = 1.645``), cut at 0 below. It ignores the uncertainty of the probabilities and of
the fitted models themselves, so it is a lower bound on the real uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING

from crmcore.errors import ValidationError
from crmcore.i18n import tr

if TYPE_CHECKING:
    from crmcore.sales.forecast_repeat import RepeatPurchases

__all__ = ["GROUPINGS", "OVERDUE", "UNKNOWN", "Forecast", "ForecastRow", "OpenOpportunity",
           "forecast", "period_of"]

GROUPINGS = ("period", "owner", "territory")
"""What a forecast can be grouped by."""

UNKNOWN = "unknown"
"""The group of an opportunity whose close date, owner or territory is not stated."""

OVERDUE = "overdue"
"""The period of an open opportunity whose expected close date has passed."""


@dataclass(frozen=True)
class OpenOpportunity:
    """An open opportunity as the forecast needs it (``probability`` from the M1 model)."""

    id: str
    amount: Decimal | None
    currency: str | None
    probability: float
    expected_close: date | None = None
    owner: str | None = None
    territory: str | None = None
    customer_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse a bad value, naming the field."""
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("id", self.id, "is not a non-empty text")
        if self.amount is not None and (not isinstance(self.amount, Decimal)
                                        or not self.amount.is_finite() or self.amount < 0):
            raise ValidationError("amount", self.amount, "is not a finite Decimal >= 0")
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not (0.0 <= p <= 1.0):
            raise ValidationError("probability", p, "is not a probability between 0 and 1")
        if self.expected_close is not None and not isinstance(self.expected_close, date):
            raise ValidationError("expected_close", self.expected_close, "is not a date")


@dataclass(frozen=True)
class ForecastRow:
    """Expected revenue of one group in one currency, and its interval.

    ``pipeline`` comes from ``opportunities`` open opportunities, ``repeat`` from
    repeat purchases; ``expected`` is their sum and ``[low, high]`` its interval.
    """

    key: str
    currency: str
    opportunities: int
    pipeline: float
    repeat: float
    variance: float
    low: float
    high: float

    @property
    def expected(self) -> float:
        """``pipeline + repeat``."""
        return self.pipeline + self.repeat


@dataclass(frozen=True)
class Forecast:
    """Rows sorted by group (months in order, then ``overdue`` and ``unknown``) and currency.

    ``unpriced`` lists the ids of opportunities left out for want of an amount or a
    currency; ``method`` states how the interval was computed.
    """

    by: str
    as_of: date
    level: float
    rows: tuple[ForecastRow, ...]
    unpriced: tuple[str, ...]
    method: str
    notes: tuple[str, ...] = ()


def period_of(expected_close: date | None, as_of: date) -> str:
    """``"YYYY-MM"`` of the expected close, ``"overdue"`` before ``as_of``, else ``"unknown"``.

    >>> from datetime import date
    >>> from crmcore.sales.forecast import period_of
    >>> period_of(date(2026, 3, 9), date(2026, 1, 1)), period_of(None, date(2026, 1, 1))
    ('2026-03', 'unknown')
    """
    if expected_close is None:
        return UNKNOWN
    if expected_close < as_of:
        return OVERDUE
    return f"{expected_close.year:04d}-{expected_close.month:02d}"


def _group(opportunity: OpenOpportunity, by: str, as_of: date) -> str:
    if by == "period":
        return period_of(opportunity.expected_close, as_of)
    value = opportunity.owner if by == "owner" else opportunity.territory
    return value or UNKNOWN


def _rate(rates: Mapping[str, Decimal | float], source: str, target: str) -> float:
    if source == target:
        return 1.0
    if source not in rates:
        raise ValidationError("rates", source, tr("has no rate to {target}: add one or "
                                                  "forecast per currency").format(target=target))
    rate = float(rates[source])
    if not (math.isfinite(rate) and rate > 0):
        raise ValidationError(f"rates.{source}", rates[source], "is not a rate > 0")
    return rate


class _Sums:
    __slots__ = ("count", "pipeline", "repeat", "variance")

    def __init__(self) -> None:
        self.count = 0
        self.pipeline: list[float] = []
        self.repeat: list[float] = []
        self.variance: list[float] = []


def _sort_key(key: tuple[str, str]) -> tuple[int, str, str]:
    group, currency = key
    return ({OVERDUE: 1, UNKNOWN: 2}.get(group, 0), group, currency)


def forecast(
    opportunities: Iterable[OpenOpportunity],
    *,
    as_of: date,
    by: str = "period",
    rates: Mapping[str, Decimal | float] | None = None,
    currency: str | None = None,
    repeat: RepeatPurchases | None = None,
    customer_groups: Mapping[str, str] | None = None,
    level: float = 0.90,
) -> Forecast:
    """Expected revenue of the open ``opportunities`` (and ``repeat`` purchases) ``by`` group.

    :param rates: units of ``currency`` per unit of each other currency; with it every
        amount is converted and the rows are in ``currency`` alone.
    :param customer_groups: the owner or territory of each repeat-purchase customer
        (with ``by="owner"`` or ``"territory"``); customers not in it are ``unknown``.
    :param level: the interval's coverage, between 0 and 1.
    """
    if by not in GROUPINGS:
        raise ValidationError("by", by, tr("is not one of {known}").format(
            known=", ".join(GROUPINGS)))
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValidationError("level", level, "is not a coverage strictly between 0 and 1")
    if (rates is None) != (currency is None):
        raise ValidationError("currency", currency,
                              "and rates go together: the rates convert into the currency")
    sums: dict[tuple[str, str], _Sums] = {}
    unpriced: list[str] = []
    for index, opportunity in enumerate(opportunities):
        if not isinstance(opportunity, OpenOpportunity):
            raise ValidationError(f"opportunities[{index}]", opportunity,
                                  "is not an OpenOpportunity")
        if opportunity.amount is None or opportunity.currency is None:
            unpriced.append(opportunity.id)
            continue
        target = currency or opportunity.currency
        amount = float(opportunity.amount) * (
            _rate(rates, opportunity.currency, target) if rates is not None and currency
            else 1.0)
        p = float(opportunity.probability)
        row = sums.setdefault((_group(opportunity, by, as_of), target), _Sums())
        row.count += 1
        row.pipeline.append(amount * p)
        row.variance.append(amount * amount * p * (1.0 - p))
    notes: list[str] = []
    if repeat is not None:
        factor = (_rate(rates, repeat.currency, currency) if rates is not None and currency
                  else 1.0)
        target = currency or repeat.currency
        groups = customer_groups or {}
        for group, (expected, variance) in repeat.totals(
                by, lambda customer: groups.get(customer, UNKNOWN)).items():
            row = sums.setdefault((group, target), _Sums())
            row.repeat.append(expected * factor)
            row.variance.append(variance * factor * factor)
        notes.extend(repeat.notes)
    z = NormalDist().inv_cdf((1.0 + level) / 2.0)
    rows = []
    for key in sorted(sums, key=_sort_key):
        row = sums[key]
        pipeline, extra = math.fsum(row.pipeline), math.fsum(row.repeat)
        variance = math.fsum(row.variance)
        spread = z * math.sqrt(variance)
        rows.append(ForecastRow(key[0], key[1], row.count, pipeline, extra, variance,
                                max(0.0, pipeline + extra - spread), pipeline + extra + spread))
    if unpriced:
        notes.append(tr("{count} open opportunities without an amount or currency are not in "
                        "the totals").format(count=len(unpriced)))
    method = tr("normal approximation at {level}: expected +/- {z} sd; variance sum of "
                "amount^2 p (1 - p) over independent opportunities").format(
        level=f"{level:.0%}", z=f"{z:.3f}")
    if repeat:
        method += tr(" plus E[N] m^2 per customer's repeat purchases (Poisson)")
    return Forecast(by, as_of, float(level), tuple(rows), tuple(unpriced), method, tuple(notes))
