"""The CCPR compliance report (S8): for one customer, each promise of its policy kept or
broken, with the evidence.

:func:`compliance_report` looks back over a period (90 days by default) and checks:

* S1 – outbound contacts used the customer's preferred channels;
* S3 – every contact at a suitable local hour and day: within contact hours, outside the
  customer's quiet hours, on their best weekdays (:func:`~crmcore.policies.suitable_moment`,
  the rules :func:`~crmcore.policies.plan_contact` plans by),
  none against do-not-contact;
* S2 – the contact cadence of the grade (or the customer's wish) was kept, and a key
  customer (key grade or key tag) got a personal message every week, or as often as the
  customer asked, on the channels they chose (the definitions of
  :mod:`crmcore.policies.care`, as the agenda uses them);
* S4 – every ticket met its SLA targets and every commitment was kept on time;
* S5 – appointments were confirmed in time, reminded, and followed by a return visit;
* S6 – contracts and warranties that expired were acted on before they did;
* S7 – complaints got at least their grade's priority.

A promise with nothing to judge in the period is reported with ``kept`` None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import attrs

from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import Customer, Direction, Interaction, TicketKind
from crmcore.policies.agenda import Book, ticket_slas
from crmcore.policies.appointments import confirm_by
from crmcore.policies.care import contact_every, counts_as_message, key_customer, message_every
from crmcore.policies.complaints import complaint_priority
from crmcore.policies.contact import suitable_moment
from crmcore.policies.grades import grade_or_last
from crmcore.policies.settings import PolicySet
from crmcore.policies.sla import SlaState

__all__ = ["DEFAULT_PERIOD", "ComplianceReport", "PromiseCheck", "compliance_report"]

DEFAULT_PERIOD = timedelta(days=90)
"""How far back the report looks by default."""

_SHOWN = 5


@attrs.frozen
class PromiseCheck:
    """One promise: ``kept`` True, False, or None when there was nothing to judge."""

    rule: str
    promise: str
    kept: bool | None
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON values."""
        return {"rule": self.rule, "promise": self.promise, "kept": self.kept,
                "evidence": list(self.evidence)}


