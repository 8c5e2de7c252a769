"""Workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) read as CSV lines.

Kingdee, Yonyou and Excel most often export purchases and customers as a workbook.
:func:`open_workbook_sheet` reads one sheet with ``python-calamine`` (``pip install
'crmcore[xlsx]'``) and hands its rows on as CSV lines in the layout's delimiter, so
the workbook goes through exactly the checks and parsing a CSV file does and imports
to the same stored rows. The first row of the sheet's used area is the header.

Cells keep their meaning:

* a number cell is written in the layout's form of amounts without thousands
  separators (``1200``, ``350.5``; ``350,5`` where amounts use a decimal comma), the
  shortest text that reads back as the same number;
* a date or date-time cell is written in the layout's ``date_format`` when it has one
  (so one layout reads the CSV and the workbook export alike), else in ISO 8601
  (``2025-03-01``, ``2025-03-02T10:30:00``); a time of day, or a duration, in ISO 8601;
* a text cell is kept as it is; an empty cell is empty.

Line numbers in errors are the rows of the sheet's used area (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from crmcore.errors import CrmError, PluginError
from crmcore.i18n import tr

__all__ = ["WORKBOOK_SUFFIXES", "SheetChoiceError", "WorkbookSheet", "is_workbook",
           "open_workbook_sheet"]

WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
"""File name endings read as workbooks rather than as CSV text."""


class SheetChoiceError(CrmError):
    """``--sheet`` (or the ``option`` that chose it) names no sheet of the workbook; the
    message names the option and lists the sheets."""

    def __init__(self, path: str, sheet: str, names: list[str], *,
                 option: str = "--sheet") -> None:
        self.sheet = sheet
        self.names = tuple(names)
        self.option = option
        listed = ", ".join(f"{n} {name!r}" for n, name in enumerate(names, start=1))
        super().__init__(tr("{option}: {sheet!r} is not a sheet of {path} (sheets: {sheets})")
                         .format(option=option, sheet=sheet, path=path,
                                 sheets=listed or tr("none")))


def is_workbook(path: str | Path) -> bool:
    """Whether ``path`` names a workbook by its ending (:data:`WORKBOOK_SUFFIXES`)."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def _calamine() -> Any:
    try:
        import python_calamine
    except ImportError:
        raise PluginError(tr("reading workbooks needs python-calamine: "
                             "pip install 'crmcore[xlsx]'")) from None
    return python_calamine


@attrs.frozen
class WorkbookSheet:
    """One sheet of a workbook, read as CSV lines with ``delimiter``.

    ``point`` is the decimal point number cells are written with; ``date_format`` the
    :meth:`datetime.strftime` format of date cells (ISO 8601 when None).
    """

    path: str
    sheet: str
    index: int
    delimiter: str = ","
    point: str = "."
    date_format: str | None = None

    def lines(self) -> Iterator[str]:
        """The sheet's rows as CSV lines (each call reads the sheet again)."""
        book = _calamine().CalamineWorkbook.from_path(self.path)
        try:
            rows = book.get_sheet_by_index(self.index).iter_rows()
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n")
            for row in rows:
                writer.writerow([self._text(cell) for cell in row])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        finally:
            book.close()

    def describe(self) -> str:
        """``sheet 1 '购买'``, for a command's report (in the current language)."""
        return tr("sheet {number} {name!r}").format(number=self.index + 1, name=self.sheet)

    def _text(self, cell: Any) -> str:
        if isinstance(cell, str):
            return cell
        if isinstance(cell, bool):
            return "true" if cell else "false"
        if isinstance(cell, int | float):
            text = format(Decimal(repr(float(cell))).normalize(), "f") \
                if cell != int(cell) or abs(cell) >= 1e15 else str(int(cell))
            return text.replace(".", self.point)
        if isinstance(cell, datetime | date):
            return cell.strftime(self.date_format) if self.date_format else cell.isoformat()
        if isinstance(cell, time):
            return cell.isoformat()
        if isinstance(cell, timedelta):
            return str(cell)
        return "" if cell is None else str(cell)


def open_workbook_sheet(path: str | Path, sheet: str | int | None = None, *,
                        delimiter: str = ",", point: str = ".",
                        date_format: str | None = None,
                        option: str = "--sheet") -> WorkbookSheet:
    """The sheet of ``path`` named ``sheet``, or numbered ``sheet`` (1 is the first);
    the first sheet when None. A name wins over a number (a sheet may be called "2").

    Raises :class:`SheetChoiceError` naming ``option`` (the choice's name for the user)
    and listing the sheets for an unknown sheet, and
    :class:`~crmcore.errors.PluginError` when python-calamine is not installed.
    """
    calamine = _calamine()
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.CalamineError as error:
        raise CrmError(tr("{path}: cannot be read as a workbook: {error}").format(
            path=path, error=error)) from None
    names = list(book.sheet_names)
    book.close()
    if sheet is None:
        index = 0
    elif str(sheet) in names:
        index = names.index(str(sheet))
    elif str(sheet).strip().isdigit() and 1 <= int(sheet) <= len(names):
        index = int(sheet) - 1
    else:
        raise SheetChoiceError(str(path), str(sheet), names, option=option)
    if not names:
        raise SheetChoiceError(str(path), str(sheet or 1), names, option=option)
    return WorkbookSheet(str(path), names[index], index, delimiter, point, date_format)
