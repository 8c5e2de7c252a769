"""S2 thank-you letters and S5 visits: call ahead, reschedule with consent, return visits by
plan with an outline and a recorded outcome; through the pure functions and the agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer
from crmcore.errors import ValidationError
from crmcore.model import (
    Direction,
    Interaction,
    InteractionKind,
    SurveyResponse,
    Ticket,
    TicketKind,
)
from crmcore.policies import PolicyService, PolicySet
from crmcore.policies.agenda import ActionKind
from crmcore.policies.appointments import Appointment
from crmcore.policies.escalation import ReportingLines
from crmcore.policies.thanks import thank_you_letters, thanks_subject
from crmcore.policies.visits import (
    DEFAULT_RETURN_VISIT_OUTLINE,
    lateness_actions,
    outcome_actions,
    reschedule,
    return_visit_plan,
)
from crmcore.service import BusinessCalendar

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
OFFICE = BusinessCalendar("office", "UTC", {d: ["09:00-17:00"] for d in range(5)})
VISIT = Appointment(id="V1", customer_id="C1", owner="li", purpose="installation",
                    starts_at=T0 + timedelta(days=4))


def _comment(answer_id: str = "S1", at: datetime = T0) -> SurveyResponse:
    return SurveyResponse(id=answer_id, customer_id="C1", survey="after-sales", csat=3,
                          comment="the engineer came late", answered_at=at)


def test_s2_feedback_gets_a_thank_you_letter_signed_by_the_owners_superior() -> None:
    complaint = Ticket(id="T1", customer_id="C1", opened_at=T0, kind=TicketKind.COMPLAINT,
                       category="delivery", resolved_at=T0 + timedelta(days=1),
                       problem_id="P7")
    letters = thank_you_letters([_comment()], [complaint], [], as_of=T0 + timedelta(days=2),
                                owners={"C1": "li"}, lines=ReportingLines({"li": "zhang"}))
    assert [(letter.subject, letter.owner, letter.signer) for letter in letters] == [
        ("survey:S1", "li", "zhang"), ("ticket:T1", "li", "zhang")]
    assert letters[0].due_at == T0 + timedelta(days=5)
    assert "say what will change" in letters[0].why
    assert "the fix at its cause (problem P7)" in letters[1].why
    unsigned = thank_you_letters([_comment()], [], [], as_of=T0, owners={"C1": "li"})
    assert unsigned[0].signer == "a senior person"


def test_s2_a_letter_recorded_or_old_feedback_needs_no_letter() -> None:
    sent = Interaction(id="I1", customer_id="C1", occurred_at=T0 + timedelta(days=1),
                       kind=InteractionKind.EMAIL, direction=Direction.OUTBOUND,
                       subject=thanks_subject("survey:S1"))
    assert thank_you_letters([_comment()], [], [sent], as_of=T0 + timedelta(days=2)) == []
    inbound = attrs.evolve(sent, direction=Direction.INBOUND)
    assert len(thank_you_letters([_comment()], [], [inbound], as_of=T0 + timedelta(days=2))) == 1
    assert thank_you_letters([_comment()], [], [], as_of=T0 + timedelta(days=31)) == []
    silent = attrs.evolve(_comment(), comment="  ")
    assert thank_you_letters([silent], [], [], as_of=T0) == []


def test_s5_running_late_means_calling_ahead_until_the_call_is_recorded() -> None:
    start = VISIT.starts_at
    late = attrs.evolve(VISIT, expected_arrival=start + timedelta(minutes=30))
    before = start - timedelta(minutes=20)
    assert [(a.kind, a.due_at) for a in lateness_actions(late, as_of=before)] == [
        ("call_ahead", before)]
    assert "running 30 min late" in lateness_actions(late, as_of=before)[0].why
    called = attrs.evolve(late, late_notice_at=before)
    assert lateness_actions(called, as_of=before) == []
    assert lateness_actions(VISIT, as_of=before) == []  # on time: nothing to do
    no_show = lateness_actions(VISIT, as_of=start + timedelta(minutes=5))
    assert [a.kind for a in no_show] == ["call_ahead"]
    arrived = attrs.evolve(VISIT, arrived_at=start)
    assert lateness_actions(arrived, as_of=start + timedelta(minutes=5)) == []


def test_s5_reschedule_only_with_the_customers_consent() -> None:
    new_start = VISIT.starts_at + timedelta(days=3)
    with pytest.raises(ValidationError, match="consent_by"):
        reschedule(VISIT, new_start, consent_by=" ", consent_at=T0)
    with pytest.raises(ValidationError, match="new_start"):
        reschedule(VISIT, T0 - timedelta(hours=1), consent_by="Mr Zhao", consent_at=T0)
    with pytest.raises(ValidationError, match="cancelled or completed"):
        reschedule(attrs.evolve(VISIT, cancelled_at=T0), new_start, consent_by="Mr Zhao",
                   consent_at=T0)
    moved = reschedule(attrs.evolve(VISIT, reminded_at=T0), new_start, consent_by="Mr Zhao",
                       consent_at=T0, reason="customer travelling")
    assert moved.starts_at == new_start
    assert moved.confirmed_at == T0  # the customer agreed to this time
    assert moved.reminded_at is None  # the reminder is due again
    assert [(r.previous_start, r.new_start, r.consent_by) for r in moved.rescheduled] == [
        (VISIT.starts_at, new_start, "Mr Zhao")]


@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=6))
def test_s5_every_reschedule_is_kept_in_order_and_the_duration_is_kept(hours: list[int]) -> None:
    visit = attrs.evolve(VISIT, ends_at=VISIT.starts_at + timedelta(hours=2))
    consent = T0
    for step in hours:
        new_start = visit.starts_at + timedelta(hours=step)
        visit = reschedule(visit, new_start, consent_by="Mr Zhao", consent_at=consent)
        assert visit.end() - visit.starts_at == timedelta(hours=2)
    assert len(visit.rescheduled) == len(hours)
    assert all(a.new_start == b.previous_start
               for a, b in zip(visit.rescheduled, visit.rescheduled[1:], strict=False))


def test_s5_return_visit_by_plan_outline_schedule_and_process_control() -> None:
    done = attrs.evolve(VISIT, completed_at=VISIT.starts_at + timedelta(hours=2))
    plan = return_visit_plan(done, OFFICE)
    assert plan.follows_up == "V1"
    assert plan.outline == DEFAULT_RETURN_VISIT_OUTLINE
    assert plan.starts_at >= done.completed_at + timedelta(days=7)  # type: ignore[operator]
    with pytest.raises(ValidationError, match="outline"):
        return_visit_plan(done, OFFICE, outline=[])
    visited = attrs.evolve(plan, completed_at=plan.starts_at + timedelta(hours=1))
    after = plan.starts_at + timedelta(days=2)
    assert [a.kind for a in outcome_actions(visited, as_of=after)] == ["record_outcome"]
    assert "against its outline (4 points)" in outcome_actions(visited, as_of=after)[0].why
    assert outcome_actions(attrs.evolve(visited, outcome="satisfied; wants a second unit"),
                           as_of=after) == []
    assert outcome_actions(done, as_of=after) == []  # not a return visit


def test_s2_s5_the_agenda_lists_letters_late_calls_and_missing_outcomes(crm: CRM) -> None:
    crm.record(Customer(id="C1", name="Acme", owner="li", acquired_at=T0 - timedelta(days=90)))
    crm.record(_comment())
    late = attrs.evolve(VISIT, expected_arrival=VISIT.starts_at + timedelta(minutes=45),
                        confirmed_at=T0)
    crm.record(late)
    as_of = VISIT.starts_at - timedelta(minutes=30)
    policies = attrs.evolve(PolicySet(), lines=ReportingLines({"li": "zhang"}))
    items = PolicyService(crm, policies).agenda(as_of, owner="li")
    kinds = {item.kind: item for item in items}
    assert ActionKind.CALL_AHEAD in kinds
    assert kinds[ActionKind.THANK_YOU].subject == "survey:S1"
    assert "signed by zhang" in kinds[ActionKind.THANK_YOU].why
    crm.record(Interaction(id="I1", customer_id="C1", occurred_at=as_of - timedelta(hours=1),
                           kind=InteractionKind.EMAIL, subject=thanks_subject("survey:S1")))
    after = PolicyService(crm, policies).agenda(as_of, owner="li")
    assert ActionKind.THANK_YOU not in {item.kind for item in after}
