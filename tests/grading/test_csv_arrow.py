"""The vectorised CSV reader gives exactly the columns (or the error) of the exact reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.csv_import import CsvLayout, HeaderError, read_transactions
from crmcore.errors import ImportRowError
from crmcore.grading import TransactionColumns, read_transaction_columns
from crmcore.grading._backend import to_list
from crmcore.grading.csv_arrow import (
    HAVE_PYARROW,
    _FastPathError,
    _read_arrow,
    read_transaction_file,
)

pytestmark = pytest.mark.skipif(not HAVE_PYARROW, reason="needs pyarrow")

IDS = st.sampled_from(["C1", "C2", " C1", "C3 ", "客户", "C-9"])
DATES = st.sampled_from(["2026-01-02", "2026-01-02T10:00:00+08:00", " 2025-12-31",
                         "2026-02-28 23:59"])
AMOUNTS = st.one_of(
    st.integers(0, 10**9).map(str),
    st.tuples(st.integers(0, 10**12), st.integers(0, 99)).map(lambda p: f"{p[0]}.{p[1]:02d}"),
    st.sampled_from(["1,234.50", "0.5", " 12.3 ", "3.14159", "007.10", "1e3", "-5", "",
                     "12.", "abc", "9999999999999.99"]))
COSTS = st.one_of(st.just(""), AMOUNTS)


def _plain(columns: TransactionColumns) -> tuple[object, ...]:
    return (columns.ids, to_list(columns.customer), to_list(columns.at_us),
            to_list(columns.amount_cents), to_list(columns.cost_cents))


def _exact(text: str, layout: CsvLayout) -> tuple[object, ...] | str:
    try:
        return _plain(read_transaction_columns(text.splitlines(keepends=True), layout,
                                               fast=False))
    except ImportRowError as error:
        return str(error)


def _fast(path: Path, layout: CsvLayout) -> tuple[object, ...] | str:
    try:
        return _plain(read_transaction_file(path, layout))
    except ImportRowError as error:
        return str(error)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(IDS, DATES, AMOUNTS, COSTS), max_size=25), st.booleans())
def test_fast_reader_equals_the_exact_one(tmp_path: Path,
                                          rows: list[tuple[str, str, str, str]],
                                          with_cost: bool) -> None:
    header = "customer_id,date,amount" + (",cost" if with_cost else "")
    lines = [header] + [",".join(f'"{cell}"' if "," in cell else cell
                                 for cell in (row if with_cost else row[:3])) for row in rows]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "sales.csv"
    path.write_text(text, encoding="utf-8")
    assert _fast(path, CsvLayout()) == _exact(text, CsvLayout())


def test_plain_files_take_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("customer_id,date,amount,cost\nC1,2026-01-02,10.5,\nC2,2026-01-03,7,2.25\n")
    columns = _read_arrow(path, CsvLayout())
    assert _plain(columns) == (("C1", "C2"), [0, 1], to_list(columns.at_us), [1050, 700],
                               [-1, 225])


@pytest.mark.parametrize(("text", "message"), [
    ("customer_id,date,amount\nC1,2026-01-02,5\nC2,2026-13-01,5\n",
     "line 3, column 'date': '2026-13-01'"),
    ("customer_id,date,amount\nC1,2026-01-02,5\n\nC2,2026-01-02,-5\n",
     "line 4, column 'amount': '-5' must not be negative"),
    ("customer_id,date,amount\nC1,2026-01-02,5,9\n", "line 2"),
    ("customer_id,day,amount\nC1,2026-01-02,5\n", "column 'date'"),
])
def test_bad_files_fall_back_to_the_exact_error(tmp_path: Path, text: str,
                                                message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises((_FastPathError, Exception)):
        _read_arrow(path, CsvLayout())
    with pytest.raises(ImportRowError, match=message):
        read_transaction_file(path, CsvLayout())


def test_decimal_comma_and_semicolons(tmp_path: Path) -> None:
    layout = CsvLayout(delimiter=";", decimal_comma=True)
    text = "customer_id;date;amount\nC1;2026-01-02;10,5\nC2;2026-01-02;1.234,50\n"
    path = tmp_path / "sales.csv"
    path.write_text(text)
    assert _fast(path, layout) == _exact(text, layout)
    assert _plain(read_transaction_file(path, layout))[3] == [1050, 123450]


@pytest.mark.parametrize(("text", "layout", "message", "field"), [
    ("customer_id,date,amount,amount\nC1,2026-01-02,5,6\n", CsvLayout(),
     r"line 1: the header names two columns 'amount' \(columns 3 and 4\); rename one", None),
    ("customer_id,date,amount\nC1,2026-01-02,5\n", CsvLayout(id_col="ordr_no"),
     r"line 1: the column 'ordr_no' is missing from the header \(columns: customer_id, "
     r"date, amount\)", "id_col"),
    ("client,date,amount\nC1,2026-01-02,5\n", CsvLayout(),
     r"the column 'customer_id' is missing", "customer_col"),
])
@pytest.mark.parametrize("fast", [True, False])
def test_grading_refuses_a_header_as_import_does(tmp_path: Path, text: str, layout: CsvLayout,
                                                 message: str, field: str | None,
                                                 fast: bool) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(text)
    with pytest.raises(HeaderError, match=message) as raised:
        read_transaction_file(path, layout, fast=fast)
    assert raised.value.field == field
    assert "None" not in str(raised.value)
    with pytest.raises(HeaderError, match=message):
        list(read_transactions(path.open(newline=""), layout))
