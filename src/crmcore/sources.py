"""A data file as the CSV readers take it: text in its encoding, or a sheet of a workbook.

:func:`open_table` decides by the file's ending: a workbook (:mod:`crmcore.xlsx`) is
read sheet by sheet, anything else is CSV text checked in its encoding
(:mod:`crmcore.encodings`). Either way the result's ``lines()`` feed
:func:`crmcore.csv_import.transaction_batches` and the other readers unchanged.
"""

from __future__ import annotations

from pathlib import Path

from crmcore.csv_import import CsvLayout
from crmcore.encodings import DecodedFile, open_text
from crmcore.errors import CrmError
from crmcore.i18n import tr
from crmcore.xlsx import WorkbookSheet, is_workbook, open_workbook_sheet

__all__ = ["TableFile", "open_table"]

TableFile = DecodedFile | WorkbookSheet
"""What :func:`open_table` returns; both have ``path``, ``lines()`` and ``describe()``."""


def open_table(path: str | Path, layout: CsvLayout = CsvLayout(),  # noqa: B008
               *, encoding: str | None = None, sheet: str | None = None,
               sheet_option: str = "--sheet") -> TableFile:
    """Open ``path`` for reading rows in ``layout``.

    A workbook takes ``sheet`` (a name or a number from 1; the first by default) and
    refuses ``encoding``; a text file takes ``encoding`` (detected when None) and
    refuses ``sheet``. Errors about the sheet name ``sheet_option``, the option that
    chose it. Errors: :class:`~crmcore.encodings.TextDecodeError`,
    :class:`~crmcore.encodings.UnknownEncodingError`,
    :class:`~crmcore.xlsx.SheetChoiceError`, :class:`~crmcore.errors.CrmError` for
    an option that does not fit the file, :class:`OSError`.
    """
    if is_workbook(path):
        if encoding is not None:
            raise CrmError(tr("{option}: {value!r} does not apply to the workbook {path} (a "
                              "workbook names its own encoding)").format(
                option="--encoding", value=encoding, path=path))
        return open_workbook_sheet(path, sheet, delimiter=layout.delimiter,
                                   point=layout.amounts.point, date_format=layout.date_format,
                                   option=sheet_option)
    if sheet is not None:
        raise CrmError(tr("{option}: {sheet!r} applies to workbooks (.xlsx, .xls, .ods...), "
                          "not to the text file {path}").format(
            option=sheet_option, sheet=sheet, path=path))
    return open_text(path, encoding)
