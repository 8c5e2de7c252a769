"""G6: grades drive service by default: stored grades, the scheme's own follow-up, nurture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.config import load_config
from crmcore.errors import ConfigError
from crmcore.grading import latest_grades, load_scheme, run_grading
from crmcore.model import Customer, Transaction
from crmcore.policies import PolicyService
from crmcore.policies.agenda import ActionKind
from crmcore.policies.scheme import policy_scheme, stored_scheme

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)

SCHEME_FILE = """
name = "house-tiers"
version = 1
kind = "pareto-abc"

[[grades]]
name = "Gold"

[[grades]]
name = "Silver"

[rules]
metric = "revenue"
basis = "count"
shares = [0.5]

[followup.Gold]
contact_every_days = 3
response_hours = 2
complaint_priority = "urgent"

[followup.Silver]
contact_every_days = 10
nurture_toward = "Gold"
"""


def test_g6_after_the_demo_agenda_and_compliance_use_stored_grades(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "demo.db")
    assert main(["demo", "--db", database, "--customers", "60"]) == 0
    assert "pareto-abc grades" in capsys.readouterr().out
    with CRM.open("sqlite", path=database) as crm:
        stored = latest_grades(crm, "pareto-abc", as_of=AS_OF)
        customers = {c.id for c in crm.find(Customer)}
    assert set(stored) == customers
    assert main(["agenda", "--db", database, "--as-of", "2026-06-30", "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert items
    assert all(item["grade"] == stored[item["customer_id"]] for item in items)
    assert not any("ungraded" in item["why"] for item in items)
    assert any(item["kind"] == "personal_message" and item["grade"] == "A" for item in items)
    assert any(item["kind"] == "nurture" and item["grade"] == "B" for item in items)
    assert main(["compliance", "--db", database, "--as-of", "2026-06-30",
                 "--format", "json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert {r["customer_id"] for r in reports} == customers
    assert all(r["grade"] == stored[r["customer_id"]] for r in reports)


def _graded_book(crm: CRM, scheme_path: Path) -> None:
    crm.record_many([Customer(id=f"C{i}", name=f"Shop {i}", owner="li.wei",
                              acquired_at=AS_OF - timedelta(days=400)) for i in range(4)])
    crm.record_many([Transaction(id=f"T{i}", customer_id=f"C{i}", amount=Decimal(100 * (i + 1)),
                                 occurred_at=AS_OF - timedelta(days=30)) for i in range(4)])
    run_grading(crm, load_scheme(scheme_path), as_of=AS_OF - timedelta(days=1))


def test_g6_a_scheme_from_a_file_carries_its_own_followup(crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "house.toml"
    path.write_text(SCHEME_FILE, encoding="utf-8")
    _graded_book(crm, path)
    service = PolicyService(crm, scheme=str(path))
    assert service.grades(AS_OF) == {"C0": "Silver", "C1": "Silver", "C2": "Gold",
                                     "C3": "Gold"}
    policies = service.effective_policies(AS_OF)
    assert policies.care.cadence("Gold") == 3  # not the default policy's 7
    assert policies.care.cadence("Silver") == 10
    assert policies.grade_order == ("Gold", "Silver")
    assert policies.nurture == {"Silver": "Gold"}
    items = service.agenda(AS_OF)
    nurture = [i for i in items if i.kind is ActionKind.NURTURE]
    assert {i.customer_id for i in nurture} == {"C0", "C1"}
    assert all("nurture toward Gold" in i.why for i in nurture)
    assert items[0].grade == "Gold" or items[0].kind is not ActionKind.CONTACT


def test_g6_a_stored_file_scheme_is_never_replaced_by_the_default_policy(
        crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "house.toml"
    path.write_text(SCHEME_FILE, encoding="utf-8")
    _graded_book(crm, path)
    assert stored_scheme(crm) == "house-tiers"
    with pytest.raises(ConfigError, match="'house-tiers'.*name that file"):
        PolicyService(crm).agenda(AS_OF)
    with pytest.raises(ConfigError, match="'nowhere.toml'"):
        policy_scheme(crm, "nowhere.toml")


def test_g6_scheme_choice_named_then_configured_then_stored(crm: CRM) -> None:
    assert policy_scheme(crm) is None  # never graded: no scheme, no grades
    assert PolicyService(crm).grades(AS_OF) == {}
    crm.record_many([Customer(id="C1", name="Shop", acquired_at=AS_OF - timedelta(days=9))])
    run_grading(crm, load_scheme("pyramid"), as_of=AS_OF)
    chosen = policy_scheme(crm)
    assert chosen is not None
    assert chosen.name == "pyramid"
    assert policy_scheme(crm, as_of=AS_OF - timedelta(days=1)) is None
    named = policy_scheme(crm, "rfm")
    assert named is not None
    assert named.name == "rfm"


def test_g6_configured_run_scheme_wins_over_the_stored_one(tmp_path: Path) -> None:
    config = tmp_path / "crmcore.toml"
    config.write_text('[storage]\nbackend = "sqlite"\npath = "crm.db"\n\n'
                      '[run]\nscheme = "pareto-abc"\n', encoding="utf-8")
    with CRM.from_config(load_config(config)) as crm:
        crm.record_many([Customer(id="C1", name="Shop", acquired_at=AS_OF)])
        run_grading(crm, load_scheme("pyramid"), as_of=AS_OF)
        chosen = policy_scheme(crm)
        assert chosen is not None
        assert chosen.name == "pareto-abc"
        assert PolicyService(crm).grades(AS_OF) == {"C1": "C"}  # graded, nothing stored
