"""Grading runs through a CRM: stored grade changes, run records, grade.changed events,
hysteresis, all in one transaction — on memory and SQLite storage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import RecordingNotifier

from crmcore import CRM, Customer, Transaction
from crmcore.errors import ConfigError
from crmcore.grading import (
    GRADE_CHANGED,
    GRADING_COMPLETED,
    GradeResult,
    GradingRunRecord,
    Hysteresis,
    load_scheme,
    run_grading,
    settle,
)
from crmcore.serialization import structure, unstructure

from .helpers import AS_OF, buy


def seed(crm: CRM, amounts: dict[str, str], *, days_ago: float = 10, number: int = 0) -> None:
    customers = [Customer(id=c, name=c) for c in amounts if crm.get(Customer, c) is None]
    crm.record_many([*customers, *(buy(c, days_ago, a, number=number)
                                   for c, a in amounts.items())])


def test_g1_run_stores_one_result_per_customer(crm: CRM) -> None:
    seed(crm, {f"C{i:02d}": f"{(i + 1) * 10}.00" for i in range(20)})
    crm.record(Customer(id="P1", name="prospect without purchases"))
    run = run_grading(crm, load_scheme("pareto-abc"), as_of=AS_OF)
    assert len(run.results) == 21 == crm.count(GradeResult)
    assert run.counts() == {"A": 1, "B": 4, "C": 16}
    stored = crm.find(GradeResult, customer_id="C19")
    assert len(stored) == 1
    assert stored[0].grade == "A"
    assert stored[0].explanation.rank == 1
    assert stored[0].explanation.scheme == "pareto-abc"
    assert structure(unstructure(stored[0]), GradeResult) == stored[0]
    assert crm.find(GradeResult, customer_id="P1")[0].grade == "C"


def test_g1_grade_changes_are_events_that_notifiers_receive(
        crm: CRM, recorder: RecordingNotifier) -> None:
    seed(crm, {f"C{i:02d}": f"{(i + 1) * 10}.00" for i in range(20)})
    first = run_grading(crm, load_scheme("pareto-abc"), as_of=AS_OF)
    assert first.changed == ()  # a first grade is not a change
    seed(crm, {"C00": "5000.00"}, days_ago=5, number=1)
    later = AS_OF + timedelta(days=30)
    second = run_grading(crm, load_scheme("pareto-abc"), as_of=later)
    changed = {r.customer_id: (r.previous, r.grade) for r in second.changed}
    # C00 jumps to A and pushes C19 into B and C15 out of B (B holds ranks 2-5)
    assert changed == {"C00": ("C", "A"), "C19": ("A", "B"), "C15": ("B", "C")}
    events = [e for e in recorder.events if e.type == GRADE_CHANGED]
    assert {(e.customer_id, e.data["from"], e.data["to"], e.data["direction"])
            for e in events} == {("C00", "C", "A", "up"), ("C19", "A", "B", "down"),
                                 ("C15", "B", "C", "down")}
    assert all("rank" in e.data["explanation"] for e in events)
    completed = [e for e in recorder.events if e.type == GRADING_COMPLETED]
    assert [e.data["changed"] for e in completed] == [0, 3]


def test_rerun_for_the_same_date_stores_nothing_new(crm: CRM) -> None:
    seed(crm, {"C1": "10.00", "C2": "20.00"})
    run_grading(crm, load_scheme("pareto-abc"), as_of=AS_OF)
    again = run_grading(crm, load_scheme("pareto-abc"), as_of=AS_OF)
    assert crm.count(GradeResult) == 2
    assert again.changed == ()


def test_hysteresis_needs_consecutive_runs_before_a_downgrade(crm: CRM) -> None:
    seed(crm, {f"C{i:02d}": f"{(i + 1) * 10}.00" for i in range(20)})
    scheme = load_scheme("pareto-abc")
    policy = Hysteresis(downgrade_runs=2)
    run_grading(crm, scheme, as_of=AS_OF, hysteresis=policy)
    seed(crm, {"C00": "5000.00"}, days_ago=5, number=1)
    second = run_grading(crm, scheme, as_of=AS_OF + timedelta(days=1), hysteresis=policy)
    held = second.result("C19")
    assert (held.grade, held.proposed) == ("A", "B")
    assert held.explanation.held is not None
    assert "1 of the 2" in held.explanation.held
    assert second.result("C00").grade == "A"  # upgrades at once
    third = run_grading(crm, scheme, as_of=AS_OF + timedelta(days=2), hysteresis=policy)
    assert third.result("C19").grade == "B"
    assert sorted(r.customer_id for r in third.changed) == ["C15", "C19"]


def test_hysteresis_margin_keeps_a_grade_near_the_cutoff() -> None:
    scheme = load_scheme("pareto-abc")
    policy = Hysteresis(margin=0.1)
    cutoffs = (100.0, 50.0, 1.0)
    assert settle(scheme, policy, current="A", proposed="B", value=95.0,
                  cutoffs=cutoffs)[0] == "A"
    assert settle(scheme, policy, current="A", proposed="B", value=85.0,
                  cutoffs=cutoffs)[0] == "B"
    assert settle(scheme, Hysteresis(), current="A", proposed="B", value=99.0,
                  cutoffs=cutoffs)[0] == "B"
    with pytest.raises(ConfigError, match="margin"):
        Hysteresis(margin=1.5)


def test_margin_needs_a_rank_based_scheme(crm: CRM) -> None:
    seed(crm, {"C1": "10.00"})
    with pytest.raises(ConfigError, match="margin: hysteresis by margin needs a rank-based"):
        run_grading(crm, load_scheme("rfm"), as_of=AS_OF, hysteresis=Hysteresis(margin=0.1))
    assert crm.count(GradeResult) == 0


def test_a_failing_run_stores_nothing(crm: CRM, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(crm, {"C1": "10.00", "C2": "20.00"})
    import crmcore.grading.service as service

    calls = {"n": 0}
    real = service._first_grade

    def build_then_fail(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(service, "_first_grade", build_then_fail)
    with pytest.raises(RuntimeError):
        run_grading(crm, load_scheme("pareto-abc"), as_of=AS_OF)
    assert crm.count(GradeResult) == 0
    assert crm.count(GradingRunRecord) == 0
    assert not [e for e in crm.events() if e.event.type.startswith("grad")]


def test_g3_g4_runs_through_the_crm(crm: CRM) -> None:
    seed(crm, {"C1": "100.00", "C2": "5.00"})
    crm.record_many([buy("C1", 200, "100.00", number=7)])
    matrix = run_grading(crm, load_scheme("value-matrix"), as_of=AS_OF)
    assert {r.customer_id: r.grade for r in matrix.results}["C1"] in ("A", "B")
    prospects = run_grading(crm, load_scheme("prospect-abcd"), as_of=AS_OF)
    assert len(prospects.results) == 0


def test_run_uses_the_stored_customers_attributes(crm: CRM) -> None:
    crm.record_many([
        Customer(id="K1", name="k", attributes={"annual_turnover": 80_000_000,
                                                "training_spend": 200_000,
                                                "reputation": "high"}),
        Customer(id="K2", name="k2"),
        Transaction(id="t1", customer_id="K2", occurred_at=AS_OF - timedelta(days=1),
                    amount=buy("K2", 1, "1.00").amount),
    ])
    run = run_grading(crm, load_scheme("thresholds"), as_of=AS_OF)
    assert {r.customer_id: r.grade for r in run.results} == {"K1": "A", "K2": "C"}
