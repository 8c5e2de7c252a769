"""``crmcore import customers|transactions FILE.csv``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from crmcore.cli.common import CommandError, Progress, add_storage_arguments, open_crm, read_lines
from crmcore.csv_import import CsvLayout, read_customers, read_transactions
from crmcore.errors import ImportRowError, NotFoundError, ValidationError
from crmcore.model import Customer, Transaction


def add_layout_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that describe a CSV export's columns and dates."""
    defaults = CsvLayout()
    parser.add_argument("--customer-col", default=defaults.customer_col, metavar="NAME",
                        help=f"customer id column (default: {defaults.customer_col})")
    parser.add_argument("--date-col", default=defaults.date_col, metavar="NAME",
                        help=f"date column (default: {defaults.date_col})")
    parser.add_argument("--amount-col", default=defaults.amount_col, metavar="NAME",
                        help=f"amount column (default: {defaults.amount_col})")
    parser.add_argument("--id-col", default=defaults.id_col, metavar="NAME",
                        help="row id column; rows without one get an id from their content")
    parser.add_argument("--name-col", default=defaults.name_col, metavar="NAME",
                        help=f"customer name column (default: {defaults.name_col})")
    parser.add_argument("--date-format", metavar="FORMAT",
                        help="strptime format of dates, e.g. %%d/%%m/%%Y (default: ISO 8601)")
    parser.add_argument("--time-zone", default="UTC", metavar="ZONE",
                        help="time zone of dates without an offset (default: UTC)")
    parser.add_argument("--delimiter", default=",", help="field separator (default: ,)")
    parser.add_argument("--decimal-comma", action="store_true",
                        help="amounts are written 1.234,50 (default: 1,234.50 or 1234.50)")


def layout_from(arguments: argparse.Namespace) -> CsvLayout:
    """The :class:`CsvLayout` the options describe."""
    try:
        return CsvLayout(
            customer_col=arguments.customer_col, date_col=arguments.date_col,
            amount_col=arguments.amount_col, id_col=arguments.id_col,
            name_col=arguments.name_col, date_format=arguments.date_format,
            time_zone=arguments.time_zone, delimiter=arguments.delimiter,
            decimal_comma=arguments.decimal_comma,
        )
    except ValidationError as error:
        raise CommandError(f"--{error.field.replace('_', '-')}: {error.value!r} "
                           f"{error.reason}") from None


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


def _with_customers(rows: list[Customer | Transaction], known: set[str]
                    ) -> Iterator[Customer | Transaction]:
    for transaction in rows:
        if isinstance(transaction, Transaction) and transaction.customer_id not in known:
            known.add(transaction.customer_id)
            yield Customer(id=transaction.customer_id, name=transaction.customer_id)
        yield transaction


def run_import(arguments: argparse.Namespace) -> int:
    """Parse the whole file, then store it in one transaction."""
    layout = layout_from(arguments)
    progress = Progress(f"reading {arguments.file}")
    lines = read_lines(arguments.file)
    reader = read_customers if arguments.kind == "customers" else read_transactions
    rows: list[Customer | Transaction] = list(reader(lines, layout, progress=progress))
    progress.done()
    with open_crm(arguments) as crm:
        if arguments.kind == "transactions" and arguments.create_customers:
            known = {customer.id for customer in crm.find(Customer)}
            rows = list(_with_customers(rows, known))
        try:
            report = crm.import_entities(rows, source=arguments.file)
        except NotFoundError as error:
            line = _line_of(rows, error.entity_id)
            raise ImportRowError(line, layout.customer_col, error.entity_id,
                                 "is not a stored customer (import customers first, or "
                                 "pass --create-customers)") from None
    for kind in sorted(report.rows):
        print(f"{kind}: {report.rows[kind]:,} rows, {report.new[kind]:,} new, "
              f"{report.skipped[kind]:,} already stored")
    return 0


def _line_of(rows: list[Customer | Transaction], customer_id: str) -> int:
    """The CSV line of the first row naming ``customer_id`` (header is line 1)."""
    for index, row in enumerate(rows):
        if getattr(row, "customer_id", None) == customer_id:
            return index + 2
    return 0
