"""``crmcore import customers|transactions FILE.csv``."""

from __future__ import annotations

import argparse

from crmcore.amounts import AMOUNT_FORMATS
from crmcore.batch_import import RowClashError, UnknownCustomerError
from crmcore.cli.common import (
    CommandError,
    Progress,
    add_storage_arguments,
    delimiter,
    open_crm,
)
from crmcore.config import load_config
from crmcore.csv_import import (
    OPTIONAL_COLUMNS,
    CsvLayout,
    HeaderError,
    customer_batches,
    transaction_batches,
)
from crmcore.encodings import (
    ENCODINGS,
    DecodedFile,
    TextDecodeError,
    UnknownEncodingError,
    encoding_name,
)
from crmcore.errors import ImportRowError, ValidationError
from crmcore.i18n import N_, SOURCE_LANGUAGE, current_language, file_problem, tr
from crmcore.i18n_help import help_text
from crmcore.i18n_terms import term
from crmcore.sources import TableFile, open_table
from crmcore.validation import is_time_zone
from crmcore.xlsx import is_workbook


def add_layout_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that describe a CSV export's columns and dates."""
    defaults = CsvLayout()
    parser.add_argument("--customer-col", default=defaults.customer_col, metavar="NAME",
                        help="customer id column (default: %(default)s)")
    parser.add_argument("--date-col", default=defaults.date_col, metavar="NAME",
                        help="date column (default: %(default)s)")
    parser.add_argument("--amount-col", default=defaults.amount_col, metavar="NAME",
                        help="amount column (default: %(default)s)")
    parser.add_argument("--id-col", metavar="NAME",
                        help=help_text("row id column (default: {name}, if present); rows "
                                       "without one get an id from their parsed content",
                                       name=defaults.id_col))
    parser.add_argument("--quantity-col", metavar="NAME",
                        help=help_text("quantity column (default: {name}, if present)",
                                       name=defaults.quantity_col))
    parser.add_argument("--cost-col", metavar="NAME",
                        help=help_text("cost column (default: {name}, if present)",
                                       name=defaults.cost_col))
    parser.add_argument("--name-col", default=defaults.name_col, metavar="NAME",
                        help="customer name column (default: %(default)s)")
    parser.add_argument("--date-format", metavar="FORMAT",
                        help="strptime format of dates, e.g. %%d/%%m/%%Y (default: ISO 8601)")
    parser.add_argument("--time-zone", metavar="ZONE",
                        help="time zone of dates without an offset (default: [import] "
                             "time_zone, else [policies] time_zone, else UTC)")
    parser.add_argument("--delimiter", default=",", type=delimiter,
                        help="field separator, one character; \\t or tab for a tab "
                             "(default: ,)")
    parser.add_argument("--decimal-comma", action="store_true",
                        help="amounts are written 1.234,50 (default: 1,234.50 or 1234.50)")
    parser.add_argument("--amount-format", choices=AMOUNT_FORMATS,
                        help="how amounts are written: plain 1,234.50; comma 1.234,50; cn "
                             "¥1,200.00 / 1,200.00 元; eu 1 200,50 € (default: [import] "
                             "amount_format, else plain)")
    parser.add_argument("--encoding", metavar="NAME",
                        help=help_text("text encoding of the file ({encodings}; gbk and "
                                       "gb2312 read as gb18030; default: [import] encoding, "
                                       "else detected from a byte-order mark, else utf-8 when "
                                       "the whole file is valid utf-8, else gb18030)",
                                       encodings=", ".join(ENCODINGS)))
    parser.add_argument("--sheet", metavar="NAME|NUMBER",
                        help="workbook (.xlsx, .xls, .ods) FILE: the sheet to read, by name or "
                             "number from 1 (default: the first)")
    parser.add_argument("--numeric-col", action="append", default=[], metavar="NAME",
                        help="customers: read this attribute column as numbers (repeatable)")
    parser.add_argument("--text-col", action="append", default=[], metavar="NAME",
                        help="customers: keep this attribute column as text, e.g. 12345 "
                             "(repeatable)")


