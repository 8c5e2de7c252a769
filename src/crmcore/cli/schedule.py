"""``crmcore schedule``: the team's appointments for a period, overlaps flagged (K3)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.i18n import N_, tr
from crmcore.i18n_help import help_text
from crmcore.i18n_terms import term

STATUSES = (N_("planned"), N_("confirmed"), N_("completed"), N_("cancelled"))
"""The appointment statuses a schedule shows, as words with :func:`term`."""

DEFAULT_DAYS = 7
"""How many days the schedule shows when ``--to`` is not given."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``schedule``."""
    parser = commands.add_parser(
        "schedule", help="the team's appointments for a period, overlaps flagged (K3)",
        description="List the appointments that meet the period, owner by owner in time "
                    "order; an appointment overlapping another of the same owner is marked "
                    "'!' with the ids it overlaps. Appointments without an end last one hour.")
    add_storage_arguments(parser)
    parser.add_argument("--owner", metavar="NAME", help="only this owner's appointments")
    parser.add_argument("--from", dest="since", metavar="T",
                        help="start of the period: a date or ISO date-time (default: today)")
    parser.add_argument("--to", dest="until", metavar="T",
                        help=help_text("end of the period, excluded (default: {days} days "
                                       "after --from)", days=DEFAULT_DAYS))
    add_format_argument(parser, "table", "json")
    parser.set_defaults(run=run)


def _period(arguments: argparse.Namespace, now: datetime) -> tuple[datetime, datetime]:
    since = parse_as_of(arguments.since) or now.replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
    until = parse_as_of(arguments.until) or since + timedelta(days=DEFAULT_DAYS)
    if until <= since:
        raise CommandError(tr("--to: {until} is not after --from {since}").format(
            until=until.isoformat(), since=since.isoformat()))
    return since, until


def run(arguments: argparse.Namespace) -> int:
    """Print the schedule; the overlaps go to standard error as warnings too."""
    from crmcore.policies.appointments import Appointment
    from crmcore.policies.schedule import team_schedule

    with open_crm(arguments) as crm:
        since, until = _period(arguments, crm.now())
        booked = crm.find(Appointment, until=until)
    entries = team_schedule(booked, since=since, until=until, owner=arguments.owner)
    clashing = sum(1 for entry in entries if entry.overlaps_with)
    if arguments.format == "json":
        print_json({"from": since.isoformat(), "to": until.isoformat(),
                    "appointments": [entry.as_dict() for entry in entries]})
    else:
        print_table([("!" if e.overlaps_with else "", e.appointment.owner or "-",
                      e.appointment.starts_at.isoformat(timespec="minutes"),
                      e.ends_at.isoformat(timespec="minutes"), e.appointment.id,
                      e.appointment.customer_id, term(e.appointment.purpose), term(e.status),
                      ", ".join(e.overlaps_with)) for e in entries],
                    ("", tr("owner"), tr("starts"), tr("ends"), tr("id"), tr("customer"),
                     tr("purpose"), tr("status"), tr("overlaps")))
        print(tr("{count} appointment(s) from {since} to {until}").format(
            count=len(entries), since=since.isoformat(), until=until.isoformat()))
    if clashing:
        print(tr("crmcore: warning: {count} appointment(s) overlap another of the same owner"
                 ).format(count=clashing), file=sys.stderr)
    return 0
