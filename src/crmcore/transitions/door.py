"""The one transition door: the only function that changes a subject's state.

:func:`apply_transition` is pure: it checks the move against the flow
definition (declared transition, direction, required fields, guards,
validators) and returns the new state record, the history entry and the
domain event, or raises :class:`RefusedTransitionError` and returns nothing.
What it returns is built from values it has checked (or taken from a checked
record and the flow definition), so it is assembled without running the
records' validators a second time.
:func:`start_flow` puts a new subject in the initial state the same way.
Storing the three together is :mod:`crmcore.transitions.store`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from crmcore.errors import CrmError, TransitionError, ValidationError
from crmcore.events import DomainEvent, new_event_id
from crmcore.i18n import tr
from crmcore.transitions.checks import TransitionContext
from crmcore.transitions.definition import FlowDefinition, TransitionDefinition
from crmcore.transitions.records import (
    FlowState,
    HistoryEntry,
    assemble,
    history_id,
    state_id,
)
from crmcore.validation import aware_datetime

FLOW_STARTED = "flow.started"
"""Event type emitted when a subject enters a flow's initial state."""

FLOW_TRANSITIONED = "flow.transitioned"
"""Event type emitted for every transition (``data["flow"]`` names the flow)."""

START_EVENT = "start"
"""The event name of a subject's first history entry."""


class RefusedTransitionError(TransitionError):
    """A transition was refused; nothing changed.

    ``flow``, ``subject_id``, ``state`` and ``event`` say what was asked and
    ``reason`` why it was refused.
    """

    def __init__(self, flow: str, subject_id: str, state: str | None, event: str,
                 reason: str) -> None:
        self.flow = flow
        self.subject_id = subject_id
        self.state = state
        self.event = event
        self.reason = reason
        where = (tr("before the start") if state is None
                 else tr("in state {state!r}").format(state=state))
        super().__init__(tr("flow {flow!r}: {subject} {where}: event {event!r} refused: {reason}"
                            ).format(flow=flow, subject=subject_id, where=where, event=event,
                                     reason=reason))


_Refuse = Callable[[str], RefusedTransitionError]

_ENTERED_AT = attrs.fields(FlowState).entered_at
_AT = attrs.fields(HistoryEntry).at

class Transition(NamedTuple):
    """What the door returns: the new state record, its history entry and the event."""

    state: FlowState
    entry: HistoryEntry
    event: DomainEvent


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_json(value: Any) -> bool:
    if type(value) in _JSON_SCALARS:  # the common case, without the isinstance chain
        return True
    if isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | Mapping) and not value)


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in fields.items()}


def start_flow(flow: FlowDefinition, subject_id: str, *, customer_id: str, at: datetime,
               actor: str, reason: str = "", fields: Mapping[str, Any] | None = None
               ) -> Transition:
    """Put ``subject_id`` in the initial state of ``flow`` (history entry 1)."""
    state = _started(flow, subject_id, customer_id, at, actor, dict(fields or {}))
    entry = _entry(state, START_EVENT, None, at=at, actor=actor, reason=reason, seconds=0.0,
                   override=False)
    return Transition(state, entry, _event(flow, FLOW_STARTED, entry))


def _started(flow: FlowDefinition, subject_id: str, customer_id: str, at: datetime,
             actor: str, given: dict[str, Any]) -> FlowState:
    """The checked initial state of ``subject_id`` (what :func:`start_flow` starts from)."""
    def refuse(why: str) -> RefusedTransitionError:
        return RefusedTransitionError(flow.name, subject_id, None, START_EVENT, why)

    _check_inputs(at, actor, given, refuse)
    try:
        return FlowState(id=state_id(flow.name, subject_id), flow=flow.name,
                         flow_version=flow.version, subject_id=subject_id,
                         customer_id=customer_id, state=flow.initial, entered_at=at,
                         sequence=1, fields=_jsonable(given))
    except ValidationError as error:
        raise refuse(str(error)) from None


def apply_transition(
    flow: FlowDefinition,
    record: FlowState,
    event: str,
    *,
    at: datetime,
    actor: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
    override: bool = False,
) -> Transition:
    """Apply ``event`` to ``record`` if ``flow`` allows it; else :class:`RefusedTransitionError`.

    ``fields`` are stored with the target state (required ones must be
    non-empty); ``facts`` are evidence for guards only. ``override`` allows a
    backward transition of a forward-only flow; it needs a ``reason`` and is
    recorded in the history entry. The inputs are never changed.
    """
    given = dict(fields or {})

    def refuse(why: str) -> RefusedTransitionError:
        return RefusedTransitionError(flow.name, record.subject_id, record.state, event, why)

    resolved = _resolve(flow, record, event, refuse)
    state, recorded = _checked_move(flow, resolved, record, event, at, actor, reason, given,
                                    facts, override, refuse)
    entry = _entry(state, event, record.state, at=at, actor=actor, reason=reason,
                   seconds=(at - record.entered_at).total_seconds(), override=resolved.backward,
                   fields=recorded)
    return Transition(state, entry, _event(flow, FLOW_TRANSITIONED, entry))


