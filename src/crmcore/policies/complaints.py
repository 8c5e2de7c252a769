"""Complaints (S7, G6): A customers' complaints first; recurring incidents become problems.

:func:`complaint_priority` raises a complaint's priority to what the customer's grade
deserves (A urgent, B high, C normal, D low by default, or the
``complaint_priority`` of a grading scheme's follow-up policies); it never lowers one.
:func:`complaint_queue` orders open complaints for handling.

:func:`find_recurring` watches for the same incident recurring: ``threshold``
complaints of the same customer, or in the same category, within ``window``. Each
such cluster becomes a :class:`ProblemRecord` (a storable entity, kind ``problem``)
that lists its incidents, so the problem is solved at its cause; the incidents are
linked to it through ``Ticket.problem_id`` (:func:`link_incidents`).

>>> from datetime import UTC, datetime, timedelta
>>> from crmcore.model import Ticket, TicketKind
>>> day = datetime(2026, 3, 2, 10, tzinfo=UTC)
>>> late = [Ticket(id=f"K{n}", customer_id="C1", opened_at=day + timedelta(days=n),
...                kind=TicketKind.COMPLAINT, category="late delivery") for n in range(3)]
>>> [(p.key, p.incident_ids) for p in find_recurring(late, as_of=day + timedelta(days=5))]
[('customer:C1', ('K0', 'K1', 'K2')), ('category:late delivery', ('K0', 'K1', 'K2'))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from crmcore.csv_import import content_id
from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import Priority, Ticket, TicketKind, TicketStatus
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.policies.grades import Grades, grade_or_last, grade_rank
from crmcore.validation import as_tuple, aware_datetime, identifier, int_between, non_empty_text

__all__ = [
    "DEFAULT_COMPLAINT_PRIORITY",
    "PROBLEM",
    "ComplaintPriority",
    "ProblemRecord",
    "RecurrenceRule",
    "complaint_priority",
    "complaint_queue",
    "find_recurring",
    "link_incidents",
    "priorities_from_followup",
]

DEFAULT_COMPLAINT_PRIORITY: dict[str, Priority] = {
    "A": Priority.URGENT, "B": Priority.HIGH, "C": Priority.NORMAL, "D": Priority.LOW}
"""The least priority a complaint gets from its customer's grade."""


class ComplaintPriority(Protocol):
    """What :func:`priorities_from_followup` reads per grade (a G6 follow-up policy)."""

    @property
    def complaint_priority(self) -> Priority | None:
        """The grade's complaint priority, or None to keep the default."""


def priorities_from_followup(policies: Mapping[str, ComplaintPriority],
                             base: Mapping[str, Priority] = DEFAULT_COMPLAINT_PRIORITY
                             ) -> dict[str, Priority]:
    """``base`` with the complaint priorities of G6 follow-up policies per grade."""
    merged = dict(base)
    merged.update({grade: policy.complaint_priority for grade, policy in policies.items()
                   if policy.complaint_priority is not None})
    return merged


def complaint_priority(ticket: Ticket, grade: str | None,
                       by_grade: Mapping[str, Priority] = DEFAULT_COMPLAINT_PRIORITY
                       ) -> tuple[Priority, str]:
    """The priority a complaint should have, and why: the more urgent of its own and its
    grade's (requests keep their own)."""
    if ticket.kind is not TicketKind.COMPLAINT:
        return ticket.priority, "not a complaint: its own priority"
    graded = grade_or_last(grade, tuple(by_grade))
    floor = by_grade[graded]
    if floor.rank < ticket.priority.rank:
        return floor, f"complaint of a grade {graded} customer: at least {floor.value} (S7)"
    return ticket.priority, f"its own priority {ticket.priority.value} is at least grade " \
                            f"{graded}'s {floor.value}"


_OPEN = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING_ON_CUSTOMER,
         TicketStatus.ON_HOLD)


def complaint_queue(tickets: Iterable[Ticket], grades: Grades,
                    by_grade: Mapping[str, Priority] = DEFAULT_COMPLAINT_PRIORITY
                    ) -> list[Ticket]:
    """Open complaints in handling order: priority (after :func:`complaint_priority`),
    then grade (A first), then the oldest first."""
    order = tuple(by_grade)

    def key(ticket: Ticket) -> tuple[int, int, datetime, str]:
        grade = grades.get(ticket.customer_id)
        priority, _ = complaint_priority(ticket, grade, by_grade)
        return priority.rank, grade_rank(grade, order), ticket.opened_at, ticket.id

    return sorted((t for t in tickets
                   if t.kind is TicketKind.COMPLAINT and t.status in _OPEN), key=key)


