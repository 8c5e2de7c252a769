"""``crmcore demo``: generate a book of business, store it and its grades, report on it."""

from __future__ import annotations

import argparse

from crmcore.cli.common import CommandError, open_crm, parse_as_of
from crmcore.demo import (
    DEFAULT_AS_OF,
    build_report,
    generate_book,
    render_report,
    store_demo_grades,
)
from crmcore.demo.receivables import store_demo_receivables
from crmcore.demo.sales import store_demo_pipeline
from crmcore.errors import DuplicateError
from crmcore.i18n import tr
from crmcore.i18n_help import help_text
from crmcore.policies.demo import policy_records

DEFAULT_DEMO_DB = "crmcore-demo.db"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    demo = commands.add_parser("demo", help="store a generated book of business and report")
    demo.add_argument("--db", default=DEFAULT_DEMO_DB, metavar="PATH",
                      help="SQLite database file (default: %(default)s)")
    demo.add_argument("--customers", type=int, default=200, metavar="N",
                      help="how many customers to generate (default: 200)")
    demo.add_argument("--seed", type=int, default=7, metavar="N",
                      help="random seed; the same seed gives the same book (default: 7)")
    demo.add_argument("--as-of", metavar="DATE",
                      help=help_text("the demo's today (default: {date})",
                                     date=DEFAULT_AS_OF.date()))
    demo.set_defaults(run=run_demo)


def run_demo(arguments: argparse.Namespace) -> int:
    """Generate, store (idempotently) and print the report."""
    if arguments.customers < 1:
        raise CommandError(tr("--customers: {count} must be at least 1").format(
            count=arguments.customers))
    as_of = parse_as_of(arguments.as_of) or DEFAULT_AS_OF
    book = generate_book(arguments.customers, seed=arguments.seed, as_of=as_of)
    with open_crm(arguments) as crm:
        try:
            records = [*book.all(), *policy_records(book, seed=arguments.seed, as_of=as_of)]
            stored = crm.import_entities(records, source=f"demo seed={arguments.seed}")
        except DuplicateError as error:
            raise CommandError(tr(
                "{db} holds a demo made with other settings ({error}); "
                "use another --db or the same --customers/--seed/--as-of"
            ).format(db=arguments.db, error=error)) from None
        new = sum(stored.new.values())
        graded = store_demo_grades(crm, as_of)
        store_demo_receivables(crm, as_of, seed=arguments.seed)
        store_demo_pipeline(crm, as_of, seed=arguments.seed)
        print(tr("Stored {new:,} new records in {db} ({skipped:,} already there) and the "
                 "{scheme} grades as of {date} ({grades:,} grade record(s) new).").format(
            new=new, db=arguments.db, skipped=sum(stored.skipped.values()),
            scheme=graded.scheme.name, date=as_of.date(), grades=graded.stored) + "\n")
        print(render_report(build_report(crm, as_of),
                            title=tr("crmcore demo report as of {date}").format(
                                date=as_of.date())), end="")
    return 0
