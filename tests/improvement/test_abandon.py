"""Abandoning a PDCA cycle through the door: from every open phase, never without a reason.

Rules P1-P4 (a cycle is plan, do, check, act) and P7 (a process has a procedure for the
exception case: giving a cycle up is recorded, who, when, from where and why).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import RecordingNotifier

from crmcore import CRM
from crmcore.cli import main
from crmcore.improvement import ABANDONED, Cycle, ImprovementService
from crmcore.transitions import FLOW_TRANSITIONED, FlowState, HistoryEntry, RefusedTransitionError

from .helpers import Q2, Q3, planned_cycle, stocked

LATER = Q3 + timedelta(days=3)


def _to_do(service: ImprovementService, cycle_id: str) -> None:
    service.start_do(cycle_id, actor="ann", at=Q2 + timedelta(days=1))


def _to_check(service: ImprovementService, cycle_id: str) -> None:
    _to_do(service, cycle_id)
    service.track(cycle_id, "cm-1", "done", actor="li", at=Q2 + timedelta(days=20))
    service.track(cycle_id, "cm-2", "done", actor="li", at=Q2 + timedelta(days=20))
    service.start_check(cycle_id, actor="ann", at=Q3)


def _to_act(service: ImprovementService, cycle_id: str) -> None:
    _to_check(service, cycle_id)
    service.check(cycle_id, "2026-Q2", actor="ann", at=Q3)
    service.start_act(cycle_id, actor="ann", at=Q3)


PHASES: dict[str, Callable[[ImprovementService, str], None]] = {
    "plan": lambda service, cycle_id: None, "do": _to_do, "check": _to_check, "act": _to_act}


@pytest.fixture
def service(crm: CRM) -> ImprovementService:
    return ImprovementService(stocked(crm))


@pytest.mark.parametrize("phase", list(PHASES))
def test_p4_p7_a_cycle_is_abandoned_from_every_open_phase_with_who_when_why(
        service: ImprovementService, recorder: RecordingNotifier, phase: str) -> None:
    cycle_id = planned_cycle(service)
    PHASES[phase](service, cycle_id)
    assert service.state(cycle_id).state == phase
    before = service.cycle(cycle_id)
    made = service.abandon(cycle_id, reason="the product line was discontinued", actor="zhang",
                           at=LATER)
    assert service.state(cycle_id).state == ABANDONED
    last = service.history(cycle_id)[-1]
    assert (last.event, last.from_state, last.to_state, last.at, last.actor, last.reason) == (
        "abandon", phase, ABANDONED, LATER, "zhang", "the product line was discontinued")
    assert made.entry == last
    assert service.cycle(cycle_id) == before  # the record stays as it was
    assert service.abandoned_because(cycle_id) == "the product line was discontinued"
    [row] = service.cycles()
    assert (row.phase, row.abandoned_because) == (ABANDONED, "the product line was discontinued")
    assert [e.data["to"] for e in recorder.events if e.type == FLOW_TRANSITIONED][-1] == ABANDONED
    with pytest.raises(RefusedTransitionError, match=r"allowed here: none"):
        service.abandon(cycle_id, reason="again", actor="zhang", at=LATER)
    with pytest.raises(RefusedTransitionError, match="not allowed in this state"):
        service.revise_plan(cycle_id, actor="zhang", at=LATER)


@pytest.mark.parametrize("reason", ["", "   "])
def test_p7_abandon_without_a_reason_is_refused_and_stores_nothing(
        service: ImprovementService, reason: str) -> None:
    cycle_id = planned_cycle(service)
    crm = service.crm
    counts = (crm.count(HistoryEntry), crm.count(FlowState), crm.count(Cycle))
    with pytest.raises(RefusedTransitionError, match=r"validator 'reason_given'.*reason"):
        service.abandon(cycle_id, reason=reason, actor="zhang", at=LATER)
    assert (crm.count(HistoryEntry), crm.count(FlowState), crm.count(Cycle)) == counts
    assert service.state(cycle_id).state == "plan"
    assert service.abandoned_because(cycle_id) is None


def test_p4_a_closed_cycle_cannot_be_abandoned(service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    _to_act(service, cycle_id)
    service.act(cycle_id, actor="ann", at=Q3)
    assert service.state(cycle_id).state == "closed"
    with pytest.raises(RefusedTransitionError, match="in state 'closed'"):
        service.abandon(cycle_id, reason="too late", actor="zhang", at=LATER)
    assert service.abandoned_because(cycle_id) is None


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    assert main(list(argv)) == status
    captured = capsys.readouterr()
    return captured.out if status == 0 else captured.err


def test_p7_pdca_abandon_command_and_show_list_say_why(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        service = ImprovementService(stocked(crm))
        planned_cycle(service)
        _to_do(service, "PDCA-001")
        planned_cycle(service, cycle_id="PDCA-002")
    db = ("--db", database)
    refused = _run(capsys, "pdca", "abandon", "PDCA-001", *db, "--reason", " ", status=1)
    assert "event 'abandon' refused: validator 'reason_given'" in refused
    missing = _run(capsys, "pdca", "abandon", "PDCA-404", *db, "--reason", "x", status=1)
    assert "'PDCA-404' does not exist" in missing
    with CRM.open("sqlite", path=database) as crm:
        assert ImprovementService(crm).state("PDCA-001").state == "do"
        assert crm.count(HistoryEntry) == 7
    done = _run(capsys, "pdca", "abandon", "PDCA-001", *db, "--reason", "merged into PDCA-002",
                "--actor", "zhang", "--at", "2026-07-04")
    assert done.strip() == "PDCA-001: do -> abandoned: merged into PDCA-002"
    shown = _run(capsys, "pdca", "show", "PDCA-001", *db)
    assert "phase abandoned since 2026-07-04" in shown
    assert "  abandoned: merged into PDCA-002" in shown
    assert "5 2026-07-04 abandon do abandoned zhang merged into PDCA-002" in [
        " ".join(line.split()) for line in shown.splitlines()]
    as_json = json.loads(_run(capsys, "pdca", "show", "PDCA-001", *db, "--format", "json"))
    assert (as_json["phase"], as_json["abandoned_because"]) == ("abandoned",
                                                                "merged into PDCA-002")
    rows = json.loads(_run(capsys, "pdca", "list", *db, "--format", "json"))
    assert [(r["id"], r["phase"], r["abandoned_because"]) for r in rows] == [
        ("PDCA-001", "abandoned", "merged into PDCA-002"), ("PDCA-002", "plan", None)]
    table = _run(capsys, "pdca", "list", *db).splitlines()
    assert table[0].endswith("why abandoned")
    assert table[2].startswith("PDCA-001  abandoned")
    assert table[2].endswith("merged into PDCA-002")
    after = _run(capsys, "pdca", "do", "PDCA-001", *db, "--done", "cm-1", status=1)
    assert "in state 'abandoned'" in after