class _Resolved(NamedTuple):
    """What the definition says of one event in one state: the same for every move."""

    transition: TransitionDefinition
    target: str
    backward: bool


def _resolve(flow: FlowDefinition, record: FlowState, event: str, refuse: _Refuse
             ) -> _Resolved:
    transition = _declared(flow, record, event, refuse)
    return _Resolved(transition, transition.target_from(record.state),
                     flow.forward_only and flow.is_backward(transition, record.state))


def _checked_move(flow: FlowDefinition, resolved: _Resolved, record: FlowState, event: str,
                  at: datetime, actor: str, reason: str, given: dict[str, Any],
                  facts: Mapping[str, Any] | None, override: bool, refuse: _Refuse
                  ) -> tuple[FlowState, dict[str, Any]]:
    """The part of a move that depends on the move: its inputs, time, fields and checks.

    Returns the new state and the fields recorded with the move.
    """
    transition, target, backward = resolved
    _check_inputs(at, actor, given, refuse)
    if at < record.entered_at:
        raise refuse(tr("at {at} is before the state was entered ({entered})").format(
            at=at.isoformat(), entered=record.entered_at.isoformat()))
    if backward and not override:
        raise refuse(tr("{state!r} -> {target!r} goes backward in forward-only flow {flow!r}; "
                        "pass override=True with a reason to allow it").format(
            state=record.state, target=target, flow=flow.name))
    if backward and not reason.strip():
        raise refuse(tr("an override needs a reason"))
    missing = [name for name in transition.required_fields if _blank(given.get(name))]
    if missing:
        raise refuse(tr("{fields} required on entry to {target!r}").format(
            fields=", ".join(missing), target=target))
    if transition.guards or transition.validators:
        context = TransitionContext(flow=flow, transition=transition, state=record,
                                    target=target, at=at, actor=actor, reason=reason,
                                    fields=given, facts=dict(facts or {}))
        _run_checks(transition, context, refuse)
    recorded = _jsonable(given)
    if transition.target is not None:
        new_fields = dict(recorded)
    elif transition.updates_fields:
        new_fields = {**record.fields, **recorded}
    else:
        new_fields = dict(record.fields)
    entered = at if transition.target is not None else record.entered_at
    # The one check _check_inputs leaves (the UTC range), failing as the record it would
    # fail first does: the new state's entered_at, or (an internal event) the entry's at.
    aware_datetime(None, _ENTERED_AT if transition.target is not None else _AT, at)
    state = assemble(FlowState, id=record.id, flow=record.flow, flow_version=flow.version,
                     subject_id=record.subject_id, customer_id=record.customer_id,
                     state=target, entered_at=entered, sequence=record.sequence + 1,
                     fields=new_fields)
    return state, recorded


class Step(NamedTuple):
    """One move asked of :meth:`BatchDoor.apply`: the arguments of :func:`apply_transition`
    that differ from move to move."""

    event: str
    at: datetime
    reason: str = ""
    fields: Mapping[str, Any] | None = None
    facts: Mapping[str, Any] | None = None


class Made(NamedTuple):
    """One change :class:`BatchDoor` made, flat: what its history entry and event hold
    besides the flow, the subject and the actor (``from_state`` None: the start)."""

    sequence: int
    event: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str
    seconds_in_previous: float
    fields: dict[str, Any]
    override: bool


class Applied(NamedTuple):
    """What :meth:`BatchDoor.apply` did: the last state, the changes made in order, and the
    refusal that stopped it (None: every step was applied)."""

    state: FlowState
    made: list[Made]
    refused: TransitionError | None


