"""Evidence-driven lifecycle moves, as of a date, each one explained (L1, L3, L4, S7).

Pure: a customer's facts (purchases, satisfaction answers, complaints, an
optional probability of being alive) and its current stage go in; proposed
:class:`Move` objects come out, each with the rule it applies, a sentence
saying why, and the evidence it used. The service passes them through the
transition door.

The rules, with :class:`Thresholds` defaults:

- courtship -> ``active`` on the first purchase;
- ``active``/``loyal``/``won-back`` -> ``at-risk`` when the silence since the
  last purchase reaches ``at_risk_multiple`` times the customer's own rhythm
  (median days between purchase days; ``default_rhythm_days`` with fewer
  than two), at least ``at_risk_min_days``; or when a complaint is left
  unanswered past its target or not followed up (S7); or, when a lifetime-value
  strategy gives one, when the probability alive is below ``p_alive_threshold``;
- ``at-risk`` -> ``churned`` when the silence reaches ``churn_multiple`` times
  the rhythm, at least ``churn_min_days``; -> ``active`` on a new purchase;
- ``churned`` -> ``won-back`` on a new purchase; ``won-back`` -> ``active`` on
  the next one;
- ``active`` -> ``loyal`` after ``loyal_min_purchase_days`` purchase days,
  ``loyal_min_tenure_days`` of tenure and a mean CSAT of at least
  ``loyal_min_csat`` over the last ``loyal_survey_count`` answers.

:func:`plan_moves` walks forward through every moment at which a rule can
fire (purchases, thresholds crossed, answers, complaint deadlines), so a
first run over years of history records when each move really happened.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from statistics import mean, median
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.lifecycle.taxonomy import UNKNOWN_REASON, ChurnCause, ChurnType, LoyaltyType
from crmcore.model import (
    AttributeValue,
    Customer,
    Priority,
    SurveyResponse,
    Ticket,
    TicketKind,
    Transaction,
)
from crmcore.options import Options

COURTSHIP = ("identified", "selected", "developing")
"""The stages a first purchase ends (L1 courtship)."""

_LIVE = ("active", "loyal", "won-back")

DEFAULT_RESPONSE_HOURS: dict[Priority, float] = {
    Priority.URGENT: 4.0, Priority.HIGH: 24.0, Priority.NORMAL: 48.0, Priority.LOW: 72.0,
}
"""Default first-response targets of complaints, by priority (S4, S7)."""


def _response_hours(value: Mapping[Any, float]) -> dict[Priority, float]:
    hours = dict(DEFAULT_RESPONSE_HOURS)
    hours.update({Priority(key): float(item) for key, item in value.items()})
    return hours


@attrs.frozen
class Thresholds:
    """Every number the evidence rules use; all configurable (see the module docs)."""

    at_risk_multiple: float = 2.0
    at_risk_min_days: float = 30.0
    churn_multiple: float = 4.0
    churn_min_days: float = 180.0
    default_rhythm_days: float = 90.0
    p_alive_threshold: float = 0.3
    loyal_min_purchase_days: int = 5
    loyal_min_tenure_days: float = 365.0
    loyal_min_csat: float = 4.0
    loyal_survey_count: int = 3
    default_loyalty_type: LoyaltyType = LoyaltyType.UNKNOWN
    loyalty_attribute: str = "loyalty_type"
    complaint_response_hours: dict[Priority, float] = attrs.field(
        factory=lambda: dict(DEFAULT_RESPONSE_HOURS), converter=_response_hours)
    complaint_resolution_days: float = 14.0
    complaint_lookback_days: float = 180.0
    unhappy_csat: float = 2.5
    silent_churn_type: ChurnType = ChurnType.UNKNOWN
    silent_churn_cause: ChurnCause = ChurnCause.UNKNOWN

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(Thresholds):
            value = getattr(self, field.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ConfigError(tr("{field}: {value!r} {reason}").format(
                    field=f"lifecycle.{field.name}", value=value,
                    reason=tr("must not be negative")))
        if self.at_risk_multiple > self.churn_multiple:
            raise ConfigError(tr("{field}: {value!r} {reason}").format(
                field="lifecycle.churn_multiple", value=self.churn_multiple,
                reason=tr("must be at least {other} ({minimum!r})").format(
                    other="at_risk_multiple", minimum=self.at_risk_multiple)))

    @classmethod
    def from_options(cls, options: Options) -> Thresholds:
        """Read thresholds from configuration (e.g. a ``[lifecycle]`` table); defaults kept."""
        default = cls()
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            current = getattr(default, field.name)
            if isinstance(current, bool):
                continue
            if isinstance(current, int) and not isinstance(current, float):
                values[field.name] = options.integer(field.name, current, minimum=0)
            elif isinstance(current, float):
                values[field.name] = options.number(field.name, current)
            elif isinstance(current, LoyaltyType | ChurnType | ChurnCause):
                choices = tuple(member.value for member in type(current))
                values[field.name] = type(current)(options.choice(field.name, choices,
                                                                  current.value))
            elif isinstance(current, str):
                values[field.name] = options.text(field.name, current)
            else:
                table = options.table(field.name, {})
                try:
                    values[field.name] = {Priority(k): float(v) for k, v in table.items()}
                except (ValueError, TypeError):
                    raise ConfigError(tr("{key}: {value!r} must map priorities to hours").format(
                        key=options.key(field.name), value=dict(table))) from None
        return cls(**values)


def _sorted(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(values))


def _tickets(values: Iterable[Ticket]) -> tuple[Ticket, ...]:
    return tuple(values)


@attrs.frozen
class CustomerFacts:
    """What the evidence rules know about one customer, up to the advance date.

    ``p_alive`` is the lifetime-value strategy's probability that the customer
    is still buying (as of the advance date), or None; ``p_alive_source``
    says where it came from or why it is missing. ``response_due`` gives, by
    complaint id, when its first response fell due on THE clock of lateness
    (:func:`~crmcore.policies.agenda.graded_ticket_sla`: business hours, targets
    by grade; None when it was answered in time); a complaint not in it is timed
    by the wall-clock ``complaint_response_hours`` of :class:`Thresholds`.
    """

    customer_id: str
    acquired_at: datetime | None
    purchases: tuple[datetime, ...] = attrs.field(converter=_sorted)
    satisfaction: tuple[tuple[datetime, int], ...] = attrs.field(default=(), converter=_sorted)
    complaints: tuple[Ticket, ...] = attrs.field(default=(), converter=_tickets)
    attributes: Mapping[str, AttributeValue] = attrs.field(factory=dict)
    p_alive: float | None = None
    p_alive_source: str = N_("no lifetime-value strategy")
    response_due: Mapping[str, datetime | None] = attrs.field(factory=dict)

    @classmethod
    def gather(cls, customer: Customer, transactions: Iterable[Transaction],
               tickets: Iterable[Ticket], surveys: Iterable[SurveyResponse], *,
               p_alive: float | None = None,
               p_alive_source: str = N_("no lifetime-value strategy")) -> CustomerFacts:
        """Facts from one customer's stored entities (already limited to the advance date)."""
        return cls(
            customer_id=customer.id, acquired_at=customer.acquired_at,
            purchases=[t.occurred_at for t in transactions],
            satisfaction=[(s.answered_at, s.csat) for s in surveys if s.csat is not None],
            complaints=[t for t in tickets if t.kind is TicketKind.COMPLAINT],
            attributes=customer.attributes, p_alive=p_alive, p_alive_source=p_alive_source,
        )


