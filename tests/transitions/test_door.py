"""The one transition door: checks, history record, event; atomic storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import customer

from crmcore import CRM, ConflictError, TransitionError
from crmcore.lifecycle import builtin_flow, customer_flow
from crmcore.transitions import (
    FLOW_STARTED,
    FLOW_TRANSITIONED,
    FlowState,
    HistoryEntry,
    RefusedTransitionError,
    apply_transition,
    current_state,
    history_of,
    load_state,
    replay,
    start,
    start_flow,
    transition,
    transition_in,
)

T0 = datetime(2025, 1, 1, 9, tzinfo=UTC)
FLOW = customer_flow()


def _started() -> FlowState:
    return start_flow(FLOW, "C1", customer_id="C1", at=T0, actor="ann").state


def test_start_puts_the_subject_in_the_initial_state_with_a_first_entry() -> None:
    made = start_flow(FLOW, "C1", customer_id="C1", at=T0, actor="ann", reason="met at a fair")
    assert (made.state.state, made.state.sequence, made.state.entered_at) == ("identified", 1, T0)
    assert (made.entry.from_state, made.entry.to_state, made.entry.event) == (
        None, "identified", "start")
    assert made.event.type == FLOW_STARTED
    assert made.event.subject == "customer:C1"


def test_apply_returns_record_history_and_event_without_changing_inputs() -> None:
    record = _started()
    later = T0 + timedelta(days=3, hours=12)
    made = apply_transition(FLOW, record, "select", at=later, actor="ann",
                            reason="large buyer in our region")
    assert record.state == "identified"
    assert made.state.state == "selected"
    assert made.state.entered_at == later
    assert made.state.sequence == 2
    entry = made.entry
    assert (entry.from_state, entry.to_state, entry.at, entry.actor, entry.reason) == (
        "identified", "selected", later, "ann", "large buyer in our region")
    assert entry.time_in_previous == timedelta(days=3, hours=12)
    assert made.event.type == FLOW_TRANSITIONED
    assert made.event.data["from"] == "identified"
    assert made.event.data["to"] == "selected"
    assert made.event.customer_id == "C1"


@pytest.mark.parametrize(("event", "kwargs", "message"), [
    ("churn", {}, "event 'churn' refused: not allowed in this state "
                  "(allowed here: select, first_purchase)"),
    ("select", {}, "validator 'reason_given'"),
    ("select", {"actor": " "}, "an actor"),
    ("first_purchase", {}, "guard 'has_purchased' said no"),
    ("select", {"reason": "x", "at": T0 - timedelta(days=1)}, "before the state was entered"),
    ("select", {"reason": "x", "fields": {"bad": object()}}, "is not a JSON value"),
])
def test_refusals_name_flow_state_event_and_reason(event: str, kwargs: dict[str, Any],
                                                   message: str) -> None:
    arguments: dict[str, Any] = {"at": T0, "actor": "ann", **kwargs}
    with pytest.raises(RefusedTransitionError) as raised:
        apply_transition(FLOW, _started(), event, **arguments)
    text = str(raised.value)
    assert text.startswith("flow 'customer-lifecycle': C1 in state 'identified': event")
    assert message in text
    assert isinstance(raised.value, TransitionError)


def test_l3_required_fields_on_entry_to_churned() -> None:
    record = attrs_evolve(_started(), state="active")
    with pytest.raises(RefusedTransitionError,
                       match="churn_type, churn_cause, churn_reasons required on entry"):
        apply_transition(FLOW, record, "churn", at=T0, actor="ann")


def attrs_evolve(record: FlowState, **changes: Any) -> FlowState:
    import attrs

    return attrs.evolve(record, **changes)


def test_forward_only_flow_needs_a_recorded_override_to_go_back() -> None:
    flow = builtin_flow("consulting")
    record = start_flow(flow, "E1", customer_id="C1", at=T0, actor="ann").state
    for event in ("kick_off", "investigate", "design"):
        record = apply_transition(flow, record, event, at=T0, actor="ann").state
    with pytest.raises(RefusedTransitionError, match="goes backward in forward-only flow"):
        apply_transition(flow, record, "reinvestigate", at=T0, actor="ann", reason="gap")
    with pytest.raises(RefusedTransitionError, match="an override needs a reason"):
        apply_transition(flow, record, "reinvestigate", at=T0, actor="ann", override=True)
    made = apply_transition(flow, record, "reinvestigate", at=T0, actor="lead.consultant",
                            reason="client changed scope", override=True)
    assert made.state.state == "investigation"
    assert made.entry.override is True
    assert made.event.data["override"] is True
    forward = apply_transition(flow, made.state, "design", at=T0, actor="ann", override=True)
    assert forward.entry.override is False  # nothing was overridden


def test_internal_event_is_recorded_without_moving() -> None:
    flow = builtin_flow("lead")
    record = start_flow(flow, "L1", customer_id="C1", at=T0, actor="ann").state
    answered = apply_transition(flow, record, "answer", at=T0 + timedelta(days=2), actor="ann")
    report = apply_transition(flow, answered.state, "report_progress",
                              at=T0 + timedelta(days=9), actor="ann", reason="sent samples")
    assert report.state.state == "answered"
    assert report.state.entered_at == answered.state.entered_at
    assert report.entry.from_state == report.entry.to_state == "answered"
    assert replay(flow, [record_entry(flow), answered.entry, report.entry]) == report.state


def record_entry(flow: Any) -> HistoryEntry:
    return start_flow(flow, "L1", customer_id="C1", at=T0, actor="ann").entry


def _snapshot(crm: CRM) -> tuple[Any, ...]:
    return (crm.find(FlowState), crm.find(HistoryEntry), [e.event.id for e in crm.events()])


def test_store_writes_state_history_and_event_together(crm: CRM) -> None:
    crm.record(customer("C1"))
    start(crm, FLOW, "C1", customer_id="C1", at=T0, actor="ann")
    made = transition(crm, FLOW, "C1", "select", at=T0 + timedelta(days=1), actor="ann",
                      reason="strategic")
    assert current_state(crm, FLOW, "C1") == made.state
    assert [e.to_state for e in history_of(crm, FLOW, "C1")] == ["identified", "selected"]
    assert [e.event.type for e in crm.events()][-2:] == [FLOW_STARTED, FLOW_TRANSITIONED]
    assert replay(FLOW, history_of(crm, FLOW, "C1")) == made.state


def test_a_refused_transition_stores_nothing(crm: CRM) -> None:
    crm.record(customer("C1"))
    start(crm, FLOW, "C1", customer_id="C1", at=T0, actor="ann")
    before = _snapshot(crm)
    with pytest.raises(RefusedTransitionError):
        transition(crm, FLOW, "C1", "churn", at=T0, actor="ann")
    with pytest.raises(RefusedTransitionError, match="already in the flow"):
        start(crm, FLOW, "C1", customer_id="C1", at=T0, actor="ann")
    with pytest.raises(RefusedTransitionError, match="has not started the flow"):
        transition(crm, FLOW, "C2", "select", at=T0, actor="ann", reason="x")
    assert _snapshot(crm) == before


def test_expected_version_detects_a_concurrent_change(crm: CRM) -> None:
    crm.record(customer("C1"))
    start(crm, FLOW, "C1", customer_id="C1", at=T0, actor="ann")
    with crm.transaction() as work:
        _, version = load_state(work, FLOW, "C1")
    transition(crm, FLOW, "C1", "select", at=T0, actor="bob", reason="bob was first")
    before = _snapshot(crm)
    with pytest.raises(ConflictError, match="changed by someone else"), \
            crm.transaction() as work:
        transition_in(work, FLOW, "C1", "develop", at=T0, actor="ann",
                      expected_version=version)
    assert _snapshot(crm) == before
