"""The fast transaction reader against a plain reference: same records, same ids, same errors.

``transaction_batches`` parses with caches and numbers repeats in bulk; the
reference here reads row by row with the public helpers and builds every
record through ``to_record(Transaction(...))``. Ids are pinned too: users
re-import files, so a changed id would store the same purchase twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore import Transaction
from crmcore.csv_import import (
    CsvLayout,
    content_id,
    parse_timestamp,
    read_transactions,
    transaction_batches,
    transaction_key,
)
from crmcore.errors import ImportRowError
from crmcore.ports import StoredRecord
from crmcore.unit_of_work import to_record


def _reference(text: str, layout: CsvLayout) -> list[tuple[int, StoredRecord]]:
    """Row by row: parse each cell, count each identity with a Counter, build the entity."""
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
    names = [name.strip() for name in next(reader)]
    seen: Counter[tuple[str, ...]] = Counter()
    located = []
    for row in reader:
        if not row:
            continue
        cells = dict(zip(names, (cell.strip() for cell in row), strict=False))
        occurred_at = parse_timestamp(cells[layout.date_col], layout)
        amount = layout.amount(cells[layout.amount_col])
        quantity = int(cells.get(layout.quantity_col) or 1)
        cost_text = cells.get(layout.cost_col)
        cost = layout.amount(cost_text) if cost_text else None
        customer_id = cells[layout.customer_col]
        transaction_id = cells.get(layout.id_col, "")
        if not transaction_id:
            key = transaction_key(customer_id, occurred_at, amount, quantity, cost)
            seen[key] += 1
            transaction_id = content_id("t-", *key, str(seen[key]))
        located.append((reader.line_num, to_record(Transaction(
            id=transaction_id, customer_id=customer_id, occurred_at=occurred_at,
            amount=amount, quantity=quantity, cost=cost))))
    return located


def _fast(text: str, layout: CsvLayout, batch_size: int) -> list[tuple[int, StoredRecord]]:
    return [located for batch in transaction_batches(io.StringIO(text), layout,
                                                     batch_size=batch_size)
            for located in zip(batch.lines, batch.records, strict=True)]


_PLAIN = CsvLayout()
_COMMA = CsvLayout(delimiter=";", decimal_comma=True, time_zone="Asia/Shanghai")
_SLASHED = CsvLayout(date_format="%Y/%m/%d %H:%M", time_zone="America/New_York")
_FORMS = {
    _PLAIN: (("2026-03-01", "2026-03-01T00:00:00+00:00", "2026-03-01T08:00:00+08:00",
              "2026-03-02", " 2026-03-02 "),
             ("1200", "1200.0", "1200.00", '"1,200.50"', "1200.5", "0.125", "0", "0.00",
              "99.9", "007", " 5 ")),
    _COMMA: (("2026-03-01", "2026-03-01T09:00:00+08:00", "2026-03-01T01:00:00"),
             ("1200", "1200,0", "1.200,50", "1200,5", "0,125", "0")),
    _SLASHED: (("2026/3/1 0:00", "2026/03/01 00:00", "2026/11/1 1:30", "2026/3/8 2:30"),
               ("1200", "1200.00", "99.9", "99.90")),
}


@st.composite
def _files(draw: st.DrawFn) -> tuple[CsvLayout, str, int]:
    layout = draw(st.sampled_from(list(_FORMS)))
    dates, amounts = _FORMS[layout]
    with_id, bare = draw(st.booleans()), draw(st.booleans())
    columns = ["customer_id", "date", "amount", "quantity", "cost", *(["id"] if with_id else [])]
    if bare:  # no optional column: the rows are read column by column
        with_id, columns = False, ["customer_id", "date", "amount", "note"]
    rows = draw(st.lists(st.tuples(
        st.sampled_from(["C1", "C2", "01234", " C3 "]), st.sampled_from(dates),
        st.sampled_from(amounts), st.sampled_from(["", "1", "2", "0", "01"]),
        st.sampled_from(["", *amounts[:3]]), st.sampled_from(["", "", "T1", "T2"])),
        max_size=40))
    sep = layout.delimiter
    lines = [sep.join(columns)]
    for customer, date, amount, quantity, cost, given_id in rows:
        cells = [customer, date, amount, quantity, cost, *([given_id] if with_id else [])]
        if bare:
            cells = [customer, date, amount, *([quantity] if quantity else [])]
        lines.append(sep.join(cells))
        if draw(st.integers(0, 9)) == 0:
            lines.append("")
    return layout, "\n".join(lines) + "\n", draw(st.integers(1, 7))


@settings(max_examples=300)
@given(_files())
def test_fast_batches_equal_the_row_by_row_reference(file: tuple[CsvLayout, str, int]) -> None:
    layout, text, batch_size = file
    assert _fast(text, layout, batch_size) == _reference(text, layout)


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=10**7, places=3),
                          st.sampled_from(["{}", "{:.2f}", "{:.1f}", "{:.3f}", "{:,.2f}", "0{}"])),
                max_size=30))
def test_any_amount_reads_as_the_reference_reads_it(amounts: list[tuple[Decimal, str]]) -> None:
    text = "customer_id,date,amount\n" + "".join(
        f'C1,2026-03-01,"{form.format(amount)}"\n' for amount, form in amounts)
    assert _fast(text, _PLAIN, 7) == _reference(text, _PLAIN)


def test_the_objects_read_equal_the_records_read() -> None:
    text = _book(500)
    assert [to_record(t) for t in read_transactions(io.StringIO(text))] == \
        [record for _, record in _fast(text, _PLAIN, 64)]


# -- ids are pinned: they were computed by crmcore 0.1 and must never change ------------------

_PINNED = ("customer_id,date,amount,quantity,cost\nC1,2026-03-01,1200,,\nC1,2026-03-01,1200.00,1,\n"
           'C1,2026-03-01T10:00:00+08:00,"1,200.50",2,3.5\n01234,2026-03-02,0.125,0,0\n'
           "C1,2026-03-01,1200,,\n")


def test_ids_of_rows_without_an_id_are_those_of_earlier_releases() -> None:
    ids = [record.id for _, record in _fast(_PINNED, _PLAIN, 2)]
    assert ids == ["t-20f129303db970318997", "t-d846116896b3a83f5760", "t-11d8d043c2dcd7d45d27",
                   "t-b28f8e8f202398e0a96a", "t-f60f3392ca5377b2dc7a"]
    layout = CsvLayout(date_format="%Y/%m/%d", time_zone="Asia/Shanghai")
    resaved = "customer_id,date,amount\nC1,2026/3/1,99.9\nC1,2026/3/1,99.90\n"
    assert [record.id for _, record in _fast(resaved, layout, 10)] == [
        "t-1c36af582c4603069549", "t-1b77f1b9d643f9fe3631"]


def _book(rows: int) -> str:
    forms = ("{0}", "{0}.0", "{0}.00", "{0}.50")
    lines = ["customer_id,date,amount,quantity,cost"]
    for n in range(rows):
        amount = forms[n % 4].format(n % 7)
        date = f"2026-03-{1 + n % 5:02d}" if n % 3 else f"2026-03-{1 + n % 5:02d}T08:00:00+08:00"
        quantity = ("", "1", "3")[n % 3]
        cost = "" if n % 5 else f"{n % 4}.5"
        lines.append(f"C{n % 11},{date},{amount},{quantity},{cost}")
    return "\n".join(lines) + "\n"


def test_ids_of_a_book_with_many_repeats_across_batches_are_those_of_earlier_releases() -> None:
    ids = [record.id for _, record in _fast(_book(3000), _PLAIN, 256)]
    assert (ids[0], ids[1], ids[-1]) == ("t-7ccb1ed247c50ce3a795", "t-99bbd4c7c433126f9477",
                                         "t-5188838dd301cc372315")
    assert len(set(ids)) == 3000
    assert hashlib.sha256(" ".join(ids).encode()).hexdigest() == \
        "598195697103a5e790b9b80edce1cafb4b5f5390ab1cabd1d1fd496ded55bbf0"


# -- bad cells: the line, the column and the value ----------------------------------------------

_HEAD = "customer_id,date,amount,quantity,cost\nC1,2026-03-01,5,,\nC1,2026-03-01,5,,\n"


@pytest.mark.parametrize(("row", "message"), [
    ("C1,2026-13-01,5,1,", "column 'date': '2026-13-01' is not a date in the format ISO 8601"),
    ("C1,,5,,", "column 'date': '' is not a date in the format ISO 8601"),
    ("C1,2026-03-01,ten,1,", "column 'amount': 'ten' is not an amount in the plain form"),
    ("C1,2026-03-01,,1,", "column 'amount': '' is not an amount in the plain form"),
    ("C1,2026-03-01,1.5e3,,", "column 'amount': '1.5e3' is not an amount in the plain form"),
    ("C1,2026-03-01,NaN,,", "column 'amount': 'NaN' is not an amount in the plain form"),
    ("C1,2026-03-01,-5,1,", "column 'amount': '-5' must not be negative"),
    ("C1,2026-03-01,5,x,", "column 'quantity': 'x' is not a whole number"),
    ("C1,2026-03-01,5,-1,", "column 'quantity': -1 must be at least 0"),
    (",2026-03-01,5,1,", "column 'customer_id': '' is not a valid id"),
    ("C/1,2026-03-01,5,1,", "column 'customer_id': 'C/1' is not a valid id"),
    ("C1,2026-03-01,5,1,-2", "column 'cost': '-2' must not be negative"),
    ("C1,2026-03-01,5,1,1,9", "column '(extra)': ['9'] are values beyond the header's columns"),
])
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_a_bad_cell_names_its_line_column_and_value(row: str, message: str,
                                                    batch_size: int) -> None:
    text = _HEAD + "\n" + row + "\nC1,2026-03-01,5,,\n"
    with pytest.raises(ImportRowError, match=f"^line 5, {re.escape(message)}"):
        list(transaction_batches(io.StringIO(text), batch_size=batch_size))


@pytest.mark.parametrize(("row", "message"), [
    ("C1,2026-13-01,ten", "column 'date': '2026-13-01' is not a date"),
    ("C1,2026-03-01,ten", "column 'amount': 'ten' is not an amount in the plain form"),
    ("C1,2026-03-01,-5", "column 'amount': '-5' must not be negative"),
    ("C/1,2026-13-01,5", "column 'customer_id': 'C/1' is not a valid id"),
    ("C1,2026-03-01", "column 'amount': '' is not an amount"),
    ("C1,2026-03-01,5,9", "column '(extra)': ['9'] are values beyond the header's columns"),
])
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_bad_cell_of_a_file_read_by_columns_names_the_first_bad_line(
        row: str, message: str, batch_size: int) -> None:
    """Customer, date and amount only: a later row's bad cell in an earlier column
    must not be reported before this row's."""
    text = "customer_id,date,amount\nC1,2026-03-01,5\n\nC2,2026-03-02,6.50\n" + row + \
        "\nC1,2026-03-01,bad\nC/2,2026-99-01,5\n"
    with pytest.raises(ImportRowError, match=f"^line 5, {re.escape(message)}"):
        list(transaction_batches(io.StringIO(text), batch_size=batch_size))