@attrs.frozen
class ChurnSignal:
    """A complaint answered too late or not followed up: a churn-risk signal (S7, L3)."""

    customer_id: str
    ticket_id: str
    kind: str
    since: datetime
    explanation: str


@attrs.frozen
class Move:
    """A proposed stage change and why.

    ``rule`` is the rule ID applied; ``reason`` one sentence; ``evidence``
    the evidence consulted (and any that was not available); ``fields``
    the target's entry fields; ``facts`` what the door's guards check.
    """

    customer_id: str
    event: str
    from_state: str
    to_state: str
    at: datetime
    rule: str
    reason: str
    evidence: tuple[str, ...] = ()
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    facts: Mapping[str, Any] = attrs.field(factory=dict)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def response_due(ticket: Ticket, thresholds: Thresholds,
                 graded: Mapping[str, datetime | None] | None = None
                 ) -> tuple[datetime | None, str]:
    """When ``ticket``'s first response fell due, and the target that says so.

    From ``graded`` (the SLA clock by grade, see :class:`CustomerFacts`) when it
    has the ticket; else ``complaint_response_hours`` wall-clock hours after opening.
    """
    if graded is not None and ticket.id in graded:
        return graded[ticket.id], tr("graded first-response target (S4 business hours)")
    target = thresholds.complaint_response_hours[ticket.priority]
    return ticket.opened_at + timedelta(hours=target), tr("{hours:g} h response target").format(
        hours=target)


