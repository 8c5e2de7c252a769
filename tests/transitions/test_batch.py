"""Many subjects' transitions stored set-based, on memory and SQLite storage."""

from __future__ import annotations

import gc
import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM
from crmcore.errors import ConflictError
from crmcore.events import new_event_id
from crmcore.lifecycle import customer_flow
from crmcore.transitions import (
    FlowState,
    HistoryEntry,
    apply_transition,
    history_of,
    load_state,
    start_flow,
    states_of,
)
from crmcore.transitions.batch import (
    SubjectRun,
    collection_paused,
    entry_body,
    load_states,
    state_body,
    state_from_body,
    store_runs,
)
from crmcore.unit_of_work import to_record

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
FLOW = customer_flow()
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3), max_leaves=5)


def _started(subject: str, at: datetime = T0) -> tuple[SubjectRun, FlowState]:
    start = start_flow(FLOW, subject, customer_id=subject, at=at, actor="ann")
    bought = apply_transition(FLOW, start.state, "first_purchase", at=at, actor="ann",
                              facts={"first_purchase_at": at})
    return SubjectRun(None, (start, bought)), bought.state


@given(offset=st.integers(-12, 12), fields=st.dictionaries(st.text(min_size=1, max_size=4),
                                                           json_values, max_size=3))
def test_bodies_are_what_the_general_converter_writes(offset: int,
                                                      fields: dict[str, object]) -> None:
    at = T0.astimezone(timezone(timedelta(hours=offset)))
    start = start_flow(FLOW, "C1", customer_id="C1", at=at, actor="ann", reason="new",
                       fields=fields)
    assert state_body(start.state) == to_record(start.state).body
    assert entry_body(start.entry) == to_record(start.entry).body
    assert state_from_body(to_record(start.state).body) == start.state


def test_runs_are_stored_with_their_history_and_events(crm: CRM) -> None:
    first, _ = _started("C1")
    second, _ = _started("C2")
    with crm.transaction() as work:
        store_runs(work, [first, second, SubjectRun(None, ())])
    assert [s.state for s in states_of(crm, FLOW)] == ["active", "active"]
    assert [e.event for e in history_of(crm, FLOW, "C2")] == ["start", "first_purchase"]
    assert [e.event.data["event"] for e in crm.events()] == ["start", "first_purchase"] * 2
    with crm.transaction() as work:
        loaded = load_states(work, FLOW.name, ["C1", "C2", "C9"])
        assert load_state(work, FLOW, "C1") == loaded["C1"]
    assert set(loaded) == {"C1", "C2"}
    assert loaded["C1"][1] == 1


def test_a_state_changed_meanwhile_fails_the_whole_batch(crm: CRM) -> None:
    run, state = _started("C1")
    with crm.transaction() as work:
        store_runs(work, [run])
    later = apply_transition(FLOW, state, "flag_at_risk", at=T0 + timedelta(days=90),
                             actor="ann", reason="quiet")
    stale = SubjectRun(7, (later,))  # read at version 7; stored is version 1
    fresh, _ = _started("C2")
    with pytest.raises(ConflictError), crm.transaction() as work:
        store_runs(work, [fresh, stale])
    assert [s.subject_id for s in states_of(crm, FLOW)] == ["C1"]
    assert crm.count(HistoryEntry) == 2
    assert len(crm.events()) == 2


def test_collection_paused_restores_the_collector_even_when_the_batch_fails() -> None:
    assert gc.isenabled()
    seen: list[bool] = []

    def failing_batch() -> None:
        with collection_paused():
            seen.append(gc.isenabled())
            raise RuntimeError("batch failed")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is left as it was
    finally:
        gc.enable()


def test_event_ids_drawn_in_bulk_are_time_ordered_random_hex_and_new_after_a_fork() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(1500)]  # three draws of the pool
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 1500
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    stamps = [int(value[:12], 16) for value in ids]
    assert stamps == sorted(stamps)
    assert before <= stamps[0]
    assert stamps[-1] <= after
    assert len({value[12:] for value in ids}) == 1500  # the random part alone is unique
    time.sleep(0.002)
    assert new_event_id() > max(ids)  # a later millisecond sorts after
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, new_event_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    from_child = os.read(reader, 64).decode()
    os.close(reader)
    assert re.fullmatch(r"[0-9a-f]{32}", from_child)
    assert from_child[12:] != new_event_id()[12:]
