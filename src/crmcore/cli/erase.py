"""``crmcore erase``: erase everything stored about a customer (K2; PIPL Art. 47, GDPR Art. 17).

Runs :func:`crmcore.erasure.erase_customer` and prints the tombstone (counts
per kind, no personal data). Erasure cannot be undone, so the command does
nothing unless ``--yes`` is given.
"""

from __future__ import annotations

import argparse
import getpass

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    print_json,
    print_table,
)
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term

WORDS = (
    N_("deleted"), N_("scrubbed"),
    # stored record kinds a customer's erasure reaches (others are in i18n_terms.TERMS)
    N_("appointment"), N_("interaction"), N_("flow_history"), N_("flow_state"),
    N_("grade_result"), N_("grade_pending"), N_("agenda_snapshot"), N_("opportunity"),
    N_("receivable"), N_("credit_limit"), N_("survey_response"), N_("improvement_warning"),
    N_("escalation"), N_("problem"),
)
"""What erasing did to each kind of record, and the kinds, shown as words with :func:`term`."""


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "crmcore-cli"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``erase``."""
    parser = commands.add_parser(
        "erase", help="erase a customer's personal data everywhere, keeping a tombstone (K2)",
        description="Delete every record filed under CUSTOMER, take its name, e-mail "
                    "addresses and phone numbers out of shared records, replace the data of "
                    "its stored events, and keep a tombstone (who, when, why, counts). One "
                    "transaction: all of it or nothing. It cannot be undone.")
    parser.add_argument("customer", metavar="CUSTOMER", help="the customer id")
    parser.add_argument("--reason", required=True, metavar="TEXT",
                        help="the ground or request number (kept; must not name the person)")
    parser.add_argument("--actor", default=None, metavar="NAME",
                        help="who erases (kept; default: the current user)")
    parser.add_argument("--yes", action="store_true",
                        help="really erase (without it nothing is done)")
    add_storage_arguments(parser)
    add_format_argument(parser, "table", "json")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Erase the customer and print the tombstone."""
    from crmcore.erasure import erase_customer
    from crmcore.serialization import unstructure

    if not arguments.yes:
        raise CommandError(tr("erasing {customer!r} cannot be undone: add --yes to erase it "
                              "(nothing was changed)").format(customer=arguments.customer))
    with open_crm(arguments) as crm:
        done = erase_customer(crm, arguments.customer, reason=arguments.reason,
                              actor=arguments.actor or _default_actor())
    if arguments.format == "json":
        print_json(unstructure(done))
        return 0
    print(tr("erased customer {customer} at {at} by {actor} (tombstone {id}); {events} "
             "event(s) redacted").format(customer=done.customer_id,
                                         at=done.erased_at.isoformat(), actor=done.actor,
                                         id=done.id, events=done.events_redacted))
    rows = [(term(kind), count, term("deleted")) for kind, count in sorted(done.removed.items())]
    rows += [(term(kind), count, term("scrubbed"))
             for kind, count in sorted(done.scrubbed.items())]
    print_table(rows, (tr("kind"), tr("records"), tr("action")))
    return 0