def complaint_signals(complaints: Iterable[Ticket], as_of: datetime,
                      thresholds: Thresholds = Thresholds(), *,
                      graded_due: Mapping[str, datetime | None] | None = None
                      ) -> list[ChurnSignal]:
    """The complaint signals active at ``as_of``: unanswered past target, or unresolved.

    Only complaints opened within ``complaint_lookback_days`` count. The response
    target is :func:`response_due`'s (``graded_due``: see :class:`CustomerFacts`).
    """
    found: list[ChurnSignal] = []
    lookback = timedelta(days=thresholds.complaint_lookback_days)
    for ticket in complaints:
        if ticket.kind is not TicketKind.COMPLAINT or not (
                as_of - lookback <= ticket.opened_at <= as_of):
            continue
        due, target = response_due(ticket, thresholds, graded_due)
        answered = ticket.first_response_at is not None and ticket.first_response_at <= as_of
        resolved = ticket.resolved_at is not None and ticket.resolved_at <= as_of
        settle_by = ticket.opened_at + timedelta(days=thresholds.complaint_resolution_days)
        label = tr("complaint {id} ({category}, {priority})").format(
            id=ticket.id, category=term(ticket.category), priority=term(ticket.priority.value))
        if not answered and not resolved and due is not None and as_of >= due:
            found.append(ChurnSignal(
                ticket.customer_id, ticket.id, "unanswered", due,
                tr("{label} opened {opened:%Y-%m-%d %H:%M} left unanswered beyond its {target}")
                .format(label=label, opened=ticket.opened_at, target=target)))
        elif not resolved and as_of >= settle_by:
            found.append(ChurnSignal(
                ticket.customer_id, ticket.id, "not-followed-up", settle_by,
                tr("{label} not resolved {days:.0f} days after it was opened (target "
                   "{target:g} days)").format(label=label, days=_days(as_of - ticket.opened_at),
                                              target=thresholds.complaint_resolution_days)))
    return found