@attrs.frozen
class ComplianceReport:
    """Every promise check of one customer over ``[since, as_of]``, judged at ``grade``
    (the customer's grade in force; None: ungraded, treated as the last grade)."""

    customer_id: str
    since: datetime
    as_of: datetime
    checks: tuple[PromiseCheck, ...]
    grade: str | None = None

    @property
    def broken(self) -> tuple[PromiseCheck, ...]:
        """The promises broken."""
        return tuple(check for check in self.checks if check.kept is False)

    @property
    def kept(self) -> tuple[PromiseCheck, ...]:
        """The promises kept."""
        return tuple(check for check in self.checks if check.kept is True)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON values."""
        return {"customer_id": self.customer_id, "grade": self.grade,
                "since": self.since.isoformat(),
                "as_of": self.as_of.isoformat(), "kept": len(self.kept),
                "broken": len(self.broken), "checks": [c.as_dict() for c in self.checks]}


def _check(rule: str, promise: str, results: Sequence[tuple[bool, str]],
           nothing: str) -> PromiseCheck:
    """Kept when every result is; the evidence lists the failures first, then a count."""
    if not results:
        return PromiseCheck(rule, promise, None, (nothing,))
    failures = [text for ok, text in results if not ok]
    shown = failures[:_SHOWN] + ([tr("... and {count} more").format(
        count=len(failures) - _SHOWN)] if len(failures) > _SHOWN else [])
    summary = tr("{kept} of {count} kept").format(kept=len(results) - len(failures),
                                                  count=len(results))
    if not failures:
        shown = [text for _, text in results[:_SHOWN]]
    return PromiseCheck(rule, promise, not failures, (summary, *shown))


def _largest_gap(times: Iterable[datetime], start: datetime, since: datetime,
                 as_of: datetime) -> tuple[timedelta, datetime, datetime]:
    """The longest span without a contact that reaches into ``[since, as_of]``."""
    points = sorted({start, *(t for t in times if t <= as_of), as_of})
    spans = [(b - a, a, b) for a, b in pairwise(points) if b > since]
    return max(spans, default=(timedelta(0), as_of, as_of))


def _cadence_check(rule: str, promise: str, times: list[datetime], every: int,
                   customer: Customer, since: datetime, as_of: datetime) -> PromiseCheck:
    start = min([customer.acquired_at or since, *times])
    if as_of - max(start, since) < timedelta(days=every) and not times:
        return PromiseCheck(rule, promise, None, (tr("the period is shorter than the cadence"),))
    gap, first, last = _largest_gap(times, start, since, as_of)
    contacts = sum(1 for t in times if since <= t <= as_of)
    evidence = (tr("{contacts} contact(s) in the period; longest gap {days} days ({first} to "
                   "{last}), at most {every} allowed").format(
        contacts=contacts, days=gap.days, first=first.date().isoformat(),
        last=last.date().isoformat(), every=every),)
    return PromiseCheck(rule, promise, gap <= timedelta(days=every), evidence)


def _contact_checks(customer: Customer, contacts: list[Interaction], grade: str | None,
                    policies: PolicySet, since: datetime, as_of: datetime
                    ) -> list[PromiseCheck]:
    preferences = customer.preferences
    window = [c for c in contacts if since <= c.occurred_at <= as_of]
    channels = [(c.channel in preferences.channels,
                 tr("{id} {date} by {channel}").format(id=c.id, date=c.occurred_at.date()
                                                       .isoformat(), channel=term(c.channel.value)))
                for c in window] if preferences.channels else []
    hours = []
    for contact in window:
        suits, why = suitable_moment(customer, contact.occurred_at, channel=contact.channel,
                                     rules=policies.contact)
        hours.append((suits, tr("{id} at {why}").format(id=contact.id, why=why)))
    every, _ = contact_every(customer, grade, policies.care)
    checks = [
        _check("S1", tr("contact the customer on the channels they chose"), channels,
               tr("no outbound contact, or no channel preference")),
        _check("S3", tr("contact at a suitable local hour and day (contact hours, quiet "
                        "hours, best weekdays), never against do-not-contact"), hours,
               tr("no outbound contact in the period")),
        _cadence_check("S2", tr("contact at least every {days} days").format(days=every),
                       [c.occurred_at for c in contacts], every, customer, since, as_of),
    ]
    plan = policies.care
    key = key_customer(customer, grade, plan)
    if key is not None:
        often = message_every(customer, plan)
        checks.append(_cadence_check(
            "S2", tr("a personal message every {days} days (key customer: {key})").format(
                days=often, key=key),
            [c.occurred_at for c in contacts if counts_as_message(c, customer)],
            often, customer, since, as_of))
    return checks


def _service_checks(customer: Customer, book: Book, grade: str | None, policies: PolicySet,
                    since: datetime, as_of: datetime) -> list[PromiseCheck]:
    own = attrs.evolve(book, tickets=[t for t in book.tickets
                                      if t.customer_id == customer.id])
    sla = []
    for ticket_sla in ticket_slas(own, policies, as_of):
        for name, clock in ticket_sla.clocks:
            if clock.state in (SlaState.MET, SlaState.MISSED, SlaState.BREACHED) and \
                    (clock.stopped_at is None or clock.stopped_at >= since):
                sla.append((clock.state is SlaState.MET,
                            tr("{id} {clock}: {state}, {used:.1f}h of {target:.1f}h").format(
                                id=ticket_sla.ticket_id, clock=term(name),
                                state=term(clock.state.value),
                                used=clock.elapsed.total_seconds() / 3600,
                                target=clock.target.total_seconds() / 3600)))
    promises = [(c.fulfilled_at is not None and c.fulfilled_at <= c.due_at,
                 tr("{id} due {due}: {outcome}").format(
                     id=c.id, due=c.due_at.isoformat(),
                     outcome=tr("not kept") if c.fulfilled_at is None else
                     tr("kept {at}").format(at=c.fulfilled_at.isoformat())))
                for c in book.commitments
                if c.customer_id == customer.id and since <= c.due_at <= as_of]
    visits = []
    followed = {a.follows_up for a in book.appointments if a.follows_up}
    for visit in book.appointments:
        if visit.customer_id != customer.id or not since <= visit.starts_at <= as_of or \
                visit.cancelled_at is not None:
            continue
        deadline = confirm_by(visit, policies.calendar, policies.appointments)
        confirmed = visit.confirmed_at is not None and visit.confirmed_at <= deadline
        reminded = visit.reminded_at is not None and visit.reminded_at <= visit.starts_at
        returned = visit.completed_at is None or visit.id in followed
        visits.append((confirmed and reminded and returned,
                       tr("{id} {starts}: {confirmed}, {reminded}, {returned}").format(
                           id=visit.id, starts=visit.starts_at.isoformat(),
                           confirmed=tr("confirmed in time") if confirmed
                           else tr("confirmed late or never"),
                           reminded=tr("reminded") if reminded else tr("not reminded"),
                           returned=tr("return visit planned") if returned
                           else tr("no return visit"))))
    expiring = [(item.acted_at is not None and item.acted_at <= item.expires_at,
                 tr("{id} expired {date}: {outcome}").format(
                     id=item.id, date=item.expires_at.date().isoformat(),
                     outcome=tr("acted on in time") if item.acted_at is not None
                     and item.acted_at <= item.expires_at else tr("nobody acted before expiry")))
                for item in book.expiring
                if item.customer_id == customer.id and since <= item.expires_at <= as_of]
    priorities = policies.complaint_priorities
    floor = grade_or_last(grade, tuple(priorities))
    complaints = []
    for ticket in own.tickets:
        if ticket.kind is TicketKind.COMPLAINT and since <= ticket.opened_at <= as_of:
            wanted, _ = complaint_priority(ticket, grade, priorities)
            complaints.append((wanted == ticket.priority,
                               tr("{id} {priority} (grade {grade} needs at least {wanted})")
                               .format(id=ticket.id, priority=term(ticket.priority.value),
                                       grade=term(floor),
                                       wanted=term(priorities[floor].value))))
    return [
        _check("S4", tr("meet the SLA targets of every ticket"), sla,
               tr("no ticket in the period")),
        _check("S4", tr("keep every promise by its definite time"), promises,
               tr("no promise due in the period")),
        _check("S5", tr("confirm appointments in time, remind, and visit again after service"),
               visits, tr("no appointment in the period")),
        _check("S6", tr("act on contracts and warranties before they expire"), expiring,
               tr("nothing expired in the period")),
        _check("S7", tr("give complaints their grade's priority (A first)"), complaints,
               tr("no complaint in the period")),
    ]


def compliance_report(customer: Customer, book: Book, *, as_of: datetime,
                      policies: PolicySet | None = None,
                      since: datetime | None = None) -> ComplianceReport:
    """The promise checks of ``customer`` over ``[since, as_of]`` (see the module)."""
    policies = policies or PolicySet()
    since = since or as_of - DEFAULT_PERIOD
    grade = book.grades.get(customer.id)
    contacts = sorted((i for i in book.interactions
                       if i.customer_id == customer.id and i.direction is Direction.OUTBOUND
                       and i.occurred_at <= as_of), key=lambda i: i.occurred_at)
    checks = [*_contact_checks(customer, contacts, grade, policies, since, as_of),
              *_service_checks(customer, book, grade, policies, since, as_of)]
    return ComplianceReport(customer.id, since, as_of, tuple(checks), grade)
