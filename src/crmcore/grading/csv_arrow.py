"""The vectorised reader of a transactions CSV file (pyarrow), with the exact one behind it.

:func:`read_transaction_file` reads the file with ``pyarrow.csv`` (parsed in
C++ on every core) when pyarrow and numpy are installed, and with
:func:`~crmcore.grading.columns.read_transaction_columns` (the :mod:`csv`
module, row by row) otherwise. The two give identical columns: the fast
path tokenises only; every cell keeps the meaning the exact reader gives it:

* customer ids and dates are dictionary-encoded, and each *distinct* text
  is stripped and parsed by the exact reader's own functions (an export
  repeats few dates and each customer many times);
* amounts and costs of the plain form ``123`` / ``123.4`` / ``123.45`` (at
  most 12 digits before the point) are converted in bulk: a double holds
  them within far less than half a cent, so rounding to cents is exact; any
  other cell is parsed by the exact reader's function.

Whenever the fast path meets something it does not handle exactly — a bad
cell, a row of the wrong width, a line break inside quotes, text that does
not decode — it gives up and the file is read again by the exact reader, whose
error names the line, column and value.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from crmcore.csv_import import CsvLayout, HeaderError, Progress, parse_timestamp, transaction_header
from crmcore.errors import CrmError
from crmcore.grading._backend import np, use_numpy
from crmcore.grading.columns import (
    UNKNOWN_COST,
    TransactionColumns,
    money_cents,
    read_transaction_columns,
    to_micros,
)

try:  # pragma: no cover - depends on the installed extras
    pa: Any = importlib.import_module("pyarrow")
    importlib.import_module("pyarrow.compute")
    importlib.import_module("pyarrow.csv")
except ImportError:  # pragma: no cover
    pa = None

HAVE_PYARROW = pa is not None
"""Whether pyarrow could be imported (the vectorised reader needs it and numpy)."""

_WHOLE_DIGITS = 12


class _FastPathError(Exception):
    """The fast path cannot read this file exactly; the exact reader will."""


def read_transaction_file(path: str | Path, layout: CsvLayout = CsvLayout(),  # noqa: B008
                          *, lines: Callable[[], Iterable[str]] | None = None,
                          progress: Progress | None = None, fast: bool | None = None,
                          encoding: str | None = "utf-8-sig") -> TransactionColumns:
    """Read a transactions CSV file into columns, vectorised when possible.

    ``lines`` opens the file for the exact reader (default: ``encoding``, a
    UTF-8 BOM dropped); bad cells raise :class:`~crmcore.errors.ImportRowError`
    with the line, column and value, as the exact reader does. ``encoding`` is
    the file's text encoding (:mod:`crmcore.encodings`; pyarrow transcodes
    others than UTF-8), or None when ``path`` is no CSV text (a workbook) and
    only ``lines`` can read it.
    """
    if use_numpy(fast) and HAVE_PYARROW and encoding is not None:
        try:
            columns = _read_arrow(Path(path), layout, encoding)
        except HeaderError:
            raise
        except (_FastPathError, pa.ArrowInvalid, OSError, CrmError, ValueError, ArithmeticError):
            pass
        else:
            if progress is not None:
                progress(len(columns))
            return columns
    opened = lines() if lines is not None else _lines(Path(path), encoding or "utf-8-sig")
    return read_transaction_columns(opened, layout, progress=progress, fast=fast)


def _lines(path: Path, encoding: str) -> Iterable[str]:
    with path.open(encoding=encoding, newline="") as file:
        yield from file


def _header(path: Path, layout: CsvLayout, encoding: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as file:
        header = next(csv.reader(file, delimiter=layout.delimiter), [])
    transaction_header(header, layout)  # refused here as the exact reader refuses it
    return header


def _read_arrow(path: Path, layout: CsvLayout, encoding: str = "utf-8-sig"
                ) -> TransactionColumns:
    header = _header(path, layout, encoding)
    encoded = pa.dictionary(pa.int32(), pa.string())
    wanted = [layout.customer_col, layout.date_col, layout.amount_col]
    if layout.cost_col in header:
        wanted.append(layout.cost_col)
    table = pa.csv.read_csv(
        path,
        read_options=pa.csv.ReadOptions(
            column_names=header, skip_rows=1,
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding),
        parse_options=pa.csv.ParseOptions(delimiter=layout.delimiter,
                                          newlines_in_values=False, ignore_empty_lines=True),
        convert_options=pa.csv.ConvertOptions(
            include_columns=wanted, column_types={
                name: encoded if name in (layout.customer_col, layout.date_col) else pa.string()
                for name in wanted},
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    # ids and dates are dictionary-encoded while parsing (block by block, on every core);
    # unifying the blocks' dictionaries (pyarrow releases the GIL) runs beside the amounts
    with ThreadPoolExecutor(max_workers=1) as pool:
        unified = pool.submit(_unified, table.column(layout.customer_col))
        amounts = _money(table.column(layout.amount_col), layout, blank=None)
        costs = (_money(table.column(layout.cost_col), layout,
                        blank=UNKNOWN_COST) if layout.cost_col in header
                 else np.full(len(amounts), UNKNOWN_COST, np.int64))
        times = _dates(_unified(table.column(layout.date_col)), layout)
        ids, customer = _customers(unified.result())
    return TransactionColumns(ids, customer, times, amounts, costs)


def _unified(column: Any) -> Any:
    """One dictionary array from a column of blocks, each text's first appearance first."""
    return column.unify_dictionaries().combine_chunks()


