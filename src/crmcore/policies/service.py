"""The service policies through a :class:`~crmcore.CRM`: read the book, compute as of a time.

:class:`PolicyService` reads customers, tickets and their status history (the
``ticket`` flow of :mod:`crmcore.transitions`), commitments, interactions,
appointments, contracts and warranties (through :mod:`crmcore.policies.reading`), and
the latest stored grade results (:class:`crmcore.grading.GradeResult`), then runs the
pure policies: the agenda, the compliance report and the SLA clocks.
:meth:`PolicyService.apply_escalations` applies the escalation chains of overdue tasks
once each step (records, owner transfers, ``task.*`` events);
:meth:`PolicyService.record_problems` stores problem records for recurring complaints and
links their incidents; :func:`change_ticket_status` moves a ticket through the transition
door and keeps the ticket record in step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from crmcore.app import CRM
from crmcore.errors import ConfigError
from crmcore.events import DomainEvent
from crmcore.grading import GradeScheme
from crmcore.i18n import tr
from crmcore.model import Ticket, TicketStatus
from crmcore.policies.agenda import (
    AgendaItem,
    Book,
    build_agenda,
    due_escalations,
    graded_ticket_sla,
    order_agenda,
    ticket_slas,
)
from crmcore.policies.assignments import (
    EscalationReport,
    PlannedStep,
    apply_steps,
    task_versions,
)
from crmcore.policies.complaints import ProblemRecord, find_recurring, link_incidents
from crmcore.policies.compliance import ComplianceReport, compliance_report
from crmcore.policies.reading import (
    PeoplePart,
    TaskPart,
    book_of,
    read_people,
    read_tasks,
    through,
    ticket_history,
)
from crmcore.policies.scheme import grades_in_force, policy_scheme
from crmcore.policies.settings import PolicySet
from crmcore.policies.sla import TicketSla
from crmcore.policies.tickets import intervals_from_history, ticket_flow
from crmcore.transitions import Transition, load_state, start_in, transition_in

__all__ = ["PROBLEM_OPENED", "PolicyService", "change_ticket_status"]

_Part = TypeVar("_Part", TaskPart, PeoplePart)

PROBLEM_OPENED = "problem.opened"
"""Event type: a problem record was opened for recurring incidents (data: key, incidents)."""


class PolicyService:
    """The CCPR policies over one CRM.

    ``policies`` defaults to :class:`PolicySet`'s defaults. The grading scheme is
    ``scheme`` (a scheme, a built-in name or a scheme file) or, without it, the one
    :func:`~crmcore.policies.scheme.policy_scheme` chooses (``[run] scheme``, else the
    scheme stored last; none for a book never graded). Grades: ``grades`` when given;
    else each customer's latest stored grade of the scheme
    (:func:`~crmcore.policies.scheme.grades_in_force`). The scheme's follow-up
    principles per grade always apply (G6).

    With ``share_reads`` the book read for an ``as_of`` (:mod:`crmcore.policies.reading`)
    and its grades are kept and reused, and the tasks part is read again only after this
    service stored escalations or problems: for one pass of work such as the daily run
    (escalate, problems, agenda), not for a service kept while others write the book.
    """

    def __init__(self, crm: CRM, policies: PolicySet | None = None, *,
                 scheme: str | GradeScheme | None = None,
                 grades: Mapping[str, str] | None = None, share_reads: bool = False) -> None:
        self.crm = crm
        self.policies = policies or PolicySet()
        self.scheme = scheme
        self.share_reads = share_reads
        self._grades = None if grades is None else dict(grades)
        self._schemes: dict[datetime, GradeScheme | None] = {}
        self._grades_at: dict[datetime, dict[str, str]] = {}
        self._task_parts: dict[datetime, TaskPart] = {}
        self._people_parts: dict[datetime, PeoplePart] = {}

    def grading_scheme(self, as_of: datetime) -> GradeScheme | None:
        """The grading scheme followed as of ``as_of`` (see the class); None for a book
        never graded, when no scheme is named or configured."""
        if as_of not in self._schemes:
            self._schemes[as_of] = policy_scheme(self.crm, self.scheme, as_of=as_of)
        return self._schemes[as_of]

    def grades(self, as_of: datetime) -> dict[str, str]:
        """Customer id -> grade, as described for the class."""
        if self._grades is not None:
            return self._grades
        if as_of in self._grades_at:
            return self._grades_at[as_of]
        scheme = self.grading_scheme(as_of)
        grades = {} if scheme is None else grades_in_force(self.crm, scheme, as_of=as_of)
        if self.share_reads:
            self._grades_at[as_of] = grades
        return grades

    def effective_policies(self, as_of: datetime) -> PolicySet:
        """The policies with the grade order and follow-up principles of the grading scheme
        in use (G6); the SLA rows follow its grades (:meth:`SlaTable.for_grades
        <crmcore.policies.SlaTable.for_grades>`)."""
        scheme = self.grading_scheme(as_of)
        if scheme is None:
            return self.policies
        return self.policies.with_followup(scheme.followup, scheme.grade_names)

    def book(self, as_of: datetime) -> Book:
        """The customer file as of ``as_of`` (inclusive) as a
        :class:`~crmcore.policies.agenda.Book`."""
        return book_of(self.grades(as_of), self._tasks(as_of), self._people(as_of))

    def task_book(self, as_of: datetime) -> Book:
        """The part of :meth:`book` that escalations read (S4, S6): grades, tickets with
        their status intervals, commitments, contracts, warranties and escalation records;
        no customer, interaction or appointment is read."""
        return book_of(self.grades(as_of), self._tasks(as_of))

    def _tasks(self, as_of: datetime) -> TaskPart:
        """The tasks part of the book (kept when reads are shared, until a write here)."""
        return self._kept(self._task_parts, as_of, read_tasks)

    def _people(self, as_of: datetime) -> PeoplePart:
        """The people part of the book (kept when reads are shared)."""
        return self._kept(self._people_parts, as_of, read_people)

    def _kept(self, kept: dict[datetime, _Part], as_of: datetime,
              read: Callable[[CRM, datetime], _Part]) -> _Part:
        """``read(crm, as_of)``, kept in ``kept`` for the next call when reads are shared."""
        if not self.share_reads:
            return read(self.crm, as_of)
        if as_of not in kept:
            kept[as_of] = read(self.crm, as_of)
        return kept[as_of]

    def response_due(self, complaints: Sequence[Ticket], as_of: datetime
                     ) -> dict[str, datetime | None]:
        """By ticket id, when each complaint's first response fell (or falls) due on THE
        clock of lateness (S4, S7): :func:`~crmcore.policies.agenda.graded_ticket_sla`
        with the customer's grade and the ticket's status history; None when it was
        answered in time. The lifecycle evidence reads it (S7: one clock)."""
        if not complaints:
            return {}
        policies = self.effective_policies(as_of)
        grades = self.grades(as_of)
        history = ticket_history(self.crm, complaints, through(as_of))
        due: dict[str, datetime | None] = {}
        for ticket in complaints:
            entries = history.get(ticket.id)
            intervals = intervals_from_history(ticket, entries) if entries else None
            sla = graded_ticket_sla(ticket, grades.get(ticket.customer_id), policies, as_of,
                                    intervals)
            due[ticket.id] = sla.first_response.due_at
        return due

    def agenda(self, as_of: datetime, *, owner: str | None = None) -> list[AgendaItem]:
        """Every owner's due actions (or ``owner``'s), ordered by urgency and grade; with the
        sample opinions to ask of trade-show leads (L2,
        :func:`crmcore.sales.leads.sample_agenda`)."""
        from crmcore.sales.leads import sample_agenda  # sales imports the agenda: import late

        policies = self.effective_policies(as_of)
        items = build_agenda(self.book(as_of), as_of=as_of, policies=policies, owner=owner)
        samples = sample_agenda(self.crm, as_of, owner=owner)
        return order_agenda([*items, *samples], policies.grade_order) if samples else items

    def compliance(self, as_of: datetime, *, customer_id: str | None = None,
                   since: datetime | None = None) -> list[ComplianceReport]:
        """The S8 compliance report of every customer (or of ``customer_id``)."""
        book = self.book(as_of)
        policies = self.effective_policies(as_of)
        chosen = [c for c in book.customers if customer_id is None or c.id == customer_id]
        if customer_id is not None and not chosen:
            raise ConfigError(tr("{key}: {value!r} is not a stored customer").format(
                key="customer", value=customer_id))
        return [compliance_report(c, book, as_of=as_of, policies=policies, since=since)
                for c in chosen]

    def sla(self, as_of: datetime) -> list[TicketSla]:
        """Both SLA clocks of every ticket opened by ``as_of``."""
        return ticket_slas(self.book(as_of), self.effective_policies(as_of), as_of)

    def plan_escalations(self, as_of: datetime) -> list[PlannedStep]:
        """The chain steps reached by ``as_of`` and not yet recorded, with the version of
        each task read before the book (see :meth:`apply_escalations`)."""
        versions = task_versions(self.crm)
        return [PlannedStep(record, versions.get(record.subject))
                for record in due_escalations(self.task_book(as_of), as_of=as_of,
                                              policies=self.effective_policies(as_of))]

    def apply_escalations(self, as_of: datetime, *,
                          plan: list[PlannedStep] | None = None) -> EscalationReport:
        """Apply each escalation step reached by ``as_of`` once (S4, S6).

        Per step, in one transaction: store its :class:`~crmcore.policies.escalation.
        EscalationRecord`, for a transfer write the task's new owner with
        ``expected_version``, and emit ``task.overdue``, ``task.escalated`` or
        ``task.transferred``. Chains continue from the recorded step and climb from the
        original owner; running again does nothing until the next step's delay has
        passed. A task changed since ``plan`` (default: planned now) was made is left
        alone and reported in :attr:`EscalationReport.conflicts`.
        """
        steps = self.plan_escalations(as_of) if plan is None else plan
        report = apply_steps(self.crm, steps, as_of=as_of)
        if report.applied:  # records stored, owners moved: read the tasks again
            self._task_parts.clear()
        return report

    def record_problems(self, as_of: datetime) -> list[ProblemRecord]:
        """Store a problem record for each new cluster of recurring complaints (S7), link
        its incidents, and emit ``problem.opened``; all in one transaction."""
        opened: list[ProblemRecord] = []
        with self.crm.transaction() as work:
            tickets = list(work.repository(Ticket).find(until=through(as_of)))
            problems = work.repository(ProblemRecord)
            seen: set[str] = set()
            while True:  # linking changes what recurs: look again after each problem
                fresh = [p for p in find_recurring(tickets, as_of=as_of,
                                                   rule=self.policies.recurrence)
                         if p.id not in seen and problems.get(p.id) is None]
                if not fresh:
                    break
                problem = fresh[0]
                seen.add(problem.id)
                linked = {t.id: t for t in link_incidents(tickets, problem)}
                problems.add(problem)
                for ticket in linked.values():
                    work.repository(Ticket).replace(ticket)
                tickets = [linked.get(t.id, t) for t in tickets]
                work.emit(DomainEvent(
                    type=PROBLEM_OPENED, occurred_at=self.crm.now(),
                    subject=f"problem:{problem.id}", customer_id=problem.customer_id,
                    data={"key": problem.key, "incidents": list(problem.incident_ids),
                          "summary": problem.summary}))
                opened.append(problem)
        if opened:  # tickets were linked to their problem: read the tasks again
            self._task_parts.clear()
        return opened


_STATUS_FIELDS: dict[str, str] = {TicketStatus.RESOLVED.value: "resolved_at"}


def change_ticket_status(crm: CRM, ticket_id: str, event: str, *, at: datetime, actor: str,
                         reason: str = "", **fields: Any) -> Transition:
    """Apply ``event`` of the ticket flow to a stored ticket through the transition door.

    Starts the flow at the ticket's opening if it has not started, records the history
    entry and event, and stores the ticket with its new status (and ``resolved_at``
    on resolution, ``first_response_at`` on the first move out of ``new``) in the same
    transaction.
    """
    flow = ticket_flow()
    with crm.transaction() as work:
        ticket = work.repository(Ticket).require(ticket_id)
        if load_state(work, flow, ticket_id)[0] is None:
            start_in(work, flow, ticket_id, customer_id=ticket.customer_id,
                     at=ticket.opened_at, actor=actor, reason=tr("ticket recorded"))
        made = transition_in(work, flow, ticket_id, event, at=at, actor=actor, reason=reason,
                             fields=fields or None)
        changes: dict[str, Any] = {"status": TicketStatus(made.state.state)}
        stamp = _STATUS_FIELDS.get(made.state.state)
        if stamp is not None and getattr(ticket, stamp) is None:
            changes[stamp] = at
        if ticket.first_response_at is None and made.entry.from_state == TicketStatus.NEW.value:
            changes["first_response_at"] = at
        work.repository(Ticket).replace(attrs.evolve(ticket, **changes))
    return made