def _positive_window(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(attribute.name, value, "is not a positive duration")


@attrs.frozen
class RecurrenceRule:
    """``threshold`` complaints within ``window``, grouped ``by`` customer and/or category."""

    threshold: int = attrs.field(default=3, validator=int_between(2))
    window: timedelta = attrs.field(default=timedelta(days=90), validator=_positive_window)
    by: tuple[str, ...] = attrs.field(default=("customer", "category"), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        for name in self.by:
            if name not in ("customer", "category"):
                raise ValidationError("by", name, "is not 'customer' or 'category'")


def _incidents(value: Iterable[str]) -> tuple[str, ...]:
    incidents = tuple(value)
    if not incidents:
        raise ValidationError("incident_ids", incidents, "is empty: a problem has incidents")
    return incidents


@attrs.frozen
class ProblemRecord:
    """A problem to solve at its cause, opened because incidents recur (S7).

    ``key`` is what the incidents share (``customer:C1`` or ``category:billing error``);
    ``customer_id`` is the customer of the first incident (a category problem may
    concern several: ``customer_ids``). ``incident_ids`` are the linked tickets.
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    key: str = attrs.field(validator=non_empty_text)
    opened_at: datetime = attrs.field(validator=aware_datetime)
    incident_ids: tuple[str, ...] = attrs.field(converter=_incidents)
    customer_ids: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    summary: str = ""
    cause: str | None = None
    solved_at: datetime | None = None


PROBLEM = register_entity_type(EntityType("problem", ProblemRecord, "customer_id", "opened_at"))
"""The storable entity kind of :class:`ProblemRecord`."""


def _clusters(tickets: Sequence[Ticket], rule: RecurrenceRule) -> list[list[Ticket]]:
    """The first run of ``threshold`` tickets within ``window`` in a time-ordered group,
    extended by every later ticket within ``window`` of its predecessor."""
    for start in range(len(tickets) - rule.threshold + 1):
        end = start + rule.threshold - 1
        if tickets[end].opened_at - tickets[start].opened_at <= rule.window:
            cluster = list(tickets[start:end + 1])
            for later in tickets[end + 1:]:
                if later.opened_at - cluster[-1].opened_at > rule.window:
                    break
                cluster.append(later)
            return [cluster]
    return []


def find_recurring(tickets: Iterable[Ticket], *, as_of: datetime,
                   rule: RecurrenceRule | None = None) -> list[ProblemRecord]:
    """Problem records for recurring complaints opened by ``as_of`` (see the module).

    Ids are stable (from the key and the first incident), so running again finds the
    same problems; a ticket already linked to a problem is not counted again.
    """
    rule = rule or RecurrenceRule()
    complaints = sorted((t for t in tickets if t.kind is TicketKind.COMPLAINT
                         and t.opened_at <= as_of and t.problem_id is None),
                        key=lambda t: (t.opened_at, t.id))
    groups: dict[str, list[Ticket]] = {}
    for ticket in complaints:
        for dimension in rule.by:
            value = ticket.customer_id if dimension == "customer" else ticket.category
            groups.setdefault(f"{dimension}:{value}", []).append(ticket)
    problems = []
    for key, group in groups.items():
        for cluster in _clusters(group, rule):
            first = cluster[0]
            customers = tuple(dict.fromkeys(t.customer_id for t in cluster))
            problems.append(ProblemRecord(
                id=content_id("PRB-", key, first.id), customer_id=first.customer_id, key=key,
                opened_at=cluster[rule.threshold - 1].opened_at,
                incident_ids=tuple(t.id for t in cluster), customer_ids=customers,
                summary=tr("{count} complaints ({key}) within {days} days: {ids}").format(
                    count=len(cluster), key=key_text(key), days=rule.window.days,
                    ids=", ".join(t.id for t in cluster)),
            ))
    return problems


def key_text(key: str) -> str:
    """A cluster key for people: ``category:billing error`` with the category's word."""
    kind, _, value = key.partition(":")
    return tr("category:{category}").format(category=term(value)) if kind == "category" \
        else key


def link_incidents(tickets: Iterable[Ticket], problem: ProblemRecord) -> list[Ticket]:
    """The problem's incidents with ``problem_id`` set (those not yet linked elsewhere)."""
    wanted = set(problem.incident_ids)
    return [attrs.evolve(t, problem_id=problem.id) for t in tickets
            if t.id in wanted and t.problem_id is None]
