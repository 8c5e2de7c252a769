"""Generic state machines with one transition door (lifecycles, PDCA cycles, tickets).

A :class:`FlowDefinition` is data (usually loaded from TOML with
:func:`flow_from_toml`); :func:`apply_transition` is the only function that
changes a subject's state, returning the new :class:`FlowState`, a
:class:`HistoryEntry` and a domain event; :func:`transition` stores the three
atomically through :class:`crmcore.CRM`. :class:`BatchDoor` is the same door for
many moves at once (a lifecycle advance), checking what moves share once.
:func:`replay` rebuilds the state from the history; :func:`to_svg`,
:func:`to_mermaid` and :func:`to_dot` draw a definition.
"""

from crmcore.transitions.checks import (
    CheckRegistry,
    Guard,
    GuardFunction,
    TransitionContext,
    Validator,
    ValidatorFunction,
)
from crmcore.transitions.definition import (
    FlowDefinition,
    FlowDefinitionError,
    StateDefinition,
    TransitionDefinition,
)
from crmcore.transitions.diagram import to_dot, to_mermaid, to_svg
from crmcore.transitions.door import (
    FLOW_STARTED,
    FLOW_TRANSITIONED,
    START_EVENT,
    Applied,
    BatchDoor,
    Made,
    RefusedTransitionError,
    Step,
    Transition,
    apply_transition,
    start_flow,
)
from crmcore.transitions.history import (
    HistoryError,
    StayStatistics,
    replay,
    state_at,
    time_in_state,
)
from crmcore.transitions.loader import flow_from_mapping, flow_from_toml, load_flow
from crmcore.transitions.records import FlowState, HistoryEntry
from crmcore.transitions.store import (
    current_state,
    history_of,
    load_state,
    start,
    start_in,
    states_of,
    transition,
    transition_in,
)

__all__ = [
    "FLOW_STARTED",
    "FLOW_TRANSITIONED",
    "START_EVENT",
    "Applied",
    "BatchDoor",
    "CheckRegistry",
    "FlowDefinition",
    "FlowDefinitionError",
    "FlowState",
    "Guard",
    "GuardFunction",
    "HistoryEntry",
    "HistoryError",
    "Made",
    "RefusedTransitionError",
    "StateDefinition",
    "StayStatistics",
    "Step",
    "Transition",
    "TransitionContext",
    "TransitionDefinition",
    "Validator",
    "ValidatorFunction",
    "apply_transition",
    "current_state",
    "flow_from_mapping",
    "flow_from_toml",
    "history_of",
    "load_flow",
    "load_state",
    "replay",
    "start",
    "start_flow",
    "start_in",
    "state_at",
    "states_of",
    "time_in_state",
    "to_dot",
    "to_mermaid",
    "to_svg",
    "transition",
    "transition_in",
]
