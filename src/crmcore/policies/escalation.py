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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import attrs

from crmcore.errors import ValidationError
from crmcore.model import Commitment
from crmcore.service import BusinessCalendar
from crmcore.validation import aware_datetime, non_empty_text, optional_aware_datetime

__all__ = [
    "DEFAULT_CHAIN",
    "Escalation",
    "EscalationAction",
    "EscalationChain",
    "EscalationStep",
    "Hierarchy",
    "ReportingLines",
    "Task",
    "escalation",
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
        late = f"{self.task.kind} {self.task.id} was due {self.task.due_at.isoformat()}"
        return f"{late}, not done; {self.step.action.value} to {self.step.role}"


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
