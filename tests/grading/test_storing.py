"""Storing grades: only changes (with their run and explanation), run records and their
retention, idempotent re-runs, the grades in force, and databases written by crmcore 0.1."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import RecordingNotifier

from crmcore import CRM
from crmcore.config import CRMConfig
from crmcore.errors import ConfigError
from crmcore.grading import (
    GRADE_RESULT,
    GradeResult,
    GradingRunRecord,
    Hysteresis,
    PendingDowngrade,
    decide,
    latest_grades,
    load_scheme,
    run_grading,
    settle,
)
from crmcore.ports import StoredRecord

from .helpers import AS_OF
from .test_service import seed

PARETO = load_scheme("pareto-abc")
TWENTY = {f"C{i:02d}": f"{(i + 1) * 10}.00" for i in range(20)}


def test_only_changes_are_stored_each_naming_its_run(crm: CRM) -> None:
    seed(crm, TWENTY)
    first = run_grading(crm, PARETO, as_of=AS_OF)
    assert first.stored == 20  # first grades
    quiet = run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=1))
    assert (quiet.stored, quiet.changed) == (0, ())
    seed(crm, {"C00": "5000.00"}, days_ago=1, number=1)
    moved = run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=2))
    assert moved.stored == 3 == len(moved.changed)
    assert crm.count(GradeResult) == 23
    assert crm.count(GradingRunRecord) == 3
    history = crm.find(GradeResult, customer_id="C19")
    assert [(r.previous, r.grade) for r in history] == [(None, "A"), ("A", "B")]
    assert history[1].run == moved.run_id
    assert "rank 2 of 20" in history[1].explanation.text()
    runs = {r.id: r for r in crm.find(GradingRunRecord)}
    assert runs[moved.run_id].changed == 3
    assert runs[moved.run_id].counts == {"A": 1, "B": 4, "C": 15}
    assert latest_grades(crm, "pareto-abc")["C00"] == "A"
    assert latest_grades(crm, "pareto-abc", as_of=AS_OF + timedelta(days=1))["C00"] == "C"
    assert latest_grades(crm, "rfm") == {}


def test_rerunning_an_as_of_stores_and_emits_nothing(crm: CRM,
                                                     recorder: RecordingNotifier) -> None:
    seed(crm, TWENTY)
    run_grading(crm, PARETO, as_of=AS_OF)
    seed(crm, {"C00": "5000.00"}, days_ago=5, number=1)
    later = AS_OF + timedelta(days=30)
    first = run_grading(crm, PARETO, as_of=later)
    stored, events = crm.count(GradeResult), len(crm.events())
    again = run_grading(crm, PARETO, as_of=later)
    assert again.repeated
    assert (crm.count(GradeResult), len(crm.events())) == (stored, events)
    assert again.changed == ()
    assert again.stored == 0
    assert again.grades == first.grades
    assert again.previous == first.previous
    assert len([e for e in recorder.events if e.type == "grading.completed"]) == 2


def test_a_run_older_than_the_latest_is_refused(crm: CRM) -> None:
    seed(crm, TWENTY)
    run_grading(crm, PARETO, as_of=AS_OF)
    with pytest.raises(ConfigError, match="before the latest stored run of pareto-abc"):
        run_grading(crm, PARETO, as_of=AS_OF - timedelta(days=1))
    assert crm.count(GradingRunRecord) == 1


def test_retention_removes_old_run_records_never_changes(crm: CRM) -> None:
    seed(crm, TWENTY)
    for day in range(4):
        if day == 2:
            seed(crm, {"C00": "5000.00"}, days_ago=1, number=1)
        run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=day), keep_runs=2)
    kept = sorted(r.as_of for r in crm.find(GradingRunRecord))
    assert kept == [AS_OF + timedelta(days=2), AS_OF + timedelta(days=3)]
    assert crm.count(GradeResult) == 23
    with pytest.raises(ConfigError, match="keep_runs: 0 must be at least 1"):
        run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=9), keep_runs=0)


def test_keep_runs_comes_from_the_configuration() -> None:
    config = CRMConfig(capabilities={"grading": {"keep_runs": 1}})
    with CRM.open("memory") as opened:
        crm = CRM(opened.storage, config=config)
        seed(crm, TWENTY)
        for day in range(3):
            run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=day))
        assert [r.as_of for r in crm.find(GradingRunRecord)] == [AS_OF + timedelta(days=2)]
        bad = CRM(opened.storage, config=CRMConfig(capabilities={"grading": {"keep": 1}}))
        with pytest.raises(ConfigError, match="grading.keep"):
            run_grading(bad, PARETO, as_of=AS_OF + timedelta(days=5))


def test_held_downgrades_are_stored_compactly_and_cleared(crm: CRM) -> None:
    seed(crm, TWENTY)
    policy = Hysteresis(downgrade_runs=3)
    run_grading(crm, PARETO, as_of=AS_OF, hysteresis=policy)
    seed(crm, {"C00": "5000.00"}, days_ago=1, number=1)
    for day, grade in ((1, "A"), (2, "A"), (3, "B")):
        run = run_grading(crm, PARETO, as_of=AS_OF + timedelta(days=day), hysteresis=policy)
        assert run.result("C19").grade == grade
        pending = {p.customer_id: p.streak for p in crm.find(PendingDowngrade)}
        assert pending == ({"C19": day, "C15": day} if day < 3 else {})


def _legacy_record(customer: str, as_of: datetime, grade: str) -> StoredRecord:
    """A result as crmcore 0.1 stored it: one per customer per run, text explanation."""
    identifier = f"g-legacy-{customer}-{as_of:%Y%m%d}"
    body = {"id": identifier, "customer_id": customer, "scheme": "pareto-abc", "version": 1,
            "as_of": as_of.isoformat(), "grade": grade, "proposed": grade, "previous": None,
            "value": 1.0, "explanation": {
                "scheme": "pareto-abc", "version": 1, "decided_by": f"old words for {grade}",
                "metrics": {}, "attributes": {}, "rank": None, "population": None,
                "cutoff": None, "rule": None, "scores": {}, "held": None}}
    return StoredRecord(GRADE_RESULT.kind, identifier, 1, customer, as_of, body)


def test_databases_of_the_previous_release_still_read(crm: CRM,
                                                      recorder: RecordingNotifier) -> None:
    seed(crm, TWENTY)
    old = AS_OF - timedelta(days=60)
    with crm.storage.transaction() as session:
        for day, grade in ((0, "C"), (30, "A")):
            session.insert_many([_legacy_record(c, old + timedelta(days=day), grade)
                                 for c in TWENTY])
    assert set(latest_grades(crm, "pareto-abc").values()) == {"A"}
    assert latest_grades(crm, "pareto-abc", as_of=old)["C05"] == "C"
    legacy = crm.find(GradeResult, customer_id="C05")
    assert legacy[0].explanation.text() == "old words for C"
    run = run_grading(crm, PARETO, as_of=AS_OF)
    assert len(run.changed) == 19  # all were A; only C19 stays A
    assert {e.data["from"] for e in recorder.events if e.type == "grade.changed"} == {"A"}
    assert latest_grades(crm, "pareto-abc")["C00"] == "C"


@given(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=12),
       st.integers(1, 4))
def test_a_stored_streak_decides_as_the_whole_history_would(proposals: list[str],
                                                             runs: int) -> None:
    policy = Hysteresis(downgrade_runs=runs)
    by_history: list[str] = []
    by_streak: list[str] = []
    current_h = current_s = None
    streak = 0
    for index, proposed in enumerate(proposals):
        earlier = list(reversed(proposals[:index]))
        current_h = settle(PARETO, policy, current=current_h, proposed=proposed,
                           earlier=earlier)[0]
        worse = current_s is not None and PARETO.order(proposed) > PARETO.order(current_s)
        streak = streak + 1 if worse else 0
        current_s = decide(PARETO, policy, current=current_s, proposed=proposed,
                           streak=streak)[0]
        if current_s == proposed:
            streak = 0
        by_history.append(current_h)
        by_streak.append(current_s)
    assert by_streak == by_history



def test_value_matrix_with_a_columnar_strategy_grades_the_book_as_objects_would() -> None:
    pytest.importorskip("scipy")
    from crmcore.demo import DEFAULT_AS_OF, generate_book
    from crmcore.grading import grade_book, grade_stored
    from crmcore.model import Transaction

    book = generate_book(80, seed=5)
    scheme = load_scheme("value-matrix", overrides={"rules": {"potential": "clv"}})
    with CRM.open("memory") as crm:
        crm.import_entities(book.all(), source="test")
        stored = grade_stored(crm, scheme, as_of=DEFAULT_AS_OF)
        by_objects = grade_book(scheme, as_of=DEFAULT_AS_OF, customers=book.customers,
                                transactions=[e for e in book.entities
                                              if isinstance(e, Transaction)],
                                plugins=crm.plugins)
    assert dict(zip(stored.ids, stored.grade_list, strict=True)) == dict(
        zip(by_objects.ids, by_objects.grade_list, strict=True))
    assert len(set(stored.grade_list)) > 1


@settings(max_examples=15, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from([f"C{i:02d}" for i in range(8)]),
                                st.sampled_from(["0.00", "10.00", "90.00", "700.00"]),
                                max_size=8), min_size=1, max_size=4),
       st.integers(1, 3))
def test_a_runs_grades_in_force_are_what_storage_reads_back(
        days: list[dict[str, str]], downgrade_runs: int) -> None:
    """G1: :attr:`GradingRun.in_force` (what the daily run's policies follow) equals
    :func:`latest_grades` read back from a real SQLite file after every run, held
    downgrades, a repeated as-of and a graded customer no longer in the book included."""
    with tempfile.TemporaryDirectory() as folder, \
            CRM.open("sqlite", path=str(Path(folder) / "crm.db")) as crm:
        with crm.storage.transaction() as session:
            session.insert_many([StoredRecord(GRADE_RESULT.kind, "gone", 1, "GONE", AS_OF, {
                "id": "gone", "customer_id": "GONE", "scheme": "pareto-abc", "version": 1,
                "as_of": AS_OF.isoformat(), "grade": "B", "previous": None})])
        hysteresis = Hysteresis(downgrade_runs=downgrade_runs)
        for day, amounts in enumerate(days, start=1):
            if amounts:
                seed(crm, amounts, days_ago=1 - day, number=day)
            as_of = AS_OF + timedelta(days=day)
            for _ in range(2):  # the second run of an as-of is a repeat
                run = run_grading(crm, PARETO, as_of=as_of, hysteresis=hysteresis)
                assert run.in_force == latest_grades(crm, "pareto-abc", as_of=as_of)
                assert run.in_force["GONE"] == "B"
