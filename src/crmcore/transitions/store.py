"""Transitions through the application service: state, history and event in one commit.

:func:`transition` loads a subject's state record in a unit of work, passes
it through the door, and stores the new record (optimistic concurrency on
its version), the history entry and the domain event together. A refused
transition raises before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from crmcore.app import CRM
from crmcore.errors import ConflictError
from crmcore.i18n import tr
from crmcore.transitions.definition import FlowDefinition
from crmcore.transitions.door import (
    START_EVENT,
    RefusedTransitionError,
    Transition,
    apply_transition,
    start_flow,
)
from crmcore.transitions.records import FlowState, HistoryEntry, state_id
from crmcore.unit_of_work import UnitOfWork


def load_state(work: UnitOfWork, flow: FlowDefinition | str, subject_id: str
               ) -> tuple[FlowState | None, int | None]:
    """The stored state record of ``subject_id`` in ``flow`` and its version (or Nones)."""
    name = flow if isinstance(flow, str) else flow.name
    repository = work.repository(FlowState)
    key = state_id(name, subject_id)
    return repository.get(key), repository.version(key)


def start_in(work: UnitOfWork, flow: FlowDefinition, subject_id: str, *, customer_id: str,
             at: datetime, actor: str, reason: str = "") -> Transition:
    """Start ``subject_id`` in ``flow`` inside ``work``; refused if it already started."""
    current, _ = load_state(work, flow, subject_id)
    if current is not None:
        raise RefusedTransitionError(flow.name, subject_id, current.state, START_EVENT,
                                tr("the subject is already in the flow"))
    made = start_flow(flow, subject_id, customer_id=customer_id, at=at, actor=actor,
                      reason=reason)
    work.repository(FlowState).add(made.state)
    _store(work, made)
    return made


def transition_in(
    work: UnitOfWork,
    flow: FlowDefinition,
    subject_id: str,
    event: str,
    *,
    at: datetime,
    actor: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
    override: bool = False,
    expected_version: int | None = None,
) -> Transition:
    """Apply ``event`` to the stored state of ``subject_id`` inside ``work``.

    With ``expected_version`` (from :func:`load_state` in an earlier read)
    the write fails with :class:`~crmcore.errors.ConflictError` if the state
    changed meanwhile.
    """
    current, version = load_state(work, flow, subject_id)
    if current is None or version is None:
        raise RefusedTransitionError(flow.name, subject_id, None, event,
                                tr("the subject has not started the flow"))
    if expected_version is not None and expected_version != version:
        raise ConflictError("flow_state", current.id, expected_version, version)
    made = apply_transition(flow, current, event, at=at, actor=actor, reason=reason,
                            fields=fields, facts=facts, override=override)
    work.repository(FlowState).replace(made.state, expected_version=version)
    _store(work, made)
    return made


def _store(work: UnitOfWork, made: Transition) -> None:
    work.repository(HistoryEntry).add(made.entry)
    work.emit(made.event)


def start(crm: CRM, flow: FlowDefinition, subject_id: str, *, customer_id: str,
          at: datetime | None = None, actor: str, reason: str = "") -> Transition:
    """Start ``subject_id`` in ``flow`` in its own transaction (``at`` defaults to now)."""
    with crm.transaction() as work:
        return start_in(work, flow, subject_id, customer_id=customer_id,
                        at=at or crm.now(), actor=actor, reason=reason)


def transition(
    crm: CRM,
    flow: FlowDefinition,
    subject_id: str,
    event: str,
    *,
    at: datetime | None = None,
    actor: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
    override: bool = False,
    expected_version: int | None = None,
) -> Transition:
    """Apply ``event`` in its own transaction: state, history and event, or nothing.

    ``at`` defaults to the service's clock. See :func:`transition_in`.
    """
    with crm.transaction() as work:
        return transition_in(work, flow, subject_id, event, at=at or crm.now(), actor=actor,
                             reason=reason, fields=fields, facts=facts, override=override,
                             expected_version=expected_version)


def current_state(crm: CRM, flow: FlowDefinition | str, subject_id: str) -> FlowState | None:
    """The stored state record of ``subject_id`` in ``flow``, or None."""
    name = flow if isinstance(flow, str) else flow.name
    return crm.get(FlowState, state_id(name, subject_id))


def history_of(crm: CRM, flow: FlowDefinition | str, subject_id: str, *,
               customer_id: str | None = None) -> list[HistoryEntry]:
    """The history of ``subject_id`` in ``flow``, oldest first.

    Give ``customer_id`` when the subject is not the customer itself (it
    narrows the storage query); by default the subject id is used.
    """
    name = flow if isinstance(flow, str) else flow.name
    entries = crm.find(HistoryEntry, customer_id=customer_id or subject_id)
    return sorted((e for e in entries if e.flow == name and e.subject_id == subject_id),
                  key=lambda entry: entry.sequence)


def states_of(crm: CRM, flow: FlowDefinition | str) -> list[FlowState]:
    """Every stored state record of ``flow``, by subject id."""
    name = flow if isinstance(flow, str) else flow.name
    return sorted((s for s in crm.find(FlowState) if s.flow == name),
                  key=lambda state: state.subject_id)