def layout_from(arguments: argparse.Namespace) -> CsvLayout:
    """The :class:`CsvLayout` the options describe (defaults from ``[import]``)."""
    configured = import_settings(getattr(arguments, "config", None))
    given = {field: getattr(arguments, field, None) for field in OPTIONAL_COLUMNS}
    declared = {field: value for field, value in given.items() if value is not None}
    try:
        return CsvLayout(
            customer_col=arguments.customer_col, date_col=arguments.date_col,
            amount_col=arguments.amount_col, name_col=arguments.name_col,
            date_format=arguments.date_format,
            time_zone=arguments.time_zone or configured["time_zone"] or "UTC",
            delimiter=arguments.delimiter, decimal_comma=arguments.decimal_comma,
            amount_format=getattr(arguments, "amount_format", None)
            or configured["amount_format"] or "plain",
            declared=declared, numeric_columns=getattr(arguments, "numeric_col", ()),
            text_columns=getattr(arguments, "text_col", ()), **declared,
        )
    except ValidationError as error:
        raise CommandError(tr("{field}: {value!r} {reason}").format(
            field=f"--{error.field.replace('_', '-')}", value=error.value,
            reason=tr(error.reason))) from None


IMPORT_KEYS = ("amount_format", "encoding", "time_zone")
"""Keys of the configuration's ``[import]`` table: defaults of ``--amount-format``,
``--encoding`` and ``--time-zone`` for the files a command reads."""


def import_settings(config: str | None) -> dict[str, str | None]:
    """The ``[import]`` defaults of the configuration file ``config`` (all None without
    one); ``time_zone`` falls back to the company's (``[policies] time_zone``)."""
    if not config:
        return dict.fromkeys(IMPORT_KEYS)
    loaded = load_config(config)
    options = loaded.settings("import")
    values: dict[str, str | None] = {
        "amount_format": options.choice("amount_format", AMOUNT_FORMATS, None),
        "encoding": options.text("encoding", None),
        "time_zone": options.text("time_zone", None)
        or loaded.settings("policies").text("time_zone", None),
    }
    options.check_all_used()
    for key in ("time_zone",):
        zone = values[key]
        if zone is not None and not is_time_zone(zone):
            raise CommandError(tr("{key}: {value!r} is not a time zone (an IANA name such as "
                                  "Asia/Shanghai)").format(key=f"import.{key}", value=zone))
    if values["encoding"] is not None:
        values["encoding"] = checked_encoding(values["encoding"], "import.encoding")
    return values


def header_refusal(path: str, error: HeaderError) -> CommandError:
    """The command's error for a file whose header does not fit its column options:
    the file, the problem, and the option that names a missing column."""
    if error.field and error.field.endswith("_col"):
        return CommandError(tr("{file}: {error}; the column is named by {option}").format(
            file=path, error=error, option=f"--{error.field[:-4].replace('_', '-')}-col"))
    return CommandError(tr("{file}: {error}").format(file=path, error=error))


def open_input(arguments: argparse.Namespace, path: str, layout: CsvLayout, *,
               sheet: str | None = "--sheet", encoding: str = "--encoding") -> TableFile:
    """Open a data file of a command (:func:`crmcore.sources.open_table`) with the sheet
    the option ``sheet`` chose (``--sheet`` for the main FILE, ``--customers-sheet`` for
    ``--customers``; None: the first sheet) and the encoding the option ``encoding``
    gave (``--encoding``, ``--customers-encoding``); without it a text file is read in
    the ``[import]`` encoding, else detected. Errors become one line naming the option."""
    chosen = None if sheet is None else _option_value(arguments, sheet)
    given = _option_value(arguments, encoding)
    given_by: str | None = encoding
    if given is not None:
        if is_workbook(path):
            raise CommandError(tr("{option}: {value!r} does not apply to the workbook {path} "
                                  "(a workbook names its own encoding)").format(
                option=encoding, value=given, path=path))
        given = checked_encoding(given, encoding)
    elif not is_workbook(path):
        given = import_settings(getattr(arguments, "config", None))["encoding"]
        given_by = None if given is None else "import.encoding"
    try:
        return open_table(path, layout, encoding=given, sheet=chosen,
                          sheet_option=sheet or "--sheet")
    except OSError as error:
        raise CommandError(tr("cannot read {path!r}: {error}").format(
            path=path, error=file_problem(error))) from None
    except TextDecodeError as error:
        if encoding == "--encoding" and current_language() == SOURCE_LANGUAGE:
            raise  # the library's own words, which also show the bytes
        raise CommandError(_undecodable(error, encoding, given_by)) from None


