"""Reading history: replay to the current state, state at a moment, time in each state.

The history of a subject is complete: replaying it against the flow
definition gives the stored state record back, field for field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from statistics import mean, median

import attrs

from crmcore.errors import TransitionError
from crmcore.i18n import tr
from crmcore.transitions.definition import FlowDefinition
from crmcore.transitions.records import FlowState, HistoryEntry, state_id


class HistoryError(TransitionError):
    """A history does not replay: an entry is out of order or not allowed."""


def replay(flow: FlowDefinition, entries: Iterable[HistoryEntry]) -> FlowState | None:
    """The state record ``entries`` lead to, checked entry by entry against ``flow``.

    Returns None for an empty history. Raises :class:`HistoryError` naming
    the first entry that does not follow from the ones before it.
    """
    state: FlowState | None = None
    for entry in sorted(entries, key=lambda item: item.sequence):
        state = _step(flow, state, entry)
    return state


def _step(flow: FlowDefinition, state: FlowState | None, entry: HistoryEntry) -> FlowState:
    def fail(why: str) -> HistoryError:
        return HistoryError(tr("history of {subject} in flow {flow!r}, entry {sequence} "
                               "({event}): {reason}").format(
            subject=entry.subject_id, flow=flow.name, sequence=entry.sequence,
            event=entry.event, reason=why))

    if entry.flow != flow.name:
        raise fail(tr("belongs to flow {flow!r}").format(flow=entry.flow))
    if state is None:
        if entry.sequence != 1 or entry.from_state is not None or entry.to_state != flow.initial:
            raise fail(tr("a history must start with entry 1 into {initial!r}").format(
                initial=flow.initial))
        return FlowState(id=state_id(flow.name, entry.subject_id), flow=flow.name,
                         flow_version=entry.flow_version, subject_id=entry.subject_id,
                         customer_id=entry.customer_id, state=entry.to_state,
                         entered_at=entry.at, sequence=1, fields=entry.fields)
    if entry.sequence != state.sequence + 1:
        raise fail(tr("expected entry {sequence}").format(sequence=state.sequence + 1))
    if entry.from_state != state.state:
        raise fail(tr("starts from {source!r} but the subject is in {state!r}").format(
            source=entry.from_state, state=state.state))
    transition = flow.transition(entry.event, state.state)
    if transition is None or transition.target_from(state.state) != entry.to_state:
        raise fail(tr("{source!r} -> {target!r} on {event!r} is not a transition of the flow"
                      ).format(source=entry.from_state, target=entry.to_state, event=entry.event))
    if entry.at < state.entered_at:
        raise fail(tr("is earlier than the entry before it"))
    internal = transition.target is None
    return attrs.evolve(state, state=entry.to_state, sequence=entry.sequence,
                        flow_version=entry.flow_version,
                        entered_at=state.entered_at if internal else entry.at,
                        fields=state.fields if internal else entry.fields)


def state_at(entries: Sequence[HistoryEntry], moment: datetime) -> str | None:
    """The state a subject was in at ``moment`` (None before its first entry).

    ``entries`` are one subject's history; an entry at exactly ``moment``
    counts as already happened.
    """
    current: str | None = None
    for entry in sorted(entries, key=lambda item: item.sequence):
        if entry.at > moment:
            break
        current = entry.to_state
    return current


@attrs.frozen
class StayStatistics:
    """How long subjects stayed in one state, over completed stays, in days."""

    state: str
    stays: int
    mean_days: float
    median_days: float
    max_days: float


def time_in_state(entries: Iterable[HistoryEntry], *, as_of: datetime | None = None,
                  ongoing: Mapping[str, FlowState] | None = None
                  ) -> dict[str, StayStatistics]:
    """Statistics of the time spent in each state, by state name.

    A stay is completed by a history entry that leaves the state (internal
    events do not end it). With ``ongoing`` (state records by subject) and
    ``as_of``, the current stays count too, up to ``as_of``.
    """
    days: dict[str, list[float]] = {}
    for entry in entries:
        if entry.from_state is not None and entry.from_state != entry.to_state:
            days.setdefault(entry.from_state, []).append(entry.seconds_in_previous / 86400)
    if as_of is not None:
        for record in (ongoing or {}).values():
            if record.entered_at <= as_of:
                days.setdefault(record.state, []).append(
                    (as_of - record.entered_at).total_seconds() / 86400)
    return {state: StayStatistics(state, len(values), mean(values), median(values), max(values))
            for state, values in sorted(days.items())}