class _View:
    """The facts as they stood at moment ``t``, recomputed from them on every question.

    The reference: simple and obviously right. :class:`_IndexedView` answers
    the same questions from a :class:`_Timeline` built once per customer.
    """

    __slots__ = ("facts", "t", "thresholds")

    def __init__(self, facts: CustomerFacts, t: datetime, thresholds: Thresholds) -> None:
        self.facts = facts
        self.t = t
        self.thresholds = thresholds

    @property
    def purchases(self) -> list[datetime]:
        return [p for p in self.facts.purchases if p <= self.t]

    def first_purchase(self) -> datetime | None:
        bought = self.purchases
        return bought[0] if bought else None

    def purchase_days(self) -> int:
        return len({p.date() for p in self.purchases})

    @property
    def rhythm(self) -> tuple[float, str]:
        return _rhythm(self.purchases, self.thresholds)

    def silence(self) -> float | None:
        bought = self.purchases
        return None if not bought else _days(self.t - bought[-1])

    def limit(self, multiple: float, minimum: float) -> float:
        return max(minimum, multiple * self.rhythm[0])

    def guard_facts(self) -> dict[str, Any]:
        bought = self.purchases
        return {"first_purchase_at": bought[0], "last_purchase_at": bought[-1]} if bought else {}

    def purchase_after(self, moment: datetime) -> datetime | None:
        return next((p for p in self.purchases if p > moment), None)

    def signals(self) -> list[ChurnSignal]:
        return complaint_signals(self.facts.complaints, self.t, self.thresholds,
                                 graded_due=self.facts.response_due)

    def recent_csat(self) -> list[int]:
        answers = [score for at, score in self.facts.satisfaction if at <= self.t]
        return answers[-self.thresholds.loyal_survey_count:]


def _rhythm(purchases: Sequence[datetime], thresholds: Thresholds) -> tuple[float, str]:
    """Median days between purchase days (calendar days in each purchase's own offset)."""
    days = sorted({p.date() for p in purchases})
    gaps = [(b - a).days for a, b in pairwise(days)]
    if not gaps:
        return _default_rhythm(thresholds)
    return float(median(gaps)), _rhythm_text(median(gaps))


def _default_rhythm(thresholds: Thresholds) -> tuple[float, str]:
    return thresholds.default_rhythm_days, tr(
        "default rhythm of {days:g} days (fewer than 2 purchase days)").format(
        days=thresholds.default_rhythm_days)


def _rhythm_text(days: float) -> str:
    return tr("its purchase rhythm of {days:g} days").format(days=days)


def _prefix_rhythms(times: Sequence[datetime], thresholds: Thresholds
                    ) -> tuple[list[tuple[float, str]], list[int]]:
    """:func:`_rhythm` and the number of purchase days of every prefix ``times[:count]``,
    in one pass: the distinct days and their gaps are kept sorted as purchases are added
    (a day that lands between known ones, possible across offsets, re-derives the gaps)."""
    default = _default_rhythm(thresholds)
    texts: dict[float, str] = {}
    rhythms, counts = [default], [0]
    days: list[Any] = []
    gaps: list[int] = []
    for moment in times:
        day = moment.date()
        at = bisect_left(days, day)
        if at == len(days):
            if days:
                insort(gaps, (day - days[-1]).days)
            days.append(day)
        elif days[at] != day:
            days.insert(at, day)
            gaps = sorted((b - a).days for a, b in pairwise(days))
        counts.append(len(days))
        if not gaps:
            rhythms.append(default)
            continue
        half = len(gaps) // 2  # statistics.median, on gaps already sorted
        middle = gaps[half] if len(gaps) % 2 else (gaps[half - 1] + gaps[half]) / 2
        value = float(middle)
        text = texts.get(value)
        if text is None:
            text = texts[value] = _rhythm_text(middle)
        rhythms.append((value, text))
    return rhythms, counts


class _Timeline:
    """One customer's facts indexed once: what :class:`_IndexedView` looks things up in.

    Purchases and answers are sorted (:class:`CustomerFacts` sorts them), so
    "the ones up to ``t``" is a prefix found by bisection; the rhythm and the
    number of purchase days of each prefix are computed in one pass when first asked.
    """

    __slots__ = ("_days", "_rhythms", "answer_times", "facts", "scores", "thresholds", "times")

    def __init__(self, facts: CustomerFacts, thresholds: Thresholds) -> None:
        self.facts = facts
        self.thresholds = thresholds
        self.times = facts.purchases
        self.answer_times = [at for at, _ in facts.satisfaction]
        self.scores = [score for _, score in facts.satisfaction]
        self._rhythms: list[tuple[float, str]] = []
        self._days: list[int] = []

    def view(self, t: datetime) -> _IndexedView:
        return _IndexedView(self, t)

    def rhythm(self, count: int) -> tuple[float, str]:
        if not self._rhythms:
            self._rhythms, self._days = _prefix_rhythms(self.times, self.thresholds)
        return self._rhythms[count]

    def purchase_days(self, count: int) -> int:
        if not self._days:
            self._rhythms, self._days = _prefix_rhythms(self.times, self.thresholds)
        return self._days[count]


