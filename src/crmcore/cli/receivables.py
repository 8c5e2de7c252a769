"""``crmcore receivables``: import invoices, list open balances, credit limits (M4)."""

from __future__ import annotations

import argparse

from crmcore.amounts import AMOUNT_FORMATS
from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
)
from crmcore.cli.importing import open_input
from crmcore.cli.reports import FORMATS, print_rows
from crmcore.csv_import import CsvLayout, HeaderError
from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.i18n_help import help_text
from crmcore.sales.credit import (
    CreditState,
    credit_statuses,
    raise_credit_warnings,
    set_credit_limit,
)
from crmcore.sales.receivables import cents_text
from crmcore.sales.receivables_columns import stored_balances
from crmcore.sales.receivables_import import (
    RECEIVABLE_FIELDS,
    ReceivableLayout,
    import_receivables,
)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``receivables`` and its subcommands."""
    parser = commands.add_parser("receivables", help="invoices, open balances, days overdue "
                                                     "and credit limits (M4)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    loading = actions.add_parser("import", help="load a CSV of invoices, or the open invoices "
                                                "of an ERP (all rows or none)")
    loading.add_argument("file", metavar="FILE.csv", nargs="?")
    loading.add_argument("--erp", metavar="odoo|erpnext|MAPPING.toml",
                         help="read the open invoices from the ERP instead (the mapping's "
                              "[receivables]; needs --url)")
    loading.add_argument("--url", metavar="URL", help="the ERP's database (with --erp)")
    loading.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                         help=help_text("the column holding FIELD (fields: {fields}; default: "
                                        "the field's own name); repeatable",
                                        fields=", ".join(RECEIVABLE_FIELDS)))
    loading.add_argument("--currency", metavar="CODE",
                         help="the currency of a file without a currency column")
    loading.add_argument("--date-format", metavar="FORMAT",
                         help="strptime format of dates, e.g. %%d/%%m/%%Y (default: ISO 8601)")
    loading.add_argument("--delimiter", default=",", help="field separator (default: ,)")
    loading.add_argument("--decimal-comma", action="store_true",
                         help="amounts are written 1.234,50")
    loading.add_argument("--amount-format", choices=AMOUNT_FORMATS, default="plain",
                         help="how amounts are written, as for import (default: plain)")
    loading.add_argument("--encoding", metavar="NAME",
                         help="text encoding of the file (default: detected, as for import)")
    add_storage_arguments(loading)
    loading.set_defaults(run=run_import)

    listing = actions.add_parser("list", help="open balances per customer and currency, with "
                                              "days overdue")
    listing.add_argument("--as-of", metavar="DATE", help="a date (default: today)")
    listing.add_argument("--overdue", action="store_true", help="only balances overdue")
    add_storage_arguments(listing)
    add_format_argument(listing, *FORMATS)
    listing.set_defaults(run=run_list)

    limit = actions.add_parser("limit", help="set a customer's credit limit")
    limit.add_argument("customer", metavar="CUSTOMER")
    limit.add_argument("amount", metavar="AMOUNT")
    limit.add_argument("currency", metavar="CURRENCY")
    add_storage_arguments(limit)
    limit.set_defaults(run=run_limit)

    over = actions.add_parser("over-limit", help="customers over their credit limit (and "
                                                 "those whose standing is unknown)")
    over.add_argument("--as-of", metavar="DATE", help="a date (default: today)")
    add_storage_arguments(over)
    add_format_argument(over, *FORMATS)
    over.set_defaults(run=run_over_limit)

    warn = actions.add_parser("warn", help="raise a P7 early warning for each customer over "
                                           "its credit limit (once a month)")
    warn.add_argument("--as-of", metavar="T", help="a date or ISO date-time (default: now)")
    add_storage_arguments(warn)
    warn.set_defaults(run=run_warn)


def _layout(arguments: argparse.Namespace) -> ReceivableLayout:
    columns = {field: field for field in RECEIVABLE_FIELDS}
    for given in arguments.column:
        field, equals, name = given.partition("=")
        if not equals or not name.strip():
            raise CommandError(tr("--column: {value!r} is not FIELD=NAME").format(value=given))
        columns[field.strip()] = name.strip()
    try:
        return ReceivableLayout(columns, CsvLayout(date_format=arguments.date_format,
                                                   delimiter=arguments.delimiter,
                                                   decimal_comma=arguments.decimal_comma,
                                                   amount_format=arguments.amount_format),
                                arguments.currency)
    except ValidationError as error:
        raise CommandError(tr("--column: {error}").format(error=error)) from None


def run_import(arguments: argparse.Namespace) -> int:
    """Store the file's (or the ERP's) invoices in one transaction."""
    if (arguments.erp is None) == (arguments.file is None) or \
            (arguments.erp is None) != (arguments.url is None):
        raise CommandError(tr("give FILE.csv, or --erp with --url"))
    if arguments.erp is not None:
        from crmcore.cli.receivables_erp import run_erp_import

        return run_erp_import(arguments)
    layout = _layout(arguments)
    with open_crm(arguments) as crm:
        try:
            lines = open_input(arguments, arguments.file, layout.csv, sheet=None).lines()
            report = import_receivables(crm, lines, layout, source=arguments.file)
        except HeaderError as error:
            raise CommandError(tr("{file}: {error}; name it with --column").format(
                file=arguments.file, error=error)) from None
    print(tr("receivable: {rows} rows, {new} new, {skipped} already stored").format(
        rows=f"{report.rows['receivable']:,}", new=f"{report.new['receivable']:,}",
        skipped=f"{report.skipped['receivable']:,}"))
    return 0


def run_list(arguments: argparse.Namespace) -> int:
    """Print the open balances, one row per customer and currency (never summed across)."""
    with open_crm(arguments) as crm:
        as_of = (parse_as_of(arguments.as_of) or crm.now()).date()
        with crm.storage.transaction() as session:
            balances = stored_balances(session, as_of)
    rows = [(b.customer_id, currency, cents_text(cents), b.invoices, b.days_overdue)
            for b in balances.values() if b.days_overdue or not arguments.overdue
            for currency, cents in b.open_cents.items()]
    print_rows(rows, ("customer", "currency", "open", "invoices", "days_overdue"),
               arguments.format)
    return 0


def run_limit(arguments: argparse.Namespace) -> int:
    """Store the limit; bad values and unknown customers are errors naming them."""
    with open_crm(arguments) as crm:
        made = set_credit_limit(crm, arguments.customer, arguments.amount, arguments.currency)
    print(tr("credit limit of {customer}: {limit} {currency}").format(
        customer=made.customer_id, limit=f"{made.limit:,}", currency=made.currency))
    return 0


def run_over_limit(arguments: argparse.Namespace) -> int:
    """Print the customers over (or unknown against) their limit."""
    with open_crm(arguments) as crm:
        moment = parse_as_of(arguments.as_of) or crm.now()
        with crm.storage.transaction() as session:
            statuses = [s for s in credit_statuses(session, moment.date())
                        if s.state is not CreditState.WITHIN]
    rows = [(s.customer_id, s.state.value, s.currency, cents_text(s.limit_cents),
             "" if s.open_cents is None else cents_text(s.open_cents),
             "" if s.balance is None else s.balance.text(), s.reason) for s in statuses]
    print_rows(rows, ("customer", "state", "currency", "limit", "open", "balance", "reason"),
               arguments.format)
    return 0


def run_warn(arguments: argparse.Namespace) -> int:
    """Raise the P7 warnings of the customers over their limit; print each, new or not."""
    with open_crm(arguments) as crm:
        warned = raise_credit_warnings(crm, parse_as_of(arguments.as_of) or crm.now())
    for warning, new in warned:
        print((tr("new: {text}") if new else tr("raised before: {text}")).format(
            text=warning.text))
    fresh = sum(1 for _, new in warned if new)
    print(tr("{fresh} new early warning(s) raised (P7); {before} raised before").format(
        fresh=fresh, before=len(warned) - fresh))
    return 0
