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
from crmcore.sales.differentiation import (
    REPORTS,
    DifferentiationRules,
    differentiation_report,
    stored_inputs,
)

FORMATS = ("table", "json", "csv")
"""The output formats of the report commands."""



def print_rows(rows: Sequence[Sequence[Any]], headers: Sequence[str], form: str) -> None:
    """Rows as an aligned table, a JSON list of objects or CSV with a header line."""
    if form == "json":
        print_json([dict(zip(headers, row, strict=True)) for row in rows])
    elif form == "csv":
        writer = SafeWriter(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print_table(rows, headers)


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
    except ConfigError as error:  # name the option, not the field
        name, _, rest = str(error).partition(":")
        raise CommandError(f"--{name.replace('_', '-')}:{rest}") from None
    names = arguments.report or list(REPORTS)
    if arguments.format == "csv" and len(names) != 1:
        raise CommandError("--format csv: name one report with --report (a CSV file holds "
                           f"one table; reports: {', '.join(REPORTS)})")
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
        print(f"{report.title} (G9, {report.name}, as of {as_of.date()})")
        print_rows(report.rows, report.columns, "table")
        for note in report.notes:
            print(f"  {note}")
    return 0
