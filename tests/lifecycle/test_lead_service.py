"""Leads through the service (L2): started from stored opportunities, advanced, listed."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore import CRM, Customer
from crmcore.cli import main
from crmcore.errors import ConfigError
from crmcore.lifecycle import (
    LeadPolicy,
    LeadService,
    LifecycleService,
    lead_clock,
    lead_row,
    plan_lead_moves,
)
from crmcore.model import (
    Direction,
    Interaction,
    InteractionKind,
    Opportunity,
    OpportunityStatus,
    Outcome,
    Transaction,
)
from crmcore.transitions import FLOW_STARTED, FLOW_TRANSITIONED, replay

RECEIVED = datetime(2025, 3, 10, 9, tzinfo=UTC)


def days(n: float) -> datetime:
    return RECEIVED + timedelta(days=n)


def lead(lead_id: str, customer_id: str = "C1", **overrides: object) -> Opportunity:
    values: dict[str, object] = {"title": f"trade show lead {lead_id}", "received_at": RECEIVED,
                                 "source": "trade show", "owner": "ann"}
    values.update(overrides)
    return Opportunity(id=lead_id, customer_id=customer_id, **values)  # type: ignore[arg-type]


def contact(contact_id: str, day: float, customer_id: str = "C1", *,
            direction: Direction = Direction.OUTBOUND,
            outcome: Outcome = Outcome.COMPLETED) -> Interaction:
    return Interaction(id=contact_id, customer_id=customer_id, occurred_at=days(day),
                       kind=InteractionKind.EMAIL, direction=direction, outcome=outcome)


def _book(crm: CRM) -> None:
    crm.record_many([Customer(id=c, name=f"Prospect {c}") for c in ("C1", "C2", "C3", "C4")])
    crm.record_many([
        lead("L1"),                                                 # answered on day 3
        lead("L2", "C2"),                                           # never answered
        lead("L3", "C3", status=OpportunityStatus.LOST, concerns=("price",)),
        lead("L4", "C4", status=OpportunityStatus.WON),             # invoiced on day 40
        lead("L5", "C1", received_at=days(100)),                    # not received yet
    ])
    crm.record_many([
        contact("I1", -5),                                          # before the lead
        contact("I2", 2, direction=Direction.INBOUND),              # the prospect calls us
        contact("I3", 2.5, outcome=Outcome.NO_ANSWER),              # nobody picked up
        contact("I4", 3),                                           # the answer
        contact("I5", 1, "C4"),
    ])
    crm.record(Transaction(id="T1", customer_id="C4", occurred_at=days(40),
                           amount=Decimal(5000), reference="INV-2025-17"))


def test_l2_advance_starts_every_stored_lead_and_applies_the_facts(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm)
    report = service.advance(days(50))
    assert report.started == ("L1", "L2", "L3", "L4")
    assert report.refused == ()
    assert report.notes == ()
    assert all(e.actor == "system" for e in report.entries)
    moves = [(e.subject_id, e.event, e.from_state, e.to_state, e.at) for e in report.entries
             if e.from_state is not None]
    assert moves == [("L1", "answer", "received", "answered", days(3)),
                     ("L3", "lose", "received", "lost", days(50)),
                     ("L4", "answer", "received", "answered", days(1)),
                     ("L4", "win", "answered", "won", days(40))]
    l1 = service.history("L1")
    assert l1[0].at == RECEIVED
    assert l1[0].customer_id == "C1"
    assert l1[1].reason.startswith("L2: outbound email I4 with C1 on 2025-03-13, 3 days")
    lost = service.history("L3")[-1]
    assert lost.fields == {"lost_reason": "marked lost on opportunity L3; concerns: price"}
    assert "stores no closing date" in lost.reason
    won = service.history("L4")[-1]
    assert won.fields == {"invoice_id": "INV-2025-17"}
    assert "invoiced by purchase T1 on 2025-04-19" in won.reason
    for lead_id in ("L1", "L2", "L3", "L4"):
        assert replay(service.flow, service.history(lead_id)).state == (  # type: ignore[union-attr]
            {"L1": "answered", "L2": "received", "L3": "lost", "L4": "won"}[lead_id])
    assert service.history("L5") == []
    kinds = [e.event.type for e in crm.events() if e.event.type.startswith("flow.")]
    assert (kinds.count(FLOW_STARTED), kinds.count(FLOW_TRANSITIONED)) == (4, 4)


def test_l2_advancing_twice_changes_nothing(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm)
    service.advance(days(50))
    before = (service.histories(), len(crm.events()))
    again = service.advance(days(50))
    assert (again.entries, again.started, again.refused) == ((), (), ())
    assert (service.histories(), len(crm.events())) == before
    later = service.advance(days(60))  # nothing new happened meanwhile
    assert later.entries == ()
    assert service.advance(days(100)).started == ("L5",)


def test_l2_a_won_lead_stays_open_until_invoiced(crm: CRM) -> None:
    crm.record(Customer(id="C1", name="Prospect"))
    crm.record(lead("L1", status=OpportunityStatus.WON))
    service = LeadService(crm)
    report = service.advance(days(20))
    assert report.notes == (("L1", "marked won on the opportunity, but C1 has no purchase "
                                   "(invoice) since 2025-03-10: followed until invoiced"),)
    [row] = service.clocks(days(20))
    assert (row.lead_id, row.state, row.answer_overdue) == ("L1", "received", True)
    assert row.window_why.endswith("marked won on the opportunity, followed until invoiced")
    crm.record(Transaction(id="T9", customer_id="C1", occurred_at=days(25), amount=Decimal(9)))
    report = service.advance(days(30))
    assert [(e.event, e.at, e.fields) for e in report.entries] == [
        ("win", days(25), {"invoice_id": "T9"})]
    assert service.clocks(days(30)) == []
    assert [r.lead_id for r in service.clocks(days(24))] == ["L1"]  # still open back then


def test_l2_answering_from_contacts_can_be_switched_off(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm, policy=LeadPolicy(answer_from_interactions=False))
    report = service.advance(days(50))
    assert "answer" not in {e.event for e in report.entries}
    service.move("L1", "answer", actor="ann", at=days(5), reason="called back")
    assert service.history("L1")[-1].actor == "ann"


def test_l2_answer_due_at_7_days_overdue_at_14(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm)
    service.advance(days(13))
    rows = {row.lead_id: row for row in service.clocks(days(13))}
    assert set(rows) == {"L1", "L2", "L4"}  # L3 lost as of day 13, L5 not received yet
    l2 = rows["L2"]
    assert (l2.answered, l2.answer_overdue, l2.overdue) == (False, False, False)
    assert l2.answer_why == ("not answered: past the answer date 2025-03-17, overdue on "
                             "2025-03-24 (target 7 days, at most 14)")
    assert service.clocks(days(6))[1].answer_why.startswith("not answered yet: due by 2025-03-17")
    l2 = next(r for r in service.clocks(days(14)) if r.lead_id == "L2")
    assert (l2.answer_overdue, l2.overdue, l2.why) == (
        True, True, "not answered 14 days after receipt: overdue since 2025-03-24 "
                    "(target 7 days, at most 14)")
    assert rows["L1"].answer_why == ("answered on 2025-03-13, 3 days after receipt "
                                     "(target 7 days, at most 14)")


def test_l2_progress_reports_are_scheduled_until_the_lead_closes(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm)
    service.advance(days(10))
    [l1] = [r for r in service.clocks(days(10)) if r.lead_id == "L1"]
    assert (l1.clock.next_report_due, l1.report_overdue) == (days(17), False)
    assert l1.report_why == ("next progress report due by 2025-03-27 (14 days after the "
                             "answer on 2025-03-13)")
    late = next(r for r in service.clocks(days(18)) if r.lead_id == "L1")
    assert late.report_overdue
    assert late.overdue
    assert late.why.startswith("progress report overdue since 2025-03-27")
    service.move("L1", "report_progress", actor="ann", at=days(19), reason="samples sent")
    after = next(r for r in service.clocks(days(19)) if r.lead_id == "L1")
    assert (after.clock.next_report_due, after.report_overdue) == (days(33), False)
    assert "after the last progress report on 2025-03-29" in after.report_why
    service.move("L1", "lose", actor="ann", at=days(20), fields={"lost_reason": "budget cut"})
    assert "L1" not in {r.lead_id for r in service.clocks(days(21))}


def test_l2_age_against_the_3_to_8_month_window(crm: CRM) -> None:
    _book(crm)
    service = LeadService(crm)
    service.advance(days(300))
    windows = [(days(n), next(r for r in service.clocks(days(n)) if r.lead_id == "L2"))
               for n in (30, 120, 260)]
    assert [row.window for _, row in windows] == ["early", "in window", "late"]
    assert windows[0][1].window_why == ("received 30 days ago; conversion expected from "
                                        "2025-06-10 to 2025-11-10 (3-8 months)")
    assert windows[2][1].window_why.startswith("received 260 days ago; past the expected")
    assert windows[1][1].age_days == 120


def test_l2_memory_and_sqlite_give_the_same_rows(tmp_path: Path) -> None:
    rows = []
    options: dict[str, dict[str, Any]] = {"memory": {},
                                          "sqlite": {"path": str(tmp_path / "l.db")}}
    for storage in ("memory", "sqlite"):
        with CRM.open(storage, **options[storage]) as crm:
            _book(crm)
            service = LeadService(crm)
            service.advance(days(50))
            rows.append([row.as_json() for row in service.clocks(days(50))])
    assert rows[0] == rows[1]
    assert [row["lead_id"] for row in rows[0]] == ["L1", "L2"]


def test_l2_policy_from_the_lifecycle_table_next_to_the_thresholds(tmp_path: Path) -> None:
    config = tmp_path / "crm.toml"
    config.write_text('[storage]\nbackend = "memory"\n\n[lifecycle]\nat_risk_multiple = 3.5\n'
                      'lead_answer_days = 3\nlead_overdue_days = 5\nlead_window_end_months = 12\n'
                      'lead_large_value = 100000\nlead_answer_from_interactions = false\n')
    with CRM.from_file(config) as crm:
        assert LifecycleService(crm).thresholds.at_risk_multiple == 3.5
        policy = LeadService(crm).policy
    assert policy == LeadPolicy(answer_days=3, overdue_days=5, window_months=(3, 12),
                                large_value=Decimal(100000), answer_from_interactions=False)
    config.write_text('[storage]\nbackend = "memory"\n\n[lifecycle]\nlead_answer_dayz = 3\n')
    with CRM.from_file(config) as crm:
        for make in (LeadService, LifecycleService):
            with pytest.raises(ConfigError, match=r"lifecycle.lead_answer_dayz: is not a known"):
                make(crm)
    config.write_text('[storage]\nbackend = "memory"\n\n[lifecycle]\nlead_overdue_days = 3\n')
    with CRM.from_file(config) as crm, pytest.raises(
            ConfigError, match=r"lifecycle.lead_overdue_days: 3.0 must be at least answer_days"):
        LeadService(crm)


def test_l2_plan_is_pure_and_keeps_the_order_of_facts() -> None:
    won = lead("L1", status=OpportunityStatus.WON)
    purchase = Transaction(id="T1", customer_id="C1", occurred_at=days(2), amount=Decimal(1))
    moves, note = plan_lead_moves(won, "received", RECEIVED, days(10),
                                  interactions=[contact("I1", 5)], purchases=[purchase])
    assert note is None
    assert [(m.event, m.at) for m in moves] == [("win", days(2))]  # answered after the close
    assert plan_lead_moves(won, "won", days(2), days(10), purchases=[purchase]) == ([], None)
    assert plan_lead_moves(won, "received", RECEIVED, days(1)) == ([], (
        "marked won on the opportunity, but C1 has no purchase (invoice) since 2025-03-10: "
        "followed until invoiced"))


WINDOW_RANK = {"early": 0, "in window": 1, "late": 2}


@settings(max_examples=60, deadline=None)
@given(answered=st.none() | st.floats(0, 400), reports=st.lists(st.floats(0, 400), max_size=4),
       moments=st.lists(st.floats(0, 500), min_size=2, max_size=6))
def test_l2_clock_labels_are_monotone_in_as_of(answered: float | None, reports: list[float],
                                                moments: list[float]) -> None:
    subject = lead("L1")
    rows = [lead_row(subject, "received", lead_clock(
        "L1", RECEIVED, days(m), answered_at=None if answered is None else days(answered),
        reports=[days(r) for r in reports]), days(m)) for m in sorted(moments)]
    for earlier, later in itertools.pairwise(rows):
        assert WINDOW_RANK[earlier.window] <= WINDOW_RANK[later.window]
        assert earlier.answered <= later.answered
        assert earlier.age_days <= later.age_days
        if not later.answered:
            assert earlier.answer_overdue <= later.answer_overdue


def test_l2_leads_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        _book(crm)
    arguments = ["lifecycle", "leads", "--db", database, "--as-of", "2025-03-30T09:00:00+00:00"]
    assert main([*arguments, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["lead_id"], r["customer_id"], r["state"], r["overdue"], r["window"])
            for r in rows] == [("L1", "C1", "answered", True, "early"),
                               ("L2", "C2", "received", True, "early"),
                               ("L4", "C4", "answered", True, "early")]  # won, not invoiced
    assert rows[1]["answer_due"] == "2025-03-17T09:00:00+00:00"
    assert rows[0]["next_report_due"] == "2025-03-27T09:00:00+00:00"
    assert {"answer", "report", "window"} == set(rows[0]["why"])
    assert main([*arguments, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == rows
    assert main(arguments) == 0
    table = capsys.readouterr().out
    assert "L2    C2        received" in table
    assert "3 open leads as of 2025-03-30T09:00:00+00:00: 1 answers overdue, 2 progress " \
           "reports overdue; 0 leads started, 0 moves" in table
    assert "L4: marked won on the opportunity, but C4 has no purchase (invoice)" in table


def test_l2_the_demo_report_has_a_leads_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "demo.db")
    assert main(["demo", "--db", database, "--customers", "30", "--seed", "5"]) == 0
    section = capsys.readouterr().out.split("\nLifecycle\n---------\n", 1)[1]
    line = next(line for line in section.splitlines() if line.startswith("leads (L2): "))
    assert "open," in line
    assert "answers overdue" in line
    assert "progress reports overdue" in line
