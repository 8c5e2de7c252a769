"""``crmcore problems``: recurring complaints become problem records once (S7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Ticket, TicketKind
from crmcore.cli import main
from crmcore.policies import ProblemRecord

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_s7_problems_command_opens_each_recurring_cluster_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        crm.record_many([Customer(id=f"C{n}", name=f"Customer {n}") for n in range(4)])
        crm.record_many([
            Ticket(id=f"K{n}", customer_id=f"C{n}", opened_at=OPENED + timedelta(days=n),
                   kind=TicketKind.COMPLAINT, category="billing error")
            for n in range(4)
        ])
    as_of = "2026-03-20T00:00:00+00:00"
    assert main(["problems", "--db", database, "--as-of", as_of, "--format", "json"]) == 0
    [problem] = json.loads(capsys.readouterr().out)
    assert problem["key"] == "category:billing error"
    assert sorted(problem["incidents"]) == ["K0", "K1", "K2", "K3"]
    assert main(["problems", "--db", database, "--as-of", as_of, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    with CRM.open("sqlite", path=database) as crm:
        assert [p.id for p in crm.find(ProblemRecord)] == [problem["id"]]
        assert {t.problem_id for t in crm.find(Ticket)} == {problem["id"]}
        assert [e.event.type for e in crm.events()][-1] == "problem.opened"