class BatchDoor:
    """The door for many moves of one flow by one actor, checked as :func:`apply_transition`
    checks each, returning flat :class:`Made` values instead of records and events.

    What depends only on the transition (flow, state, event: declared? target?
    backward?) is worked out once per distinct combination; the rest (time,
    fields, guards and validators) per move. The checks, their order and the
    refusals are :func:`apply_transition`'s; :mod:`crmcore.transitions.batch`
    stores the changes.
    """

    def __init__(self, flow: FlowDefinition, actor: str) -> None:
        self.flow = flow
        self.actor = actor
        self._resolved: dict[tuple[str, str, str], _Resolved] = {}

    def start(self, subject_id: str, *, customer_id: str, at: datetime, reason: str = ""
              ) -> tuple[FlowState, Made]:
        """:func:`start_flow` of ``subject_id``: its first state and the start."""
        state = _started(self.flow, subject_id, customer_id, at, self.actor, {})
        return state, Made(1, START_EVENT, None, state.state, at, reason, 0.0,
                           dict(state.fields), False)

    def apply(self, record: FlowState, steps: Iterable[Step]) -> Applied:
        """Apply ``steps`` in order from ``record``, each from the state the one before left;
        the first refused step (:class:`RefusedTransitionError`) stops them."""
        flow, actor, cache = self.flow, self.actor, self._resolved
        subject = record.subject_id
        made: list[Made] = []
        for event, at, reason, fields, facts in steps:
            def refuse(why: str, state: str = record.state, event: str = event
                       ) -> RefusedTransitionError:
                return RefusedTransitionError(flow.name, subject, state, event, why)

            try:
                key = (record.flow, record.state, event)
                resolved = cache.get(key)
                if resolved is None:
                    resolved = cache[key] = _resolve(flow, record, event, refuse)
                state, recorded = _checked_move(flow, resolved, record, event, at, actor,
                                                reason, dict(fields or {}), facts, False, refuse)
            except TransitionError as error:
                return Applied(record, made, error)
            made.append(Made(state.sequence, event, record.state, state.state, at, reason,
                             (at - record.entered_at).total_seconds(), recorded,
                             resolved.backward))
            record = state
        return Applied(record, made, None)


def _declared(flow: FlowDefinition, record: FlowState, event: str,
              refuse: _Refuse) -> TransitionDefinition:
    if record.flow != flow.name:
        raise refuse(tr("the record belongs to flow {flow!r}").format(flow=record.flow))
    if not flow.has_state(record.state):
        raise refuse(tr("state {state!r} is not in version {version} of the flow").format(
            state=record.state, version=flow.version))
    transition = flow.transition(event, record.state)
    if transition is None:
        allowed = ", ".join(t.event for t in flow.transitions_from(record.state)) or tr("none")
        raise refuse(tr("not allowed in this state (allowed here: {allowed})").format(
            allowed=allowed))
    return transition


def _check_inputs(at: datetime, actor: str, fields: Mapping[str, Any], refuse: _Refuse
                  ) -> None:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise refuse(tr("at {at!r} must be a timezone-aware datetime").format(at=at))
    if not isinstance(actor, str) or not actor.strip():
        raise refuse(tr("an actor (who) must be named"))
    for name, value in fields.items():
        if not isinstance(name, str) or not _is_json(value):
            raise refuse(tr("field {name!r}: {value!r} is not a JSON value").format(
                name=name, value=value))


def _run_checks(transition: TransitionDefinition, context: TransitionContext,
                refuse: _Refuse) -> None:
    for guard in transition.guards:
        if not guard.check(context):
            raise refuse((tr("guard {name!r} said no: {description}") if guard.description
                          else tr("guard {name!r} said no")).format(
                name=guard.name, description=guard.description))
    for validator in transition.validators:
        try:
            validator.check(context)
        except (CrmError, ValueError) as error:
            raise refuse(tr("validator {name!r}: {error}").format(
                name=validator.name, error=error)) from None


def _entry(state: FlowState, event: str, previous: str | None, *, at: datetime, actor: str,
           reason: str, seconds: float, override: bool,
           fields: dict[str, Any] | None = None) -> HistoryEntry:
    """The history entry of a change to the checked ``state`` by the checked ``event``;
    ``fields`` (a dict of its own, else a copy of the state's) are the ones given."""
    return assemble(
        HistoryEntry,
        id=history_id(state.flow, state.subject_id, state.sequence), flow=state.flow,
        flow_version=state.flow_version, subject_id=state.subject_id,
        customer_id=state.customer_id, sequence=state.sequence, event=event,
        from_state=previous, to_state=state.state, at=at, actor=actor, reason=reason,
        seconds_in_previous=seconds, fields=dict(state.fields) if fields is None else fields,
        override=override,
    )


def _event(flow: FlowDefinition, kind: str, entry: HistoryEntry) -> DomainEvent:
    """The domain event of a checked history entry."""
    return assemble(
        DomainEvent, type=kind, occurred_at=entry.at, subject=f"{flow.subject}:{entry.subject_id}",
        customer_id=entry.customer_id,
        data={"flow": entry.flow, "flow_version": entry.flow_version, "event": entry.event,
              "from": entry.from_state, "to": entry.to_state, "actor": entry.actor,
              "reason": entry.reason, "seconds_in_previous": entry.seconds_in_previous,
              "fields": entry.fields, "override": entry.override, "sequence": entry.sequence},
        id=new_event_id(),
    )
