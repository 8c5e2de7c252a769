"""L1: the set-based advance stores what the door stores customer by customer.

The reference is the plain path: each customer's facts gathered from its
entities, :func:`~crmcore.lifecycle.evidence.plan_moves_reference`, and every
move stored in its own transaction through :func:`crmcore.transitions.transition`.
Both run on real SQLite files; states, histories and events must be equal.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import CRM, Customer, FixedClock, Transaction
from crmcore.i18n import tr
from crmcore.lifecycle import LifecycleService
from crmcore.lifecycle.evidence import CustomerFacts, Thresholds, plan_moves_reference
from crmcore.lifecycle.service import DEFAULT_ACTOR
from crmcore.model import SurveyResponse
from crmcore.transitions import current_state, start, transition

T0 = datetime(2023, 1, 1, 9, tzinfo=UTC)
OFFSETS = (UTC, timezone(timedelta(hours=8)))
RULES = Thresholds(at_risk_min_days=5, churn_min_days=20, loyal_min_purchase_days=2,
                   loyal_min_tenure_days=30, loyal_survey_count=2, loyal_min_csat=3)

days = st.integers(min_value=0, max_value=400)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """A moment within 400 days of T0, in UTC or +08:00 (calendar days differ)."""
    hours = draw(st.integers(min_value=0, max_value=23))
    return (T0 + timedelta(days=draw(days), hours=hours)).astimezone(
        draw(st.sampled_from(OFFSETS)))


@st.composite
def books(draw: st.DrawFn) -> list[Any]:
    """A few customers with purchases and satisfaction answers."""
    entities: list[Any] = []
    for number in range(draw(st.integers(min_value=1, max_value=5))):
        customer_id = f"C{number}"
        entities.append(Customer(id=customer_id, name=customer_id,
                                 acquired_at=draw(st.none() | moments())))
        for k, at in enumerate(draw(st.lists(moments(), max_size=8))):
            entities.append(Transaction(id=f"{customer_id}-P{k}", customer_id=customer_id,
                                        occurred_at=at, amount=Decimal(10)))
        for k, at in enumerate(draw(st.lists(moments(), max_size=3))):
            entities.append(SurveyResponse(id=f"{customer_id}-S{k}", customer_id=customer_id,
                                           answered_at=at, survey="csat",
                                           csat=draw(st.integers(1, 5))))
    return entities


def _open(folder: str, name: str, entities: list[Any]) -> CRM:
    crm = CRM.open("sqlite", path=str(Path(folder) / name), clock=FixedClock(T0))
    crm.record_many(entities)
    return crm


def _advance_one_by_one(crm: CRM, service: LifecycleService, as_of: datetime) -> None:
    """The reference: per customer, per move, one transaction each."""
    flow = service.flow
    for customer in sorted(crm.find(Customer), key=lambda c: c.id):
        bought = [t for t in crm.find(Transaction, customer_id=customer.id)
                  if t.occurred_at <= as_of]
        answers = [s for s in crm.find(SurveyResponse, customer_id=customer.id)
                   if s.answered_at <= as_of]
        facts = CustomerFacts.gather(customer, bought, [], answers)
        state = current_state(crm, flow, customer.id)
        if state is None:
            begin = min([m for m in (facts.acquired_at, *facts.purchases[:1]) if m],
                        default=as_of)
            if begin > as_of:
                continue
            state = start(crm, flow, customer.id, customer_id=customer.id, at=begin,
                          actor=DEFAULT_ACTOR,
                          reason=tr("entered the customer lifecycle")).state
        for move in plan_moves_reference(state.state, state.entered_at, facts, as_of, RULES):
            state = transition(crm, flow, customer.id, move.event, at=move.at,
                               actor=DEFAULT_ACTOR, reason=f"{move.rule}: {move.reason}",
                               fields=move.fields, facts=move.facts).state


def _stored(crm: CRM, service: LifecycleService) -> tuple[Any, ...]:
    events = [(e.event.type, e.event.occurred_at, e.event.subject, e.event.customer_id,
               e.event.data) for e in crm.events()]
    return service.states(), service.histories(), events


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entities=books(), first=days, second=days,
       batch_size=st.integers(min_value=1, max_value=3))
def test_l1_batched_advance_stores_what_the_one_by_one_door_stores(
        entities: list[Any], first: int, second: int, batch_size: int) -> None:
    """Two advances (the second moves stored states on) equal the reference's, record
    for record, whatever the batch size."""
    dates = sorted({T0 + timedelta(days=first), T0 + timedelta(days=second)})
    with tempfile.TemporaryDirectory() as folder, \
            _open(folder, "fast.db", entities) as fast, \
            _open(folder, "reference.db", entities) as reference:
        batched = LifecycleService(fast, thresholds=RULES, scoring=None)
        one_by_one = LifecycleService(reference, thresholds=RULES, scoring=None)
        for as_of in dates:
            report = batched.advance(as_of, batch_size=batch_size)
            assert report.refused == ()
            _advance_one_by_one(reference, one_by_one, as_of)
        assert _stored(fast, batched) == _stored(reference, one_by_one)
