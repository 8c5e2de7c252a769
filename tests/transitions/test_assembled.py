"""The door assembles its records without re-running validators: they equal validated ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.lifecycle import builtin_flow, customer_flow
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    RefusedTransitionError,
    Transition,
    apply_transition,
    start_flow,
)
from crmcore.transitions.records import HistoryEntry, assemble

T0 = datetime(2025, 1, 1, 9, tzinfo=UTC)
FLOWS = [customer_flow(), builtin_flow("consulting"), builtin_flow("lead")]


def _assert_as_validated(made: Transition) -> None:
    """Each record equals the one its validating constructor builds from the same values,
    and holds dicts of its own."""
    for record in made:
        assert attrs.evolve(record) == record
    assert made.state.fields is not made.entry.fields
    assert len(made.event.id) == 32
    assert int(made.event.id, 16) >= 0


@settings(max_examples=60, deadline=None)
@given(flow=st.sampled_from(FLOWS), picks=st.lists(st.integers(0, 20), max_size=12),
       hours=st.lists(st.integers(0, 400), min_size=12, max_size=12),
       override=st.booleans())
def test_door_records_equal_validated_ones_on_any_walk(flow: FlowDefinition, picks: list[int],
                                                      hours: list[int],
                                                      override: bool) -> None:
    """Random walks through three flows (internal events, overrides, required fields)."""
    made = start_flow(flow, "S1", customer_id="C1", at=T0, actor="ann", fields={"k": [1]})
    _assert_as_validated(made)
    ids = {made.event.id}
    at = T0
    for pick, step in zip(picks, hours, strict=False):
        choices = flow.transitions_from(made.state.state)
        if not choices:
            break
        chosen = choices[pick % len(choices)]
        at += timedelta(hours=step)
        fields = dict.fromkeys(chosen.required_fields, "other")
        try:
            made = apply_transition(flow, made.state, chosen.event, at=at, actor="ann",
                                    reason="walk", fields=fields, override=override)
        except RefusedTransitionError:
            continue
        _assert_as_validated(made)
        assert made.event.id not in ids
        ids.add(made.event.id)


def test_an_instant_out_of_range_fails_as_the_validating_constructor_does() -> None:
    """The range check (UTC overflow) is the one the door leaves to the record; it still runs."""
    record = start_flow(customer_flow(), "C1", customer_id="C1", at=T0, actor="ann").state
    edge = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))
    with pytest.raises(ValidationError) as by_constructor:
        attrs.evolve(record, entered_at=edge)
    with pytest.raises(ValidationError) as by_door:
        apply_transition(customer_flow(), record, "select", at=edge, actor="ann",
                         reason="large buyer")
    assert str(by_door.value) == str(by_constructor.value)
    assert "entered_at" in str(by_door.value)
    lead = builtin_flow("lead")
    answered = apply_transition(lead, start_flow(lead, "L1", customer_id="C1", at=T0,
                                                 actor="ann").state, "answer", at=T0, actor="ann")
    with pytest.raises(ValidationError) as internal:  # the state keeps its time: the entry's
        apply_transition(lead, answered.state, "report_progress", at=edge, actor="ann")
    with pytest.raises(ValidationError) as by_entry:
        attrs.evolve(answered.entry, at=edge)
    assert str(internal.value) == str(by_entry.value)


def test_assemble_needs_every_field() -> None:
    with pytest.raises(TypeError, match=r"HistoryEntry: every field needs a value"):
        assemble(HistoryEntry, id="x")
    state = start_flow(customer_flow(), "C1", customer_id="C1", at=T0, actor="ann").state
    assert assemble(FlowState, **attrs.asdict(state, recurse=False)) == state
