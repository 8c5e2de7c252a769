"""The lead clock (L2): answer within a week (two at most), report progress, convert in 3-8 months.

Every lead is an :class:`~crmcore.model.Opportunity`, whose id is the lead's
identifier, moving through the ``lead`` flow (``received`` -> ``answered`` ->
... -> ``won`` (invoiced) or ``lost``). :func:`lead_clock` is pure: from the
lead's dates it computes what is due and what is late as of a date.
:func:`lead_clock_from_history` reads those dates from the lead flow history
(the ``answer`` and ``report_progress`` events, the entry into a final state).
:func:`lead_row` turns a clock into the labels and ``why`` texts that
:class:`~crmcore.lifecycle.LeadService` lists for every open lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.lifecycle.measures import add_months
from crmcore.model import (
    Direction,
    Interaction,
    Opportunity,
    OpportunityStatus,
    Outcome,
    Transaction,
)
from crmcore.options import Options
from crmcore.transitions import HistoryEntry

CONFIG_PREFIX = "lead_"
"""Lead keys in the configuration's ``[lifecycle]`` table start with this
(``lead_answer_days`` sets :attr:`LeadPolicy.answer_days`), keeping them apart
from the customer thresholds in the same table."""


@attrs.frozen
class LeadPolicy:
    """The L2 numbers: answer within ``answer_days``, overdue at ``overdue_days``;
    a progress report every ``report_every_days`` after the answer; conversion
    expected ``window_months`` after receipt, ``large_extra_months`` later for
    leads worth at least ``large_value``. With ``answer_from_interactions``,
    :class:`~crmcore.lifecycle.LeadService` counts an outbound contact with the
    customer as the answer.

    In the configuration's ``[lifecycle]`` table each field is a key with the
    ``lead_`` prefix; ``window_months`` is ``lead_window_start_months`` and
    ``lead_window_end_months``.
    """

    answer_days: float = 7.0
    overdue_days: float = 14.0
    report_every_days: float = 14.0
    window_months: tuple[int, int] = (3, 8)
    large_value: Decimal | None = None
    large_extra_months: int = 4
    answer_from_interactions: bool = True

    def __attrs_post_init__(self) -> None:
        def fail(key: str, value: object, why: str) -> ConfigError:
            """The refusal of ``key``'s ``value``; ``why`` is already in the catalogue's words."""
            return ConfigError(tr("{field}: {value!r} {reason}").format(
                field=f"lifecycle.{CONFIG_PREFIX}{key}", value=value, reason=why))

        if not self.answer_days > 0:
            raise fail("answer_days", self.answer_days, tr("must be more than 0"))
        if not self.overdue_days >= self.answer_days:
            raise fail("overdue_days", self.overdue_days,
                       tr("must be at least {other} ({minimum!r})").format(
                           other="answer_days", minimum=self.answer_days))
        if not self.report_every_days > 0:
            raise fail("report_every_days", self.report_every_days, tr("must be more than 0"))
        first, last = self.window_months
        if not 0 <= first <= last:
            raise fail("window_end_months", last,
                       tr("must be at least {other} ({minimum!r}), itself at least 0").format(
                           other="window_start_months", minimum=first))
        if self.large_extra_months < 0:
            raise fail("large_extra_months", self.large_extra_months,
                       tr("must not be negative"))
        if self.large_value is not None and self.large_value < 0:
            raise fail("large_value", self.large_value, tr("must not be negative"))

    @classmethod
    def from_options(cls, options: Options) -> LeadPolicy:
        """Read the ``lead_`` keys of a ``[lifecycle]`` table; defaults for absent keys.

        Other keys are left alone: the caller checks the table once every
        reader has read it (:meth:`~crmcore.options.Options.check_all_used`).
        """
        default = cls()

        def key(name: str) -> str:
            return CONFIG_PREFIX + name

        large = options.number(key("large_value"), None)
        try:
            large_value = None if large is None else Decimal(str(large))
        except InvalidOperation:  # nan or inf
            raise ConfigError(tr("{key}: {value!r} is not a finite number").format(
                key=options.key(key("large_value")), value=large)) from None
        return cls(
            answer_days=options.number(key("answer_days"), default.answer_days),
            overdue_days=options.number(key("overdue_days"), default.overdue_days),
            report_every_days=options.number(key("report_every_days"),
                                             default.report_every_days),
            window_months=(
                options.integer(key("window_start_months"), default.window_months[0],
                                minimum=0),
                options.integer(key("window_end_months"), default.window_months[1],
                                minimum=0)),
            large_value=large_value,
            large_extra_months=options.integer(key("large_extra_months"),
                                               default.large_extra_months, minimum=0),
            answer_from_interactions=options.flag(key("answer_from_interactions"),
                                                  default.answer_from_interactions),
        )


@attrs.frozen
class LeadClock:
    """Where one lead stands against the L2 clock as of a date.

    ``answer_status``: ``answered``, ``answered late``, ``due`` or ``overdue``.
    ``report_status``: ``not started`` (not answered yet), ``on schedule``,
    ``overdue`` or ``closed``. ``conversion_status``: ``before window``,
    ``in window``, ``past window``, ``won`` or ``lost``.
    """

    lead_id: str
    received_at: datetime
    answer_due: datetime
    answer_overdue_at: datetime
    answered_at: datetime | None
    answer_status: str
    next_report_due: datetime | None
    report_status: str
    window_start: datetime
    window_end: datetime
    conversion_status: str


def lead_clock(lead_id: str, received_at: datetime, as_of: datetime, *,
               answered_at: datetime | None = None, reports: Sequence[datetime] = (),
               closed_at: datetime | None = None, won: bool | None = None,
               estimated_value: Decimal | None = None,
               policy: LeadPolicy = LeadPolicy()) -> LeadClock:
    """The lead's clock as of ``as_of``.

    ``won`` is True or False once the lead is closed at ``closed_at``.
    The next progress report is due ``report_every_days`` after the answer
    or the latest report, until the lead is closed.
    """
    due = received_at + timedelta(days=policy.answer_days)
    overdue = received_at + timedelta(days=policy.overdue_days)
    answered = answered_at if answered_at is not None and answered_at <= as_of else None
    if answered is not None:
        answer_status = "answered" if answered <= due else "answered late"
    else:
        answer_status = "overdue" if as_of >= overdue else "due"
    closed = closed_at is not None and closed_at <= as_of
    next_report: datetime | None = None
    if closed:
        report_status = "closed"
    elif answered is None:
        report_status = "not started"
    else:
        latest = max([answered, *(r for r in reports if r <= as_of)])
        next_report = latest + timedelta(days=policy.report_every_days)
        report_status = "overdue" if as_of > next_report else "on schedule"
    extra = (policy.large_extra_months if policy.large_value is not None
             and estimated_value is not None and estimated_value >= policy.large_value else 0)
    start = add_months(received_at, policy.window_months[0])
    end = add_months(received_at, policy.window_months[1] + extra)
    if closed:
        conversion = "won" if won else "lost"
    else:
        conversion = ("before window" if as_of < start else "in window" if as_of <= end
                      else "past window")
    return LeadClock(lead_id, received_at, due, overdue, answered, answer_status, next_report,
                     report_status, start, end, conversion)


def lead_clock_from_history(lead: Opportunity, history: Sequence[HistoryEntry],
                            as_of: datetime, policy: LeadPolicy = LeadPolicy()
                            ) -> LeadClock:
    """The clock of ``lead`` from its ``lead`` flow history (or its status, without one).

    Without a history a won or lost opportunity counts as closed on receipt;
    with one, only the history closes it (a won lead stays open until invoiced).
    """
    answered = next((e.at for e in history if e.event == "answer"), None)
    reports = [e.at for e in history if e.event == "report_progress"]
    closing = next((e for e in history if e.to_state in ("won", "lost")), None)
    won: bool | None = None if closing is None else closing.to_state == "won"
    closed_at = None if closing is None else closing.at
    if not history and lead.status is not OpportunityStatus.OPEN:
        won, closed_at = lead.status is OpportunityStatus.WON, lead.received_at
    return lead_clock(lead.id, lead.received_at, as_of, answered_at=answered, reports=reports,
                      closed_at=closed_at, won=won, estimated_value=lead.estimated_value,
                      policy=policy)


WINDOW_LABELS: dict[str, str] = {"before window": "early", "in window": "in window",
                                 "past window": "late"}
"""An open lead's age against its conversion window: clock status -> label."""


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _whole_days(start: datetime, end: datetime) -> int:
    return (end - start).days


