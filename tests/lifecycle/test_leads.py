"""The lead clock (L2): answer in a week (two at most), report progress, 3-8 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crmcore.errors import ConfigError
from crmcore.i18n import language
from crmcore.lifecycle import (
    LeadPolicy,
    builtin_flow,
    lead_clock,
    lead_clock_from_history,
    lead_row,
)
from crmcore.model import Opportunity, OpportunityStatus
from crmcore.transitions import RefusedTransitionError, apply_transition, start_flow

RECEIVED = datetime(2025, 3, 10, 9, tzinfo=UTC)


def days(n: float) -> datetime:
    return RECEIVED + timedelta(days=n)


def test_l2_answer_due_in_7_days_overdue_at_14() -> None:
    clock = lead_clock("L1", RECEIVED, days(6))
    assert (clock.answer_due, clock.answer_overdue_at) == (days(7), days(14))
    assert clock.answer_status == "due"
    assert lead_clock("L1", RECEIVED, days(14)).answer_status == "overdue"
    assert lead_clock("L1", RECEIVED, days(20), answered_at=days(3)).answer_status == "answered"
    assert lead_clock("L1", RECEIVED, days(20), answered_at=days(9)).answer_status == \
        "answered late"


def test_l2_progress_reports_are_scheduled_until_closed() -> None:
    assert lead_clock("L1", RECEIVED, days(5)).report_status == "not started"
    clock = lead_clock("L1", RECEIVED, days(20), answered_at=days(2))
    assert clock.next_report_due == days(16)
    assert clock.report_status == "overdue"
    clock = lead_clock("L1", RECEIVED, days(20), answered_at=days(2), reports=[days(15)])
    assert (clock.next_report_due, clock.report_status) == (days(29), "on schedule")
    closed = lead_clock("L1", RECEIVED, days(40), answered_at=days(2), closed_at=days(30),
                        won=True)
    assert (closed.report_status, closed.next_report_due, closed.conversion_status) == (
        "closed", None, "won")


def test_l2_conversion_window_is_3_to_8_months_longer_for_large_leads() -> None:
    clock = lead_clock("L1", RECEIVED, days(30))
    assert clock.window_start == datetime(2025, 6, 10, 9, tzinfo=UTC)
    assert clock.window_end == datetime(2025, 11, 10, 9, tzinfo=UTC)
    assert clock.conversion_status == "before window"
    assert lead_clock("L1", RECEIVED, days(120)).conversion_status == "in window"
    assert lead_clock("L1", RECEIVED, days(260)).conversion_status == "past window"
    policy = LeadPolicy(large_value=Decimal(1_000_000))
    large = lead_clock("L1", RECEIVED, days(260), estimated_value=Decimal(2_000_000),
                       policy=policy)
    assert large.window_end == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert large.conversion_status == "in window"


def test_l2_clock_from_the_lead_flow_history() -> None:
    flow = builtin_flow("lead")
    lead = Opportunity(id="L-2025-0001", customer_id="C1", title="trade show lead",
                       received_at=RECEIVED)
    made = start_flow(flow, lead.id, customer_id="C1", at=RECEIVED, actor="ann")
    entries = [made.entry]
    record = made.state
    for event, when, fields in (("answer", 4, {}), ("report_progress", 18, {}),
                                ("propose", 25, {}), ("win", 100, {"invoice_id": "INV-9"})):
        step = apply_transition(flow, record, event, at=days(when), actor="ann", fields=fields)
        record = step.state
        entries.append(step.entry)
    clock = lead_clock_from_history(lead, entries[:3], days(40))
    assert (clock.answered_at, clock.next_report_due, clock.report_status) == (
        days(4), days(32), "overdue")
    final = lead_clock_from_history(lead, entries, days(120))
    assert final.conversion_status == "won"
    assert record.state == "won"
    assert record.fields == {"invoice_id": "INV-9"}


def test_l2_status_counts_only_without_a_history() -> None:
    flow = builtin_flow("lead")
    won = Opportunity(id="L1", customer_id="C1", title="lead", received_at=RECEIVED,
                      status=OpportunityStatus.WON)
    assert lead_clock_from_history(won, [], days(30)).conversion_status == "won"
    started = start_flow(flow, "L1", customer_id="C1", at=RECEIVED, actor="system").entry
    assert lead_clock_from_history(won, [started], days(30)).conversion_status == "before window"


def test_l2_a_lead_is_won_from_any_open_state_but_only_invoiced() -> None:
    flow = builtin_flow("lead")
    assert flow.version == 2
    record = start_flow(flow, "L1", customer_id="C1", at=RECEIVED, actor="system").state
    with pytest.raises(RefusedTransitionError, match="invoice_id required"):
        apply_transition(flow, record, "win", at=days(3), actor="ann")
    made = apply_transition(flow, record, "win", at=days(3), actor="ann",
                            fields={"invoice_id": "INV-1"})
    assert made.state.state == "won"


@pytest.mark.parametrize(("values", "key"), [
    ({"answer_days": 0}, "lead_answer_days"),
    ({"overdue_days": 5.0}, "lead_overdue_days"),
    ({"report_every_days": -1}, "lead_report_every_days"),
    ({"window_months": (8, 3)}, "lead_window_end_months"),
    ({"large_extra_months": -1}, "lead_large_extra_months"),
])
def test_l2_lead_policy_refuses_impossible_numbers(values: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=f"lifecycle.{key}: "):
        LeadPolicy(**values)  # type: ignore[arg-type]


def test_l2_the_clock_explains_itself_in_chinese() -> None:
    """Issue 13: the lead row's why texts come from the catalogue (English pinned elsewhere)."""
    lead = Opportunity(id="L1", customer_id="C1", title="lead", received_at=RECEIVED)
    clock = lead_clock("L1", RECEIVED, days(20), answered_at=days(3))
    with language("zh_CN"):
        row = lead_row(lead, "answered", clock, days(20))
    assert row.answer_why == ("于 2025-03-13 答复，收到后 3 天（目标 7 天，最多 14 天）")
    assert row.report_why == ("进度报告自 2025-03-27 起逾期（2025-03-13 的答复后 14 天）")
    assert row.window_why.startswith("20 天前收到；预计自 2025-06-10 至 2025-11-10（3-8 个月）")
    english = lead_row(lead, "answered", clock, days(20))
    assert english.answer_why.startswith("answered on 2025-03-13, 3 days after receipt")
