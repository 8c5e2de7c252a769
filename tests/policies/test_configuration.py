"""The ``[policies]`` table of a configuration file, and the events of a transfer."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import RecordingNotifier
from tests.policies.helpers import OFFICE, at, ticket

from crmcore import CRM, parse_config
from crmcore.cli import main
from crmcore.errors import ConfigError
from crmcore.model import Commitment, Customer, Priority, Ticket
from crmcore.policies import (
    DEFAULT_CHAIN,
    EscalationAction,
    EscalationChain,
    EscalationStep,
    PolicyService,
    PolicySet,
    ReportingLines,
)
from crmcore.policies.assignments import TASK_TRANSFERRED

OFFICE_TOML = """\
name = "office"
time_zone = "UTC"
holidays = ["2026-03-06"]
[week]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]
"""

POLICIES = """\
[policies]
calendar = "office.toml"
lines = { "li.wei" = "zhang.min", "zhang.min" = "anna.berg" }

[policies.sla]
warn_at = [0.5, 0.75]
paused_statuses = ["waiting_on_customer"]

[policies.sla.table]
A = { urgent = [1, 4], high = [2, 8], normal = [4, 24], low = [8, 48] }
B = { urgent = [2, 8], high = [4, 16], normal = [8, 32], low = [16, 80] }

[[policies.chain]]
role = "owner"
after_hours = 0
action = "notify"

[[policies.chain]]
role = "supervisor"
after_hours = 2
action = "transfer"

[[policies.chain]]
role = "manager"
after_hours = 8

[policies.care]
cadence_days = { A = 7, B = 30 }
key_grades = ["A"]
greeting_lead_days = 5
"""


def write_config(folder: Path, policies: str = POLICIES) -> Path:
    """``crm.toml`` (SQLite ``crm.db``) with ``policies`` and ``office.toml`` beside it."""
    (folder / "office.toml").write_text(OFFICE_TOML, encoding="utf-8")
    path = folder / "crm.toml"
    path.write_text(f'[storage]\nbackend = "sqlite"\npath = "crm.db"\n\n{policies}',
                    encoding="utf-8")
    return path


def test_every_key_of_the_table_fills_its_policy(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    policies = PolicySet.from_config(parse_config(config.read_text(), base_dir=tmp_path))
    assert policies.calendar == OFFICE
    assert policies.lines == ReportingLines({"li.wei": "zhang.min", "zhang.min": "anna.berg"})
    assert policies.sla.warn_at == (0.5, 0.75)
    assert policies.sla.paused_statuses == {"waiting_on_customer"}
    assert policies.sla.stopped_statuses == PolicySet().sla.stopped_statuses  # kept
    assert policies.sla.table.grades == ("A", "B")
    assert policies.sla.table.target("A", Priority.NORMAL).resolution == timedelta(hours=24)
    assert policies.sla.table.target(None, Priority.LOW).first_response == timedelta(hours=16)
    assert policies.chain == EscalationChain((
        EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
        EscalationStep("supervisor", timedelta(hours=2), EscalationAction.TRANSFER),
        EscalationStep("manager", timedelta(hours=8), EscalationAction.ESCALATE)))
    assert policies.care.cadence_days == {"A": 7, "B": 30}
    assert policies.care.greeting_lead_days == 5
    assert policies.care.personal_message_every_days == 7  # kept


def test_no_policies_table_gives_the_defaults() -> None:
    assert PolicySet.from_config(parse_config('[storage]\nbackend = "memory"\n')) == PolicySet()
    assert PolicySet.from_config(parse_config("[policies]\n")).chain == DEFAULT_CHAIN


def test_an_inline_calendar_table_and_a_single_warning_fraction() -> None:
    policies = PolicySet.from_config(parse_config("""
[policies.sla]
warn_at = 0.9

[policies.calendar]
name = "office"
time_zone = "UTC"
holidays = ["2026-03-06"]

