"""Satisfaction measures (P5) over a period, each with its sample size.

Every measure is a :class:`MeasureValue`: the value, the sample size ``n``,
the sufficient statistics its tests need, and ``small_sample`` set when
``n`` is below :attr:`MeasureSettings.minimum_sample` (the value is still
given: a small sample is flagged, never hidden). A period ``[start, end)``
is a :class:`~crmcore.lifecycle.Period`. The definitions:

``csat``
    Mean CSAT (1-5) of the survey responses answered in the period that
    have one; ``n`` = those responses.
``nps``
    Net promoter score in points (-100..100): promoters (9-10) minus
    detractors (0-6) over the responses with an NPS answer in the period.
``complaint_rate``
    Share of the customers *served* in the period who complained in it:
    customers with a complaint ticket opened in the period, over the
    customers served (those with a purchase in the ``active_days`` up to the
    period's end, plus everyone who complained). Counting customers, not
    tickets, keeps it a proportion with a proper test.
``return_rate``
    Repurchase rate: of the customers who bought in the ``active_days``
    before the period, the share who bought again in the period.
``reputation``
    Mean answer (a number) to the survey question ``reputation_question``.
``awareness``
    Share of the respondents to ``awareness_question`` whose answer is one
    of ``aware_answers`` (texts compared without case).
``sales_power``
    Revenue in the period per active customer (purchase in the
    ``active_days`` up to the period's end), a mean with its spread across
    customers (customers without revenue in the period count as 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from statistics import fmean, stdev

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.improvement.statistics import (
    Interval,
    mean_interval,
    nps_interval,
    wilson_interval,
)
from crmcore.lifecycle.measures import Period, add_months
from crmcore.model import SurveyResponse, Ticket, TicketKind, Transaction
from crmcore.validation import int_between


class MeasureKind(StrEnum):
    """What a measure's value is, which decides its interval and test."""

    PROPORTION = "proportion"
    MEAN = "mean"
    NPS = "nps"


class Better(StrEnum):
    """Which direction of a measure is an improvement."""

    HIGHER = "higher"
    LOWER = "lower"


@attrs.frozen
class MeasureDefinition:
    """A satisfaction measure: its name, label, kind and better direction."""

    name: str
    label: str
    kind: MeasureKind
    better: Better
    description: str


CSAT = "csat"
NPS = "nps"
COMPLAINT_RATE = "complaint_rate"
RETURN_RATE = "return_rate"
REPUTATION = "reputation"
AWARENESS = "awareness"
SALES_POWER = "sales_power"

MEASURES: dict[str, MeasureDefinition] = {m.name: m for m in (
    MeasureDefinition(CSAT, "CSAT (1-5)", MeasureKind.MEAN, Better.HIGHER,
                      "mean satisfaction answer"),
    MeasureDefinition(NPS, "NPS", MeasureKind.NPS, Better.HIGHER,
                      "promoters minus detractors, in points"),
    MeasureDefinition(COMPLAINT_RATE, "complaint rate", MeasureKind.PROPORTION, Better.LOWER,
                      "share of served customers who complained"),
    MeasureDefinition(RETURN_RATE, "return rate", MeasureKind.PROPORTION, Better.HIGHER,
                      "share of recent buyers who bought again"),
    MeasureDefinition(REPUTATION, "reputation", MeasureKind.MEAN, Better.HIGHER,
                      "mean answer to the reputation question"),
    MeasureDefinition(AWARENESS, "awareness", MeasureKind.PROPORTION, Better.HIGHER,
                      "share of respondents aware of us"),
    MeasureDefinition(SALES_POWER, "sales power", MeasureKind.MEAN, Better.HIGHER,
                      "revenue per active customer"),
)}
"""The satisfaction measures of rule P5, by name."""


def measure_definition(name: str) -> MeasureDefinition:
    """The definition of measure ``name``; :class:`ValidationError` if unknown."""
    if name not in MEASURES:
        raise ValidationError("measure", name, tr("is not a measure (known: {known})").format(
            known=", ".join(MEASURES)))
    return MEASURES[name]


