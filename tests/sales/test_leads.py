"""Trade-show leads (L2): assignment with a report form, reports, and the sample clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer
from crmcore.errors import ValidationError
from crmcore.lifecycle import LeadPolicy, LeadService
from crmcore.model import Opportunity
from crmcore.policies.agenda import ActionKind
from crmcore.sales.leads import (
    LEAD_ASSIGNED,
    REPORT_FORM,
    LeadReport,
    SamplePolicy,
    assign_lead,
    report_lead,
    sample_agenda,
    sample_clock,
)
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.territories import Territories, TerritoryRule, UnauthorisedOwnerError
from crmcore.transitions import HistoryEntry, RefusedTransitionError

SHOW = datetime(2026, 4, 13, 10, tzinfo=UTC)
TERRITORIES = Territories((TerritoryRule("east", provinces=["Zhejiang"],
                                         salespeople=["li.wei", "tom.hart"]),))


def day(n: float) -> datetime:
    return SHOW + timedelta(days=n)


def report(at: datetime, **overrides: object) -> LeadReport:
    values: dict[str, object] = {"reported_at": at, "interest": "warm",
                                 "needs": "a packaging line", "next_step": "send a sample"}
    values.update(overrides)
    return LeadReport(**values)  # type: ignore[arg-type]


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[CRM]:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as opened:
        opened.record(Customer(id="C1", name="Ningbo Foods", attributes={"province": "Zhejiang"}))
        opened.record(Opportunity(id="L1", customer_id="C1", title="met at the Canton fair",
                                  received_at=SHOW, source="trade show"))
        yield opened


def test_l2_a_trade_show_lead_is_assigned_with_its_report_form(crm: CRM) -> None:
    pipeline = PipelineService(crm, territories=TERRITORIES)
    placed, form = assign_lead(crm, "L1", actor="boss", owner="tom.hart", pipeline=pipeline,
                               policy=LeadPolicy())
    assert (placed.territory, placed.owner) == ("east", "tom.hart")
    assert form["report_due"] == day(7).isoformat()  # answered within a week (L2)
    assert set(form["fields"]) == set(REPORT_FORM)
    event = crm.events()[-1].event
    assert event.type == LEAD_ASSIGNED
    assert event.data["report_due"] == form["report_due"]
    assert crm.require(Opportunity, "L1").owner == "tom.hart"


def test_l2_an_unauthorised_rep_is_refused_and_nothing_changes(crm: CRM) -> None:
    pipeline = PipelineService(crm, territories=TERRITORIES)
    events = len(crm.events())
    with pytest.raises(UnauthorisedOwnerError):
        assign_lead(crm, "L1", actor="boss", owner="zhang.min", pipeline=pipeline,
                    policy=LeadPolicy())
    assert len(crm.events()) == events
    assert crm.require(Opportunity, "L1").owner is None


def test_l2_the_first_report_answers_the_lead_and_is_kept_in_the_flow_history(crm: CRM) -> None:
    report_lead(crm, "L1", report(day(2)), actor="tom.hart")
    report_lead(crm, "L1", report(day(9), sample_sent_at=day(5), sample_arrived_at=day(8)),
                actor="tom.hart")
    entries = sorted(crm.find(HistoryEntry, customer_id="C1"), key=lambda e: e.sequence)
    assert [e.event for e in entries] == ["start", "answer", "report_progress",
                                          "report_progress"]
    assert entries[-1].fields["sample_arrived_at"] == day(8).isoformat()
    rows = LeadService(crm, policy=LeadPolicy()).clocks(day(10))
    assert rows[0].clock.answer_status == "answered"  # the L2 lead clock reads the report


def test_l2_a_report_form_with_bad_values_names_the_field(crm: CRM) -> None:
    with pytest.raises(ValidationError, match=r"interest: 'lukewarm' is not an interest level"):
        report(day(1), interest="lukewarm")
    with pytest.raises(ValidationError, match="sample_arrived_at: .* is before sample_sent_at"):
        report(day(9), sample_sent_at=day(5), sample_arrived_at=day(4))
    with pytest.raises(ValidationError, match="opinion_asked_at: .* is after reported_at"):
        report(day(9), sample_arrived_at=day(4), opinion_asked_at=day(10))


def test_l2_a_report_before_the_lead_was_received_is_refused_and_nothing_stored(
        crm: CRM) -> None:
    with pytest.raises(RefusedTransitionError, match="is before the state was entered"):
        report_lead(crm, "L1", report(day(-1)), actor="tom.hart")
    assert crm.count(HistoryEntry) == 0


def test_l2_ask_the_customers_opinion_within_a_week_of_the_samples_arrival(crm: CRM) -> None:
    report_lead(crm, "L1", report(day(9), sample_arrived_at=day(8)), actor="tom.hart")
    crm.replace(Opportunity(id="L1", customer_id="C1", title="met at the Canton fair",
                            received_at=SHOW, source="trade show", owner="tom.hart"))
    policy = SamplePolicy()
    assert sample_agenda(crm, day(7), policy=policy) == []  # nothing has arrived yet
    due = sample_agenda(crm, day(10), policy=policy)
    assert [(i.owner, i.kind, i.subject, i.due_at) for i in due] == [
        ("tom.hart", ActionKind.REMINDER, "lead:L1", day(15))]
    assert "ask their opinion by 2026-04-28 (within 7 days of arrival (L2))" in due[0].why
    late = sample_agenda(crm, day(17), policy=policy)
    assert late[0].kind is ActionKind.OVERDUE
    assert "opinion not asked 9 days later: overdue since 2026-04-28" in late[0].why
    report_lead(crm, "L1", report(day(18), opinion_asked_at=day(18), opinion="too soft"),
                actor="tom.hart")
    assert sample_agenda(crm, day(19), policy=policy) == []
    assert sample_agenda(crm, day(19), policy=policy, owner="li.wei") == []


def test_l2_the_sample_window_comes_from_the_sales_table(tmp_path: Path) -> None:
    path = tmp_path / "crm.toml"
    path.write_text('[storage]\npath = "crm.db"\n[sales]\nsample_opinion_days = 3\n',
                    encoding="utf-8")
    with CRM.from_file(path) as crm:
        assert SamplePolicy.from_options(crm.settings("sales")) == SamplePolicy(3)


@given(st.lists(st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)),
                          st.one_of(st.none(), st.integers(0, 30))), max_size=6),
       st.integers(0, 60))
def test_l2_the_sample_clock_agrees_with_a_day_by_day_reference(
        drawn: list[tuple[int, int | None, int | None]], today: int) -> None:
    """Reports at day r, with an arrival day a <= r and an ask day q <= r (if any)."""
    reports = []
    for reported, arrived, asked in drawn:
        arrival = None if arrived is None else min(arrived, reported)
        ask = None if asked is None else min(asked, reported)
        if arrival is not None and ask is not None and ask < arrival:
            ask = None
        reports.append(report(day(reported), sample_arrived_at=None if arrival is None
                              else day(arrival), opinion_asked_at=None if ask is None
                              else day(ask)))
    clock = sample_clock("L1", reports, day(today))
    seen = [r for r in reports if r.reported_at <= day(today)]
    arrivals = [r.sample_arrived_at for r in seen if r.sample_arrived_at]
    if not arrivals:
        assert clock is None
        return
    assert clock is not None
    last = max(arrivals)
    asked = any(r.opinion_asked_at is not None and r.opinion_asked_at >= last for r in seen)
    expected = "asked" if asked else ("overdue" if day(today) > last + timedelta(days=7)
                                      else "due")
    assert (clock.arrived_at, clock.status) == (last, expected)


def test_l2_the_sample_opinion_is_on_the_owners_daily_agenda(crm: CRM) -> None:
    from crmcore.policies import PolicyService

    crm.replace(Opportunity(id="L1", customer_id="C1", title="met at the Canton fair",
                            received_at=SHOW, source="trade show", owner="tom.hart"))
    report_lead(crm, "L1", report(day(9), sample_arrived_at=day(8)), actor="tom.hart")
    mine = PolicyService(crm).agenda(day(20), owner="tom.hart")
    assert [(i.kind, i.subject) for i in mine if i.subject == "lead:L1"] == [
        (ActionKind.OVERDUE, "lead:L1")]
    assert all(i.subject != "lead:L1" for i in PolicyService(crm).agenda(day(20),
                                                                         owner="li.wei"))
