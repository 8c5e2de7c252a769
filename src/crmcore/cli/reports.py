"""``crmcore report differentiation``: the G9 reports of the stored book (table, JSON, CSV)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.csv_output import SafeWriter
from crmcore.errors import ConfigError
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.sales.differentiation import (
    REPORTS,
    DifferentiationRules,
    differentiation_report,
    stored_inputs,
)

FORMATS = ("table", "json", "csv")
"""The output formats of the report commands."""

WORDS = (
    # G9 report columns and the codes in their cells
    N_("customer"), N_("name"), N_("revenue_last_year"), N_("complaints_last_year"),
    N_("complaints_this_year"), N_("same_span_last_year"), N_("this_year_so_far"),
    N_("change"), N_("status"), N_("products_from_us"), N_("products"),
    N_("products_elsewhere"), N_("share_of_wallet"), N_("many_elsewhere"), N_("returns"),
    N_("service_hours"), N_("late_payments"), N_("days_late"), N_("revenue_12_months"),
    N_("signals"), N_("stopped"), N_("ordering less"), N_("ordering"), N_("yes"), N_("no"),
    N_("service time"), N_("late payment"),
    # receivables columns and credit states (M4)
    N_("currency"), N_("invoices"), N_("days_overdue"), N_("state"),
    N_("limit"), N_("balance"), N_("reason"), N_("within"), N_("over"),
)
"""Column names and cell codes of the report tables, shown as words with :func:`term`."""

OPTIONS = {"large_share": "--large-share", "largest": "--largest"}
"""The settings of :class:`DifferentiationRules` the command line sets, with their options."""

HEADINGS = {"open": N_("open amount")}
"""Column names whose word differs from the code's (``open`` is a ticket state elsewhere)."""



def _as_option(message: str, options: dict[str, str]) -> str:
    """``message`` (``large_share: ...``, worded in any language) naming the option instead
    of the setting it starts with."""
    for key, option in options.items():
        if message.startswith(key) and not message[len(key):][:1].isalnum() and \
                message[len(key):][:1] != "_":
            return option + message[len(key):]
    return message


def print_rows(rows: Sequence[Sequence[Any]], headers: Sequence[str], form: str) -> None:
    """Rows as an aligned table, a JSON list of objects or CSV with a header line."""
    if form == "json":
        print_json([dict(zip(headers, row, strict=True)) for row in rows])
    elif form == "csv":
        writer = SafeWriter(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print_table([[_word(cell) for cell in row] for row in rows],
                    [term(HEADINGS.get(header, header)) for header in headers])


def _word(cell: Any) -> Any:
    """A table cell as people read it: codes (``stopped``, ``unknown``) as words, a list
    of codes (``complaints, returns``) word by word; numbers and ids as they are."""
    if not isinstance(cell, str):
        return cell
    return ", ".join(term(part) for part in cell.split(", "))


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``report`` (with its ``differentiation`` report)."""
    parser = commands.add_parser("report", help="G9 differentiation reports from the stored "
                                                "book (table, JSON or CSV)")
    reports = parser.add_subparsers(dest="report_kind", metavar="REPORT", required=True)
    differentiation = reports.add_parser(
        "differentiation", help="large customers who complained, whether the largest still "
                                "order, narrow buyers, customers who cause cost (G9)")
    differentiation.add_argument("--report", choices=REPORTS, action="append",
                                 help="only this report (repeatable; default: all four)")
    differentiation.add_argument("--as-of", metavar="T",
                                 help="a date or ISO date-time (default: now)")
    differentiation.add_argument("--large-share", type=float, default=0.2, metavar="SHARE",
                                 help="complained: the top share of last year's buyers that "
                                      "counts as large (default: 0.2)")
    differentiation.add_argument("--largest", type=int, default=10, metavar="N",
                                 help="still-ordering: how many of last year's largest "
                                      "(default: 10)")
    add_storage_arguments(differentiation)
    add_format_argument(differentiation, *FORMATS)
    differentiation.set_defaults(run=run_differentiation)


def run_differentiation(arguments: argparse.Namespace) -> int:
    """Print the chosen G9 reports."""
    try:
        rules = DifferentiationRules(large_share=arguments.large_share,
                                     largest=arguments.largest)
    except ConfigError as error:  # name the option, not the field (in any language)
        raise CommandError(_as_option(str(error), OPTIONS)) from None
    names = arguments.report or list(REPORTS)
    if arguments.format == "csv" and len(names) != 1:
        raise CommandError(tr("--format csv: name one report with --report (a CSV file "
                              "holds one table; reports: {reports})").format(
            reports=", ".join(REPORTS)))
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        with crm.storage.transaction() as session:
            data = stored_inputs(session, as_of)
    made = [differentiation_report(data, name, as_of=as_of, rules=rules) for name in names]
    if arguments.format == "json":
        print_json([{"report": r.name, "title": r.title, "as_of": as_of.isoformat(),
                     "rows": r.as_dicts(), "notes": list(r.notes)} for r in made])
        return 0
    if arguments.format == "csv":
        print_rows(made[0].rows, made[0].columns, "csv")
        return 0
    for index, report in enumerate(made):
        if index:
            print()
        print(tr("{title} (G9, {name}, as of {date})").format(
            title=tr(report.title), name=report.name, date=as_of.date()))
        print_rows(report.rows, report.columns, "table")
        for note in report.notes:
            print(f"  {note}")
    return 0