class _IndexedView(_View):
    """:class:`_View`'s answers looked up in a :class:`_Timeline` (same results, faster)."""

    __slots__ = ("count", "line")

    def __init__(self, line: _Timeline, t: datetime) -> None:  # one per moment: kept flat
        self.facts = line.facts
        self.t = t
        self.thresholds = line.thresholds
        self.line = line
        self.count = bisect_right(line.times, t)

    def limit(self, multiple: float, minimum: float) -> float:
        return max(minimum, multiple * self.line.rhythm(self.count)[0])

    @property
    def purchases(self) -> list[datetime]:
        return list(self.line.times[:self.count])

    def first_purchase(self) -> datetime | None:
        return self.line.times[0] if self.count else None

    def purchase_days(self) -> int:
        return self.line.purchase_days(self.count)

    @property
    def rhythm(self) -> tuple[float, str]:
        return self.line.rhythm(self.count)

    def silence(self) -> float | None:
        return None if not self.count else _days(self.t - self.line.times[self.count - 1])

    def guard_facts(self) -> dict[str, Any]:
        times = self.line.times
        return ({"first_purchase_at": times[0], "last_purchase_at": times[self.count - 1]}
                if self.count else {})

    def purchase_after(self, moment: datetime) -> datetime | None:
        after = bisect_right(self.line.times, moment)
        return self.line.times[after] if after < self.count else None

    def signals(self) -> list[ChurnSignal]:
        if not self.facts.complaints:
            return []
        return super().signals()

    def recent_csat(self) -> list[int]:
        answered = bisect_right(self.line.answer_times, self.t)
        return self.line.scores[:answered][-self.thresholds.loyal_survey_count:]


def decide(state: str, entered_at: datetime, facts: CustomerFacts, t: datetime,
           thresholds: Thresholds = Thresholds(), *,
           final: bool = False) -> Move | None:
    """The move the evidence calls for at moment ``t`` in ``state``, or None.

    ``final`` marks the advance date itself, the only moment at which the
    probability alive (known as of that date only) is consulted.
    """
    return _decide(state, entered_at, _View(facts, t, thresholds), final=final)


def _decide(state: str, entered_at: datetime, view: _View, *, final: bool) -> Move | None:
    if state in COURTSHIP:
        return _first_purchase(state, entered_at, view)
    if state in _LIVE:
        risk = _risk(state, view, final=final)
        if risk is not None:
            return risk
        if state == "won-back":
            return _purchase_move(state, entered_at, view, "settle", "active",
                                  tr("bought again after being won back"))
        if state == "active":
            return _loyalty(view)
        return None
    if state == "at-risk":
        if not view.signals():
            moved = _purchase_move(state, entered_at, view, "recover", "active",
                                   tr("bought again while at risk"))
            if moved is not None:
                return moved
        return _churn(view)
    if state == "churned":
        return _purchase_move(state, entered_at, view, "win_back", "won-back",
                              tr("bought again after churning"))
    return None


def _move(view: _View, event: str, source: str, target: str, rule: str, reason: str,
          evidence: Sequence[str], fields: Mapping[str, Any] | None = None) -> Move:
    return Move(view.facts.customer_id, event, source, target, view.t, rule, reason,
                tuple(evidence), dict(fields or {}), view.guard_facts())


