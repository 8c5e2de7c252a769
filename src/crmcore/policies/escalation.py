"""Escalation chains (S4: tasks not done in time are transferred or escalated automatically).

A task (a commitment, an SLA clock, an expiry reminder) has an owner and a due moment.
When it is not done by then, an :class:`EscalationChain` says who hears of it and
when: each :class:`EscalationStep` is reached a delay of *business* time after the due
moment and climbs one level of the reporting lines (owner -> supervisor -> manager).
An ``escalate`` step tells the next person while the owner keeps the task; a
``transfer`` step hands the task to that person.

>>> from datetime import UTC, datetime, timedelta
>>> from crmcore.service import BusinessCalendar
>>> office = BusinessCalendar("office", "UTC", {d: ["09:00-17:00"] for d in range(5)})
>>> lines = ReportingLines({"li.wei": "zhang.min", "zhang.min": "anna.berg"})
>>> task = Task("promise", "P1", "C1", "li.wei", due_at=datetime(2026, 3, 2, 16, tzinfo=UTC))
>>> found = escalation(task, DEFAULT_CHAIN, office, lines,
...                    as_of=datetime(2026, 3, 3, 10, tzinfo=UTC))
>>> found.step.role, found.person, found.since.isoformat()
('supervisor', 'zhang.min', '2026-03-03T10:00:00+00:00')

Applying a step stores an :class:`EscalationRecord` (kind ``escalation``); the next
step is then decided by :func:`next_step` from the recorded history: the chain climbs
from the *original* owner and continues after the last recorded step, whoever holds
the task now.

>>> step = next_step(task, DEFAULT_CHAIN, office, lines, as_of=datetime(2026, 3, 3, 10, tzinfo=UTC))
>>> step.step, step.role, step.from_owner, step.to_owner, step.person
(1, 'supervisor', 'li.wei', 'li.wei', 'zhang.min')
>>> next_step(task, DEFAULT_CHAIN, office, lines, history=[step],
...           as_of=datetime(2026, 3, 3, 15, tzinfo=UTC)) is None      # manager after 8h
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import Commitment
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.service import BusinessCalendar
from crmcore.validation import (
    aware_datetime,
    identifier,
    non_empty_text,
    optional_aware_datetime,
)

__all__ = [
    "DEFAULT_CHAIN",
    "ESCALATION",
    "Escalation",
    "EscalationAction",
    "EscalationChain",
    "EscalationRecord",
    "EscalationStep",
    "Hierarchy",
    "ReportingLines",
    "Task",
    "escalation",
    "history_of",
    "next_step",
    "task_of_commitment",
]


class EscalationAction(StrEnum):
    """What reaching a step does."""

    NOTIFY = "notify"
    """Remind the person of this level (the owner, at the first step)."""
    ESCALATE = "escalate"
    """Tell the person of this level; the task stays where it is."""
    TRANSFER = "transfer"
    """Hand the task to the person of this level."""


def _not_negative(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(attribute.name, value, "is not a non-negative duration")


@attrs.frozen
class EscalationStep:
    """Reached ``after`` business time past the due moment; ``role`` names the level."""

    role: str = attrs.field(validator=non_empty_text)
    after: timedelta = attrs.field(validator=_not_negative)
    action: EscalationAction = EscalationAction.ESCALATE


def _steps(value: Iterable[EscalationStep]) -> tuple[EscalationStep, ...]:
    steps = tuple(value)
    if not steps:
        raise ValidationError("steps", steps, "is empty: a chain has at least one step")
    for index in range(1, len(steps)):
        if steps[index].after < steps[index - 1].after:
            raise ValidationError(f"steps[{index}].after", steps[index].after,
                                  "is earlier than the step before it")
    return steps


@attrs.frozen
class EscalationChain:
    """Steps in order; step ``i`` climbs ``i`` levels above the owner."""

    steps: tuple[EscalationStep, ...] = attrs.field(converter=_steps)


DEFAULT_CHAIN = EscalationChain((
    EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
    EscalationStep("supervisor", timedelta(hours=2)),
    EscalationStep("manager", timedelta(hours=8)),
))
"""Owner at the due moment, supervisor 2 business hours later, manager after 8."""


class Hierarchy(Protocol):
    """Who a person reports to (the host's organisation chart)."""

    def superior(self, person: str) -> str | None:
        """The person ``person`` reports to, or None at the top."""


@attrs.frozen
class ReportingLines:
    """A :class:`Hierarchy` from a mapping person -> superior."""

    superiors: Mapping[str, str] = attrs.field(factory=dict)

    def superior(self, person: str) -> str | None:
        """The person ``person`` reports to, or None."""
        return self.superiors.get(person)


@attrs.frozen
class Task:
    """Something an owner must do by ``due_at`` for a customer; ``done_at`` when done.

    ``kind`` and ``id`` name what it is (``"commitment"``, ``"C1-promise"``).
    """

    kind: str = attrs.field(validator=non_empty_text)
    id: str = attrs.field(validator=non_empty_text)
    customer_id: str = attrs.field(validator=non_empty_text)
    owner: str | None
    due_at: datetime = attrs.field(validator=aware_datetime)
    done_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    what: str = ""
    clock: str | None = None
    """For a ticket, the SLA clock that is late (``first response``, ``resolution``):
    each clock runs its own chain."""

    @property
    def subject(self) -> str:
        """``kind:id``, e.g. ``ticket:T1``: the stored entity the task is about."""
        return f"{self.kind}:{self.id}"


def task_of_commitment(commitment: Commitment) -> Task:
    """A commitment (S4: a promise with a definite time) as a task."""
    return Task("commitment", commitment.id, commitment.customer_id, commitment.owner,
                commitment.due_at, commitment.fulfilled_at, commitment.description)


@attrs.frozen
class Escalation:
    """Where an overdue task stands in its chain as of a moment.

    ``level`` indexes the chain's steps; ``person`` is who the step reaches;
    ``assignee`` is who holds the task now (changed by transfer steps); ``since`` is
    when the level was reached and ``next_at`` when the next one will be.
    """

    task: Task
    level: int
    step: EscalationStep
    person: str | None
    assignee: str | None
    since: datetime
    next_at: datetime | None

    @property
    def why(self) -> str:
        """The reason in words."""
        return tr("{kind} {id} was due {due}, not done; {action} to {role}").format(
            kind=term(self.task.kind), id=self.task.id, due=self.task.due_at.isoformat(),
            action=term(self.step.action.value), role=term(self.step.role))


def escalation(task: Task, chain: EscalationChain, calendar: BusinessCalendar,
               lines: Hierarchy, *, as_of: datetime) -> Escalation | None:
    """The step ``task`` has reached as of ``as_of``; None when it is done or not yet due."""
    if (task.done_at is not None and task.done_at <= as_of) or as_of < task.due_at:
        return None
    reached = [calendar.add(task.due_at, step.after) for step in chain.steps]
    level = max(index for index, at in enumerate(reached) if at <= as_of or index == 0)
    if reached[level] > as_of:
        return None
    person, assignee = task.owner, task.owner
    for step in chain.steps[1:level + 1]:
        person = None if person is None else (lines.superior(person) or person)
        if step.action is EscalationAction.TRANSFER:
            assignee = person
    return Escalation(task, level, chain.steps[level], person, assignee, reached[level],
                      reached[level + 1] if level + 1 < len(reached) else None)


@attrs.frozen
class EscalationRecord:
    """One step of a task's chain, applied and stored (kind ``escalation``).

    ``step`` indexes the chain and ``at`` is when it was reached; ``person`` is who the
    step reaches and ``to_owner`` who holds the task after it (``from_owner`` before
    it; they differ for a transfer). ``original_owner`` is the owner before the first
    step of any of the task's chains: the chains climb from there. ``rule`` is the
    catalogue rule (``S4``, ``S6``) and ``reason`` says why in words.
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    task_kind: str = attrs.field(validator=non_empty_text)
    task_id: str = attrs.field(validator=identifier)
    step: int
    role: str = attrs.field(validator=non_empty_text)
    action: EscalationAction
    due_at: datetime = attrs.field(validator=aware_datetime)
    at: datetime = attrs.field(validator=aware_datetime)
    original_owner: str | None
    from_owner: str | None
    to_owner: str | None
    person: str | None
    rule: str = "S4"
    reason: str = ""
    clock: str | None = None

    @property
    def subject(self) -> str:
        """``kind:id`` of the task's entity."""
        return f"{self.task_kind}:{self.task_id}"

    @property
    def moves(self) -> bool:
        """Whether the step changes who holds the task."""
        return self.to_owner != self.from_owner


ESCALATION = register_entity_type(EntityType("escalation", EscalationRecord, "customer_id", "at"))
"""The storable entity kind of :class:`EscalationRecord`."""


def history_of(records: Iterable[EscalationRecord]) -> dict[str, list[EscalationRecord]]:
    """Records by task subject (``ticket:T1``), each list in the order applied."""
    history: dict[str, list[EscalationRecord]] = {}
    for record in sorted(records, key=lambda r: (r.at, r.step, r.id)):
        history.setdefault(record.subject, []).append(record)
    return history


def _record_id(task: Task, step: int) -> str:
    clock = "" if task.clock is None else f":{task.clock.replace(' ', '_')}"
    text = f"{task.subject}{clock}:{step}"
    if len(text) <= 128:
        return text
    return f"{task.kind[:40]}:{hashlib.sha256(text.encode()).hexdigest()}:{step}"


def next_step(task: Task, chain: EscalationChain, calendar: BusinessCalendar,
              lines: Hierarchy, *, as_of: datetime,
              history: Sequence[EscalationRecord] = (), rule: str = "S4"
              ) -> EscalationRecord | None:
    """The step of ``task``'s chain to apply as of ``as_of``, as a record to store.

    ``history`` is the task's stored records (every clock's, in the order applied).
    The chain climbs from the original owner and continues after the last step
    recorded for this chain; None when no new step has been reached or the task is
    done. A late run applies the step reached, and the transfers of steps it skipped.
    """
    original = history[0].original_owner if history else task.owner
    found = escalation(attrs.evolve(task, owner=original), chain, calendar, lines, as_of=as_of)
    mine = [r for r in history if r.clock == task.clock]
    last = mine[-1].step if mine else -1
    if found is None or found.level <= last:
        return None
    skipped = chain.steps[last + 1:found.level + 1]
    moved = any(step.action is EscalationAction.TRANSFER for step in skipped)
    what = f": {term(task.what)}" if task.what else ""
    return EscalationRecord(
        id=_record_id(task, found.level), customer_id=task.customer_id, task_kind=task.kind,
        task_id=task.id, step=found.level, role=found.step.role, action=found.step.action,
        due_at=task.due_at, at=found.since, original_owner=original, from_owner=task.owner,
        to_owner=found.assignee if moved else task.owner, person=found.person, rule=rule,
        reason=tr("{why} (level {level}){what}").format(why=found.why, level=found.level,
                                                         what=what), clock=task.clock)