def source_text(source: TableFile) -> str:
    """How a data file was read, in the run's language (as its ``describe()`` words it in
    English): ``gb18030 (detected)``, ``utf-8 (given)`` or ``sheet 2 '购买'``."""
    if isinstance(source, DecodedFile):
        template = tr("{encoding} (detected)") if source.detected else tr("{encoding} (given)")
        return template.format(encoding=source.encoding)
    return tr("sheet {number} {name!r}").format(number=source.index + 1, name=source.sheet)


def _option_value(arguments: argparse.Namespace, option: str) -> str | None:
    """The value of ``option`` (``--customers-encoding``) in ``arguments``, if given."""
    value: str | None = getattr(arguments, option[2:].replace("-", "_"), None)
    return value


def checked_encoding(name: str, option: str) -> str:
    """The canonical name of encoding ``name`` (:func:`crmcore.encodings.encoding_name`),
    or a :class:`~crmcore.cli.common.CommandError` naming ``option`` and listing the
    encodings available."""
    try:
        return encoding_name(name)
    except UnknownEncodingError:
        raise CommandError(tr("{option}: {value!r} is not a supported encoding (available: "
                              "{encodings}; gbk and gb2312 read as gb18030)").format(
            option=option, value=name, encodings=", ".join(ENCODINGS))) from None


def _undecodable(error: TextDecodeError, option: str, given_by: str | None) -> str:
    """A file that does not decode, in the run's language: the encoding was detected
    (``given_by`` None; ``option`` names one) or given by ``given_by``."""
    if given_by is None:
        return tr("{path}: line {line}, byte offset {offset}: does not decode as {encoding} "
                  "(the detected encoding); name the file's encoding with {option}").format(
            path=error.path, line=error.line, offset=error.offset, encoding=error.encoding,
            option=option)
    return tr("{path}: line {line}, byte offset {offset}: does not decode as {encoding} "
              "(the encoding {option} gave)").format(
        path=error.path, line=error.line, offset=error.offset, encoding=error.encoding,
        option=given_by)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``import``."""
    parser = commands.add_parser(
        "import", help="load a CSV export of customers or transactions (all rows or none)")
    parser.add_argument("kind", choices=("customers", "transactions"))
    parser.add_argument("file", metavar="FILE.csv")
    add_storage_arguments(parser)
    add_layout_arguments(parser)
    parser.add_argument("--create-customers", action="store_true",
                        help="transactions: create a bare customer for unknown customer ids")
    parser.set_defaults(run=run_import)


def run_import(arguments: argparse.Namespace) -> int:
    """Read the file in batches and store them in one transaction (all rows or none)."""
    layout = layout_from(arguments)
    progress = Progress(tr("importing {file}").format(file=arguments.file))
    source = open_input(arguments, arguments.file, layout)
    lines = source.lines()
    reader = customer_batches if arguments.kind == "customers" else transaction_batches
    with open_crm(arguments) as crm:
        try:
            report = crm.import_records(
                reader(lines, layout, progress=progress), source=arguments.file,
                create_customers=arguments.kind == "transactions" and arguments.create_customers)
        except HeaderError as error:
            raise header_refusal(arguments.file, error) from None
        except UnknownCustomerError as error:
            raise ImportRowError(error.line, layout.customer_col, error.entity_id,
                                 N_("is not a stored customer (import customers first, or "
                                    "pass --create-customers)")) from None
        except RowClashError as error:
            raise CommandError(tr("{file}, line {line}: {error}").format(
                file=arguments.file, line=error.line, error=error)) from None
    progress.done()
    print(tr("{file}: {source}").format(file=arguments.file, source=source_text(source)))
    for kind in sorted(report.rows):
        print(tr("{kind}: {rows:,} rows, {new:,} new, {skipped:,} already stored").format(
            kind=term(kind), rows=report.rows[kind], new=report.new[kind],
            skipped=report.skipped[kind]))
    return 0