def _first_purchase(state: str, entered_at: datetime, view: _View) -> Move | None:
    first = view.first_purchase()
    if first is None:
        return None
    del entered_at
    return _move(view, "first_purchase", state, "active", "L1",
                 tr("first purchase on {date}").format(date=first.date().isoformat()),
                 ["purchases"])


def _purchase_move(state: str, entered_at: datetime, view: _View, event: str, target: str,
                   what: str) -> Move | None:
    bought = view.purchase_after(entered_at)
    if bought is None:
        return None
    late = "" if bought.date() == view.t.date() else tr(
        " (counted from {date}, when no complaint signal remained)").format(
        date=view.t.date().isoformat())
    return _move(view, event, state, target, "L1",
                 tr("{what}: purchase on {date}{late}").format(
                     what=what, date=bought.date().isoformat(), late=late),
                 ["purchases", "complaints (S7)"] if late else ["purchases"])


def _risk(state: str, view: _View, *, final: bool) -> Move | None:
    thresholds = view.thresholds
    used = ["purchases", "complaints (S7)"]
    signals = view.signals()
    if signals:
        return _move(view, "flag_at_risk", state, "at-risk", "S7",
                     "; ".join(signal.explanation for signal in signals), used)
    silence = view.silence()
    limit = view.limit(thresholds.at_risk_multiple, thresholds.at_risk_min_days)
    rhythm, rhythm_text = view.rhythm
    if silence is not None and silence >= limit:
        return _move(view, "flag_at_risk", state, "at-risk", "L3",
                     _silent(silence, rhythm, rhythm_text, thresholds.at_risk_multiple,
                             thresholds.at_risk_min_days), used)
    p_alive = view.facts.p_alive
    if final and p_alive is not None and p_alive < thresholds.p_alive_threshold:
        return _move(view, "flag_at_risk", state, "at-risk", "L3",
                     tr("probability alive {p:.2f} below {threshold:g} ({source})").format(
                         p=p_alive, threshold=thresholds.p_alive_threshold,
                         source=tr(view.facts.p_alive_source)),
                     [*used, tr(view.facts.p_alive_source)])
    return None


def _silent(silence: float, rhythm: float, rhythm_text: str, multiple: float,
            minimum: float) -> str:
    return tr("silent for {days:.0f} days, {times:.1f}x {rhythm} (threshold {multiple:g}x, at "
              "least {minimum:g} days)").format(days=silence, times=silence / rhythm,
                                                rhythm=rhythm_text, multiple=multiple,
                                                minimum=minimum)


def _loyalty(view: _View) -> Move | None:
    thresholds = view.thresholds
    days = view.purchase_days()
    start = view.facts.acquired_at or view.first_purchase() or view.t
    tenure = _days(view.t - start)
    csat = view.recent_csat()
    if (days < thresholds.loyal_min_purchase_days
            or tenure < thresholds.loyal_min_tenure_days or not csat
            or mean(csat) < thresholds.loyal_min_csat):
        return None
    raw = view.facts.attributes.get(thresholds.loyalty_attribute)
    known = {member.value for member in LoyaltyType}
    if isinstance(raw, str) and raw in known:
        kind, source = LoyaltyType(raw), tr("from attribute {name!r}").format(
            name=thresholds.loyalty_attribute)
    elif thresholds.default_loyalty_type is LoyaltyType.UNKNOWN:
        kind, source = LoyaltyType.UNKNOWN, tr(
            "not known until evidence or a person says; set attribute {name!r}").format(
            name=thresholds.loyalty_attribute)
    else:
        kind, source = thresholds.default_loyalty_type, tr(
            "the configured default; set attribute {name!r} to say otherwise").format(
            name=thresholds.loyalty_attribute)
    return _move(view, "become_loyal", "active", "loyal", "L4",
                 tr("{days} purchase days (at least {min_days}), tenure {tenure:.0f} days (at "
                    "least {min_tenure:g}), mean CSAT {csat:.1f} over the last {answers} answers "
                    "(at least {min_csat:g}); loyalty type {kind} ({source})").format(
                     days=days, min_days=thresholds.loyal_min_purchase_days, tenure=tenure,
                     min_tenure=thresholds.loyal_min_tenure_days, csat=mean(csat),
                     answers=len(csat), min_csat=thresholds.loyal_min_csat,
                     kind=term(kind.value), source=source),
                 ["purchases", "tenure", "satisfaction surveys"],
                 fields={"loyalty_type": kind.value})


