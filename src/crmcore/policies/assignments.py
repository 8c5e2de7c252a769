"""Escalation steps applied through a :class:`~crmcore.CRM` (S4: tasks not done in time
are transferred or escalated automatically).

:func:`apply_steps` stores each planned :class:`~crmcore.policies.escalation.
EscalationRecord` in its own transaction with, for a transfer, the task's new owner
(written with ``expected_version``) and a ``task.*`` event for the notifiers; a transfer
also emits the entity's own ``<kind>.updated`` event (``ticket.updated``...), as any
other change of a stored entity does, after ``task.transferred``. A task
changed since it was planned (done, reassigned, edited) is not touched: its
transaction rolls back and the step is reported as a conflict, for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ConflictError, DuplicateError
from crmcore.events import ENTITY_UPDATED, DomainEvent, entity_event
from crmcore.model import Commitment, Ticket
from crmcore.policies.escalation import EscalationAction, EscalationRecord
from crmcore.policies.expiry import Contract, Warranty

__all__ = [
    "TASK_CLASSES",
    "TASK_ESCALATED",
    "TASK_OVERDUE",
    "TASK_TRANSFERRED",
    "EscalationConflict",
    "EscalationReport",
    "PlannedStep",
    "apply_steps",
    "event_type",
    "task_versions",
]

TASK_OVERDUE = "task.overdue"
"""Event type: a task's owner was reminded it is overdue (the chain's first step)."""

TASK_ESCALATED = "task.escalated"
"""Event type: the next level was told of an overdue task; the holder keeps it."""

TASK_TRANSFERRED = "task.transferred"
"""Event type: an overdue task was handed to someone else (data ``from``, ``to``)."""

TASK_CLASSES: Mapping[str, type[Any]] = {
    "ticket": Ticket, "commitment": Commitment, "contract": Contract, "warranty": Warranty}
"""The entity class of each task kind; each has an ``owner``."""


@attrs.frozen
class PlannedStep:
    """A step to apply, with the task's stored version read before the plan was made."""

    record: EscalationRecord
    version: int | None


@attrs.frozen
class EscalationConflict:
    """A step not applied because its task changed meanwhile (or the step was stored
    differently by someone else); the next run decides again."""

    record: EscalationRecord
    error: str


@attrs.frozen
class EscalationReport:
    """What :meth:`~crmcore.policies.PolicyService.apply_escalations` did as of a moment."""

    as_of: datetime
    applied: tuple[EscalationRecord, ...] = ()
    conflicts: tuple[EscalationConflict, ...] = ()

    @property
    def transferred(self) -> tuple[EscalationRecord, ...]:
        """The applied steps that changed who holds the task."""
        return tuple(r for r in self.applied if r.moves)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON values."""
        return {"as_of": self.as_of.isoformat(),
                "applied": [_record_dict(r) for r in self.applied],
                "conflicts": [{**_record_dict(c.record), "error": c.error}
                              for c in self.conflicts]}


def _record_dict(record: EscalationRecord) -> dict[str, Any]:
    return {"id": record.id, "subject": record.subject, "customer_id": record.customer_id,
            "clock": record.clock, "step": record.step, "role": record.role,
            "action": record.action.value, "event": event_type(record),
            "original_owner": record.original_owner, "from": record.from_owner,
            "to": record.to_owner, "person": record.person, "rule": record.rule,
            "due_at": record.due_at.isoformat(), "at": record.at.isoformat(),
            "reason": record.reason}


def event_type(record: EscalationRecord) -> str:
    """``task.transferred`` when the step moves the task, else by its action."""
    if record.moves:
        return TASK_TRANSFERRED
    return TASK_OVERDUE if record.action is EscalationAction.NOTIFY else TASK_ESCALATED


def task_versions(crm: CRM) -> dict[str, int]:
    """The stored version of every task entity, by subject (``ticket:T1``)."""
    versions: dict[str, int] = {}
    with crm.storage.transaction() as session:  # two columns read, no document decoded
        for kind in TASK_CLASSES:
            for chunk in session.scan(kind, {"id": "text", "version": "integer"}):
                versions.update((f"{kind}:{task_id}", version) for task_id, version in zip(
                    chunk["id"], chunk["version"], strict=True))
    return versions


def apply_steps(crm: CRM, steps: Iterable[PlannedStep], *, as_of: datetime
                ) -> EscalationReport:
    """Apply each step in its own transaction; conflicts are reported, not raised."""
    applied: list[EscalationRecord] = []
    conflicts: list[EscalationConflict] = []
    moved: dict[str, tuple[int | None, str | None]] = {}  # subject -> (version, owner)
    for planned in steps:
        record, version = planned.record, planned.version
        if record.subject in moved:  # another clock's step of the same task came first
            version, owner = moved[record.subject]
            record = attrs.evolve(record, from_owner=owner,
                                  to_owner=record.to_owner if record.moves else owner)
        try:
            stored = _apply(crm, record, version)
        except (ConflictError, DuplicateError) as error:
            conflicts.append(EscalationConflict(record, str(error)))
            continue
        if stored is not None:
            applied.append(record)
            moved[record.subject] = (stored, record.to_owner)
    return EscalationReport(as_of, tuple(applied), tuple(conflicts))


def _apply(crm: CRM, record: EscalationRecord, version: int | None) -> int | None:
    """Store one step; the task's version after it, or None when already stored."""
    cls = TASK_CLASSES[record.task_kind]
    with crm.transaction() as work:
        if not work.repository(EscalationRecord).add(record):
            return None
        tasks = work.repository(cls)
        current = tasks.version(record.task_id)
        if version is None or current != version:
            raise ConflictError(record.task_kind, record.task_id, version or 0, current)
        moved = None
        if record.moves:
            moved = attrs.evolve(tasks.require(record.task_id), owner=record.to_owner)
            current = tasks.replace(moved, expected_version=version)
        now = crm.now()
        work.emit(DomainEvent(
            type=event_type(record), occurred_at=now, subject=record.subject,
            customer_id=record.customer_id,
            data={**_record_dict(record), "version": current}))
        if moved is not None:  # receivers mirroring the entity see the new owner
            work.emit(entity_event(ENTITY_UPDATED, moved, at=now, version=current))
    return current
