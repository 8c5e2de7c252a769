"""``crmcore grade``: output formats, renamed columns, storing, exit status 1 on bad input."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.cli.common import print_table
from crmcore.cli.grading import print_columns
from crmcore.grading import GradeResult, GradingRunRecord, latest_grades, load_scheme

ROWS = [("C1", "2026-06-01", "100.00"), ("C1", "2026-06-01", "50.00"),
        ("C2", "2026-05-01", "1000.00"), ("C3", "2026-04-01", "10.50"),
        ("C4", "2026-03-01", "1.00")] + [(f"X{i}", "2026-02-01", f"{i + 2}.00")
                                        for i in range(16)]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("client;day;total\n" + "".join(
        f"{c};{d[8:10]}/{d[5:7]}/{d[:4]};{a}\n" for c, d, a in ROWS))
    return path


LAYOUT = ["--customer-col", "client", "--date-col", "day", "--amount-col", "total",
          "--date-format", "%d/%m/%Y", "--delimiter", ";", "--as-of", "2026-06-30"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_grade_json_has_customer_grade_and_explanation(
        export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "grade", str(export), "--scheme", "pareto-abc",
                         "--format", "json", *LAYOUT)
    assert status == 0
    rows = {row["customer_id"]: row for row in json.loads(out)}
    assert len(rows) == 20
    assert rows["C2"]["grade"] == "A"
    assert rows["C1"]["grade"] == "B"
    explanation = rows["C2"]["explanation"]
    assert explanation["scheme"] == "pareto-abc"
    assert explanation["version"] == 1
    assert explanation["rank"] == 1
    assert explanation["metrics"] == {"revenue": 1000.0}
    assert "rank 1 of 20" in explanation["decided_by"]


def test_grade_csv_and_table_and_one_customer(export: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "grade", str(export), "--scheme", "rfm", "--format", "csv",
                         "--customer", "C1", *LAYOUT)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["customer_id"] for row in rows] == ["C1"]
    assert rows[0]["frequency"] == "1.0"  # two purchases on one day are one purchase
    assert "R5" in rows[0]["decided_by"]
    status, out, _ = run(capsys, "grade", str(export), "--scheme", "pyramid", *LAYOUT)
    assert status == 0
    assert "decided by" in out
    assert any(line.split()[:2] == ["C2", "major"] for line in out.splitlines())


@pytest.mark.parametrize(("extra", "message"), [
    (["--scheme", "nope"], "scheme: 'nope' is neither a built-in scheme"),
    (["--scheme", "pyramid", "--set", "rules.metric=transactions"],
     "rules.metric: 'transactions' is not allowed"),
    (["--scheme", "pareto-abc", "--as-of", "yesterday"], "--as-of: 'yesterday'"),
    (["--scheme", "pareto-abc", "--customer", "ZZ"], "--customer: 'ZZ' was not graded"),
    (["--scheme", "pareto-abc", "--downgrade-runs", "2"], "hysteresis needs the stored"),
    (["--scheme", "prospect-abcd"], "grades stored opportunities"),
])
def test_bad_input_exits_2_with_a_message_naming_it(
        export: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    status, _, err = run(capsys, "grade", str(export), *LAYOUT, *extra)
    assert status == 1
    assert message in err


def test_bad_cell_exits_2_and_stores_nothing(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\nC1,2026-01-01,5\nC2,2026-13-01,5\n")
    db = tmp_path / "crm.db"
    status, _, err = run(capsys, "grade", str(path), "--scheme", "pareto-abc", "--db", str(db),
                         "--as-of", "2026-06-30")
    assert status == 1
    assert "line 3, column 'date': '2026-13-01'" in err
    with CRM.open("sqlite", path=str(db)) as crm:
        assert crm.count(GradeResult) == 0


def test_bad_scheme_file_exits_2(tmp_path: Path, export: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    scheme = tmp_path / "mine.toml"
    scheme.write_text('name = "mine"\nversion = 1\nkind = "pareto-abc"\n'
                      '[rules]\nshares = [0.05, "lots"]\n')
    status, _, err = run(capsys, "grade", str(export), "--scheme", str(scheme), *LAYOUT)
    assert status == 1
    assert "rules.shares[1]: 'lots' is not a share" in err
    assert "mine.toml" in err


def test_grade_with_db_stores_results_and_reports_previous(
        export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "crm.db")
    assert main(["grade", str(export), "--scheme", "pareto-abc", "--db", db, *LAYOUT]) == 0
    capsys.readouterr()
    later = [*LAYOUT[:-1], "2027-06-30"]
    status, out, _ = run(capsys, "grade", str(export), "--scheme", "pareto-abc", "--db", db,
                         "--format", "json", *later)
    assert status == 0
    rows = {row["customer_id"]: row for row in json.loads(out)}
    assert rows["C2"]["previous"] == "A"
    with CRM.open("sqlite", path=db) as crm:
        changes = [r for r in crm.find(GradeResult) if r.previous is not None]
        assert crm.count(GradeResult) == 20 + len(changes)  # first grades, then changes only
        assert {r.customer_id for r in changes} == {
            customer for customer, row in rows.items() if row["previous"] != row["grade"]}
        assert [e.event.type for e in crm.events()].count("grading.completed") == 2


def _grades(out: str) -> dict[str, str]:
    return {row["customer_id"]: row["grade"] for row in csv.DictReader(io.StringIO(out))}


@pytest.mark.parametrize("scheme", ["pareto-abc", "pyramid", "rfm", "pareto-abc-value-share",
                                    "value-matrix"])
def test_grading_the_stored_book_equals_grading_its_csv(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], scheme: str) -> None:
    rng = random.Random(7)
    path = tmp_path / "sales.csv"
    rows = [f"K{rng.randrange(60):03d},2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},"
            f"{rng.choice(['5', '10.5', '99.99', str(rng.randrange(1, 900))])}"
            for _ in range(400)]
    path.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n")
    db = str(tmp_path / "crm.db")
    assert main(["import", "transactions", str(path), "--db", db, "--create-customers"]) == 0
    capsys.readouterr()
    as_of = ["--as-of", "2026-09-30", "--format", "csv", "--scheme", scheme]
    status, from_csv, _ = run(capsys, "grade", str(path), *as_of)
    assert status == 0
    status, stored, _ = run(capsys, "grade", "--db", db, *as_of)
    assert status == 0
    assert _grades(stored) == _grades(from_csv)
    assert len(_grades(stored)) == len({row.split(",")[0] for row in rows})
    with CRM.open("sqlite", path=db) as crm:
        assert latest_grades(crm, load_scheme(scheme).name) == _grades(from_csv)


def test_grade_without_file_needs_storage(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grade", "--scheme", "pareto-abc")
    assert status == 1
    assert "give a file to grade, or --db/--config" in err


def test_keep_runs_bounds_the_stored_run_records(export: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "crm.db")
    for day in ("2026-06-30", "2026-07-31", "2026-08-31"):
        layout = [*LAYOUT[:-1], day]
        assert main(["grade", str(export), "--scheme", "pareto-abc", "--db", db,
                     "--keep-runs", "2", *layout]) == 0
    capsys.readouterr()
    with CRM.open("sqlite", path=db) as crm:
        assert sorted(r.as_of.month for r in crm.find(GradingRunRecord)) == [7, 8]
    status, _, err = run(capsys, "grade", str(export), "--scheme", "pareto-abc",
                         "--keep-runs", "0", "--db", db, *LAYOUT)
    assert status == 1
    assert "--keep-runs: 0 must be at least 1" in err


@pytest.mark.parametrize("rows", [[], [("a", "b ", "")], [("long id", "B", "x"), ("c", "", "y z")]])
def test_print_columns_lays_out_as_print_table(rows: list[tuple[str, str, str]],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    headers = ("customer", "grade", "decided by")
    print_table(rows, headers)
    expected = capsys.readouterr().out
    print_columns(headers, [list(c) for c in zip(*rows, strict=True)] if rows else [[], [], []])
    assert capsys.readouterr().out == expected