def _churn(view: _View) -> Move | None:
    thresholds = view.thresholds
    silence = view.silence()
    limit = view.limit(thresholds.churn_multiple, thresholds.churn_min_days)
    if silence is None or silence < limit:
        return None
    rhythm, rhythm_text = view.rhythm
    sentence = _silent(silence, rhythm, rhythm_text, thresholds.churn_multiple,
                       thresholds.churn_min_days)
    lookback = timedelta(days=thresholds.complaint_lookback_days)
    complained = [c for c in view.facts.complaints
                  if view.t - lookback <= c.opened_at <= view.t
                  and _signalled(c, thresholds, view.facts.response_due)]
    csat = view.recent_csat()
    if complained:
        fields: dict[str, Any] = {"churn_type": ChurnType.NEGLIGENCE.value,
                                  "churn_cause": ChurnCause.SYSTEM.value,
                                  "churn_reasons": ["complaint-not-followed-up"]}
        why = tr("complaint {id} was not answered or followed up in time").format(
            id=complained[-1].id)
    elif csat and mean(csat) <= thresholds.unhappy_csat:
        fields = {"churn_type": ChurnType.NEGLIGENCE.value,
                  "churn_cause": ChurnCause.VALUE.value, "churn_reasons": ["unhappy-with-service"]}
        why = tr("mean CSAT {csat:.1f} of its last answers").format(csat=mean(csat))
    elif thresholds.silent_churn_type is ChurnType.UNKNOWN:
        fields = {"churn_type": ChurnType.UNKNOWN.value,
                  "churn_cause": thresholds.silent_churn_cause.value,
                  "churn_reasons": [UNKNOWN_REASON],
                  "churn_note": tr("no recorded cause; {sentence}").format(sentence=sentence)}
        why = tr("reason unknown: ask the customer why")
    else:
        fields = {"churn_type": thresholds.silent_churn_type.value,
                  "churn_cause": thresholds.silent_churn_cause.value,
                  "churn_reasons": ["other"],
                  "churn_note": tr("no recorded cause; {sentence}").format(sentence=sentence)}
        why = tr("no recorded cause (type and cause are the configured defaults)")
    return _move(view, "churn", "at-risk", "churned", "L3",
                 tr("{sentence}; {why}").format(sentence=sentence, why=why),
                 ["purchases", "complaints (S7)", "satisfaction surveys"], fields=fields)


def _signalled(ticket: Ticket, thresholds: Thresholds,
               graded_due: Mapping[str, datetime | None]) -> bool:
    """Whether the complaint ever raised a signal (past its response or resolution target)."""
    due, _ = response_due(ticket, thresholds, graded_due)
    settle_by = ticket.opened_at + timedelta(days=thresholds.complaint_resolution_days)
    return any(complaint_signals([ticket], moment, thresholds, graded_due=graded_due)
               for moment in (due, settle_by) if moment is not None)


def candidate_times(facts: CustomerFacts, thresholds: Thresholds, *, after: datetime,
                    until: datetime) -> list[datetime]:
    """Every moment in ``[after, until]`` at which a rule's outcome can change, in order."""
    return _candidate_times(facts, thresholds, _Timeline(facts, thresholds).view, after, until)


