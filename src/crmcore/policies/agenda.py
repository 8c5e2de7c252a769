"""The daily agenda: each owner's due actions as of a moment, most urgent first, with why.

:func:`build_agenda` applies every service policy of a :class:`~crmcore.policies.
settings.PolicySet` to a :class:`Book` (the customer file as plain values) and returns
:class:`AgendaItem` values: SLA breaches and the escalations they trigger, warnings
before a breach, promises due or overdue, appointment confirmations, reminders and
return visits, expiring contracts and warranties, recurring complaints, contacts,
nurture goals of the grade (G6), personal messages and greetings. Each says why it is
due. Items are ordered by urgency (the order of :class:`ActionKind`), then grade (A
first), then due time.

Escalations follow the stored :class:`~crmcore.policies.escalation.EscalationRecord`
history of each task (:attr:`Book.escalations`): who holds it now, at which step, since
when. :func:`due_escalations` lists the chain steps reached and not yet recorded, for
:meth:`~crmcore.policies.PolicyService.apply_escalations` to store.

It reads no clock and no storage; :class:`crmcore.policies.service.PolicyService`
feeds it from a :class:`~crmcore.CRM`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import (
    Commitment,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    SurveyResponse,
    Ticket,
)
from crmcore.policies.appointments import Appointment, appointment_actions
from crmcore.policies.care import (
    MESSAGE_KINDS,
    CareDue,
    contact_due,
    contact_every,
    counts_as_message,
    greetings_due,
    personal_message_due,
)
from crmcore.policies.complaints import complaint_priority, find_recurring
from crmcore.policies.contact import ContactRefusedError, plan_contact
from crmcore.policies.escalation import (
    EscalationChain,
    EscalationRecord,
    Task,
    escalation,
    next_step,
    task_of_commitment,
)
from crmcore.policies.expiry import Contract, Warranty, expiry_task
from crmcore.policies.grades import Grades, grade_rank
from crmcore.policies.settings import PolicySet
from crmcore.policies.sla import SlaClock, SlaState, TicketSla, ticket_sla
from crmcore.policies.thanks import thank_you_letters
from crmcore.policies.tickets import StatusInterval
from crmcore.policies.visits import lateness_actions, outcome_actions

__all__ = [
    "MESSAGE_KINDS",
    "UNASSIGNED",
    "ActionKind",
    "AgendaItem",
    "Book",
    "UnexplainedChurn",
    "build_agenda",
    "due_escalations",
    "escalating_tasks",
    "graded_ticket_sla",
    "order_agenda",
    "ticket_slas",
]

UNASSIGNED = "(unassigned)"
"""The owner shown for actions nobody owns."""


class ActionKind(StrEnum):
    """What an agenda item asks for, most urgent first."""

    BREACH = "breach"
    ESCALATION = "escalation"
    OVERDUE = "overdue"
    WARNING = "warning"
    PROBLEM = "problem"
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    PROMISE = "promise"
    EXPIRY = "expiry"
    CALL_AHEAD = "call_ahead"
    RETURN_VISIT = "return_visit"
    RECORD_OUTCOME = "record_outcome"
    THANK_YOU = "thank_you"
    CONTACT = "contact"
    NURTURE = "nurture"
    ASK_WHY = "ask_why"
    PERSONAL_MESSAGE = "personal_message"
    GREETING = "greeting"

    @property
    def urgency(self) -> int:
        """0 for the most urgent kind."""
        return _URGENCY[self]


_URGENCY: dict[ActionKind, int] = {kind: rank for rank, kind in enumerate(ActionKind)}


@attrs.frozen
class AgendaItem:
    """One due action: for ``owner``, about ``subject`` (``ticket:T1``...) of a customer."""

    owner: str
    kind: ActionKind
    customer_id: str
    subject: str
    due_at: datetime
    grade: str | None
    why: str
    recorded: EscalationRecord | None = None
    """For an overdue task, the last step of its chain applied and stored."""

    def as_dict(self) -> dict[str, Any]:
        """The item as JSON values; ``escalation`` is the recorded state (or None)."""
        step = self.recorded
        return {"owner": self.owner, "kind": str(self.kind), "customer_id": self.customer_id,
                "subject": self.subject, "due_at": self.due_at.isoformat(),
                "grade": self.grade, "why": self.why,
                "escalation": None if step is None else {
                    "step": step.step, "role": step.role, "action": step.action.value,
                    "holder": step.to_owner, "since": step.at.isoformat(),
                    "original_owner": step.original_owner}}


@attrs.frozen
class Book:
    """The customer file the agenda reads; ``intervals`` are ticket status histories by
    ticket id (tickets without one are read from their own fields); ``escalations`` the
    stored escalation records by task subject (``ticket:T1``), in the order applied
    (:func:`~crmcore.policies.escalation.history_of`)."""

    customers: Sequence[Customer]
    grades: Grades = attrs.field(factory=dict)
    tickets: Sequence[Ticket] = ()
    intervals: Mapping[str, Sequence[StatusInterval]] = attrs.field(factory=dict)
    commitments: Sequence[Commitment] = ()
    interactions: Sequence[Interaction] = ()
    appointments: Sequence[Appointment] = ()
    expiring: Sequence[Contract | Warranty] = ()
    escalations: Mapping[str, Sequence[EscalationRecord]] = attrs.field(factory=dict)
    unpaid: Mapping[str, str] = attrs.field(factory=dict)
    """The unpaid balance of customers with appointments, by customer id, as the text their
    appointment items show (S5, M4: :mod:`crmcore.sales.receivables_agenda`)."""
    unexplained_churns: Sequence[UnexplainedChurn] = ()
    surveys: Sequence[SurveyResponse] = ()


@attrs.frozen
class UnexplainedChurn:
    """A churn recorded with its reason unknown (inferred from silence): someone has to ask
    the customer why (L3: 问清楚原因, 分析客户流失原因)."""

    customer_id: str
    churned_at: datetime
    note: str = ""


def order_agenda(items: Iterable[AgendaItem], grade_order: Sequence[str]) -> list[AgendaItem]:
    """Urgency first, then grade (best first), then due time, customer and subject."""
    found = list(items)
    ranks = {grade: grade_rank(grade, grade_order)  # once per grade, not once per item
             for grade in {item.grade for item in found}}
    urgency = _URGENCY
    return sorted(found, key=lambda i: (urgency[i.kind], ranks[i.grade], i.due_at,
                                        i.customer_id, i.subject, i.owner))


def graded_ticket_sla(ticket: Ticket, grade: str | None, policies: PolicySet,
                      as_of: datetime, intervals: Sequence[StatusInterval] | None = None
                      ) -> TicketSla:
    """Both SLA clocks of ``ticket`` as of ``as_of``: THE clock of lateness (S4, S7).

    Business time of ``policies.calendar``, targets by the customer's ``grade``, and a
    complaint timed at the priority its grade gives it (A customers' complaints
    first). The agenda, the compliance report and anyone asking whether a complaint
    was answered late read this one clock.
    """
    priority, _ = complaint_priority(ticket, grade, policies.complaint_priorities)
    return ticket_sla(attrs.evolve(ticket, priority=priority), policies.calendar, as_of,
                      grade=grade, policy=policies.sla, intervals=intervals)


def ticket_slas(book: Book, policies: PolicySet, as_of: datetime) -> list[TicketSla]:
    """:func:`graded_ticket_sla` of every ticket opened by ``as_of``."""
    return [graded_ticket_sla(ticket, book.grades.get(ticket.customer_id), policies, as_of,
                              book.intervals.get(ticket.id))
            for ticket in book.tickets if ticket.opened_at <= as_of]


@attrs.frozen
class _Chained:
    """An overdue (or soon due) task with the chain it climbs and the rule it serves."""

    task: Task
    chain: EscalationChain
    rule: str
    what: str


def _late_tasks(book: Book, policies: PolicySet, as_of: datetime,
                slas: Sequence[TicketSla]) -> Iterator[_Chained]:
    for sla in slas:
        for name, clock in sla.clocks:
            if clock.state is SlaState.BREACHED and clock.due_at is not None:
                yield _Chained(Task("ticket", sla.ticket_id, sla.customer_id, sla.owner,
                                    clock.due_at, what=name, clock=name), policies.chain, "S4",
                               tr("{clock}; breached {due}").format(
                                   clock=_clock_text(name, clock, sla),
                                   due=clock.due_at.isoformat()))
    for commitment in book.commitments:
        if (commitment.fulfilled_at is None or commitment.fulfilled_at > as_of) and \
                commitment.due_at <= as_of:
            yield _Chained(task_of_commitment(commitment), policies.chain, "S4",
                           _promised(commitment))
    for item in book.expiring:
        task = expiry_task(item, policies.expiry)
        yield _Chained(task, policies.expiry.chain, "S6",
                       tr("{what}: act before it expires (S6)").format(what=task.what))


def escalating_tasks(book: Book, policies: PolicySet, as_of: datetime) -> list[Task]:
    """Every task the agenda may escalate as of ``as_of``: breached ticket SLA clocks,
    overdue commitments, contracts and warranties past their reminder date (acted-on
    ones included: their chain ends by itself)."""
    slas = ticket_slas(book, policies, as_of)
    return [chained.task for chained in _late_tasks(book, policies, as_of, slas)]


def due_escalations(book: Book, *, as_of: datetime, policies: PolicySet | None = None
                    ) -> list[EscalationRecord]:
    """The chain steps reached by ``as_of`` and not yet in :attr:`Book.escalations`, one per
    task and clock, as records to store (:func:`~crmcore.policies.escalation.next_step`)."""
    policies = policies or PolicySet()
    due = []
    for chained in _late_tasks(book, policies, as_of, ticket_slas(book, policies, as_of)):
        step = next_step(chained.task, chained.chain, policies.calendar, policies.lines,
                         as_of=as_of, history=book.escalations.get(chained.task.subject, ()),
                         rule=chained.rule)
        if step is not None:
            due.append(step)
    return due


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}h"


def _clock_text(name: str, clock: SlaClock, sla: TicketSla) -> str:
    paused = tr(", {hours} paused").format(hours=_hours(clock.paused)) if clock.paused else ""
    return tr("{clock} target {target} (grade {grade}, {priority}): {used} business time used"
              "{paused}").format(clock=term(name), target=_hours(clock.target),
                                 grade=term(sla.grade or "ungraded"),
                                 priority=term(sla.priority.value), used=_hours(clock.elapsed),
                                 paused=paused)


def _promised(commitment: Commitment) -> str:
    return tr("promised {what!r} by {due} (S4)").format(what=commitment.description,
                                                       due=commitment.due_at.isoformat())


class _Collector:
    """Builds the items; one method per policy."""

    def __init__(self, book: Book, policies: PolicySet, as_of: datetime) -> None:
        self.book = book
        self.policies = policies
        self.as_of = as_of
        self.owners = {c.id: c.owner for c in book.customers}
        self.slas = ticket_slas(book, policies, as_of)
        self.items: list[AgendaItem] = []
        self.suggested: dict[ContactPreferences, str] = {}
        """The contact suggestion by preferences: customers who share them share it."""
        self.nurture_why: dict[str | None, str | None] = {}
        """The nurture goal's text by grade (None: the grade has none)."""
        self.greetings: dict[ContactPreferences, list[CareDue]] = {}
        """The greetings due by preferences: they depend on nothing else of a customer."""
        self.every: dict[tuple[int | None, str | None], tuple[int, str]] = {}
        """:func:`~crmcore.policies.care.contact_every` by wanted days and grade."""

    def add(self, owner: str | None, kind: ActionKind, customer_id: str, subject: str,
            due_at: datetime, why: str, recorded: EscalationRecord | None = None) -> None:
        self.items.append(AgendaItem(owner or self.owners.get(customer_id) or UNASSIGNED,
                                     kind, customer_id, subject, due_at,
                                     self.book.grades.get(customer_id), why, recorded))

    def late(self) -> None:
        """Overdue tasks and their escalations (S4, S6), as recorded so far."""
        for chained in _late_tasks(self.book, self.policies, self.as_of, self.slas):
            self.overdue(chained)

    def overdue(self, chained: _Chained) -> None:
        """The holder's overdue item and the escalation reached, climbing from the original
        owner; with the step recorded last (who holds the task now, since when)."""
        task, what = chained.task, chained.what
        history = [r for r in self.book.escalations.get(task.subject, ()) if r.at <= self.as_of]
        original = history[0].original_owner if history else task.owner
        found = escalation(attrs.evolve(task, owner=original), chained.chain,
                           self.policies.calendar, self.policies.lines, as_of=self.as_of)
        if found is None:
            return
        mine = [r for r in history if r.clock == task.clock]
        recorded = mine[-1] if mine else None
        holder = task.owner or self.owners.get(task.customer_id) or UNASSIGNED
        notes = [] if recorded is None else \
            [tr("at step {step} ({role}) since {since} UTC, held by {holder}").format(
                step=recorded.step, role=term(recorded.role),
                since=recorded.at.astimezone(UTC).strftime('%Y-%m-%d %H:%M'), holder=holder)]
        pending = recorded is None or recorded.step < found.level
        if pending and found.assignee not in (original, task.owner):
            notes.append(tr("to be transferred to {person} (not applied yet)").format(
                person=found.assignee))
        state = "".join(f"{note}; " for note in notes)
        if chained.rule == "S6":
            level = "" if not found.level else \
                tr("; nobody acted: up to the {role} (level {level})").format(
                    role=term(found.step.role), level=found.level)
            self.add(found.person, ActionKind.EXPIRY, task.customer_id, task.subject,
                     found.since, f"{state}{what}{level}", recorded)
            return
        self.add(task.owner, ActionKind.OVERDUE if task.kind != "ticket" else ActionKind.BREACH,
                 task.customer_id, task.subject, task.due_at, f"{state}{what}", recorded)
        if found.level:
            self.add(found.person, ActionKind.ESCALATION, task.customer_id, task.subject,
                     found.since, tr("{state}{why} ({role}, level {level}): {what}").format(
                         state=state, why=found.why, role=term(found.step.role),
                         level=found.level, what=what), recorded)

    def tickets(self) -> None:
        for sla in self.slas:
            for name, clock in sla.clocks:
                if clock.state is SlaState.WARNING and clock.threshold is not None:
                    moment = clock.warn_moments[self.policies.sla.warn_at.index(clock.threshold)]
                    due = "" if clock.due_at is None else \
                        tr("; due {due}").format(due=clock.due_at.isoformat())
                    paused = tr(" (paused)") if clock.is_paused else ""
                    self.add(sla.owner, ActionKind.WARNING, sla.customer_id,
                             f"ticket:{sla.ticket_id}", moment or self.as_of,
                             tr("{share:.0%} of the {clock}{due}{paused}").format(
                                 share=clock.threshold, clock=_clock_text(name, clock, sla),
                                 due=due, paused=paused))

    def commitments(self) -> None:
        notice = self.policies.appointments.notice
        for commitment in self.book.commitments:
            if commitment.fulfilled_at is not None and commitment.fulfilled_at <= self.as_of:
                continue
            if self.as_of < commitment.due_at <= self.as_of + notice:
                self.add(commitment.owner, ActionKind.PROMISE, commitment.customer_id,
                         f"commitment:{commitment.id}", commitment.due_at,
                         _promised(commitment))

    def appointments(self) -> None:
        followed = {a.follows_up for a in self.book.appointments if a.follows_up}
        kinds = {"confirmation": ActionKind.CONFIRMATION, "reminder": ActionKind.REMINDER,
                 "return_visit": ActionKind.RETURN_VISIT, "call_ahead": ActionKind.CALL_AHEAD,
                 "record_outcome": ActionKind.RECORD_OUTCOME}
        for appointment in self.book.appointments:
            for due in (*appointment_actions(appointment, self.policies.calendar,
                                             as_of=self.as_of, policy=self.policies.appointments,
                                             followed_up=followed),
                        *lateness_actions(appointment, as_of=self.as_of),
                        *outcome_actions(appointment, as_of=self.as_of)):
                unpaid = self.book.unpaid.get(due.customer_id)
                check = tr("; unpaid balance {unpaid}: check it before the visit (S5, M4)")\
                    .format(unpaid=unpaid) if unpaid else ""
                self.add(due.owner, kinds[due.kind], due.customer_id,
                         f"appointment:{due.appointment_id}", due.due_at, due.why + check)

    def problems(self) -> None:
        by_id = {t.id: t for t in self.book.tickets}
        for problem in find_recurring(self.book.tickets, as_of=self.as_of,
                                      rule=self.policies.recurrence):
            last = by_id[problem.incident_ids[-1]]
            self.add(last.owner, ActionKind.PROBLEM, problem.customer_id,
                     f"problem:{problem.id}", problem.opened_at,
                     tr("recurring incident: {summary}; open a problem record and solve it at "
                        "its cause (S7)").format(summary=problem.summary))

    def care(self) -> None:
        last_contact: dict[str, datetime] = {}
        last_message: dict[str, datetime] = {}
        customers = {c.id: c for c in self.book.customers}
        for interaction in self.book.interactions:
            customer = customers.get(interaction.customer_id)
            if customer is None or interaction.direction is not Direction.OUTBOUND or \
                    interaction.occurred_at > self.as_of:
                continue
            for latest, counts in ((last_contact, True),
                                   (last_message, counts_as_message(interaction, customer))):
                previous = latest.get(interaction.customer_id)
                if counts and (previous is None or interaction.occurred_at > previous):
                    latest[interaction.customer_id] = interaction.occurred_at
        plan = self.policies.care
        for customer in self.book.customers:
            grade = self.book.grades.get(customer.id)
            subject = f"customer:{customer.id}"
            every = (customer.preferences.contact_every_days, grade)
            if every not in self.every:
                self.every[every] = contact_every(customer, grade, plan)
            due = contact_due(customer, grade, last_contact.get(customer.id), as_of=self.as_of,
                              plan=plan, cadence=self.every[every])
            if due is not None:
                self.add(customer.owner, ActionKind.CONTACT, customer.id, subject, due.due_at,
                         f"{due.why}; {self._how(customer)}")
                self.nurture(customer, grade, due.due_at)
            due = personal_message_due(customer, grade, last_message.get(customer.id),
                                       as_of=self.as_of, plan=plan)
            if due is not None:
                self.add(customer.owner, ActionKind.PERSONAL_MESSAGE, customer.id, subject,
                         due.due_at, tr("{why}; write it one by one, signed by you (S2)")
                         .format(why=due.why))
            if customer.preferences not in self.greetings:
                self.greetings[customer.preferences] = greetings_due(
                    customer, as_of=self.as_of, plan=plan, holidays=self.policies.holidays)
            for greeting in self.greetings[customer.preferences]:
                self.add(customer.owner, ActionKind.GREETING, customer.id, subject,
                         greeting.due_at, tr("greet: {why}").format(why=greeting.why))

    def nurture(self, customer: Customer, grade: str | None, due_at: datetime) -> None:
        """With a due contact, the scheme's nurture goal for the grade (G6: B toward A)."""
        if grade not in self.nurture_why:
            toward = self.policies.nurture.get(grade) if grade is not None else None
            self.nurture_why[grade] = None if toward is None else tr(
                "grade {grade}: nurture toward {toward} (G6): learn their needs and what "
                "would make them {toward}; find causes, improve service").format(
                grade=term(grade or ""), toward=term(toward))
        why = self.nurture_why[grade]
        if why is not None:
            self.add(customer.owner, ActionKind.NURTURE, customer.id, f"customer:{customer.id}",
                     due_at, why)

    def thanks(self) -> None:
        """Thank-you letters for feedback, signed by a senior person (S2)."""
        plan = self.policies.care
        for letter in thank_you_letters(
                self.book.surveys, self.book.tickets, self.book.interactions, as_of=self.as_of,
                owners=self.owners, lines=self.policies.lines,
                within=timedelta(days=plan.thank_you_within_days),
                lookback=timedelta(days=plan.thank_you_lookback_days)):
            self.add(letter.owner, ActionKind.THANK_YOU, letter.customer_id, letter.subject,
                     letter.due_at, letter.why)

    def churns(self) -> None:
        """Each churn whose reason is unknown: call or visit to learn why (L3)."""
        ask_within = self.policies.care.ask_why_within
        for churn in self.book.unexplained_churns:
            if churn.churned_at <= self.as_of:
                self.add(None, ActionKind.ASK_WHY, churn.customer_id,
                         f"customer:{churn.customer_id}", churn.churned_at + ask_within,
                         tr("churned {date} with its reason unknown: call or visit to ask why "
                            "they left, then record the answer (crmcore lifecycle move {id} "
                            "explain_churn) (L3)").format(date=churn.churned_at.date().isoformat(),
                                                          id=churn.customer_id))

    def _how(self, customer: Customer) -> str:
        known = self.suggested.get(customer.preferences)
        if known is not None:
            return known
        try:
            slot = plan_contact(customer, self.as_of, rules=self.policies.contact)
        except ContactRefusedError as error:
            return str(error)  # names the customer: not shared
        how = self.suggested[customer.preferences] = tr("suggested: {why}").format(why=slot.why)
        return how

    def collect(self) -> Iterator[AgendaItem]:
        for step in (self.late, self.tickets, self.commitments, self.appointments,
                     self.problems, self.care, self.thanks, self.churns):
            step()
        return iter(self.items)


def build_agenda(book: Book, *, as_of: datetime, policies: PolicySet | None = None,
                 owner: str | None = None) -> list[AgendaItem]:
    """Every due action as of ``as_of``, ordered (see the module); only ``owner``'s if given."""
    policies = policies or PolicySet()
    items = _Collector(book, policies, as_of).collect()
    return order_agenda((i for i in items if owner is None or i.owner == owner),
                        policies.grade_order)