@attrs.frozen
class LeadRow:
    """One open lead as of a date: its clock, what is overdue, and why.

    ``window`` is ``early``, ``in window`` or ``late`` (the lead's age against
    its expected conversion window); each ``*_why`` says how a label came about.
    """

    lead_id: str
    customer_id: str
    title: str
    owner: str | None
    state: str
    as_of: datetime
    clock: LeadClock
    answer_why: str
    report_why: str
    window_why: str

    @property
    def answered(self) -> bool:
        """The lead has been answered by ``as_of``."""
        return self.clock.answered_at is not None

    @property
    def answer_overdue(self) -> bool:
        """Not answered within ``overdue_days`` (14 by default)."""
        return self.clock.answer_status == "overdue"

    @property
    def report_overdue(self) -> bool:
        """The next progress report is past its due date."""
        return self.clock.report_status == "overdue"

    @property
    def overdue(self) -> bool:
        """The answer or the progress report is overdue."""
        return self.answer_overdue or self.report_overdue

    @property
    def window(self) -> str:
        """``early``, ``in window`` or ``late``."""
        return WINDOW_LABELS[self.clock.conversion_status]

    @property
    def age_days(self) -> int:
        """Whole days since the lead was received."""
        return _whole_days(self.clock.received_at, self.as_of)

    @property
    def why(self) -> str:
        """The most pressing ``why``: an overdue answer, an overdue report, else the next step."""
        if self.answer_overdue or not self.answered:
            return self.answer_why
        return self.report_why

    def as_json(self) -> dict[str, object]:
        """The row as JSON-ready values (dates as ISO texts)."""
        clock = self.clock

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "lead_id": self.lead_id, "customer_id": self.customer_id, "title": self.title,
            "owner": self.owner, "state": self.state, "as_of": iso(self.as_of),
            "received_at": iso(clock.received_at), "age_days": self.age_days,
            "answered": self.answered, "answered_at": iso(clock.answered_at),
            "answer_status": clock.answer_status, "answer_due": iso(clock.answer_due),
            "answer_overdue_at": iso(clock.answer_overdue_at),
            "answer_overdue": self.answer_overdue, "next_report_due": iso(clock.next_report_due),
            "report_status": clock.report_status, "report_overdue": self.report_overdue,
            "overdue": self.overdue, "window": self.window,
            "window_start": iso(clock.window_start), "window_end": iso(clock.window_end),
            "why": {"answer": self.answer_why, "report": self.report_why,
                    "window": self.window_why},
        }


