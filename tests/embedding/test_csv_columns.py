"""Columns rendered in bulk are the bytes the csv module writes (issue 10, grade --format csv)."""

from __future__ import annotations

import csv
import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import csv_columns
from crmcore.csv_columns import QUOTED_CHARS, render_rows
from crmcore.csv_output import SafeWriter

AWKWARD = st.text(alphabet=st.sampled_from(
    [",", '"', "\n", "\r", " ", "'", "a", "Z", "1", ".", "é", "汉", "\u2028", "\t", "=", "+",
     "-", "@", "e"]), max_size=6)
_CELL = st.one_of(AWKWARD, st.sampled_from(["", " x ", "-12.50", "=1+1", "\r=1", "a\nb"]),
                  st.integers(), st.floats(), st.booleans(), st.none())


def _columns(cells: st.SearchStrategy[object]) -> st.SearchStrategy[list[list[object]]]:
    return st.tuples(st.integers(1, 4), st.integers(0, 6)).flatmap(
        lambda shape: st.lists(st.lists(cells, min_size=shape[1], max_size=shape[1]),
                               min_size=shape[0], max_size=shape[0]))


def _by_csv(columns: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(zip(*columns, strict=True))
    return out.getvalue()


@given(_columns(_CELL))
def test_rendered_rows_are_what_the_csv_module_writes(columns: list[list[object]]) -> None:
    assert render_rows(columns) == _by_csv(columns)


@given(_columns(_CELL))
def test_bulk_safe_writer_equals_the_csv_module_path(columns: list[list[object]]) -> None:
    """Bulk (default dialect) and reference (explicit options: the csv module) SafeWriters."""
    bulk, reference = io.StringIO(), io.StringIO()
    SafeWriter(bulk).writecolumns(columns)
    SafeWriter(reference, lineterminator="\n").writecolumns(columns)
    assert bulk.getvalue() == reference.getvalue()


def test_chunks_join_into_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", 3)
    monkeypatch.setattr("crmcore.csv_output.CHUNK_ROWS", 3)
    columns: list[list[object]] = [[f"=c{i}" if i % 4 else f"c,{i}" for i in range(10)],
                                   [i / 3 for i in range(10)], [None] * 10]
    bulk, reference = io.StringIO(), io.StringIO()
    SafeWriter(bulk).writecolumns(columns)
    SafeWriter(reference, lineterminator="\n").writecolumns(columns)
    assert bulk.getvalue() == reference.getvalue()
    assert bulk.getvalue().count("\n") == 10


def test_other_cell_types_go_to_the_csv_module() -> None:
    class Text(str):
        pass

    columns: list[list[object]] = [[Text("a,b"), math.inf], ["x", -math.inf]]
    assert render_rows(columns) is None
    out = io.StringIO()
    SafeWriter(out).writecolumns(columns)
    assert out.getvalue() == _by_csv(columns)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        SafeWriter(io.StringIO()).writecolumns([[1, 2], [1]])


def test_the_quoted_characters_were_asked_of_the_csv_module() -> None:
    assert {",", '"', "\n"} <= set(QUOTED_CHARS) <= {",", '"', "\n", "\r"}