@attrs.frozen
class MeasureSettings:
    """The open numbers of the measure definitions (see the module notes)."""

    minimum_sample: int = attrs.field(default=30, validator=int_between(1))
    active_days: int = attrs.field(default=365, validator=int_between(1))
    reputation_question: str = REPUTATION
    awareness_question: str = "aware"
    aware_answers: tuple[str | int, ...] = ("yes", 1)


@attrs.frozen
class MeasureValue:
    """One measure over one period, with its sample size and sufficient statistics.

    ``value`` is None when there is no data (``n`` 0). Proportions keep
    ``successes``; means keep the sample ``sd`` (None below two values);
    NPS keeps ``promoters`` and ``detractors``.
    """

    measure: str
    period: Period
    kind: MeasureKind
    n: int = attrs.field(validator=int_between(0))
    value: float | None
    small_sample: bool
    successes: int = 0
    sd: float | None = None
    promoters: int = 0
    detractors: int = 0

    @property
    def definition(self) -> MeasureDefinition:
        """The measure's :class:`MeasureDefinition`."""
        return measure_definition(self.measure)

    def interval(self, confidence: float = 0.95) -> Interval | None:
        """The confidence interval of the value (None when it cannot be computed)."""
        if self.value is None:
            return None
        if self.kind is MeasureKind.PROPORTION:
            return wilson_interval(self.successes, self.n, confidence)
        if self.kind is MeasureKind.NPS:
            return nps_interval(self.promoters, self.detractors, self.n, confidence)
        if self.sd is None:
            return None
        return mean_interval(self.value, self.sd, self.n, confidence)


def proportion(measure: str, period: Period, successes: int, n: int, *,
               minimum_sample: int = 30) -> MeasureValue:
    """A proportion measure ``successes / n``."""
    if not 0 <= successes <= n:
        raise ValidationError("successes", successes,
                              tr("must be between 0 and n ({n})").format(n=n))
    return MeasureValue(measure, period, MeasureKind.PROPORTION, n,
                        successes / n if n else None, n < minimum_sample, successes=successes)


def mean(measure: str, period: Period, values: Iterable[float], *,
         minimum_sample: int = 30) -> MeasureValue:
    """A mean measure of ``values`` (sample sd from two values on)."""
    data = [float(v) for v in values]
    if not all(math.isfinite(v) for v in data):
        raise ValidationError("values", data, "must be finite numbers")
    return MeasureValue(measure, period, MeasureKind.MEAN, len(data),
                        fmean(data) if data else None, len(data) < minimum_sample,
                        sd=stdev(data) if len(data) > 1 else None)


def net_promoter(measure: str, period: Period, scores: Iterable[int], *,
                 minimum_sample: int = 30) -> MeasureValue:
    """The NPS measure of 0-10 ``scores``."""
    data = list(scores)
    if not all(0 <= s <= 10 for s in data):
        raise ValidationError("scores", data, "must be whole numbers from 0 to 10")
    promoters = sum(s >= 9 for s in data)
    detractors = sum(s <= 6 for s in data)
    n = len(data)
    return MeasureValue(measure, period, MeasureKind.NPS, n,
                        100 * (promoters - detractors) / n if n else None, n < minimum_sample,
                        promoters=promoters, detractors=detractors)


@attrs.frozen
class MeasureData:
    """The stored facts measures are computed from (any wider time span is fine)."""

    transactions: Sequence[Transaction] = ()
    tickets: Sequence[Ticket] = ()
    surveys: Sequence[SurveyResponse] = ()


def data_window(period: Period, settings: MeasureSettings) -> tuple[datetime, datetime]:
    """The ``[since, until)`` span of stored facts the measures of ``period`` read."""
    return period.start - timedelta(days=settings.active_days), period.end


