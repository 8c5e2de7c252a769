"""L3 asks why, S7 keeps one clock: no invented churn reasons, no second lateness clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.errors import TransitionError
from crmcore.lifecycle import LifecycleService
from crmcore.model import Ticket, TicketKind
from crmcore.policies import PolicyService, PolicySet
from crmcore.policies.agenda import ActionKind, graded_ticket_sla

MONDAY = datetime(2025, 3, 3, 9, tzinfo=UTC)


def _silent_customer(crm: CRM) -> None:
    crm.record(Customer(id="C1", name="Quiet Ltd", owner="wang", acquired_at=MONDAY))
    crm.record(Transaction(id="T1", customer_id="C1", occurred_at=MONDAY, amount=Decimal(100)))


def test_l3_a_silent_churn_puts_ask_why_on_the_owners_agenda_until_answered(crm: CRM) -> None:
    _silent_customer(crm)
    lifecycle = LifecycleService(crm, scoring=None)
    as_of = MONDAY + timedelta(days=400)
    lifecycle.advance(as_of)
    churned = lifecycle.stage("C1")
    assert churned is not None
    assert churned.state == "churned"
    assert churned.fields["churn_reasons"] == ["unknown"]
    policies = PolicyService(crm, PolicySet())
    asks = [item for item in policies.agenda(as_of) if item.kind is ActionKind.ASK_WHY]
    assert [(item.owner, item.customer_id) for item in asks] == [("wang", "C1")]
    assert asks[0].due_at == churned.entered_at + timedelta(days=7)
    assert "ask why they left" in asks[0].why

    with pytest.raises(TransitionError, match="cannot be 'unknown'"):
        lifecycle.move("C1", "explain_churn", actor="wang", at=as_of, fields={
            "churn_type": "unknown", "churn_cause": "unknown", "churn_reasons": ["unknown"]})
    assert lifecycle.stage("C1") == churned  # a refused answer changes nothing

    lifecycle.move("C1", "explain_churn", actor="wang", at=as_of, reason="called them", fields={
        "churn_type": "competitive", "churn_cause": "value",
        "churn_reasons": ["competitor-temptation", "price-too-high"]})
    answered = lifecycle.stage("C1")
    assert answered is not None
    assert answered.state == "churned"
    assert answered.entered_at == churned.entered_at  # still churned since then
    assert answered.fields["churn_type"] == "competitive"
    assert answered.fields["churn_reasons"] == ["competitor-temptation", "price-too-high"]
    assert not [item for item in policies.agenda(as_of) if item.kind is ActionKind.ASK_WHY]


def test_l3_unknown_is_never_mixed_with_known_reasons(crm: CRM) -> None:
    _silent_customer(crm)
    lifecycle = LifecycleService(crm, scoring=None)
    lifecycle.advance(MONDAY + timedelta(days=30))
    with pytest.raises(TransitionError, match="'unknown' beside known reasons"):
        lifecycle.move("C1", "churn", actor="wang", at=MONDAY + timedelta(days=30), fields={
            "churn_type": "natural", "churn_cause": "value",
            "churn_reasons": ["unknown", "price-too-high"]})


def test_s7_lifecycle_reads_the_graded_business_hours_clock_not_48_wall_hours(crm: CRM) -> None:
    """A complaint opened Friday 17:30 and unanswered on Monday 08:00 is 62.5 wall-clock
    hours old but has used half a business hour: the agenda does not call it late, so
    the lifecycle must not flag the customer at risk for it either (one clock, S7)."""
    friday = MONDAY + timedelta(days=4, hours=8, minutes=30)
    crm.record(Customer(id="C1", name="Busy Ltd", owner="li", acquired_at=MONDAY))
    crm.record(Transaction(id="T1", customer_id="C1", occurred_at=MONDAY, amount=Decimal(100)))
    complaint = Ticket(id="K1", customer_id="C1", opened_at=friday, kind=TicketKind.COMPLAINT,
                       category="delivery")
    crm.record(complaint)
    lifecycle = LifecycleService(crm, scoring=None)
    next_monday = MONDAY + timedelta(days=7, hours=-1)
    assert next_monday - friday > timedelta(hours=48)
    lifecycle.advance(next_monday)
    state = lifecycle.stage("C1")
    assert state is not None
    assert state.state == "active"

    graded = graded_ticket_sla(complaint, None, PolicySet(), next_monday)
    due = graded.first_response.due_at
    assert due is not None
    assert due > next_monday
    lifecycle.advance(due + timedelta(minutes=1))
    flagged = lifecycle.stage("C1")
    assert flagged is not None
    assert flagged.state == "at-risk"
    assert flagged.entered_at == due
    assert "graded first-response target" in lifecycle.history("C1")[-1].reason
