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
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import attrs

from crmcore.ports import StoredRecord
from crmcore.transitions.door import Transition
from crmcore.transitions.records import FLOW_HISTORY, FLOW_STATE, FlowState, HistoryEntry, state_id
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
