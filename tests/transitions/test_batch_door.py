"""The batch door and its set-wise store against the one-move door and the object store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore import CRM
from crmcore.errors import ConflictError, TransitionError
from crmcore.events import DomainEvent, event_json
from crmcore.lifecycle import customer_flow
from crmcore.ports import StoredRecord
from crmcore.testing.strategies import json_values
from crmcore.transitions import FlowState, HistoryEntry, apply_transition, start_flow, states_of
from crmcore.transitions.batch import (
    FlowRun,
    SubjectRun,
    _event_data,
    _event_encoder,
    store_flow_runs,
    store_runs,
)
from crmcore.transitions.door import BatchDoor, Made, Step, Transition
from crmcore.transitions.records import assemble
from crmcore.unit_of_work import to_record

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
FLOW = customer_flow()
CHURN = {"churn_type": "unknown", "churn_cause": "unknown", "churn_reasons": ["unknown"],
         "churn_note": "quiet"}

_steps = st.lists(st.tuples(
    st.sampled_from([*FLOW.events(), "no_such_event"]),
    st.integers(-2, 60),  # days after the previous step: sometimes before it
    st.sampled_from(["", "quiet", "L3: silent"]),
    st.sampled_from([None, {}, {"loyalty_type": "unknown"}, {"loyalty_type": "nonsense"},
                     CHURN, {"churn_type": "unknown"}]),
    st.booleans(),  # whether the purchase facts say a purchase happened just before
), max_size=8)


def _as_steps(drawn: list[tuple[str, int, str, Any, bool]]) -> list[Step]:
    steps, at = [], T0
    for event, days, reason, fields, bought in drawn:
        at += timedelta(days=days)
        facts = {"first_purchase_at": T0, "last_purchase_at": at} if bought else {}
        steps.append(Step(event, at, reason, fields, facts))
    return steps


def _one_by_one(record: FlowState, steps: list[Step]
                ) -> tuple[FlowState, list[Transition], str | None]:
    made: list[Transition] = []
    for step in steps:
        try:
            made.append(apply_transition(FLOW, record, step.event, at=step.at, actor="ann",
                                         reason=step.reason, fields=step.fields,
                                         facts=step.facts))
        except TransitionError as error:
            return record, made, str(error)
        record = made[-1].state
    return record, made, None


def _flat(entry: HistoryEntry) -> Made:
    return Made(entry.sequence, entry.event, entry.from_state, entry.to_state, entry.at,
                entry.reason, entry.seconds_in_previous, entry.fields, entry.override)


@given(drawn=_steps)
@settings(max_examples=200, deadline=None)
def test_batch_door_applies_and_refuses_as_the_one_move_door(
        drawn: list[tuple[str, int, str, Any, bool]]) -> None:
    door = BatchDoor(FLOW, "ann")
    state, start = door.start("C1", customer_id="C1", at=T0, reason="new")
    started = start_flow(FLOW, "C1", customer_id="C1", at=T0, actor="ann", reason="new")
    assert (state, start) == (started.state, _flat(started.entry))
    steps = _as_steps(drawn)
    applied = door.apply(state, steps)
    final, made, refused = _one_by_one(state, steps)
    assert applied.state == final
    assert applied.made == [_flat(step.entry) for step in made]
    assert (None if applied.refused is None else str(applied.refused)) == refused
    again = door.apply(state, steps)  # the resolved transitions are remembered, not the moves
    assert (again.state, again.made) == (applied.state, applied.made)


def test_a_second_actor_or_a_foreign_record_is_refused_as_the_door_refuses() -> None:
    state = start_flow(FLOW, "C1", customer_id="C1", at=T0, actor="ann").state
    nobody = BatchDoor(FLOW, " ").apply(state, [Step("first_purchase", T0)])
    assert nobody.made == []
    assert nobody.state == state
    assert "an actor (who) must be named" in str(nobody.refused)
    with pytest.raises(TransitionError):
        BatchDoor(FLOW, " ").start("C2", customer_id="C2", at=T0)
    foreign = BatchDoor(FLOW, "ann").apply(
        FlowState(id="x:C1", flow="x", flow_version=1, subject_id="C1", customer_id="C1",
                  state="identified", entered_at=T0, sequence=1),
        [Step("first_purchase", T0, facts={"first_purchase_at": T0})])
    assert "the record belongs to flow 'x'" in str(foreign.refused)


@pytest.fixture
def twin(tmp_path: Any) -> Iterator[CRM]:
    with CRM.open("sqlite", path=str(tmp_path / "twin.db")) as opened:
        yield opened


def _subject_moves(subject: str, purchases: int) -> list[Step]:
    steps = [Step("first_purchase", T0, "L1: bought", None, {"first_purchase_at": T0})]
    at = T0
    for _ in range(purchases):
        steps.append(Step("flag_at_risk", at + timedelta(days=40), "L3: quiet"))
        at += timedelta(days=45)
        steps.append(Step("recover", at, "L1: back", None, {"last_purchase_at": at}))
    steps.append(Step("flag_at_risk", at + timedelta(days=50), "L3: quiet"))
    steps.append(Step("churn", at + timedelta(days=400), "L3: gone", CHURN))
    return steps


def _stored(crm: CRM) -> tuple[list[Any], list[Any], list[Any]]:
    with crm.storage.transaction() as session:
        states = [_exact(r) for r in session.query("flow_state")]
        entries = [_exact(r) for r in session.query("flow_history")]
        events = [(entry.seq, entry.event.type, entry.event.occurred_at, entry.event.subject,
                   entry.event.customer_id, entry.event.data) for entry in session.events()]
    return states, entries, events


def _exact(record: StoredRecord) -> tuple[Any, ...]:
    return (record.kind, record.id, record.version, record.customer_id, record.at,
            sorted(record.body.items()))


def test_stored_runs_equal_what_the_object_store_writes(crm: CRM, twin: CRM) -> None:
    """store_flow_runs writes the records and events store_runs writes for the same moves
    (ids of events aside), for new subjects and for subjects read at a stored version."""
    door = BatchDoor(FLOW, "ann")
    for round_number in range(2):
        batch: list[FlowRun] = []
        objects: list[SubjectRun] = []
        for number, subject in enumerate(["C1", "C2", "C3"]):
            with crm.transaction() as work:
                stored = work.session.get("flow_state", f"{FLOW.name}:{subject}")
            if stored is None:
                state, start = door.start(subject, customer_id=subject, at=T0, reason="new")
                begun = start_flow(FLOW, subject, customer_id=subject, at=T0, actor="ann",
                                   reason="new")
                made, transitions, version = [start], [begun], None
            else:
                state = next(s for s in states_of(crm, FLOW) if s.subject_id == subject)
                made, transitions, version = [], [], stored.version
            steps = _subject_moves(subject, number)[3 * round_number:][:3]
            applied = door.apply(state, steps)
            _, one_by_one, _ = _one_by_one(state, steps)
            batch.append(FlowRun(version, applied.state, [*made, *applied.made]))
            objects.append(SubjectRun(version, (*transitions, *one_by_one)))
        with crm.transaction() as work:
            store_flow_runs(work, door, batch)
        with twin.transaction() as work:
            store_runs(work, objects)
    assert _stored(crm) == _stored(twin)
    assert len(_stored(crm)[2]) == crm.count(HistoryEntry) > 6


def test_observers_and_notifiers_receive_the_encoded_events(crm: CRM) -> None:
    door = BatchDoor(FLOW, "ann")
    state, start = door.start("C1", customer_id="C1", at=T0)
    applied = door.apply(state, _subject_moves("C1", 1))
    with crm.transaction() as work:
        store_flow_runs(work, door, [FlowRun(None, applied.state, [start, *applied.made])])
    recorder = crm.notifiers["recording"]
    delivered = [event.data["event"] for event in recorder.events]  # type: ignore[attr-defined]
    assert delivered == ["start", "first_purchase", "flag_at_risk", "recover", "flag_at_risk",
                         "churn"]
    assert [entry.event for entry in crm.events()] == recorder.events  # type: ignore[attr-defined]


def test_a_stale_version_fails_the_whole_batch_and_stores_nothing(crm: CRM) -> None:
    door = BatchDoor(FLOW, "ann")
    state, start = door.start("C1", customer_id="C1", at=T0)
    with crm.transaction() as work:
        store_flow_runs(work, door, [FlowRun(None, state, [start])])
    moved = door.apply(state, _subject_moves("C1", 0)[:1])
    state2, start2 = door.start("C2", customer_id="C2", at=T0)
    with pytest.raises(ConflictError), crm.transaction() as work:
        store_flow_runs(work, door, [FlowRun(None, state2, [start2]),
                                     FlowRun(7, moved.state, moved.made)])
    assert [s.subject_id for s in states_of(crm, FLOW)] == ["C1"]
    assert crm.count(HistoryEntry) == 1
    assert len(crm.events()) == 1
    assert to_record(states_of(crm, FLOW)[0]).version == 1


_texts = st.text(max_size=6)  # quotes, backslashes, control and non-ASCII characters too


@given(made=st.builds(
    Made, st.integers(1, 10**6), _texts, st.none() | _texts, _texts,
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])), _texts,
    st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e300]),
    st.dictionaries(_texts, json_values(), max_size=3), st.booleans()),
    customer=_texts, actor=_texts)
@settings(max_examples=300, deadline=None)
def test_event_encoder_writes_the_text_event_json_writes(made: Made, customer: str,
                                                         actor: str) -> None:
    """The outbox body built from pieces is event_json's text of the door's event."""
    encoded = _event_encoder(FLOW, actor)(customer, "customer:C1", made, made.at.isoformat())
    event = assemble(DomainEvent, type=encoded.type, occurred_at=made.at,  # any text, unchecked
                     subject="customer:C1", customer_id=customer,
                     data=_event_data(FLOW, actor, made), id=encoded.id)
    assert encoded.body == event_json(event)
    assert (encoded.type == "flow.started") == (made.from_state is None)
    assert encoded.occurred_at == made.at
