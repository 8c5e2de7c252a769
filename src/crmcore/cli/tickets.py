"""``crmcore ticket status``: move a ticket to a status by hand (S4, S7).

The move goes through the one transition door of the ``ticket`` flow
(:func:`crmcore.policies.change_ticket_status`), so the SLA clocks read it
like any other status change. The command names the status to reach; the
flow decides which event gets there from where the ticket stands.
"""

from __future__ import annotations

import argparse

from crmcore.cli.common import CommandError, add_storage_arguments, open_crm, parse_as_of
from crmcore.i18n import tr
from crmcore.i18n_help import help_text
from crmcore.i18n_terms import event_term, term
from crmcore.model import Ticket, TicketStatus
from crmcore.policies.service import change_ticket_status
from crmcore.policies.tickets import ticket_flow
from crmcore.transitions import FlowDefinition, current_state
from crmcore.vocabulary import member

DEFAULT_ACTOR = "crmcore-cli"
"""Who the history names when ``--actor`` is not given."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``ticket`` and its subcommand ``status``."""
    parser = commands.add_parser("ticket",
                                 help="change a ticket's status through the flow (S4, S7)")
    sub = parser.add_subparsers(title="ticket commands", metavar="ACTION")
    flow = ticket_flow()
    status = sub.add_parser(
        "status", help="change a ticket's status (recorded: from, to, when, who, why)",
        description="Move TICKET to STATUS through the ticket flow. The move is refused, "
                    "and nothing is stored, when the flow does not allow it from the "
                    "ticket's current status.",
        epilog=help_text("statuses, each with the statuses it is reached from: {moves}",
                         moves="; ".join(f"{target} ({', '.join(sources)})" for target, sources
                                         in _sources_by_target(flow).items())))
    status.add_argument("ticket", metavar="TICKET", help="the ticket id")
    status.add_argument("status", metavar="STATUS", help="the status to move to")
    add_storage_arguments(status)
    status.add_argument("--reason", default="", metavar="TEXT", help="why (recorded)")
    status.add_argument("--as-of", metavar="T",
                        help="when the status changed: a date or ISO date-time "
                             "(default: now)")
    status.add_argument("--actor", default=DEFAULT_ACTOR, metavar="NAME",
                        help="who changed it (default: %(default)s)")
    status.set_defaults(run=run_status)
    parser.set_defaults(run=lambda arguments: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _sources_by_target(flow: FlowDefinition) -> dict[str, list[str]]:
    made: dict[str, list[str]] = {name: [] for name in flow.state_names()}
    for source, target, _ in flow.edges():
        if source != target and source not in made[target]:
            made[target].append(source)
    return {target: sources for target, sources in made.items() if sources}


def event_to(flow: FlowDefinition, subject: str, current: str, status: str) -> str:
    """The event of ``flow`` that moves ``subject`` from ``current`` to ``status``.

    A :class:`~crmcore.cli.common.CommandError` names the status and lists the
    statuses allowed next when ``status`` is not a state or cannot be reached
    from ``current`` in one move.
    """
    moves = {t.target: t.event for t in reversed(flow.transitions_from(current))
             if t.target is not None and t.target != current}
    if status in moves:
        return moves[status]
    allowed = ", ".join(state for state in flow.state_names() if state in moves)
    listed = tr("allowed next from {current!r}: {allowed}").format(
        current=current, allowed=allowed or tr("none, it is final"))
    if not flow.has_state(status):
        raise CommandError(tr("STATUS: {status!r} is not a status of the {flow} flow (known: "
                              "{known}); {listed}").format(
            status=status, flow=flow.name, known=", ".join(flow.state_names()), listed=listed))
    raise CommandError(tr("STATUS: {subject} {id!r} is {current!r} and cannot move to "
                          "{status!r}; {listed}").format(
        subject=term(flow.subject), id=subject, current=current, status=status, listed=listed))


def status_code(text: str) -> str:
    """The ticket status ``text`` names: its code or Chinese term (已解决 is ``resolved``);
    anything else unchanged, for :func:`event_to` to refuse with the known statuses."""
    try:
        return member(TicketStatus, text, "STATUS").value
    except ValueError:
        return text


def run_status(arguments: argparse.Namespace) -> int:
    """Move the ticket to the status asked, or explain why not (nothing stored)."""
    flow = ticket_flow()
    with open_crm(arguments) as crm:
        ticket = crm.require(Ticket, arguments.ticket)
        state = current_state(crm, flow, ticket.id)
        current = flow.initial if state is None else state.state
        event = event_to(flow, ticket.id, current, status_code(arguments.status))
        at = parse_as_of(arguments.as_of) or crm.now()
        made = change_ticket_status(crm, ticket.id, event, at=at, actor=arguments.actor,
                                    reason=arguments.reason)
    why = tr(": {reason}").format(reason=made.entry.reason) if made.entry.reason else ""
    print(tr("ticket {id}: {source} -> {target} ({event}) at {at} by {actor}{why}").format(
        id=ticket.id, source=term(made.entry.from_state or ""), target=term(made.entry.to_state),
        event=event_term(made.entry.event), at=made.entry.at.isoformat(), actor=made.entry.actor,
        why=why))
    return 0
