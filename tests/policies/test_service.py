"""The policies through a CRM (memory and SQLite), the agenda, S8 compliance, the CLI and demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import RecordingNotifier
from tests.policies.helpers import OFFICE

from crmcore import CRM
from crmcore.cli import main
from crmcore.demo import build_report, generate_book
from crmcore.grading import GradeResult, latest_grades, load_scheme, record_grades
from crmcore.grading.engine import grade_book
from crmcore.model import (
    Celebration,
    Channel,
    Commitment,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    QuietHours,
    Ticket,
    TicketKind,
    TicketStatus,
)
from crmcore.policies import (
    ActionKind,
    Appointment,
    Contract,
    PolicyService,
    PolicySet,
    ProblemRecord,
    ReportingLines,
    SlaState,
    Warranty,
    change_ticket_status,
)
from crmcore.policies.demo import agenda_section, policy_records
from crmcore.policies.scheme import stored_scheme
from crmcore.policies.service import PROBLEM_OPENED
from crmcore.serialization import structure, unstructure

MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)  # the crm fixture's clock


def day(offset: float, hour: int = 9) -> datetime:
    return MONDAY.replace(hour=hour) + timedelta(days=offset)


def store_book(crm: CRM) -> None:
    crm.record_many([
        Customer(id="A1", name="Key account", owner="li.wei", acquired_at=day(-400),
                 preferences=ContactPreferences(
                     channels=(Channel.PHONE,), time_zone="Europe/Berlin",
                     quiet_hours=(QuietHours(datetime.min.time().replace(hour=12),
                                             datetime.min.time().replace(hour=14)),),
                     celebrations=(Celebration("founding day", 1, 7, 2000),))),
        Customer(id="C1", name="Small shop", owner="zhang.min", acquired_at=day(-400)),
    ])
    crm.record_many([
        Ticket(id="T-A", customer_id="A1", opened_at=day(0), kind=TicketKind.COMPLAINT,
               category="late delivery", priority=Priority.LOW, owner="li.wei"),
        Ticket(id="T-C", customer_id="C1", opened_at=day(0), kind=TicketKind.REQUEST,
               category="training", owner="zhang.min"),
        Commitment(id="P1", customer_id="C1", made_at=day(0), due_at=day(1, 12),
                   description="send the quote", owner="zhang.min"),
        Interaction(id="I1", customer_id="A1", occurred_at=day(-20, 13),
                    kind=InteractionKind.CALL, direction=Direction.OUTBOUND),
        Appointment(id="V1", customer_id="A1", starts_at=day(9, 10), purpose="installation",
                    owner="li.wei"),
        Contract(id="K1", customer_id="C1", title="support", owner="zhang.min",
                 expires_at=day(35)),
        Warranty(id="W1", customer_id="A1", product="pump", owner="li.wei",
                 expires_at=day(300)),
    ])


@pytest.fixture
def service(crm: CRM) -> PolicyService:
    store_book(crm)
    policies = PolicySet(calendar=OFFICE, lines=ReportingLines({"li.wei": "anna.berg",
                                                                "zhang.min": "anna.berg"}))
    return PolicyService(crm, policies, grades={"A1": "A", "C1": "C"})


def test_new_entities_survive_storage_and_serialization(service: PolicyService) -> None:
    crm = service.crm
    assert crm.require(Appointment, "V1").purpose == "installation"
    assert crm.require(Contract, "K1").expires_at == day(35)
    assert crm.find(Warranty, customer_id="A1")[0].product == "pump"
    problem = ProblemRecord(id="PRB-1", customer_id="A1", key="customer:A1", opened_at=day(1),
                            incident_ids=("T-A",))
    assert structure(unstructure(problem), ProblemRecord) == problem


def test_s4_ticket_status_goes_through_the_door_and_pauses_the_clock(
        service: PolicyService) -> None:
    crm = service.crm
    change_ticket_status(crm, "T-C", "open", at=day(0, 11), actor="zhang.min")
    change_ticket_status(crm, "T-C", "wait_on_customer", at=day(0, 13), actor="zhang.min",
                         reason="asked for the serial number")
    change_ticket_status(crm, "T-C", "resolve", at=day(1, 10), actor="zhang.min")
    stored = crm.require(Ticket, "T-C")
    assert stored.status is TicketStatus.RESOLVED
    assert (stored.first_response_at, stored.resolved_at) == (day(0, 11), day(1, 10))
    sla = {s.ticket_id: s for s in service.sla(day(2))}["T-C"]
    assert sla.resolution.elapsed == timedelta(hours=4)  # 09-13 Monday
    assert sla.resolution.paused == timedelta(hours=5)  # 13-17 Monday, 09-10 Tuesday
    assert sla.resolution.state is SlaState.MET
    assert sla.first_response.elapsed == timedelta(hours=2)


def test_agenda_orders_by_urgency_then_grade_and_says_why(service: PolicyService) -> None:
    items = service.agenda(day(2, 10))
    kinds = [item.kind for item in items]
    assert kinds == sorted(kinds, key=lambda kind: kind.urgency)
    breaches = [item for item in items if item.kind is ActionKind.BREACH]
    assert [item.customer_id for item in breaches[:2]] == ["A1", "A1"]  # grade A first
    assert "grade A, urgent" in breaches[0].why  # S7: lifted from low
    escalated = [item for item in items if item.kind is ActionKind.ESCALATION]
    assert escalated
    assert all(item.owner == "anna.berg" for item in escalated)
    overdue = [item for item in items if item.subject == "commitment:P1"]
    assert [(item.kind, item.owner) for item in overdue] == [
        (ActionKind.ESCALATION, "anna.berg"), (ActionKind.OVERDUE, "zhang.min")]
    assert "send the quote" in overdue[1].why
    by_kind = {item.kind for item in items}
    assert {ActionKind.CONTACT, ActionKind.PERSONAL_MESSAGE, ActionKind.GREETING} <= by_kind
    contact = next(item for item in items if item.kind is ActionKind.CONTACT
                   and item.customer_id == "A1")
    assert "phone" in contact.why
    assert "Europe/Berlin" in contact.why
    only = service.agenda(day(2, 10), owner="zhang.min")
    assert only
    assert {item.owner for item in only} == {"zhang.min"}


def test_s5_s6_agenda_lists_confirmations_and_expiring_contracts(
        service: PolicyService) -> None:
    items = service.agenda(day(1, 10))
    confirmation = next(i for i in items if i.kind is ActionKind.CONFIRMATION)
    assert confirmation.subject == "appointment:V1"
    assert confirmation.due_at == day(2, 10)
    assert not any(i.kind is ActionKind.EXPIRY for i in items)
    later = service.agenda(day(5, 10))
    expiry = next(i for i in later if i.kind is ActionKind.EXPIRY)
    assert expiry.subject == "contract:K1"
    assert expiry.owner == "zhang.min"


def test_s7_recurring_complaints_are_stored_as_problems(
        service: PolicyService, recorder: RecordingNotifier) -> None:
    crm = service.crm
    crm.record_many(Ticket(id=f"T-A{n}", customer_id="A1", opened_at=day(n + 1),
                           kind=TicketKind.COMPLAINT, category="late delivery",
                           owner="li.wei")
                    for n in range(2))
    assert any(i.kind is ActionKind.PROBLEM for i in service.agenda(day(4)))
    opened = service.record_problems(day(4))
    assert [p.incident_ids for p in opened] == [("T-A", "T-A0", "T-A1")]  # one, not two
    assert crm.require(Ticket, "T-A1").problem_id == opened[0].id
    assert crm.require(ProblemRecord, opened[0].id).key == "customer:A1"
    assert service.record_problems(day(4)) == []
    assert any(event.type == PROBLEM_OPENED for event in recorder.events)


def test_s8_compliance_report_kept_and_broken_with_evidence(service: PolicyService) -> None:
    crm = service.crm
    crm.record(Interaction(id="I2", customer_id="A1", occurred_at=day(-2, 12),
                           kind=InteractionKind.EMAIL, direction=Direction.OUTBOUND))
    report = service.compliance(day(3), customer_id="A1")[0]
    checks = {(c.rule, c.promise.split()[0]): c for c in report.checks}
    s1 = checks[("S1", "contact")]
    assert s1.kept is False
    assert any("I2" in line for line in s1.evidence)
    assert checks[("S3", "contact")].kept is False  # 13:00 in Berlin is quiet
    assert checks[("S4", "meet")].kept is False
    assert checks[("S7", "give")].kept is False  # an A complaint left at low priority
    assert checks[("S6", "act")].kept is None
    assert report.as_dict()["broken"] == len(report.broken)
    with pytest.raises(Exception, match="not a stored customer"):
        service.compliance(day(3), customer_id="nobody")


def test_g6_grades_and_followup_from_stored_grade_results(crm: CRM) -> None:
    store_book(crm)
    table = grade_book(load_scheme("pareto-abc"), as_of=day(1), customers=crm.find(Customer))
    record_grades(crm, table)
    assert stored_scheme(crm) == "pareto-abc"
    assert set(latest_grades(crm, "pareto-abc")) == {"A1", "C1"}
    assert crm.count(GradeResult) == 2
    service = PolicyService(crm)
    policies = service.effective_policies(day(2))
    assert policies.care.cadence("B") == 14  # the scheme's [followup.B]
    assert policies.grade_order == ("A", "B", "C")


# -- command line and demo --------------------------------------------------------------------

@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        store_book(crm)
    return path


def test_cli_agenda_table_and_json(database: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    calendar = tmp_path / "office.toml"
    calendar.write_text('name = "office"\ntime_zone = "UTC"\n[week]\n'
                        'monday = ["09:00-17:00"]\ntuesday = ["09:00-17:00"]\n'
                        'wednesday = ["09:00-17:00"]\n', encoding="utf-8")
    assert main(["agenda", "--db", database, "--as-of", "2026-01-07T10:00:00+00:00",
                 "--calendar", str(calendar), "--reports-to", "zhang.min=anna.berg",
                 "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert items
    assert {"owner", "kind", "customer_id", "subject", "due_at", "grade",
                      "why"} <= set(items[0])
    assert any(i["owner"] == "anna.berg" and i["kind"] == "escalation" for i in items)
    assert main(["agenda", "--db", database, "--as-of", "2026-01-07", "--owner",
                 "zhang.min"]) == 0
    table = capsys.readouterr().out
    assert "due action(s)" in table
    assert "commitment:P1" in table
    assert "li.wei" not in table
    assert main(["agenda", "--db", database, "--reports-to", "nobody"]) == 1
    assert "PERSON=BOSS" in capsys.readouterr().err


def test_cli_compliance(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", "--db", database, "--as-of", "2026-01-08",
                 "--customer", "A1"]) == 0
    out = capsys.readouterr().out
    assert "S4" in out
    assert "BROKEN" in out
    assert "1 customer(s)" in out
    assert main(["compliance", "--db", database, "--as-of", "2026-01-08", "--format",
                 "json", "--broken"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert all(report["broken"] for report in reports)


def test_demo_report_has_an_agenda_section(tmp_path: Path) -> None:
    book = generate_book(40, seed=3)
    with CRM.open("sqlite", path=str(tmp_path / "demo.db")) as crm:
        crm.import_entities(book.all(), source="test")
        crm.import_entities(policy_records(book, seed=3), source="test policies")
        sections = build_report(crm, datetime(2026, 6, 30, tzinfo=UTC))
    agenda = next(s for s in sections if s.title == "Agenda (CCPR)")
    assert agenda.lines[0].startswith("due actions")
    assert "most urgent:" in agenda.lines
    assert agenda_section is not None
