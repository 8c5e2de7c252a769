"""CSV output that spreadsheets cannot run: every writer of crmcore CSV goes through here.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula to Excel, LibreOffice and Google Sheets (CSV injection,
OWASP). Such a cell is written with a leading apostrophe (``'=HYPERLINK(...)``),
which spreadsheets show as text; the ``csv`` module quotes the rest as usual.
Numbers are left alone, including negative ones written as text (``-12.50``),
since they cannot be formulas. Readers that need the original value strip
one leading apostrophe from such cells.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, TextIO

from crmcore.csv_columns import CHUNK_ROWS, render_column, render_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula."""

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(
            value):
        return "'" + value
    return value


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def escape_column(values: Iterable[Any]) -> list[Any]:
    """Every cell of a column through :func:`escape_cell`, checking only text that may need it."""
    return [escape_cell(value) if type(value) is str and value[:1] in _FORMULA_FIRST else value
            for value in values]


def escaped_text(values: Sequence[Any]) -> list[str] | None:
    """:func:`~crmcore.csv_columns.render_column` of the cells through :func:`escape_cell`.

    The rendered cells of a column holding text are searched for one
    starting like a formula first; only then is the column escaped cell by
    cell (a negative number can send a column there needlessly, never the
    other way).
    """
    cells = render_column(values)
    if cells is None or not (cells is values or str in set(map(type, values))):
        return cells
    if any(map(str.startswith, cells, repeat(FORMULA_STARTS))):
        return render_column(escape_column(values))
    return cells


def escape_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of ``row`` through :func:`escape_cell`."""
    return [escape_cell(cell) for cell in row]


class SafeWriter:
    """A :func:`csv.writer` that escapes formula cells (see the module documentation)."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **{"lineterminator": "\n", **options})
        self._out = out
        self._rendered = not options  # the default dialect: columns rendered in bulk

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow(escape_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows."""
        self._writer.writerows(escape_row(row) for row in rows)

    def writecolumns(self, columns: Sequence[Iterable[Any]]) -> None:
        """Write the rows of equally long ``columns``, escaped a column at a time.

        With the default dialect, chunks of rows are rendered to text in bulk
        (:mod:`crmcore.csv_columns`, the same bytes); otherwise, or for cells
        of other types, the :mod:`csv` module writes them.
        """
        lists = [column if isinstance(column, Sequence) else list(column)
                 for column in columns]
        if len({len(column) for column in lists}) > 1:
            raise ValueError("CSV columns of different lengths")
        count = len(lists[0]) if lists else 0
        for start in range(0, count, CHUNK_ROWS):
            chunk = [column[start:start + CHUNK_ROWS] for column in lists]
            text = render_rows(chunk, escaped_text) if self._rendered else None
            if text is None:
                self._writer.writerows(zip(*map(escape_column, chunk), strict=True))
            else:
                self._out.write(text)


class SafeDictWriter:
    """A :class:`csv.DictWriter` that escapes formula cells (header included)."""

    def __init__(self, out: TextIO, fieldnames: Sequence[str], **options: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(out, **options)

    def writeheader(self) -> None:
        """Write the header line."""
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        """Write one record (missing fields empty; an unknown field is an error)."""
        self._writer.writerow(self._cells(row))

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write many records."""
        self._writer.writerows(self._cells(row) for row in rows)

    def _cells(self, row: Mapping[str, Any]) -> list[Any]:
        unknown = [name for name in row if name not in self.fieldnames]
        if unknown:
            raise ValueError(f"CSV record has fields not in the header: {unknown}")
        return [row.get(name, "") for name in self.fieldnames]