def _within(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def _buyers(transactions: Iterable[Transaction], start: datetime, end: datetime) -> set[str]:
    return {t.customer_id for t in transactions if _within(t.occurred_at, start, end)}


def _answered(data: MeasureData, period: Period) -> list[SurveyResponse]:
    return [s for s in data.surveys if _within(s.answered_at, period.start, period.end)]


def _aware(answer: int | str, accepted: tuple[str | int, ...]) -> bool:
    if isinstance(answer, str):
        return answer.strip().lower() in {a.lower() for a in accepted if isinstance(a, str)}
    return answer in {a for a in accepted if isinstance(a, int)}


def measure_values(data: MeasureData, period: Period,
                   settings: MeasureSettings | None = None) -> dict[str, MeasureValue]:
    """Every P5 measure over ``period``, by name (see the module notes)."""
    rules = settings or MeasureSettings()
    floor = rules.minimum_sample
    lookback = timedelta(days=rules.active_days)
    active = _buyers(data.transactions, period.end - lookback, period.end)
    complainers = {t.customer_id for t in data.tickets if t.kind is TicketKind.COMPLAINT
                   and _within(t.opened_at, period.start, period.end)}
    served = active | complainers
    earlier = _buyers(data.transactions, period.start - lookback, period.start)
    again = earlier & _buyers(data.transactions, period.start, period.end)
    revenue = dict.fromkeys(active, 0.0)
    for t in data.transactions:
        if _within(t.occurred_at, period.start, period.end):
            revenue[t.customer_id] = revenue.get(t.customer_id, 0.0) + float(t.amount)
    answered = _answered(data, period)
    reputation = [a for s in answered
                  if isinstance(a := s.answers.get(rules.reputation_question), int)]
    awareness = [a for s in answered
                 if (a := s.answers.get(rules.awareness_question)) is not None]
    made = (
        mean(CSAT, period, (s.csat for s in answered if s.csat is not None),
             minimum_sample=floor),
        net_promoter(NPS, period, (s.nps for s in answered if s.nps is not None),
                     minimum_sample=floor),
        proportion(COMPLAINT_RATE, period, len(complainers), len(served), minimum_sample=floor),
        proportion(RETURN_RATE, period, len(again), len(earlier), minimum_sample=floor),
        mean(REPUTATION, period, reputation, minimum_sample=floor),
        proportion(AWARENESS, period, sum(_aware(a, rules.aware_answers) for a in awareness),
                   len(awareness), minimum_sample=floor),
        mean(SALES_POWER, period, [revenue[c] for c in active], minimum_sample=floor),
    )
    return {value.measure: value for value in made}


# -- periods -------------------------------------------------------------------------------------

def parse_period(text: str) -> Period:
    """A period from its label: ``2026``, ``2026-Q2``, ``2026-05`` or ``2026-01-01..2026-03-31``.

    Calendar periods are in UTC; a date range includes both dates.
    """
    label = text.strip()
    try:
        if ".." in label:
            first, last = (datetime.fromisoformat(part.strip()) for part in label.split(".."))
            start = first.replace(tzinfo=first.tzinfo or UTC)
            end = last.replace(tzinfo=last.tzinfo or UTC) + timedelta(days=1)
            if end <= start:
                raise ValueError("empty range")
            return Period(label, start, end)
        if "-Q" in label.upper():
            year, quarter = label.upper().split("-Q")
            if not 1 <= int(quarter) <= 4:
                raise ValueError("no such quarter")
            start = datetime(int(year), 3 * int(quarter) - 2, 1, tzinfo=UTC)
            return Period(f"{int(year)}-Q{int(quarter)}", start, add_months(start, 3))
        if len(label) == 4:
            start = datetime(int(label), 1, 1, tzinfo=UTC)
            return Period(label, start, add_months(start, 12))
        start = datetime.strptime(label, "%Y-%m").replace(tzinfo=UTC)
        return Period(label, start, add_months(start, 1))
    except ValueError:
        raise ValidationError("period", text, "is not a period (2026, 2026-Q2, 2026-05 or "
                                              "2026-01-01..2026-03-31)") from None


def span(start: datetime, end: datetime) -> Period:
    """The period ``[start, end)`` labelled by its first and last day (``2026-01-01..2026-03-31``).
    """
    if end <= start:
        raise ValidationError("end", end.isoformat(), tr("is not after start {start}").format(
            start=start.isoformat()))
    last = (end - timedelta(microseconds=1)).date()
    return Period(f"{start.date().isoformat()}..{last.isoformat()}", start, end)


def as_period(period: Period | str) -> Period:
    """``period`` itself, or parsed from its label."""
    return period if isinstance(period, Period) else parse_period(period)
