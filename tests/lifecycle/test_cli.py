"""``crmcore lifecycle ...`` in-process, and the demo report's lifecycle section."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.cli import main

T0 = datetime(2024, 1, 1, 10, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        crm.record_many([Customer(id="C1", name="Regular", acquired_at=T0),
                         Customer(id="C2", name="Gone", acquired_at=T0)])
        crm.record_many(
            Transaction(id=f"{c}-{d}", customer_id=c, occurred_at=T0 + timedelta(days=d),
                        amount=Decimal(10))
            for c, d in [("C1", 0), ("C1", 30), ("C1", 60), ("C2", 0)])
    return path


def test_advance_json_lists_each_move_with_its_reason(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30",
                 "--format", "json"]) == 0
    moves = json.loads(capsys.readouterr().out)
    assert {(m["customer_id"], m["from"], m["to"]) for m in moves} >= {
        ("C1", "identified", "active"), ("C2", "at-risk", "churned")}
    for move in moves:
        assert {"customer_id", "from", "to", "reason", "rule", "at", "event"} <= set(move)
        assert move["reason"]
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_advance_table_stages_and_show(database: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^C2 +2024-12-26 +at-risk +churned +L3: silent for 360 days", table, re.M)
    assert "customers entered the lifecycle" in table
    assert main(["lifecycle", "stages", "--db", database, "--format", "json"]) == 0
    stages = {row["customer_id"]: row["stage"] for row in json.loads(capsys.readouterr().out)}
    assert stages == {"C1": "churned", "C2": "churned"}
    assert main(["lifecycle", "stages", "--db", database]) == 0
    assert "churn_reasons=['unknown']" in capsys.readouterr().out
    assert main(["lifecycle", "show", "C2", "--db", database]) == 0
    shown = capsys.readouterr().out
    assert "identified  active" in shown
    assert "L3: silent for" in shown


def test_show_unknown_customer_and_bad_date(database: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "C9", "--db", database]) == 1
    assert "customer 'C9' does not exist" in capsys.readouterr().err
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "June"]) == 1
    assert "--as-of: 'June' is not a date" in capsys.readouterr().err


def test_l5_measures_command(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30"])
    capsys.readouterr()
    assert main(["lifecycle", "measures", "--db", database, "--as-of", "2024-12-31",
                 "--period", "quarter", "--periods", "4", "--format", "json",
                 "--by-cohort"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["period"] for row in data["periods"] if row["cohort"] == "all"] == [
        "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    q3 = next(r for r in data["periods"] if r["period"] == "2024-Q3" and r["cohort"] == "all")
    assert (q3["customers_at_start"], q3["churned"], q3["retained"]) == (2, 1, 1)
    assert q3["churn_rate"] == 0.5
    assert {stay["stage"] for stay in data["time_in_stage"]} >= {"identified", "active"}


@pytest.mark.parametrize(("fmt", "start"), [("mermaid", "stateDiagram-v2"),
                                            ("dot", 'digraph "customer-lifecycle"'),
                                            ("svg", "<svg ")])
def test_diagram_command(fmt: str, start: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "diagram", "--format", fmt]) == 0
    assert capsys.readouterr().out.startswith(start)


def test_the_demo_report_has_a_lifecycle_section(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "demo.db")
    assert main(["demo", "--db", database, "--customers", "30", "--seed", "5"]) == 0
    report = capsys.readouterr().out
    section = report.split("\nLifecycle\n---------\n", 1)[1]
    assert "customers per stage:" in section
    assert "moves in the last 90 days:" in section
    assert "churn reasons of churned customers:" in section
    assert main(["lifecycle", "stages", "--db", database, "--format", "json"]) == 0
    assert all(row["stage"] for row in json.loads(capsys.readouterr().out)
               if row["customer_id"])


def test_advance_in_small_batches_moves_the_same_and_refuses_batches_of_none(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30",
                 "--batch-size", "0"]) == 1
    assert "--batch-size: 0 must be at least 1" in capsys.readouterr().err
    with CRM.open("sqlite", path=database) as crm:
        assert crm.events()[-1].event.type == "transaction.recorded"  # nothing stored
    other = str(tmp_path / "other.db")
    Path(other).write_bytes(Path(database).read_bytes())
    assert main(["lifecycle", "advance", "--db", database, "--as-of", "2025-06-30",
                 "--format", "json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert main(["lifecycle", "advance", "--db", other, "--as-of", "2025-06-30",
                 "--format", "json", "--batch-size", "1"]) == 0
    printed = capsys.readouterr().out  # streamed batch by batch, printed as one array
    assert printed == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"
    assert len({m["customer_id"] for m in whole}) == 2
