"""``crmcore stale``: customers whose data was not verified for a number of days (K2)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.i18n import tr


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``stale``."""
    parser = commands.add_parser(
        "stale", help="customers whose data was not verified for DAYS days (K2)",
        description="List the customers whose data was last verified more than DAYS days "
                    "before --as-of, or never: never-verified first, then the oldest.")
    parser.add_argument("--older-than", required=True, type=int, metavar="DAYS",
                        help="days since the last verification")
    parser.add_argument("--owner", metavar="NAME", help="only this owner's customers")
    parser.add_argument("--as-of", metavar="T", help="a date or ISO date-time (default: now)")
    add_storage_arguments(parser)
    add_format_argument(parser, "table", "json")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Print the stale customers."""
    from crmcore.verification import stale_customers

    if arguments.older_than < 0:
        raise CommandError(tr("--older-than: {days} is negative; give days >= 0").format(
            days=arguments.older_than))
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        with crm.storage.transaction() as session:
            rows = stale_customers(session, as_of=as_of, owner=arguments.owner,
                                   older_than=timedelta(days=arguments.older_than))
    if arguments.format == "json":
        print_json([row.as_dict() for row in rows])
        return 0
    print_table([(r.customer_id, r.name, r.owner or "-",
                  r.verified_at.date().isoformat() if r.verified_at else tr("never"),
                  "-" if r.days_since is None else r.days_since) for r in rows],
                (tr("customer"), tr("name"), tr("owner"), tr("verified"), tr("days")))
    print(tr("{count} customer(s) not verified for {days} day(s)").format(
        count=len(rows), days=arguments.older_than))
    return 0