[policies.calendar.week]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]
"""))
    assert policies.calendar == OFFICE
    assert policies.sla.warn_at == (0.9,)


@pytest.mark.parametrize(("table", "message"), [
    ('[policies]\ncolour = "red"',
     "policies.colour: is not a known option (known: calendar, sla, chain, lines, care, "
     "time_zone, customer_time_zone, calendar_years, festivals)"),
    ('[policies]\ncalendar = "missing.toml"', "policies.calendar: cannot read "),
    ("[policies]\ncalendar = 3", "policies.calendar: 3 is not a calendar file path"),
    ('[policies.calendar]\nname = "x"\ntime_zone = "Mars/Base"\nweek = {}',
     "policies.calendar: "),
    ('[policies]\nlines = { "li.wei" = 7 }', "policies.lines.li.wei: 7 is not a person"),
    ('[policies]\nlines = "li.wei"', "policies.lines: 'li.wei' is not a table"),
    ("[policies.sla]\nwarn_at = 1.5", "policies.sla.warn_at: 1.5 is not a fraction"),
    ("[policies.sla]\nwarn_at = [0.5, true]", "policies.sla.warn_at[1]: True is not a fraction"),
    ('[policies.sla]\npaused_statuses = ["on_hold", "waiting"]',
     "policies.sla.paused_statuses[1]: 'waiting' is not one of new, open, "
     "waiting_on_customer, on_hold, resolved, closed"),
    ('[policies.sla]\npaused_statuses = "on_hold"',
     "policies.sla.paused_statuses: 'on_hold' is not a list of ticket statuses"),
    ('[policies.sla]\npaused_statuses = ["resolved"]',
     "policies.sla.paused_statuses: 'resolved' is also a stopped status"),
    ("[policies.sla]\nwarn_after = 0.5", "policies.sla.warn_after: is not a known option"),
    ("[policies.sla.table]\nA = { urgent = [1, 4] }",
     "policies.sla.table.A: no target for priority high, normal, low"),
    ("[policies.sla.table]\nA = { urgent = [1, -4], high = [2, 8], normal = [4, 24], "
     "low = [8, 48] }",
     "policies.sla.table.A.urgent.resolution_hours: -4 is not a positive number of hours"),
    ("[policies.sla.table]\nA = { asap = [1, 4] }", "policies.sla.table.A.asap: is not a priority"),
    ("[policies.sla]\ntable = {}", "policies.sla.table: the table needs at least one grade"),
    ("[policies]\nchain = []", "policies.chain: is empty"),
    ('[policies]\nchain = ["owner"]', "policies.chain[0]: 'owner' is not a table"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = 0\n'
     '[[policies.chain]]\nrole = "boss"\nafter_hours = 4\naction = "teleport"',
     "policies.chain[1].action: 'teleport' is not one of notify, escalate, transfer"),
    ('[[policies.chain]]\nafter_hours = 0', "policies.chain[0].role: is required (a text)"),
    ('[[policies.chain]]\nrole = " "\nafter_hours = 0',
     "policies.chain[0].role: ' ' is not a non-empty text"),
    ('[[policies.chain]]\nrole = "owner"', "policies.chain[0].after_hours: is required"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = "2h"',
     "policies.chain[0].after_hours: '2h' is not a number"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = -1',
     "policies.chain[0].after_hours: -1.0 is not a number of hours from 0 to"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = nan',
     "policies.chain[0].after_hours: nan is not a finite number"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = 4\n'
     '[[policies.chain]]\nrole = "boss"\nafter_hours = 2',
     "policies.chain[1].after_hours: 2.0 is earlier than the step before it (4.0)"),
    ('[[policies.chain]]\nrole = "owner"\nafter_hours = 0\nto = "boss"',
     "policies.chain[0].to: is not a known option (known: action, after_hours, role)"),
    ("[policies.care]\ncadence_days = { A = 0 }",
     "policies.care.cadence_days.A: 0 is not a number of days >= 1"),
    ("[policies.care]\ncadence_days = {}", "policies.care.cadence_days: is empty"),
    ("[policies.care]\nkey_grades = [1]", "policies.care.key_grades[0]: 1 is not a grade"),
    ('[policies.care]\nkey_tags = ["重点跟踪", " "]',
     "policies.care.key_tags[1]: ' ' is not a customer tag"),
    ('[policies.care]\nkey_tags = "signed"', "policies.care.key_tags: "),
    ("[policies.care]\ngreeting_lead_days = 99",
     "policies.care.greeting_lead_days: 99 must be from 0 to 60"),
    ("[policies.care]\npersonal_message_every_days = 1.5",
     "policies.care.personal_message_every_days: 1.5 is not a whole number"),
    ("[policies.care]\ncadence = { A = 7 }", "policies.care.cadence: is not a known option"),
])
def test_bad_values_name_the_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      table: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        PolicySet.from_config(parse_config(table, base_dir=tmp_path))
    assert str(raised.value).startswith(message)
    config = write_config(tmp_path, table)
    for command in ("escalate", "agenda", "compliance", "problems"):
        assert main([command, "--config", str(config), "--as-of", "2026-03-02"]) == 1
        assert f"crmcore: error: {message}" in capsys.readouterr().err


def stored_book(config: Path) -> None:
    with CRM.from_file(config) as crm:
        crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
        crm.record(Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                              description="call back with the price", owner="li.wei"))
        crm.record(ticket("T1", opened=at(2, 9), owner="li.wei"))


def test_cli_escalate_with_config_transfers_overdue_tasks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    stored_book(config)
    arguments = ["escalate", "--config", str(config), "--format", "json"]
    # Monday 15:00: the promise is 3 business hours late; the ticket (normal priority,
    # ungraded: the last row, B, 8 hours to respond) is not late yet
    assert main([*arguments, "--as-of", "2026-03-02T15:00:00+00:00"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(s["subject"], s["step"], s["from"], s["to"], s["event"])
            for s in report["applied"]] == [
        ("commitment:P1", 1, "li.wei", "zhang.min", TASK_TRANSFERRED)]
    # Thursday 10:00: the ticket's first response (grade B's 8 hours, as the last row of
    # the file's table) was due Monday 17:00; the run applies the manager step reached,
    # with the skipped transfer to the supervisor
    assert main([*arguments, "--as-of", "2026-03-05T10:00:00+00:00"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted((s["subject"], s["clock"], s["step"], s["from"], s["to"], s["person"])
                  for s in report["applied"]) == [
        ("commitment:P1", None, 2, "zhang.min", "zhang.min", "anna.berg"),
        ("ticket:T1", "first response", 2, "li.wei", "zhang.min", "anna.berg")]
    with CRM.from_file(config) as crm:
        assert crm.require(Commitment, "P1").owner == "zhang.min"
        assert crm.require(Ticket, "T1").owner == "zhang.min"


def test_cli_options_go_over_the_configured_lines_and_calendar(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    stored_book(config)
    with CRM.from_file(config) as crm:  # due on the holiday of the file's calendar
        crm.record(Commitment(id="P2", customer_id="C1", made_at=at(5, 9), due_at=at(6, 10),
                              description="send the manual", owner="li.wei"))
    (tmp_path / "long.toml").write_text(
        OFFICE_TOML.replace("09:00-17:00", "06:00-22:00").replace(
            'holidays = ["2026-03-06"]\n', ""), encoding="utf-8")
    assert main(["escalate", "--config", str(config), "--format", "json",
                 "--as-of", "2026-03-06T12:30:00+00:00", "--reports-to", "li.wei=olga",
                 "--calendar", str(tmp_path / "long.toml")]) == 0
    report = json.loads(capsys.readouterr().out)
    moved = {(s["subject"], s["from"], s["to"], s["person"]) for s in report["applied"]}
    assert ("commitment:P2", "li.wei", "olga", "olga") in moved  # Friday is worked now
    with CRM.from_file(config) as crm:
        assert crm.require(Commitment, "P2").owner == "olga"


def test_cli_without_config_keeps_the_default_chain(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
        crm.record(Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                              description="call back", owner="li.wei"))
    assert main(["escalate", "--db", database, "--as-of", "2026-03-02T15:00:00+00:00",
                 "--reports-to", "li.wei=zhang.min", "--format", "json"]) == 0
    [step] = json.loads(capsys.readouterr().out)["applied"]
    assert (step["from"], step["to"], step["person"]) == ("li.wei", "li.wei", "zhang.min")


# -- the entity's own event next to task.transferred ---------------------------------------------

TRANSFER_NOW = EscalationChain((
    EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
    EscalationStep("supervisor", timedelta(hours=2), EscalationAction.TRANSFER),
))


def test_a_transfer_emits_the_entity_updated_event_with_the_new_owner(
        crm: CRM, recorder: RecordingNotifier) -> None:
    crm.record(Customer(id="C1", name="Corner shop", owner="li.wei"))
    crm.record(Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                          description="call back with the price", owner="li.wei"))
    crm.record(ticket("T1", opened=at(2, 9), owner="li.wei", priority=Priority.URGENT))
    service = PolicyService(crm, PolicySet(calendar=OFFICE, chain=TRANSFER_NOW,
                                           lines=ReportingLines({"li.wei": "zhang.min"})),
                            grades={"C1": "A"})
    service.apply_escalations(at(2, 10, 30))  # the ticket's reminder: the owner stays
    assert not [e for e in recorder.events if e.type.endswith(".updated")]
    service.apply_escalations(at(2, 15))
    kinds = [e.type for e in recorder.events if e.type in (
        TASK_TRANSFERRED, "commitment.updated", "ticket.updated")]
    assert kinds.count(TASK_TRANSFERRED) == 2
    updated = {e.subject: e for e in recorder.events if e.type.endswith(".updated")}
    assert set(updated) == {"commitment:P1", "ticket:T1"}
    for subject, event in updated.items():
        kind, task_id = subject.split(":")
        entity = crm.require(Commitment if kind == "commitment" else Ticket, task_id)
        assert event.customer_id == "C1"
        assert event.data["entity"]["owner"] == entity.owner == "zhang.min"
        assert event.data["version"] == crm.version(type(entity), task_id)
        transferred = next(e for e in recorder.events
                           if e.type == TASK_TRANSFERRED and e.subject == subject)
        assert transferred.data["version"] == event.data["version"]
        assert recorder.events.index(transferred) + 1 == recorder.events.index(event)
