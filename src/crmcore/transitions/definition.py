"""Flow definitions as data: states, phases, transitions, and their load-time checks.

A :class:`FlowDefinition` cannot exist in a broken shape: building one checks
that every state a transition names exists, that every state can be reached
from the initial state, that only declared final states are dead ends, and
that no event is ambiguous. All problems are reported at once in a
:class:`FlowDefinitionError`.

In a ``forward_only`` flow the order of ``states`` is the direction of
progress: a declared transition to an earlier state is *backward* and is only
applied with an explicit, recorded override.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.transitions.checks import Guard, Validator
from crmcore.validation import as_tuple


class FlowDefinitionError(ConfigError):
    """A flow definition is inconsistent; ``problems`` lists every finding."""

    def __init__(self, flow: str, problems: list[str]) -> None:
        self.flow = flow
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(tr("flow {flow!r} is not valid:\n{problems}").format(
            flow=flow, problems=listed))


def _is_name(value: Any) -> bool:
    return (isinstance(value, str) and bool(value) and value == value.strip()
            and value.isprintable() and ":" not in value)


@attrs.frozen
class StateDefinition:
    """A state of a flow, the phase it belongs to and whether it ends the flow."""

    name: str
    phase: str
    final: bool = False
    description: str = ""


@attrs.frozen
class TransitionDefinition:
    """An event that moves a subject from any of ``sources`` to ``target``.

    ``target`` None makes an *internal* transition: a recorded event that
    leaves the state as it is (e.g. a progress report). ``required_fields``
    must be given, non-empty, on entry to the target. ``updates_fields`` (internal
    transitions only) merges the given fields into the state's, keeping the time
    it was entered (e.g. the answer that completes a churn record).
    """

    event: str
    sources: tuple[str, ...] = attrs.field(converter=as_tuple)
    target: str | None
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=as_tuple)
    validators: tuple[Validator, ...] = attrs.field(default=(), converter=as_tuple)
    required_fields: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    description: str = ""
    updates_fields: bool = False

    def target_from(self, source: str) -> str:
        """The state a subject in ``source`` ends up in."""
        return source if self.target is None else self.target


@attrs.frozen
class FlowDefinition:
    """A state machine definition: the data every transition is checked against.

    ``subject`` names what the flow is about (``"customer"``, ``"opportunity"``);
    ``phases`` lists the phases in order (empty: taken from the states).
    """

    name: str
    version: int
    initial: str
    states: tuple[StateDefinition, ...] = attrs.field(converter=as_tuple)
    transitions: tuple[TransitionDefinition, ...] = attrs.field(converter=as_tuple)
    forward_only: bool = False
    subject: str = "subject"
    phases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise FlowDefinitionError(str(self.name), problems)

    @cached_property
    def _by_name(self) -> dict[str, StateDefinition]:
        return {state.name: state for state in self.states}

    def state(self, name: str) -> StateDefinition:
        """The state called ``name``; :class:`KeyError` if the flow has none."""
        return self._by_name[name]

    def has_state(self, name: str) -> bool:
        """Whether ``name`` is a state of this flow."""
        return name in self._by_name

    def state_names(self) -> tuple[str, ...]:
        """The state names, in definition order."""
        return tuple(state.name for state in self.states)

    def phase_names(self) -> tuple[str, ...]:
        """The phases in order: ``phases`` if given, else in order of first use."""
        return self.phases or tuple(dict.fromkeys(state.phase for state in self.states))

    def rank(self, name: str) -> int:
        """The position of state ``name`` in definition order (the forward direction)."""
        return self.state_names().index(name)

    @cached_property
    def _taken(self) -> dict[tuple[str, str], TransitionDefinition]:
        """The first declared transition for each (event, source state)."""
        taken: dict[tuple[str, str], TransitionDefinition] = {}
        for transition in self.transitions:
            for source in transition.sources:
                taken.setdefault((transition.event, source), transition)
        return taken

    def transitions_from(self, state: str) -> tuple[TransitionDefinition, ...]:
        """The transitions whose sources include ``state``."""
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, event: str, state: str) -> TransitionDefinition | None:
        """The transition taken on ``event`` in ``state``, or None (one look-up)."""
        return self._taken.get((event, state))

    def events(self) -> tuple[str, ...]:
        """Every event name, in order of first declaration."""
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    def is_backward(self, transition: TransitionDefinition, source: str) -> bool:
        """Whether taking ``transition`` from ``source`` goes to an earlier state."""
        return self.rank(transition.target_from(source)) < self.rank(source)

    def edges(self) -> Iterator[tuple[str, str, TransitionDefinition]]:
        """Every ``(source, target, transition)`` the definition allows."""
        for transition in self.transitions:
            for source in transition.sources:
                yield source, transition.target_from(source), transition

    def reachable(self) -> set[str]:
        """The states reachable from ``initial`` (including it)."""
        seen = {self.initial}
        queue = deque([self.initial])
        while queue:
            current = queue.popleft()
            for transition in self.transitions_from(current):
                target = transition.target_from(current)
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen


def _problems(flow: FlowDefinition) -> Iterator[str]:
    if not _is_name(flow.name):
        yield tr("name: {value!r} is not a flow name (non-empty, no ':')").format(
            value=flow.name)
    if isinstance(flow.version, bool) or not isinstance(flow.version, int) or flow.version < 1:
        yield tr("version: {value!r} must be a whole number of at least 1").format(
            value=flow.version)
    yield from _state_problems(flow)
    names = {state.name for state in flow.states}
    if flow.initial not in names:
        yield tr("initial: {value!r} is not a state (known: {known})").format(
            value=flow.initial, known=_known(flow))
    transition_problems = list(_transition_problems(flow, names))
    yield from transition_problems
    if flow.initial in names and not transition_problems:
        yield from _shape_problems(flow)


def _known(flow: FlowDefinition) -> str:
    return ", ".join(state.name for state in flow.states) or tr("none")


def _state_problems(flow: FlowDefinition) -> Iterator[str]:
    if not flow.states:
        yield tr("states: a flow needs at least one state")
    if len(set(flow.phases)) != len(flow.phases):
        yield tr("phases: {value!r} lists a phase twice").format(value=list(flow.phases))
    seen: set[str] = set()
    for index, state in enumerate(flow.states):
        where = f"states[{index}]"
        if not _is_name(state.name):
            yield tr("{key}: {value!r} is not a state name (non-empty, no ':')").format(
                key=f"{where}.name", value=state.name)
        elif state.name in seen:
            yield tr("{key}: {value!r} is declared twice").format(key=f"{where}.name",
                                                                  value=state.name)
        seen.add(state.name)
        if not isinstance(state.phase, str) or not state.phase.strip():
            yield tr("{key}: {value!r} must be a non-empty text").format(
                key=f"{where}.phase", value=state.phase)
        elif flow.phases and state.phase not in flow.phases:
            yield tr("{key}: {value!r} of state {state!r} is not one of the phases "
                     "({phases})").format(key=f"{where}.phase", value=state.phase,
                                          state=state.name, phases=", ".join(flow.phases))


def _transition_problems(flow: FlowDefinition, names: set[str]) -> Iterator[str]:
    taken: dict[tuple[str, str], int] = {}
    for index, transition in enumerate(flow.transitions):
        where = f"transitions[{index}] ({transition.event!r})"
        if not _is_name(transition.event):
            yield tr("{key}: {value!r} is not an event name").format(
                key=f"transitions[{index}].event", value=transition.event)
        if not transition.sources:
            yield tr("{key}: needs at least one source state").format(key=where)
        for source in transition.sources:
            if source not in names:
                yield tr("{key}: source {source!r} is not a state (known: {known})").format(
                    key=where, source=source, known=_known(flow))
            elif (transition.event, source) in taken:
                yield tr("{key}: event {event!r} from {source!r} is already declared by "
                         "{other}").format(key=where, event=transition.event, source=source,
                                           other=f"transitions[{taken[transition.event, source]}]")
            else:
                taken[transition.event, source] = index
        if transition.target is not None and transition.target not in names:
            yield tr("{key}: target {target!r} is not a state (known: {known})").format(
                key=where, target=transition.target, known=_known(flow))
        if len(set(transition.required_fields)) != len(transition.required_fields) or not all(
                _is_name(field) for field in transition.required_fields):
            yield tr("{key}: required_fields {value!r} must be distinct field names").format(
                key=where, value=list(transition.required_fields))


def _shape_problems(flow: FlowDefinition) -> Iterator[str]:
    reachable = flow.reachable()
    for state in flow.states:
        exits = {t.target_from(state.name) for t in flow.transitions_from(state.name)}
        exits.discard(state.name)
        if state.name not in reachable:
            yield tr("state {state!r} cannot be reached from the initial state {initial!r}"
                     ).format(state=state.name, initial=flow.initial)
        if state.final and exits:
            yield tr("state {state!r} is final but has transitions out of it (to {targets})"
                     ).format(state=state.name, targets=", ".join(sorted(exits)))
        if not state.final and not exits:
            yield tr("state {state!r} has no way out: add a transition from it or declare it "
                     "final").format(state=state.name)