def lead_row(lead: Opportunity, state: str, clock: LeadClock, as_of: datetime,
             policy: LeadPolicy = LeadPolicy()) -> LeadRow:
    """``lead``'s row as of ``as_of`` from its ``clock``, with the ``why`` texts."""
    return LeadRow(lead.id, lead.customer_id, lead.title, lead.owner, state, as_of, clock,
                   _answer_why(clock, as_of, policy), _report_why(clock, policy),
                   _window_why(lead, clock, as_of, policy))


def _answer_why(clock: LeadClock, as_of: datetime, policy: LeadPolicy) -> str:
    target = tr("target {answer:g} days, at most {overdue:g}").format(
        answer=policy.answer_days, overdue=policy.overdue_days)
    answered = clock.answered_at
    if answered is not None:
        template = (tr("answered late on {day}, {days} days after receipt ({target})")
                    if clock.answer_status == "answered late"
                    else tr("answered on {day}, {days} days after receipt ({target})"))
        return template.format(day=_day(answered),
                               days=_whole_days(clock.received_at, answered), target=target)
    if clock.answer_status == "overdue":
        return tr("not answered {days} days after receipt: overdue since {overdue} "
                  "({target})").format(days=_whole_days(clock.received_at, as_of),
                                       overdue=_day(clock.answer_overdue_at), target=target)
    template = (tr("not answered: past the answer date {due}, overdue on {overdue} ({target})")
                if as_of > clock.answer_due
                else tr("not answered yet: due by {due}, overdue on {overdue} ({target})"))
    return template.format(due=_day(clock.answer_due), overdue=_day(clock.answer_overdue_at),
                           target=target)


def _report_why(clock: LeadClock, policy: LeadPolicy) -> str:
    if clock.report_status == "closed":
        return tr("closed: no more progress reports")
    due = clock.next_report_due
    if due is None:
        return tr("progress reports are scheduled once the lead is answered")
    last = due - timedelta(days=policy.report_every_days)
    since = (tr("the answer on {day}") if last == clock.answered_at
             else tr("the last progress report on {day}")).format(day=_day(last))
    template = (tr("progress report overdue since {day} ({every:g} days after {since})")
                if clock.report_status == "overdue"
                else tr("next progress report due by {day} ({every:g} days after {since})"))
    return template.format(day=_day(due), every=policy.report_every_days, since=since)


