"""``crmcore pdca knowledge``: the customer-knowledge loop from the shell (P6).

Plan, focus, elicit, edit, share, apply, each turn informing the next: every step goes
through the transition door of the ``customer-knowledge`` flow with the field that records
what it produced; a refused step stores nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.improvement import knowledge_flow, loop_history
from crmcore.transitions import FlowState, HistoryEntry


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    CRM.open("sqlite", path=path).close()
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    assert main(list(argv)) == status
    captured = capsys.readouterr()
    return captured.out if status == 0 else captured.err


def _counts(database: str) -> tuple[int, int]:
    with CRM.open("sqlite", path=database) as crm:
        return crm.count(HistoryEntry), crm.count(FlowState)


def test_p6_a_knowledge_loop_turns_from_the_command_line(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", database, "--actor", "ann")
    assert _run(capsys, "pdca", "knowledge", "start", "K-1", *db, "--at", "2026-01-05",
                "--reason", "key accounts order less").strip() == "K-1: started in plan"
    steps = [("focus", ["topic=why key accounts order less"]),
             ("elicit", ["sources=visits", "sources=complaint records"]),
             ("edit", ["summary=lead times matter more than price"]),
             ("share", ["audience=sales team"]),
             ("apply", ["applied_to=quarterly plans"]),
             ("next_turn", ["learned=ask about lead times on every visit"])]
    for day, (event, fields) in enumerate(steps, start=6):
        options = [option for field in fields for option in ("--field", field)]
        _run(capsys, "pdca", "knowledge", "step", "K-1", event, *db, *options,
             "--at", f"2026-01-{day:02d}")
    with CRM.open("sqlite", path=database) as crm:
        history = loop_history(crm, knowledge_flow(), "K-1")
    assert [e.to_state for e in history] == ["plan", "focus", "elicit", "edit", "share",
                                             "apply", "plan"]
    assert history[2].fields == {"sources": ["visits", "complaint records"]}
    assert {e.actor for e in history} == {"ann"}
    shown = json.loads(_run(capsys, "pdca", "knowledge", "show", "K-1", "--db", database,
                            "--format", "json"))
    assert shown["step"] == "plan"
    assert shown["history"][-1]["fields"] == {"learned": "ask about lead times on every visit"}
    table = _run(capsys, "pdca", "knowledge", "show", "K-1", "--db", database)
    assert table.startswith("loop K-1: plan since 2026-01-11")
    assert "sources=visits; complaint records" in table
    _run(capsys, "pdca", "knowledge", "start", "K-2", *db, "--at", "2026-02-01")
    listed = json.loads(_run(capsys, "pdca", "knowledge", "list", "--db", database,
                             "--format", "json"))
    assert [(r["loop"], r["step"]) for r in listed] == [("K-1", "plan"), ("K-2", "plan")]
    assert "K-1   plan  2026-01-11  learned=ask about lead times on every visit" in _run(
        capsys, "pdca", "knowledge", "list", "--db", database)


@pytest.mark.parametrize(("argv", "message"), [
    (("step", "K-1", "focus"), "event 'focus' refused: topic required on entry to 'focus'"),
    (("step", "K-1", "share", "--field", "audience=all"),
     "event 'share' refused: not allowed in this state (allowed here: focus)"),
    (("step", "K-1", "focus", "--field", "topic"), "--field: 'topic' is not KEY=TEXT"),
    (("step", "K-9", "focus", "--field", "topic=x"), "K-9 before the start: event 'focus' "
                                                      "refused: the subject has not started"),
    (("start", "K-1"), "event 'start' refused: the subject is already in the flow"),
    (("show", "K-9"), "LOOP: 'K-9' is not a stored customer-knowledge loop"),
])
def test_p6_refused_steps_say_why_and_store_nothing(
        database: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
        message: str) -> None:
    _run(capsys, "pdca", "knowledge", "start", "K-1", "--db", database, "--at", "2026-01-05")
    before = _counts(database)
    assert message in _run(capsys, "pdca", "knowledge", *argv, "--db", database, status=1)
    assert _counts(database) == before


def test_p6_step_help_lists_each_event_and_what_it_needs(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["pdca", "knowledge", "step", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "events (from -> to: the options each needs)" in text
    assert "focus (plan -> focus: --field topic=...)" in text
    assert "close (apply -> closed: --reason)" in text
