"""hypothesis stateful tests of the door: any event sequence keeps every invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmcore import CRM, Customer
from crmcore.lifecycle import builtin_flow, customer_flow
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    HistoryEntry,
    RefusedTransitionError,
    history_of,
    replay,
    start,
    transition,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SUBJECTS = ("C1", "C2")
FIELD_VALUES = st.one_of(st.none(), st.sampled_from(
    ["natural", "value", "super-value", "other", "INV-1", "too expensive"]),
    st.lists(st.sampled_from(["poor-service", "other", "nonsense"]), max_size=2))


class DoorMachine(RuleBasedStateMachine):
    """Random events, fields, facts, times and overrides against one flow in storage."""

    flow: FlowDefinition = customer_flow()

    def __init__(self) -> None:
        super().__init__()
        self.crm = CRM.open("memory")
        self.now = T0
        self.refused = 0

    @initialize()
    def start_subjects(self) -> None:
        for subject in SUBJECTS:
            self.crm.record(Customer(id=subject, name=subject))
            start(self.crm, self.flow, subject, customer_id=subject, at=T0, actor="setup")

    def _snapshot(self) -> tuple[Any, ...]:
        return (self.crm.find(FlowState), self.crm.find(HistoryEntry),
                [entry.event.id for entry in self.crm.events()])

    @rule(subject=st.sampled_from(SUBJECTS),
          event=st.sampled_from([*customer_flow().events(), *builtin_flow("lead").events(),
                                 "nonsense"]),
          days=st.integers(-3, 60),
          fields=st.dictionaries(st.sampled_from(
              ["churn_type", "churn_cause", "churn_reasons", "churn_note", "loyalty_type",
               "invoice_id", "lost_reason"]), FIELD_VALUES, max_size=4),
          purchase_days=st.none() | st.integers(-30, 30),
          reason=st.sampled_from(["", "because"]),
          override=st.booleans())
    def fire(self, subject: str, event: str, days: int, fields: dict[str, Any],
             purchase_days: int | None, reason: str, override: bool) -> None:
        at = self.now + timedelta(days=days)
        facts = {} if purchase_days is None else {
            "first_purchase_at": T0, "last_purchase_at": at - timedelta(days=purchase_days)}
        before = self._snapshot()
        try:
            transition(self.crm, self.flow, subject, event, at=at, actor="tester",
                       reason=reason, fields=fields, facts=facts, override=override)
        except RefusedTransitionError:
            self.refused += 1
            assert self._snapshot() == before, "a refused transition changed storage"
        else:
            self.now = max(self.now, at)

    @invariant()
    def states_are_allowed_and_history_replays(self) -> None:
        for subject in SUBJECTS:
            state = self.crm.get(FlowState, f"{self.flow.name}:{subject}")
            if state is None:
                continue
            assert state.state in self.flow.reachable()
            entries = history_of(self.crm, self.flow, subject)
            assert len(entries) == state.sequence
            for entry in entries[1:]:
                step = self.flow.transition(entry.event, entry.from_state or "")
                assert step is not None
                assert step.target_from(entry.from_state or "") == \
                    entry.to_state
            assert replay(self.flow, entries) == state

    def teardown(self) -> None:
        self.crm.close()


class LeadDoorMachine(DoorMachine):
    """The same invariants on a forward-only flow with internal events and overrides."""

    flow = builtin_flow("lead")


SETTINGS = settings(max_examples=40, stateful_step_count=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TestCustomerLifecycleDoor = DoorMachine.TestCase
TestCustomerLifecycleDoor.settings = SETTINGS
TestLeadDoor = LeadDoorMachine.TestCase
TestLeadDoor.settings = SETTINGS
