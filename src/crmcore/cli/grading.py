"""``crmcore grade TRANSACTIONS.csv --scheme NAME|FILE``: grade a CSV export.

Reads the export straight into columns (the fast path), grades it as of a
date and prints one row per customer with the grade and its explanation.
With ``--db`` or ``--config`` the results are also stored, hysteresis
applies against the stored history and grade changes become events.
Everything is read and checked before anything is stored.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tomllib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from crmcore.cli.common import (
    CommandError,
    Progress,
    add_format_argument,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
    read_lines,
)
from crmcore.cli.importing import add_layout_arguments, layout_from
from crmcore.clock import system_clock
from crmcore.csv_import import read_customers, read_transactions
from crmcore.grading import (
    GradeResult,
    GradeScheme,
    GradeTable,
    Hysteresis,
    SchemeKind,
    builtin_schemes,
    compute_metrics,
    grade_book,
    grade_metrics,
    load_scheme,
    read_transaction_columns,
    record_grades,
)
from crmcore.model import Customer, Opportunity
from crmcore.serialization import unstructure


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grade``."""
    parser = commands.add_parser(
        "grade", help="grade customers from a CSV export of transactions",
        description="Grade every customer of a transactions CSV export with a grade scheme "
                    f"(built-in: {', '.join(builtin_schemes())}; or a scheme TOML file).")
    parser.add_argument("file", metavar="TRANSACTIONS.csv")
    parser.add_argument("--scheme", required=True, metavar="NAME|FILE",
                        help="a built-in scheme name or a scheme TOML file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scheme key, e.g. rules.metric=profit (TOML value; "
                             "repeatable)")
    parser.add_argument("--as-of", metavar="DATE",
                        help="grade as of this date or ISO date-time (default: today, UTC)")
    parser.add_argument("--window-months", type=int, default=12, metavar="N",
                        help="months of transactions the metrics cover (default: 12)")
    parser.add_argument("--customers", metavar="FILE.csv",
                        help="customer file with attributes for threshold rules (G2)")
    parser.add_argument("--customer", action="append", default=[], metavar="ID",
                        help="print only this customer (repeatable)")
    add_format_argument(parser, "table", "json", "csv")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--db", metavar="PATH",
                         help="SQLite database: store the results and emit grade changes")
    storage.add_argument("--config", metavar="FILE", help="TOML configuration file (storage)")
    parser.add_argument("--downgrade-runs", type=int, default=1, metavar="N",
                        help="with storage: a downgrade needs N consecutive runs (default: 1)")
    parser.add_argument("--margin", type=float, default=0.0, metavar="FRACTION",
                        help="with storage: rank schemes keep a grade while the value is "
                             "within FRACTION of its cut-off (default: 0)")
    add_layout_arguments(parser)
    parser.set_defaults(run=run_grade)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``--set a.b=VALUE`` items as a nested mapping; VALUE is TOML, else text."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise CommandError(f"--set: {item!r} is not KEY=VALUE")
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            value = text
        target = overrides
        *parents, last = key.strip().split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return overrides


def _as_of(text: str | None) -> datetime:
    parsed = parse_as_of(text)
    if parsed is not None:
        return parsed
    today = system_clock().date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def _customers(path: str | None, arguments: argparse.Namespace) -> list[Customer]:
    if path is None:
        return []
    progress = Progress(f"reading {path}")
    customers = list(read_customers(read_lines(path), layout_from(arguments),
                                    progress=progress))
    progress.done()
    return customers


def _grade(arguments: argparse.Namespace, scheme: GradeScheme, as_of: datetime,
           stored_customers: list[Customer], opportunities: list[Opportunity]) -> GradeTable:
    layout = layout_from(arguments)
    customers = _customers(arguments.customers, arguments) or stored_customers
    progress = Progress(f"reading {arguments.file}")
    lines = read_lines(arguments.file)
    if scheme.kind is SchemeKind.PROSPECT_ABCD:
        return grade_book(scheme, as_of=as_of, opportunities=opportunities)
    if scheme.kind is SchemeKind.VALUE_MATRIX:
        transactions = list(read_transactions(lines, layout, progress=progress))
        progress.done()
        return grade_book(scheme, as_of=as_of, transactions=transactions,
                          customers=customers, window_months=arguments.window_months)
    columns = read_transaction_columns(lines, layout, progress=progress)
    progress.done()
    if customers:
        columns = columns.with_customers(customers)
    metrics = compute_metrics(columns, as_of, window_months=arguments.window_months)
    return grade_metrics(scheme, metrics)


def run_grade(arguments: argparse.Namespace) -> int:
    """Grade, optionally store, and print."""
    scheme = load_scheme(arguments.scheme, overrides=parse_overrides(arguments.set))
    as_of = _as_of(arguments.as_of)
    if arguments.window_months < 1:
        raise CommandError(f"--window-months: {arguments.window_months} must be at least 1")
    hysteresis = Hysteresis(arguments.downgrade_runs, arguments.margin)
    storing = bool(arguments.db or arguments.config)
    if not storing and hysteresis != Hysteresis():
        raise CommandError("--downgrade-runs/--margin: hysteresis needs the stored history "
                           "(give --db or --config)")
    if scheme.kind is SchemeKind.PROSPECT_ABCD and not storing:
        raise CommandError(f"--scheme: {scheme.name} grades stored opportunities; give --db "
                           "or --config")
    if storing:
        with open_crm(arguments) as crm:
            table = _grade(arguments, scheme, as_of, crm.find(Customer),
                           crm.find(Opportunity) if scheme.kind is SchemeKind.PROSPECT_ABCD
                           else [])
            results: Iterable[GradeResult] = record_grades(crm, table,
                                                           hysteresis=hysteresis).results
    else:
        table = _grade(arguments, scheme, as_of, [], [])
        results = table.results()
    wanted = set(arguments.customer)
    unknown = sorted(wanted - set(table.ids))
    if unknown:
        raise CommandError(f"--customer: {unknown[0]!r} was not graded")
    chosen = [r for r in results if not wanted or r.customer_id in wanted]
    _print(chosen, arguments.format, storing)
    return 0


def _row(result: GradeResult) -> dict[str, Any]:
    return {"customer_id": result.customer_id, "grade": result.grade,
            "scheme": result.scheme, "version": result.version,
            "as_of": result.as_of.isoformat(), "proposed": result.proposed,
            "previous": result.previous, "explanation": unstructure(result.explanation)}


def _print(results: list[GradeResult], form: str, stored: bool) -> None:
    if form == "json":
        print_json([_row(result) for result in results])
        return
    if form == "csv":
        metrics = list(dict.fromkeys(name for r in results for name in r.explanation.metrics))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["customer_id", "grade", "previous", "scheme", "version", "as_of",
                         "rank", "population", "cutoff", *metrics, "decided_by"])
        for r in results:
            e = r.explanation
            writer.writerow([r.customer_id, r.grade, r.previous or "", r.scheme, r.version,
                             r.as_of.isoformat(), _blank(e.rank), _blank(e.population),
                             _blank(e.cutoff), *(_blank(e.metrics.get(m)) for m in metrics),
                             e.text()])
        return
    headers = ("customer", "grade", *(("previous",) if stored else ()), "decided by")
    print_table([(r.customer_id, r.grade, *((r.previous or "-",) if stored else ()),
                  r.explanation.text()) for r in results], headers)


def _blank(value: object) -> object:
    return "" if value is None else value
