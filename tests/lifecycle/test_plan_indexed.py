"""plan_moves (facts indexed once) plans exactly what the plain reference plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from crmcore.lifecycle import CustomerFacts, Thresholds, plan_moves
from crmcore.lifecycle.evidence import (
    _prefix_rhythms,
    _rhythm,
    candidate_times,
    plan_moves_reference,
)
from crmcore.model import Priority, Ticket, TicketKind

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STATES = ("identified", "selected", "developing", "active", "loyal", "at-risk", "churned",
          "won-back")
OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))

hours = st.integers(min_value=0, max_value=2 * 365 * 24)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """A moment within two years of T0, in one of three offsets (calendar days differ)."""
    return (T0 + timedelta(hours=draw(hours))).astimezone(draw(st.sampled_from(OFFSETS)))


@st.composite
def complaints(draw: st.DrawFn) -> Ticket:
    opened = draw(moments())
    answered = draw(st.none() | st.integers(min_value=1, max_value=400))
    resolved = draw(st.none() | st.integers(min_value=1, max_value=800))
    return Ticket(id=f"K{draw(st.integers(0, 99))}", customer_id="C1", opened_at=opened,
                  kind=TicketKind.COMPLAINT, category="late delivery",
                  priority=draw(st.sampled_from(list(Priority))),
                  first_response_at=None if answered is None
                  else opened + timedelta(hours=answered),
                  resolved_at=None if resolved is None else opened + timedelta(hours=resolved))


@st.composite
def books(draw: st.DrawFn) -> CustomerFacts:
    """One customer's facts: purchases, answers, complaints, attributes, probability alive."""
    return CustomerFacts(
        customer_id="C1", acquired_at=draw(st.none() | moments()),
        purchases=draw(st.lists(moments(), max_size=14)),
        satisfaction=draw(st.lists(st.tuples(moments(), st.integers(1, 5)), max_size=6)),
        complaints=draw(st.lists(complaints(), max_size=2)),
        attributes=draw(st.sampled_from([{}, {"loyalty_type": "monopoly"}])),
        p_alive=draw(st.none() | st.floats(0, 1)))


thresholds = st.sampled_from([
    Thresholds(),
    Thresholds(at_risk_min_days=5, churn_min_days=20, loyal_min_purchase_days=2,
               loyal_min_tenure_days=30, loyal_survey_count=2, loyal_min_csat=3),
    Thresholds(at_risk_multiple=1.5, churn_multiple=1.5, default_rhythm_days=7,
               loyal_survey_count=0, loyal_min_purchase_days=1, loyal_min_tenure_days=0),
])


@given(facts=books(), state=st.sampled_from(STATES), entered=moments(), as_of=moments(),
       rules=thresholds, max_moves=st.sampled_from([3, 50]))
def test_plan_moves_equals_the_reference(facts: CustomerFacts, state: str, entered: datetime,
                                         as_of: datetime, rules: Thresholds,
                                         max_moves: int) -> None:
    expected = plan_moves_reference(state, entered, facts, as_of, rules, max_moves=max_moves)
    assert plan_moves(state, entered, facts, as_of, rules, max_moves=max_moves) == expected


def test_the_generated_books_reach_every_kind_of_move() -> None:
    """The property above is not vacuous: the reference finds each rule on a plain book."""
    facts = CustomerFacts(
        customer_id="C1", acquired_at=T0,
        purchases=[T0 + timedelta(days=d) for d in (0, 10, 20, 30, 40, 300, 310)],
        satisfaction=[(T0 + timedelta(days=d), 5) for d in (5, 15, 25)])
    rules = Thresholds(loyal_min_tenure_days=30)
    moves = plan_moves("identified", T0, facts, T0 + timedelta(days=900), rules)
    assert moves == plan_moves_reference("identified", T0, facts, T0 + timedelta(days=900),
                                         rules)
    assert [m.event for m in moves] == ["first_purchase", "become_loyal", "flag_at_risk",
                                        "churn", "win_back", "settle", "become_loyal",
                                        "flag_at_risk", "churn"]
    assert candidate_times(facts, rules, after=T0, until=T0 + timedelta(days=900))[0] == T0


@given(purchases=st.lists(moments(), max_size=20), rules=thresholds)
def test_prefix_rhythms_in_one_pass_equal_the_rhythm_of_each_prefix(
        purchases: list[datetime], rules: Thresholds) -> None:
    """Days kept sorted as purchases are added, across offsets (a day may land between)."""
    times = sorted(purchases)
    rhythms, days = _prefix_rhythms(times, rules)
    assert rhythms == [_rhythm(times[:count], rules) for count in range(len(times) + 1)]
    assert days == [len({p.date() for p in times[:count]}) for count in range(len(times) + 1)]
