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
from typing import Any, TextIO

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


def escape_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of ``row`` through :func:`escape_cell`."""
    return [escape_cell(cell) for cell in row]


class SafeWriter:
    """A :func:`csv.writer` that escapes formula cells (see the module documentation)."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **{"lineterminator": "\n", **options})

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow(escape_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows."""
        self._writer.writerows(escape_row(row) for row in rows)

    def writecolumns(self, columns: Sequence[Iterable[Any]]) -> None:
        """Write the rows of equally long ``columns``, escaped a column at a time."""
        self._writer.writerows(zip(*map(escape_column, columns), strict=True))


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
