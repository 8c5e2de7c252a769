"""``crmcore pdca ...`` and ``crmcore measures`` in-process, and the demo's PDCA section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main

from .helpers import stocked


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        stocked(crm)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    assert main(list(argv)) == status
    captured = capsys.readouterr()
    return captured.out if status == 0 else captured.err


def test_p1_p4_a_whole_cycle_from_the_command_line(database: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", database)
    opened = _run(capsys, "pdca", "open", *db, "--measure", "complaint_rate", "--period",
                  "2026-Q1", "--problem", "Too many complaints", "--key", "complaints",
                  "--at", "2026-04-01")
    assert opened.startswith("opened PDCA-001: baseline complaint_rate over 2026-Q1 30.0%")
    refused = _run(capsys, "pdca", "check", "PDCA-001", *db, "--period", "2026-Q2",
                   "--at", "2026-04-01", status=1)
    assert "not allowed in this state (allowed here: revise_plan, do, abandon)" in refused
    planned = _run(capsys, "pdca", "plan", "PDCA-001", *db, "--pareto", "complaints",
                   "--countermeasure", "cm-1|li.wei|2026-05-01|call ahead|late delivery",
                   "--countermeasure", "cm-2|zhang.min|2026-05-01|check invoices",
                   "--target", "complaint_rate<=0.15", "--target", "csat>=4@complaints",
                   "--at", "2026-04-01")
    assert "complete" in planned
    assert "open countermeasures: cm-1, cm-2" in _run(
        capsys, "pdca", "do", "PDCA-001", *db, "--at", "2026-04-02")
    _run(capsys, "pdca", "do", "PDCA-001", *db, "--done", "cm-1", "--drop",
         "cm-2=merged into cm-1", "--at", "2026-05-01")
    checked = _run(capsys, "pdca", "check", "PDCA-001", *db, "--period", "2026-Q2",
                   "--at", "2026-07-01")
    assert "complaint_rate <= 0.15 over 2026-Q2: 10.0% (n=100): achieved" in checked
    assert "csat >= 4 over 2026-Q2: 4.50 (n=40): achieved" in checked
    acted = _run(capsys, "pdca", "act", "PDCA-001", *db, "--standard", "call ahead",
                 "--at", "2026-07-01")
    assert acted.strip() == "PDCA-001: closed; standardised 1; every problem solved"
    shown = json.loads(_run(capsys, "pdca", "show", "PDCA-001", *db, "--format", "json"))
    assert shown["phase"] == "closed"
    assert [h["to"] for h in shown["history"] if h["from"] != h["to"]] == [
        "plan", "do", "check", "act", "closed"]
    assert shown["chain"] == [{"id": "PDCA-001", "phase": "closed", "parent_id": None,
                               "unsolved": []}]
    table = _run(capsys, "pdca", "show", "PDCA-001", *db)
    assert "countermeasure cm-2 [dropped (merged into cm-1)]" in table
    assert "chain: PDCA-001 (closed)" in table


def test_p4_carried_over_cycles_in_list_and_show(database: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", database)
    _run(capsys, "pdca", "open", *db, "--measure", "return_rate", "--period", "2026-Q1",
         "--problem", "Buyers do not return", "--goal", "0.9", "--id", "R-1",
         "--at", "2026-04-01")
    _run(capsys, "pdca", "plan", "R-1", *db, "--cause", "slow=slow follow-up",
         "--key-factor", "slow", "--countermeasure", "cm|ann|2026-05-01|call every buyer",
         "--at", "2026-04-01")
    _run(capsys, "pdca", "do", "R-1", *db, "--done", "cm", "--at", "2026-04-02")
    _run(capsys, "pdca", "check", "R-1", *db, "--period", "2026-Q2", "--at", "2026-07-01")
    acted = _run(capsys, "pdca", "act", "R-1", *db, "--next-id", "R-2", "--at", "2026-07-01")
    assert "carried return_rate into R-2" in acted
    rows = json.loads(_run(capsys, "pdca", "list", *db, "--format", "json"))
    assert [(r["id"], r["phase"], r["parent_id"], r["next_cycle"]) for r in rows] == [
        ("R-1", "closed", None, "R-2"), ("R-2", "plan", "R-1", None)]
    assert "R-1    closed  2026-07-01  -     R-2" in _run(capsys, "pdca", "list", *db)
    assert "chain: R-1 (closed) -> R-2 (plan)" in _run(capsys, "pdca", "show", "R-2", *db)


def test_p1_report_writes_the_charts(database: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    db = ("--db", database)
    _run(capsys, "pdca", "open", *db, "--measure", "complaint_rate", "--period", "2026-Q1",
         "--problem", "Too many complaints", "--goal", "0.15", "--at", "2026-04-01")
    _run(capsys, "pdca", "plan", "PDCA-001", *db, "--pareto", "complaints",
         "--at", "2026-04-01")
    out = tmp_path / "charts"
    written = _run(capsys, "pdca", "report", "PDCA-001", *db, "--out", str(out),
                   "--image", "png")
    assert f"wrote {out / 'PDCA-001-pareto.png'}" in written
    assert (out / "PDCA-001-pareto.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "PDCA-001-run-complaint_rate.png").exists()


def test_p5_measures_with_sample_sizes(database: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(_run(capsys, "measures", "--db", database, "--period", "2026-Q1",
                           "--period", "2026-Q2", "--format", "json"))
    by_key = {(r["period"], r["measure"]): r for r in rows}
    assert len(rows) == 14
    assert by_key["2026-Q1", "complaint_rate"]["value"] == 0.3
    assert by_key["2026-Q1", "complaint_rate"]["n"] == 100
    assert by_key["2026-Q2", "csat"]["interval"][0] < 4.5
    small = json.loads(_run(capsys, "measures", "--db", database, "--period", "2026-Q1",
                            "--minimum-sample", "50", "--format", "json"))
    assert {r["measure"] for r in small if r["small_sample"]} == {"csat", "nps", "reputation",
                                                                 "awareness"}
    table = _run(capsys, "measures", "--db", database, "--as-of", "2026-06-30")
    assert "2026-Q2  complaint rate  10.0%" in table
    assert "2025-Q3" in table
    assert "is not a period" in _run(capsys, "measures", "--db", database, "--period", "soon",
                                     status=1)


def test_p1_p4_demo_runs_one_whole_cycle_once(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "demo.db")
    first = _run(capsys, "demo", "--db", path, "--customers", "60")
    second = _run(capsys, "demo", "--db", path, "--customers", "60")
    section = first[first.index("Improvement (PDCA)"):]
    assert "cycle demo-complaints (Complaints and satisfaction): phase closed" in section
    assert second[second.index("Improvement (PDCA)"):] == section
    listed = json.loads(_run(capsys, "pdca", "list", "--db", path, "--format", "json"))
    assert listed[0]["id"] == "demo-complaints"
    assert len(listed) <= 2
