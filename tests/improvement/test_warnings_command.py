"""``crmcore pdca warnings``: early-warning rules run from the shell (P7).

The rules come from ``--rules`` files, ``--targets`` cycles and the configuration's
``[[improvement.warnings]]``; each new warning is stored and emitted once as an
``improvement.warning`` event, as :meth:`ImprovementService.raise_warnings` does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM
from crmcore.cli import main
from crmcore.improvement import (
    WARNING_EVENT,
    Comparison,
    EarlyWarning,
    ImprovementService,
    WarningRule,
    warning_periods,
)

from .helpers import Q2, planned_cycle, stocked

RULES = '''
[[warnings]]
name = "complaints-high"
measure = "complaint_rate"
when = "above"
threshold = 0.05
consecutive = 2
message = "complaint rate above 5% two quarters in a row"

[[warnings]]
name = "csat-low"
measure = "csat"
when = "below"
threshold = 3.0
'''


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        planned_cycle(ImprovementService(stocked(crm)))
    return path


@pytest.fixture
def rules(tmp_path: Path) -> str:
    path = tmp_path / "warnings.toml"
    path.write_text(RULES, encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    assert main(list(argv)) == status
    captured = capsys.readouterr()
    return captured.out if status == 0 else captured.err


def _warning_events(database: str) -> list[dict[str, object]]:
    with CRM.open("sqlite", path=database) as crm:
        return [e.event.data for e in crm.events() if e.event.type == WARNING_EVENT]


def test_p7_warnings_command_stores_and_emits_each_warning_once(
        database: str, rules: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("pdca", "warnings", "--db", database, "--rules", rules, "--as-of", "2026-07-15")
    first = json.loads(_run(capsys, *argv, "--format", "json"))
    assert [(w["id"], w["new"], w["periods"], w["values"], w["sample_sizes"]) for w in first] == [
        ("complaints-high@2026-Q2", True, ["2026-Q1", "2026-Q2"], [0.3, 0.1], [100, 100])]
    assert first[0]["text"] == "complaint rate above 5% two quarters in a row"
    assert first[0]["raised_at"] == "2026-07-15T00:00:00+00:00"
    assert [e["warning"] for e in _warning_events(database)] == ["complaints-high@2026-Q2"]
    again = _run(capsys, *argv).splitlines()
    assert again[0].split() == ["warning", "new", "measure", "values", "why"]
    assert again[2].split()[:3] == ["complaints-high@2026-Q2", "no", "complaint_rate"]
    assert "2026-Q1 0.3 (n=100), 2026-Q2 0.1 (n=100)" in again[2]
    assert again[2].endswith("complaint rate above 5% two quarters in a row")
    assert len(_warning_events(database)) == 1  # not emitted again
    with CRM.open("sqlite", path=database) as crm:
        assert [w.raised_at for w in crm.find(EarlyWarning)] == [
            datetime(2026, 7, 15, tzinfo=UTC)]


def test_p7_a_cycles_targets_become_rules(database: str, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    db = ("--db", database)
    none = _run(capsys, "pdca", "warnings", *db, "--targets", "PDCA-001",
                "--as-of", "2026-07-01")
    assert none.strip() == "no warnings: 1 rules over 2026-Q1, 2026-Q2"
    raised = json.loads(_run(capsys, "pdca", "warnings", *db, "--targets", "PDCA-001",
                             "--consecutive", "1", "--period", "2026-Q1", "--format", "json",
                             "--as-of", "2026-04-01"))
    assert [(w["id"], w["new"]) for w in raised] == [
        ("PDCA-001:complaints:complaint_rate@2026-Q1", True)]
    assert "outside the target of cycle PDCA-001" in raised[0]["text"]
    assert _run(capsys, "pdca", "warnings", *db, "--targets", "PDCA-404",
                status=1).strip() == "crmcore: error: pdca_cycle 'PDCA-404' does not exist"


def test_p7_rules_from_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        stocked(crm)
    config = tmp_path / "crmcore.toml"
    config.write_text('[storage]\nbackend = "sqlite"\npath = "crm.db"\n\n'
                      + RULES.replace("[[warnings]]", "[[improvement.warnings]]"),
                      encoding="utf-8")
    raised = json.loads(_run(capsys, "pdca", "warnings", "--config", str(config),
                             "--as-of", "2026-07-02", "--format", "json"))
    assert [w["id"] for w in raised] == ["complaints-high@2026-Q2"]
    config.write_text('[storage]\nbackend = "sqlite"\npath = "crm.db"\n[improvement]\n'
                      'warning = []\n', encoding="utf-8")
    error = _run(capsys, "pdca", "warnings", "--config", str(config), status=1)
    assert "improvement.warning: is not a known option (known: warnings)" in error


@pytest.mark.parametrize(("text", "message"), [
    (None, "no warning rules: give --rules FILE or --targets CYCLE"),
    ('[[warnings]]\nname = "x"\nmeasure = "mood"\nwhen = "above"\nthreshold = 1\n',
     "is not a measure"),
    ('[[warnings]]\nname = "x"\nmeasure = "nps"\nwhen = "sideways"\nthreshold = 1\n',
     r"warnings[0].when"),
    ("[[warnings]\n", "is not valid TOML"),
])
def test_p7_bad_rules_are_named_and_nothing_is_stored(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None,
        message: str) -> None:
    argv = ["pdca", "warnings", "--db", database, "--as-of", "2026-07-15"]
    if text is not None:
        path = tmp_path / "bad.toml"
        path.write_text(text, encoding="utf-8")
        argv += ["--rules", str(path)]
    assert message in _run(capsys, *argv, status=1)
    assert _warning_events(database) == []


def test_p7_a_missing_rules_file_and_a_rule_given_twice(
        database: str, rules: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", database)
    assert "--rules: cannot read 'nowhere.toml'" in _run(
        capsys, "pdca", "warnings", *db, "--rules", "nowhere.toml", status=1)
    assert "complaints-high, csat-low declared more than once" in _run(
        capsys, "pdca", "warnings", *db, "--rules", rules, "--rules", rules, status=1)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)),
       st.integers(min_value=1, max_value=12), st.sampled_from(["month", "quarter", "year"]))
def test_p7_warning_periods_are_the_latest_complete_ones(as_of: datetime, consecutive: int,
                                                         unit: str) -> None:
    rule = WarningRule("r", "nps", Comparison.ABOVE, 0.0, consecutive)
    spans = warning_periods([rule, WarningRule("s", "nps", Comparison.BELOW, 0.0)], as_of,
                            unit=unit)
    assert len(spans) == consecutive
    assert spans[-1].end <= as_of < spans[-1].end + timedelta(days=366)
    assert all(a.end == b.start for a, b in pairwise(spans))
    following = warning_periods([WarningRule("t", "nps", Comparison.ABOVE, 0.0)],
                                spans[-1].end + timedelta(microseconds=1), unit=unit)
    assert following == spans[-1:]  # as_of was in the period right after the last one


def test_p7_review_flags_what_was_raised_before() -> None:
    crm = CRM.open("memory")
    service = ImprovementService(stocked(crm))
    rule = WarningRule("q", "complaint_rate", Comparison.ABOVE, 0.05)
    [(first, new)] = service.review_warnings([rule], ["2026-Q1"], at=Q2)
    assert new
    [(again, new)] = service.review_warnings([rule], ["2026-Q1"], at=Q2 + timedelta(days=9))
    assert (again, new) == (first, False)
    assert service.raise_warnings([rule], ["2026-Q1"]) == []
