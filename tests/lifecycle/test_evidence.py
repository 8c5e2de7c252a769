"""Evidence rules as of a date: configurable thresholds, every decision explained."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crmcore.errors import ConfigError
from crmcore.lifecycle import (
    ChurnCause,
    ChurnType,
    CustomerFacts,
    LoyaltyType,
    Thresholds,
    complaint_signals,
    decide,
    plan_moves,
)
from crmcore.model import Priority, Ticket, TicketKind
from crmcore.options import Options

T0 = datetime(2025, 1, 1, 10, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def facts(purchases: Sequence[float], **extra: Any) -> CustomerFacts:
    values: dict[str, Any] = {"customer_id": "C1", "acquired_at": T0,
                              "purchases": [day(n) for n in purchases]}
    values.update(extra)
    return CustomerFacts(**values)


def complaint(opened: float, *, answered: float | None = None, resolved: float | None = None,
              priority: Priority = Priority.NORMAL) -> Ticket:
    return Ticket(id="K1", customer_id="C1", opened_at=day(opened), kind=TicketKind.COMPLAINT,
                  category="late delivery", priority=priority,
                  first_response_at=None if answered is None else day(answered),
                  resolved_at=None if resolved is None else day(resolved))


def test_l1_first_purchase_ends_courtship() -> None:
    move = decide("developing", T0, facts([5]), day(6))
    assert move is not None
    assert (move.event, move.to_state, move.rule) == ("first_purchase", "active", "L1")
    assert move.reason == "first purchase on 2025-01-06"
    assert move.facts["first_purchase_at"] == day(5)
    assert decide("identified", T0, facts([]), day(6)) is None


def test_l3_at_risk_when_silence_is_long_against_its_own_rhythm() -> None:
    weekly = facts([0, 10, 20, 30])  # rhythm 10 days; threshold max(30, 2 x 10) = 30
    assert decide("active", day(30), weekly, day(59)) is None
    move = decide("active", day(30), weekly, day(60))
    assert move is not None
    assert move.to_state == "at-risk"
    assert move.reason == ("silent for 30 days, 3.0x its purchase rhythm of 10 days "
                           "(threshold 2x, at least 30 days)")
    slow = facts([0, 50, 100])  # rhythm 50 days: 60 days of silence is normal for it
    assert decide("active", day(100), slow, day(160)) is None
    assert decide("active", day(100), slow, day(200)) is not None


def test_l3_thresholds_are_configurable() -> None:
    weekly = facts([0, 10, 20, 30])
    strict = Thresholds(at_risk_multiple=1.5, at_risk_min_days=10)
    move = decide("active", day(30), weekly, day(45), strict)
    assert move is not None
    assert "threshold 1.5x, at least 10 days" in move.reason
    read = Thresholds.from_options(Options({"at_risk_multiple": 3, "loyal_min_csat": 4.5,
                                            "default_loyalty_type": "price",
                                            "complaint_response_hours": {"normal": 8}},
                                           "lifecycle"))
    assert read.at_risk_multiple == 3.0
    assert read.loyal_min_csat == 4.5
    assert read.default_loyalty_type is LoyaltyType.PRICE
    assert read.complaint_response_hours[Priority.NORMAL] == 8.0
    assert read.complaint_response_hours[Priority.URGENT] == 4.0
    with pytest.raises(ConfigError, match="lifecycle.at_risk_multiple: 'x' is not a number"):
        Thresholds.from_options(Options({"at_risk_multiple": "x"}, "lifecycle"))
    with pytest.raises(ConfigError, match="churn_multiple: 1.0 must be at least"):
        Thresholds(churn_multiple=1.0)


def test_l3_churned_after_a_longer_silence_with_type_cause_and_reasons() -> None:
    once = facts([0])  # default rhythm 90: at risk at 180 days, churned at 360
    move = decide("at-risk", day(180), once, day(360))
    assert move is not None
    assert move.to_state == "churned"
    assert move.fields == {"churn_type": "unknown", "churn_cause": "unknown",
                           "churn_reasons": ["unknown"],
                           "churn_note": move.fields["churn_note"]}
    assert "silent for 360 days" in move.fields["churn_note"]
    assert "reason unknown: ask the customer why" in move.reason
    assert decide("at-risk", day(180), once, day(359)) is None


def test_l3_silent_churn_invents_no_type_unless_a_host_configures_one() -> None:
    """L3 says ask why (问清楚原因): silence alone names no type, cause or reason; a host
    may still configure defaults, and then the move says they are defaults."""
    once = facts([0])
    configured = Thresholds(silent_churn_type=ChurnType.NATURAL,
                            silent_churn_cause=ChurnCause.VALUE)
    move = decide("at-risk", day(180), once, day(360), configured)
    assert move is not None
    assert (move.fields["churn_type"], move.fields["churn_reasons"]) == ("natural", ["other"])
    assert "configured defaults" in move.reason


def test_l3_churn_reasons_come_from_complaints_or_low_satisfaction() -> None:
    unhappy = facts([0], satisfaction=[(day(1), 1), (day(2), 2)])
    move = decide("at-risk", day(180), unhappy, day(360))
    assert move is not None
    assert move.fields["churn_reasons"] == ["unhappy-with-service"]
    ignored = facts([0], complaints=[complaint(200)])
    move = decide("at-risk", day(180), ignored, day(360))
    assert move is not None
    assert move.fields["churn_reasons"] == ["complaint-not-followed-up"]
    assert move.fields["churn_type"] == "negligence"


def test_l1_won_back_on_a_new_purchase_then_settled_on_the_next() -> None:
    history = facts([0, 400, 430])
    move = decide("churned", day(360), history, day(400))
    assert move is not None
    assert (move.event, move.to_state) == ("win_back", "won-back")
    assert move.reason.startswith("bought again after churning")
    settle = decide("won-back", day(400), history, day(430))
    assert settle is not None
    assert settle.to_state == "active"
    assert decide("won-back", day(400), history, day(420)) is None


def test_l4_loyal_after_repeat_purchases_tenure_and_satisfaction() -> None:
    purchases = [0, 60, 120, 180, 240, 300, 360]
    happy = facts(purchases, satisfaction=[(day(100), 5), (day(200), 4), (day(300), 5)])
    move = decide("active", day(0), happy, day(365))
    assert move is not None
    assert move.rule == "L4"
    assert move.fields == {"loyalty_type": "unknown"}  # L4: not invented from purchases
    assert "not known until evidence or a person says" in move.reason
    assert "7 purchase days (at least 5), tenure 365 days" in move.reason
    assert "mean CSAT 4.7 over the last 3 answers" in move.reason
    assert decide("active", day(0), happy, day(364)) is None  # tenure not reached
    lukewarm = facts(purchases, satisfaction=[(day(100), 3)])
    assert decide("active", day(0), lukewarm, day(365)) is None
    silent = facts(purchases)
    assert decide("active", day(0), silent, day(365)) is None  # satisfaction unknown
    monopoly = facts(purchases, satisfaction=[(day(300), 5)],
                     attributes={"loyalty_type": "monopoly"})
    move = decide("active", day(0), monopoly, day(365))
    assert move is not None
    assert move.fields == {"loyalty_type": "monopoly"}


def test_s7_unanswered_complaint_past_its_target_is_a_churn_signal() -> None:
    ticket = complaint(10, priority=Priority.HIGH)  # 24 h target
    assert complaint_signals([ticket], day(10.9)) == []
    [signal] = complaint_signals([ticket], day(11))
    assert signal.kind == "unanswered"
    assert signal.since == day(11)
    assert "left unanswered beyond its 24 h response target" in signal.explanation
    answered = complaint(10, answered=10.5, resolved=12, priority=Priority.HIGH)
    assert complaint_signals([answered], day(30)) == []
    unresolved = complaint(10, answered=10.5)
    [signal] = complaint_signals([unresolved], day(24))
    assert signal.kind == "not-followed-up"
    move = decide("active", T0, facts([0, 5, 9], complaints=[ticket]), day(11))
    assert move is not None
    assert (move.to_state, move.rule) == ("at-risk", "S7")
    assert complaint_signals([ticket], day(200)) == []  # older than the lookback


def test_s7_no_recovery_while_a_complaint_is_left_open() -> None:
    customer = facts([0, 5, 9, 12], complaints=[complaint(10)])
    assert decide("at-risk", day(11), customer, day(12)) is None
    cleared = facts([0, 5, 9, 12], complaints=[complaint(10, answered=13, resolved=14)])
    move = decide("at-risk", day(11), cleared, day(14))
    assert move is not None
    assert move.to_state == "active"
    assert "when no complaint signal remained" in move.reason


def test_l3_probability_alive_is_used_only_when_given() -> None:
    recent = facts([0, 10, 20], p_alive=0.1, p_alive_source="'clv' strategy")
    move = decide("active", day(20), recent, day(25), final=True)
    assert move is not None
    assert move.reason == "probability alive 0.10 below 0.3 ('clv' strategy)"
    assert "'clv' strategy" in move.evidence
    assert decide("active", day(20), recent, day(25), final=False) is None
    unknown = facts([0, 10, 20])
    assert decide("active", day(20), unknown, day(25), final=True) is None


def test_plan_moves_records_when_each_move_happened() -> None:
    customer = facts([0, 10, 20, 400, 420])
    moves = plan_moves("identified", T0, customer, day(430))
    assert [(m.to_state, m.at) for m in moves] == [
        ("active", day(0)), ("at-risk", day(50)), ("churned", day(200)),
        ("won-back", day(400)), ("active", day(420))]
    assert plan_moves("active", day(420), customer, day(430)) == []
