"""S4/S6: escalation steps applied once, stored, notified; SLA rows for other grade names."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from tests.conftest import RecordingNotifier
from tests.policies.helpers import OFFICE, at

from crmcore import CRM
from crmcore.cli import main
from crmcore.errors import ConfigError
from crmcore.model import Commitment, Customer, Priority, Ticket, TicketKind
from crmcore.policies import (
    DEFAULT_SLA_TABLE,
    ActionKind,
    Contract,
    EscalationAction,
    EscalationChain,
    EscalationRecord,
    EscalationStep,
    PolicyService,
    PolicySet,
    ReportingLines,
    change_ticket_status,
)
from crmcore.policies.assignments import TASK_ESCALATED, TASK_OVERDUE, TASK_TRANSFERRED

LINES = ReportingLines({"li.wei": "zhang.min", "zhang.min": "anna.berg",
                        "anna.berg": "olga.ivanova"})
TRANSFER_CHAIN = EscalationChain((
    EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
    EscalationStep("supervisor", timedelta(hours=2), EscalationAction.TRANSFER),
    EscalationStep("manager", timedelta(hours=8)),
))
"""Remind at the due moment, hand over 2 business hours later, tell the manager after 8."""

TASK_EVENTS = (TASK_OVERDUE, TASK_ESCALATED, TASK_TRANSFERRED)


@pytest.fixture
def service(crm: CRM) -> PolicyService:
    crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
    crm.record(Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                          description="call back with the price", owner="li.wei"))
    return PolicyService(crm, PolicySet(calendar=OFFICE, lines=LINES, chain=TRANSFER_CHAIN),
                         grades={"C1": "A"})


def task_events(recorder: RecordingNotifier) -> list[tuple[str, str | None, str | None]]:
    return [(e.type, e.data["from"], e.data["to"]) for e in recorder.events
            if e.type in TASK_EVENTS]


def test_s4_overdue_commitment_transfers_once_and_the_chain_continues(
        service: PolicyService, recorder: RecordingNotifier) -> None:
    crm = service.crm
    first = service.apply_escalations(at(2, 12, 30))
    assert [(r.step, r.action) for r in first.applied] == [(0, EscalationAction.NOTIFY)]
    assert service.apply_escalations(at(2, 12, 30)).applied == ()  # idempotent
    moved = service.apply_escalations(at(2, 14))  # 2 business hours after 12:00
    assert [(r.step, r.from_owner, r.to_owner) for r in moved.transferred] == [
        (1, "li.wei", "zhang.min")]
    assert crm.require(Commitment, "P1").owner == "zhang.min"
    assert crm.version(Commitment, "P1") == 2
    assert service.apply_escalations(at(2, 16, 59)).applied == ()  # before the next delay
    assert service.apply_escalations(at(2, 17)).applied == ()
    manager = service.apply_escalations(at(3, 12))  # 8 business hours: Monday 5 + Tuesday 3
    record = manager.applied[0]
    # climbs from the ORIGINAL owner (li.wei -> zhang.min -> anna.berg), not from zhang.min
    assert (record.step, record.person, record.original_owner) == (2, "anna.berg", "li.wei")
    assert (record.from_owner, record.to_owner) == ("zhang.min", "zhang.min")
    assert crm.require(Commitment, "P1").owner == "zhang.min"
    assert service.apply_escalations(at(10, 12)).applied == ()  # the chain has ended
    assert [r.id for r in crm.find(EscalationRecord)] == [
        "commitment:P1:0", "commitment:P1:1", "commitment:P1:2"]
    assert task_events(recorder) == [(TASK_OVERDUE, "li.wei", "li.wei"),
                                     (TASK_TRANSFERRED, "li.wei", "zhang.min"),
                                     (TASK_ESCALATED, "zhang.min", "zhang.min")]
    transferred = next(e for e in recorder.events if e.type == TASK_TRANSFERRED)
    assert transferred.subject == "commitment:P1"
    assert transferred.customer_id == "C1"
    assert transferred.data["original_owner"] == "li.wei"
    assert transferred.data["rule"] == "S4"


def test_s4_delays_are_business_time_over_holidays_and_weekends(
        service: PolicyService) -> None:
    crm = service.crm
    crm.record(Commitment(id="P2", customer_id="C1", made_at=at(5, 9), due_at=at(5, 16),
                          description="send the manual", owner="li.wei"))
    service.apply_escalations(at(5, 16))
    # Friday 6 March is a holiday, then the weekend: 2 business hours end Monday 10:00
    assert service.apply_escalations(at(8, 23)).transferred == ()
    late = service.apply_escalations(at(9, 10))
    assert [(r.subject, r.step, r.at) for r in late.applied] == [("commitment:P2", 1, at(9, 10))]
    assert crm.require(Commitment, "P2").owner == "zhang.min"


def test_s4_late_run_applies_the_step_reached_with_skipped_transfers(
        service: PolicyService) -> None:
    report = service.apply_escalations(at(3, 12))  # nobody ran it before: level 2 reached
    assert [(r.step, r.role, r.to_owner, r.person) for r in report.applied] == [
        (2, "manager", "zhang.min", "anna.berg")]
    assert service.crm.require(Commitment, "P1").owner == "zhang.min"
    assert service.apply_escalations(at(3, 12)).applied == ()


def test_s4_done_tasks_are_not_escalated(service: PolicyService,
                                         recorder: RecordingNotifier) -> None:
    crm = service.crm
    service.apply_escalations(at(2, 12, 30))
    crm.replace(attrs.evolve(crm.require(Commitment, "P1"), fulfilled_at=at(2, 13)))
    assert service.apply_escalations(at(3, 12)).applied == ()
    assert crm.require(Commitment, "P1").owner == "li.wei"
    assert [t for t, *_ in task_events(recorder)] == [TASK_OVERDUE]


def test_s4_ticket_clocks_escalate_and_stop_when_resolved(service: PolicyService) -> None:
    crm = service.crm
    crm.record(Ticket(id="T1", customer_id="C1", opened_at=at(2, 10), kind=TicketKind.REQUEST,
                      category="installation", priority=Priority.NORMAL, owner="li.wei"))
    report = service.apply_escalations(at(2, 16))  # grade A normal: first response in 4h
    ticket_steps = [r for r in report.applied if r.task_kind == "ticket"]
    assert [(r.id, r.clock, r.step, r.to_owner) for r in ticket_steps] == [
        ("ticket:T1:first_response:1", "first response", 1, "zhang.min")]
    assert crm.require(Ticket, "T1").owner == "zhang.min"
    change_ticket_status(crm, "T1", "open", at=at(3, 9), actor="zhang.min")
    change_ticket_status(crm, "T1", "resolve", at=at(3, 10), actor="zhang.min")
    later = service.apply_escalations(at(10, 12))
    assert [r.subject for r in later.applied] == ["commitment:P1"]  # the ticket is done


def test_s4_both_clocks_of_a_ticket_in_one_run_do_not_conflict(
        service: PolicyService) -> None:
    crm = service.crm
    crm.record(Ticket(id="T2", customer_id="C1", opened_at=at(2, 9), kind=TicketKind.REQUEST,
                      category="installation", priority=Priority.URGENT, owner="li.wei"))
    report = service.apply_escalations(at(3, 12))  # A urgent: 1h and 4h, both well past
    ticket_steps = [r for r in report.applied if r.task_kind == "ticket"]
    assert report.conflicts == ()
    assert [(r.clock, r.from_owner, r.to_owner) for r in ticket_steps] == [
        ("first response", "li.wei", "zhang.min"), ("resolution", "zhang.min", "zhang.min")]
    assert {r.original_owner for r in ticket_steps} == {"li.wei"}


def test_s4_conflict_rolls_back_the_step_and_is_reported(
        service: PolicyService, recorder: RecordingNotifier) -> None:
    crm = service.crm
    service.apply_escalations(at(2, 12, 30))
    plan = service.plan_escalations(at(2, 15))
    assert [(p.record.step, p.record.moves, p.version) for p in plan] == [(1, True, 1)]
    crm.replace(attrs.evolve(crm.require(Commitment, "P1"), owner="wang.fang"))  # meanwhile
    report = service.apply_escalations(at(2, 15), plan=plan)
    assert report.applied == ()
    assert [c.record.id for c in report.conflicts] == ["commitment:P1:1"]
    assert "changed by someone else" in report.conflicts[0].error
    assert crm.get(EscalationRecord, "commitment:P1:1") is None  # nothing half-written
    assert crm.require(Commitment, "P1").owner == "wang.fang"
    assert [t for t, *_ in task_events(recorder)] == [TASK_OVERDUE]
    retry = service.apply_escalations(at(2, 15))  # decided again on the fresh state
    assert [(r.from_owner, r.to_owner, r.original_owner) for r in retry.applied] == [
        ("wang.fang", "zhang.min", "li.wei")]


def test_s4_a_plan_applied_twice_stores_each_step_once(service: PolicyService) -> None:
    plan = service.plan_escalations(at(2, 15))
    assert len(service.apply_escalations(at(2, 15), plan=plan).applied) == 1
    again = service.apply_escalations(at(2, 15), plan=plan)
    assert (again.applied, again.conflicts) == ((), ())
    assert service.crm.count(EscalationRecord) == 1


def test_s4_agenda_shows_who_holds_the_task_at_which_step_since_when(
        service: PolicyService) -> None:
    pending = [i for i in service.agenda(at(2, 15)) if i.subject == "commitment:P1"]
    assert all("to be transferred to zhang.min (not applied yet)" in i.why for i in pending)
    service.apply_escalations(at(2, 15))
    items = [i for i in service.agenda(at(2, 16)) if i.subject == "commitment:P1"]
    overdue = next(i for i in items if i.kind is ActionKind.OVERDUE)
    assert overdue.owner == "zhang.min"
    assert "at step 1 (supervisor) since 2026-03-02 14:00 UTC, held by zhang.min" in overdue.why
    assert overdue.as_dict()["escalation"] == {
        "step": 1, "role": "supervisor", "action": "transfer", "holder": "zhang.min",
        "since": at(2, 14).isoformat(), "original_owner": "li.wei"}
    manager = [i for i in service.agenda(at(3, 12)) if i.kind is ActionKind.ESCALATION
               and i.subject == "commitment:P1"]
    assert [i.owner for i in manager] == ["anna.berg"]  # from the original owner's line
    assert "not applied yet" not in manager[0].why


def test_s6_expiring_contract_steps_are_recorded_under_s6(crm: CRM) -> None:
    crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
    crm.record(Contract(id="K1", customer_id="C1", title="maintenance", owner="li.wei",
                        expires_at=at(31, 12)))
    service = PolicyService(crm, PolicySet(calendar=OFFICE, lines=LINES), grades={})
    assert service.apply_escalations(at(1, 11)).applied == ()  # reminder date: 1 March 12:00
    report = service.apply_escalations(at(5, 12))
    assert [(r.subject, r.rule, r.step) for r in report.applied] == [("contract:K1", "S6", 1)]


# -- SLA rows for schemes with other grade names ---------------------------------------------

def test_s4_sla_table_maps_other_grade_names_by_order() -> None:
    table = DEFAULT_SLA_TABLE.for_grades(("VIP", "major", "ordinary", "small", "dormant"))
    assert table.grades == ("VIP", "major", "ordinary", "small", "dormant")
    for name, row in (("VIP", "A"), ("major", "B"), ("small", "D"), ("dormant", "D")):
        assert table.target(name, Priority.HIGH) == DEFAULT_SLA_TABLE.target(row, Priority.HIGH)
    assert table.target(None, Priority.LOW) == DEFAULT_SLA_TABLE.target("D", Priority.LOW)
    assert DEFAULT_SLA_TABLE.for_grades(("A", "B", "C")) is DEFAULT_SLA_TABLE
    named = DEFAULT_SLA_TABLE.for_grades(("VIP", "rest"), rows={"rest": "C"})
    assert named.target("rest", Priority.NORMAL) == DEFAULT_SLA_TABLE.target("C",
                                                                             Priority.NORMAL)
    with pytest.raises(ConfigError, match="'Z' is not a grade of the table"):
        DEFAULT_SLA_TABLE.for_grades(("VIP",), rows={"VIP": "Z"})


def test_s4_pyramid_scheme_grades_get_their_rows_not_the_last(crm: CRM) -> None:
    policies = PolicyService(crm, PolicySet(calendar=OFFICE), scheme="pyramid",
                             grades={}).effective_policies(at(2))
    table = policies.sla.table
    assert table.target("major", Priority.HIGH).resolution == timedelta(hours=16)  # row B
    assert table.target("VIP", Priority.NORMAL).first_response == timedelta(hours=4)
    assert table.target("small", Priority.NORMAL).first_response == timedelta(hours=72)
    assert policies.grade_order == ("VIP", "major", "ordinary", "small")


# -- command line -------------------------------------------------------------------------------

def test_cli_escalate_applies_once_and_prints_what_moved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
        crm.record(Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                              description="call back", owner="li.wei"))
    arguments = ["escalate", "--db", database, "--as-of", "2026-03-02T15:00:00+00:00",
                 "--reports-to", "li.wei=zhang.min"]
    assert main([*arguments, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(s["subject"], s["step"], s["person"], s["event"]) for s in report["applied"]] == [
        ("commitment:P1", 1, "zhang.min", TASK_ESCALATED)]
    assert main(arguments) == 0
    assert "0 step(s) applied" in capsys.readouterr().out
    assert main(["agenda", "--db", database, "--as-of", "2026-03-02T15:00:00+00:00",
                 "--reports-to", "li.wei=zhang.min", "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    recorded = [i["escalation"] for i in items if i["subject"] == "commitment:P1"]
    assert recorded
    assert {r["step"] for r in recorded} == {1}