def _candidate_times(facts: CustomerFacts, thresholds: Thresholds,
                     view_at: Callable[[datetime], _View], after: datetime,
                     until: datetime) -> list[datetime]:
    return sorted({t for t in _moments(facts, thresholds, view_at) if after < t <= until}
                  | {after, until})


def _moments(facts: CustomerFacts, thresholds: Thresholds,
             view_at: Callable[[datetime], _View]) -> Iterator[datetime]:
    yield from facts.purchases
    yield from (at for at, _ in facts.satisfaction)
    for bought in facts.purchases:
        then = view_at(bought)
        for multiple, minimum in ((thresholds.at_risk_multiple, thresholds.at_risk_min_days),
                                  (thresholds.churn_multiple, thresholds.churn_min_days)):
            yield bought + timedelta(days=then.limit(multiple, minimum))
    for ticket in facts.complaints:
        due, _ = response_due(ticket, thresholds, facts.response_due)
        if due is not None:
            yield due
        yield ticket.opened_at + timedelta(days=thresholds.complaint_resolution_days)
        yield ticket.opened_at + timedelta(days=thresholds.complaint_lookback_days)
        yield from (at for at in (ticket.first_response_at, ticket.resolved_at) if at)
    start = facts.acquired_at or (facts.purchases[0] if facts.purchases else None)
    if start is not None:
        yield start + timedelta(days=thresholds.loyal_min_tenure_days)


def plan_moves(state: str, entered_at: datetime, facts: CustomerFacts, as_of: datetime,
               thresholds: Thresholds = Thresholds(), *,
               max_moves: int = 50) -> list[Move]:
    """The moves the evidence calls for from ``state`` up to ``as_of``, in order.

    Each move happens at the moment its evidence appeared (never before the
    previous move); ``max_moves`` bounds one run. The facts are indexed once
    for every moment looked at, and the moments before the purchase that a
    courtship or churned stage waits for are skipped (nothing else moves
    them); :func:`plan_moves_reference` gives the same moves the simple way.
    """
    return _plan(state, entered_at, facts, as_of, thresholds,
                 _Timeline(facts, thresholds).view, max_moves, skip=True)


def plan_moves_reference(state: str, entered_at: datetime, facts: CustomerFacts,
                         as_of: datetime, thresholds: Thresholds = Thresholds(), *,
                         max_moves: int = 50) -> list[Move]:
    """:func:`plan_moves` recomputing every fact from ``facts`` at every moment (slow, plain)."""
    return _plan(state, entered_at, facts, as_of, thresholds,
                 lambda t: _View(facts, t, thresholds), max_moves, skip=False)


def _awaited_purchase(state: str, entered_at: datetime,
                      purchases: Sequence[datetime]) -> datetime | None:
    """The purchase before which no rule can move a courtship or churned stage (None: any
    moment may move it; a time past every purchase when no purchase ever will)."""
    if state in COURTSHIP:
        return purchases[0] if purchases else _NEVER
    if state == "churned":
        after = bisect_right(purchases, entered_at)
        return purchases[after] if after < len(purchases) else _NEVER
    return None


_NEVER = datetime.max.replace(tzinfo=UTC)


def _plan(state: str, entered_at: datetime, facts: CustomerFacts, as_of: datetime,
          thresholds: Thresholds, view_at: Callable[[datetime], _View],
          max_moves: int, *, skip: bool) -> list[Move]:
    moves: list[Move] = []
    purchases = facts.purchases
    awaited = _awaited_purchase(state, entered_at, purchases) if skip else None
    for t in _candidate_times(facts, thresholds, view_at, entered_at, as_of):
        if awaited is not None and t < awaited:
            continue
        view = view_at(t)
        while len(moves) < max_moves:
            move = _decide(state, entered_at, view, final=t == as_of)
            if move is None:
                break
            moves.append(move)
            state, entered_at = move.to_state, move.at
            if skip:
                awaited = _awaited_purchase(state, entered_at, purchases)
    return moves