def _window_why(lead: Opportunity, clock: LeadClock, as_of: datetime,
                policy: LeadPolicy) -> str:
    first, last = policy.window_months
    large = clock.window_end != add_months(clock.received_at, last)
    months = (tr("{first}-{last} months, +{extra} for a large lead") if large
              else tr("{first}-{last} months")).format(first=first, last=last,
                                                       extra=policy.large_extra_months)
    age = tr("received {days} days ago").format(days=_whole_days(clock.received_at, as_of))
    span = tr("{start} to {end} ({months})").format(
        start=_day(clock.window_start), end=_day(clock.window_end), months=months)
    template = {
        "before window": tr("{age}; conversion expected from {span}"),
        "in window": tr("{age}; inside the expected conversion window {span}"),
        "past window": tr("{age}; past the expected conversion window {span}"),
    }.get(clock.conversion_status, tr("{age}; {status}"))
    text = template.format(age=age, span=span, status=term(clock.conversion_status))
    if lead.status is OpportunityStatus.WON:
        text = tr("{text}; marked won on the opportunity, followed until invoiced").format(
            text=text)
    return text


@attrs.frozen
class LeadMove:
    """A move of a lead that the stored facts call for: event, when, why, fields."""

    lead_id: str
    event: str
    at: datetime
    reason: str
    fields: dict[str, object] = attrs.field(factory=dict)


def _answers(contact: Interaction) -> bool:
    return contact.direction is Direction.OUTBOUND and contact.outcome is not Outcome.NO_ANSWER


def plan_lead_moves(lead: Opportunity, state: str, entered_at: datetime, as_of: datetime, *,
                    interactions: Iterable[Interaction] = (),
                    purchases: Iterable[Transaction] = (),
                    policy: LeadPolicy = LeadPolicy()) -> tuple[list[LeadMove], str | None]:
    """The moves of ``lead`` (in ``state`` since ``entered_at``) as of ``as_of``, and a note.

    - ``answer``: with ``policy.answer_from_interactions``, the first outbound
      contact with the customer (any outcome but no answer) on or after the
      receipt answers a ``received`` lead;
    - ``win``: a lead marked won is invoiced by the customer's first purchase on
      or after the receipt (its reference, else its id, is the ``invoice_id``);
      without one it stays open (the note says so): L2 follows it until invoiced;
    - ``lose``: a lead marked lost is closed as of ``as_of`` (the opportunity
      stores no closing date), its concerns in the ``lost_reason``.

    Interactions and purchases are the lead's customer's. Nothing is planned for
    a closed lead, or one whose state was entered after ``as_of``.
    """
    if state in ("won", "lost") or entered_at > as_of or lead.received_at > as_of:
        return [], None
    close, note = _closing(lead, entered_at, as_of, purchases)
    moves: list[LeadMove] = []
    if state == "received" and policy.answer_from_interactions:
        start = max(lead.received_at, entered_at)
        contact = min((c for c in interactions
                       if _answers(c) and start <= c.occurred_at <= as_of),
                      key=lambda c: (c.occurred_at, c.id), default=None)
        if contact is not None and (close is None or contact.occurred_at <= close.at):
            after = _whole_days(lead.received_at, contact.occurred_at)
            moves.append(LeadMove(
                lead.id, "answer", contact.occurred_at,
                tr("L2: outbound {kind} {id} with {customer} on {day}, {days} days after the "
                   "lead was received").format(
                    kind=term(contact.kind.value), id=contact.id, customer=lead.customer_id,
                    day=_day(contact.occurred_at), days=after)))
    if close is not None:
        moves.append(close)
    return moves, note


def _closing(lead: Opportunity, entered_at: datetime, as_of: datetime,
             purchases: Iterable[Transaction]) -> tuple[LeadMove | None, str | None]:
    if lead.status is OpportunityStatus.LOST:
        lost = (tr("marked lost on opportunity {id}; concerns: {concerns}") if lead.concerns
                else tr("marked lost on opportunity {id}")).format(
            id=lead.id, concerns=", ".join(lead.concerns))
        return LeadMove(
            lead.id, "lose", as_of,
            tr("L2: opportunity {id} is marked lost; it stores no closing date, so the loss is "
               "recorded as of {day}").format(id=lead.id, day=_day(as_of)),
            {"lost_reason": lost}), None
    if lead.status is not OpportunityStatus.WON:
        return None, None
    invoice = min((p for p in purchases if lead.received_at <= p.occurred_at <= as_of),
                  key=lambda p: (p.occurred_at, p.id), default=None)
    if invoice is None:
        return None, tr("marked won on the opportunity, but {customer} has no purchase "
                        "(invoice) since {day}: followed until invoiced").format(
            customer=lead.customer_id, day=_day(lead.received_at))
    return LeadMove(
        lead.id, "win", max(invoice.occurred_at, entered_at),
        tr("L2: opportunity {id} is won, invoiced by purchase {purchase} on {day} (the "
           "customer's first since the lead was received)").format(
            id=lead.id, purchase=invoice.id, day=_day(invoice.occurred_at)),
        {"invoice_id": invoice.reference or invoice.id}), None
