"""Many subjects' transitions stored set-based: one statement per kind, one transaction per batch.

The door (:mod:`crmcore.transitions.door`) still makes every state change,
one subject at a time and in memory; this module reads the stored states of a
whole batch of subjects with one look-up (:func:`load_states`) and writes what
the door returned for all of them together (:func:`store_runs`): new states,
changed states (optimistic concurrency on their versions), history entries
and events. A caller keeps each subject's moves in one batch, so a crash
leaves every subject before or after its moves.

Stored records are built here without the general converter: the bodies are
field for field what :func:`crmcore.unit_of_work.to_record` gives.

:func:`store_flow_runs` is the set-wise form for a :class:`~crmcore.transitions.door.BatchDoor`'s
changes: history entries and new states go to storage as rows
(:meth:`~crmcore.ports.StorageSession.insert_rows`) and events as encoded outbox
rows (:meth:`~crmcore.ports.StorageSession.append_encoded_events`), with no
record, entry or event object per change; what is stored is what
:func:`store_runs` stores for the same changes (event ids aside).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from json.encoder import encode_basestring as _text  # dump_json's escaper (UTF-8 kept)
from typing import Any, NamedTuple

import attrs

from crmcore.events import EncodedEvent, encode_event, new_event_id
from crmcore.ports import StoredRecord
from crmcore.serialization import dump_json, unstructure
from crmcore.transitions.definition import FlowDefinition
from crmcore.transitions.door import (
    FLOW_STARTED,
    FLOW_TRANSITIONED,
    BatchDoor,
    Made,
    Transition,
)
from crmcore.transitions.records import (
    FLOW_HISTORY,
    FLOW_STATE,
    FlowState,
    HistoryEntry,
    history_id,
    state_id,
)
from crmcore.unit_of_work import UnitOfWork


@attrs.frozen
class SubjectRun:
    """One subject's transitions made in a batch, ready to store.

    ``version`` is the stored version of the state the first transition
    started from (None when the subject entered the flow in this batch);
    ``made`` the door's results, in order. The last one holds the new state.
    """

    version: int | None
    made: tuple[Transition, ...]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a batched write (or a run of them), then
    restore it.

    A batch allocates hundreds of thousands of small acyclic objects (states,
    entries, events, bodies) that reference counting frees; the collector's
    passes over them, and over the long-lived data they are made from, cost up
    to a third of an advance. What is left behind is collected once the
    collector runs again. Nested pauses keep it paused until the outermost ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def state_body(state: FlowState) -> dict[str, Any]:
    """The stored body of a state record (as the general converter writes it)."""
    return {"id": state.id, "flow": state.flow, "flow_version": state.flow_version,
            "subject_id": state.subject_id, "customer_id": state.customer_id,
            "state": state.state, "entered_at": state.entered_at.isoformat(),
            "sequence": state.sequence, "fields": dict(state.fields)}


def entry_body(entry: HistoryEntry) -> dict[str, Any]:
    """The stored body of a history entry (as the general converter writes it)."""
    return {"id": entry.id, "flow": entry.flow, "flow_version": entry.flow_version,
            "subject_id": entry.subject_id, "customer_id": entry.customer_id,
            "sequence": entry.sequence, "event": entry.event, "from_state": entry.from_state,
            "to_state": entry.to_state, "at": entry.at.isoformat(), "actor": entry.actor,
            "reason": entry.reason, "seconds_in_previous": entry.seconds_in_previous,
            "fields": dict(entry.fields), "override": entry.override}


def state_from_body(body: Mapping[str, Any]) -> FlowState:
    """A state record rebuilt from its stored body (validated by :class:`FlowState`)."""
    return FlowState(
        id=body["id"], flow=body["flow"], flow_version=body["flow_version"],
        subject_id=body["subject_id"], customer_id=body["customer_id"], state=body["state"],
        entered_at=_instant(body["entered_at"]), sequence=body["sequence"],
        fields=body.get("fields") or {})


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def load_states(work: UnitOfWork, flow: str, subject_ids: Iterable[str]
                ) -> dict[str, tuple[FlowState, int]]:
    """The stored state and version of each of ``subject_ids`` that is in ``flow`` (one look-up)."""
    keys = {state_id(flow, subject_id): subject_id for subject_id in subject_ids}
    found = work.session.get_many(FLOW_STATE.kind, list(keys))
    return {keys[key]: (state_from_body(record.body), record.version)
            for key, record in found.items()}


def store_runs(work: UnitOfWork, runs: Sequence[SubjectRun]) -> None:
    """Store every run's new state, history entries and events inside ``work``.

    New states are inserted, changed ones updated against the version they
    were read at (:class:`~crmcore.errors.ConflictError` if another writer
    changed one meanwhile; the caller's transaction then rolls back).
    """
    inserted: list[StoredRecord] = []
    updated: list[tuple[StoredRecord, int]] = []
    entries: list[StoredRecord] = []
    for run in runs:
        if not run.made:
            continue
        state = run.made[-1].state
        if run.version is None:
            inserted.append(_state_record(state, 1))
        else:
            updated.append((_state_record(state, run.version + 1), run.version))
        for made in run.made:
            entries.append(_entry_record(made.entry))
            work.emit(made.event)
    session = work.session
    if inserted:
        session.insert_many(inserted)
    if updated:
        session.update_many(updated)
    if entries:
        session.insert_many(entries)


def _state_record(state: FlowState, version: int) -> StoredRecord:
    return StoredRecord(FLOW_STATE.kind, state.id, version, state.customer_id,
                        state.entered_at.astimezone(UTC), state_body(state))


def _entry_record(entry: HistoryEntry) -> StoredRecord:
    return StoredRecord(FLOW_HISTORY.kind, entry.id, 1, entry.customer_id,
                        entry.at.astimezone(UTC), entry_body(entry))


class FlowRun(NamedTuple):
    """One subject's changes made by a :class:`~crmcore.transitions.door.BatchDoor`.

    ``version`` is the stored version of the state the changes started from
    (None when the subject entered the flow in this batch); ``state`` the state
    they left; ``made`` the changes in order.
    """

    version: int | None
    state: FlowState
    made: Sequence[Made]


STATE_FIELDS = ("id", "flow", "flow_version", "subject_id", "customer_id", "state",
                "entered_at", "sequence", "fields")
"""The body fields of a state record, in :func:`state_body` order."""

HISTORY_FIELDS = ("id", "flow", "flow_version", "subject_id", "customer_id", "sequence",
                  "event", "from_state", "to_state", "at", "actor", "reason",
                  "seconds_in_previous", "fields", "override")
"""The body fields of a history entry, in :func:`entry_body` order."""


def store_flow_runs(work: UnitOfWork, door: BatchDoor, runs: Sequence[FlowRun]) -> None:
    """Store every run's new state, history entries and events inside ``work``, set-wise.

    The same records and events as :func:`store_runs` of the transitions
    :func:`~crmcore.transitions.apply_transition` makes for these changes (event
    ids aside), in the same order; changed states are updated against the version
    they were read at (:class:`~crmcore.errors.ConflictError` if another writer
    changed one meanwhile; the caller's transaction then rolls back). The events
    go to the outbox after those already emitted in ``work`` (:meth:`UnitOfWork.emit_encoded
    <crmcore.unit_of_work.UnitOfWork.emit_encoded>`).
    """
    flow, actor = door.flow, door.actor
    name, version, subject_kind = flow.name, flow.version, flow.subject
    encode = _event_encoder(flow, actor)
    new_states: list[tuple[Any, ...]] = []
    updated: list[tuple[StoredRecord, int]] = []
    entries: list[tuple[Any, ...]] = []
    events: list[EncodedEvent] = []
    for run in runs:
        if not run.made:
            continue
        state = run.state
        if run.version is None:
            new_states.append(_state_row(state))
        else:
            updated.append((_state_record(state, run.version + 1), run.version))
        subject, customer = state.subject_id, state.customer_id
        about = f"{subject_kind}:{subject}"
        for made in run.made:
            entry_id = history_id(name, subject, made.sequence)
            at = made.at
            occurred = at.isoformat()
            entries.append((
                entry_id, 1, customer, at.astimezone(UTC), entry_id, name, version, subject,
                customer, made.sequence, made.event, made.from_state, made.to_state,
                occurred, actor, made.reason, made.seconds_in_previous, made.fields,
                made.override))
            events.append(encode(customer, about, made, occurred))
    session = work.session
    if new_states:
        session.insert_rows(FLOW_STATE.kind, STATE_FIELDS, new_states)
    if updated:
        session.update_many(updated)
    if entries:
        session.insert_rows(FLOW_HISTORY.kind, HISTORY_FIELDS, entries)
    work.emit_encoded(events)


def _event_encoder(flow: FlowDefinition, actor: str
                   ) -> Callable[[str, str, Made, str], EncodedEvent]:
    """A function giving the outbox form of the event of one change (``customer``,
    ``subject`` as the event names it, the change, its time as ISO text).

    The body is the text :func:`~crmcore.events.encode_event` (that is,
    :func:`~crmcore.events.event_json`) writes for the door's event, built from
    pieces: the flow's and actor's texts once, each value escaped by the same C
    function as the JSON encoder (keys in sorted order, as ``dump_json`` sorts
    them). Anything but the types the door produces goes through
    :func:`~crmcore.events.encode_event` itself.
    """
    constant = (f'"actor":{_text(actor)},', f'"flow":{_text(flow.name)},"flow_version":'
                f'{flow.version!r},')

    def encode(customer: str, subject: str, made: Made, occurred: str) -> EncodedEvent:
        kind = FLOW_TRANSITIONED if made.from_state is not None else FLOW_STARTED
        event_id = new_event_id()
        seconds, sequence = made.seconds_in_previous, made.sequence
        if (type(seconds) is not float or not math.isfinite(seconds)
                or type(sequence) is not int or type(made.override) is not bool
                or type(flow.version) is not int or type(made.reason) is not str):
            return encode_event(kind, made.at, subject, customer, _event_data(flow, actor, made),
                                event_id)
        source = "null" if made.from_state is None else _text(made.from_state)
        fields = dump_json(made.fields, default=unstructure) if made.fields else "{}"
        return EncodedEvent(event_id, kind, made.at, (
            f'{{"customer_id":{_text(customer)},"data":{{{constant[0]}"event":'
            f'{_text(made.event)},"fields":{fields},{constant[1]}"from":{source},'
            f'"override":{"true" if made.override else "false"},"reason":{_text(made.reason)},'
            f'"seconds_in_previous":{seconds!r},"sequence":{sequence!r},"to":'
            f'{_text(made.to_state)}}},"id":{_text(event_id)},"occurred_at":{_text(occurred)},'
            f'"subject":{_text(subject)},"type":{_text(kind)}}}'))

    return encode


def _event_data(flow: FlowDefinition, actor: str, made: Made) -> dict[str, Any]:
    """The ``data`` of the door's event for one change (see :func:`_event_encoder`)."""
    return {"flow": flow.name, "flow_version": flow.version, "event": made.event,
            "from": made.from_state, "to": made.to_state, "actor": actor,
            "reason": made.reason, "seconds_in_previous": made.seconds_in_previous,
            "fields": made.fields, "override": made.override, "sequence": made.sequence}


def _state_row(state: FlowState) -> tuple[Any, ...]:
    """The :data:`STATE_FIELDS` row of a new state record (version 1)."""
    return (state.id, 1, state.customer_id, state.entered_at.astimezone(UTC), state.id,
            state.flow, state.flow_version, state.subject_id, state.customer_id, state.state,
            state.entered_at.isoformat(), state.sequence, dict(state.fields))