def _distinct(column: Any) -> tuple[list[str], Any]:
    """The distinct texts of a dictionary column (first appearance first) and each row's index."""
    return column.dictionary.to_pylist(), _numbers(column.indices)


def _numbers(array: Any) -> Any:
    """A pyarrow array of numbers without nulls as a numpy view.

    (``Array.to_numpy`` would import pandas, which costs a second.)
    """
    dtype = np.dtype(array.type.to_pandas_dtype())
    if not len(array):
        return np.empty(0, dtype=dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                         offset=array.offset * dtype.itemsize)


def _customers(column: Any) -> tuple[tuple[str, ...], Any]:
    texts, indices = _distinct(column)
    stripped = [text.strip() for text in texts]
    if stripped == texts and "" not in texts:  # the usual case: every code stands
        return tuple(texts), indices.astype(np.int64)
    index: dict[str, int] = {}
    codes = []
    for customer_id in stripped:
        if not customer_id:
            raise _FastPathError
        codes.append(index.setdefault(customer_id, len(index)))
    return tuple(index), np.asarray(codes, dtype=np.int64)[indices]


def _dates(column: Any, layout: CsvLayout) -> Any:
    texts, indices = _distinct(column)
    micros = [to_micros(parse_timestamp(text.strip(), layout)) for text in texts]
    return np.asarray(micros, dtype=np.int64)[indices]


def _money(column: Any, layout: CsvLayout, *, blank: int | None) -> Any:
    """Hundredths of every cell: plain forms in bulk, the others one by one (exactly)."""
    compute = pa.compute
    point = "," if layout.comma_point else r"\."
    pattern = rf"^[0-9]{{1,{_WHOLE_DIGITS}}}({point}[0-9]{{1,2}})?$"
    if not layout.comma_point and compute.all(
            compute.match_substring_regex(column, pattern)).as_py() is not False:
        # the usual export: every cell plain, so no copy is trimmed or filtered
        floats = compute.cast(column, pa.float64()).combine_chunks()
        return np.rint(_numbers(floats) * 100).astype(np.int64)
    trimmed = compute.ascii_trim_whitespace(column.combine_chunks())
    plain = compute.match_substring_regex(trimmed, pattern)
    others = _numbers(compute.indices_nonzero(compute.invert(plain)))
    numbers = trimmed if not len(others) else compute.filter(trimmed, plain)
    if layout.comma_point:
        numbers = compute.replace_substring(numbers, ",", ".")
    values = np.rint(_numbers(compute.cast(numbers, pa.float64())) * 100).astype(np.int64)
    if not len(others):
        return values
    cents = np.empty(len(trimmed), dtype=np.int64)
    cents[_numbers(compute.indices_nonzero(plain))] = values
    for position in others.tolist():
        text = trimmed[position].as_py()
        if blank is not None and not text.strip():
            cents[position] = blank
        else:
            cents[position] = money_cents(0, "", text, layout)
    return cents
