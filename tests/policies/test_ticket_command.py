"""``crmcore ticket status``: hand moves through the ticket flow's door (S4, S7).

Every test runs on a real SQLite file and reads the stored book back: a move is
recorded (history, event, ticket record) and a refused one leaves everything as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Ticket, TicketKind, TicketStatus
from crmcore.cli import main
from crmcore.cli.tickets import event_to
from crmcore.policies import PolicyService
from crmcore.policies.tickets import TICKET_FLOW, ticket_flow
from crmcore.transitions import FlowState, HistoryEntry

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
PAUSED_BUSINESS_HOURS = 7  # waiting Mon 10:00 -> Tue 09:00: 10-12 and 13-18 on business time


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        crm.record_many([Customer(id="C1", name="Customer 1"),
                         Ticket(id="K1", customer_id="C1", opened_at=OPENED,
                                kind=TicketKind.COMPLAINT, category="billing error")])
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    assert main(list(argv)) == status
    captured = capsys.readouterr()
    return captured.out if status == 0 else captured.err


def _stored(database: str) -> tuple[Ticket, list[HistoryEntry], int, int]:
    with CRM.open("sqlite", path=database) as crm:
        ticket = crm.require(Ticket, "K1")
        history = sorted((e for e in crm.find(HistoryEntry) if e.flow == TICKET_FLOW),
                         key=lambda entry: entry.sequence)
        return ticket, history, crm.count(FlowState), len(crm.events())


def test_s4_s7_ticket_status_moves_through_the_door_and_records_who_when_why(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", database)
    out = _run(capsys, "ticket", "status", "K1", "waiting_on_customer", *db,
               "--as-of", "2026-03-02T10:00:00+00:00", "--actor", "li.wei",
               "--reason", "asked for the invoice number")
    assert out.strip() == ("ticket K1: new -> waiting_on_customer (wait_on_customer) at "
                           "2026-03-02T10:00:00+00:00 by li.wei: asked for the invoice number")
    _run(capsys, "ticket", "status", "K1", "open", *db, "--as-of", "2026-03-03T09:00:00+00:00")
    _run(capsys, "ticket", "status", "K1", "resolved", *db, "--as-of", "2026-03-03T11:00:00Z",
         "--actor", "li.wei")
    ticket, history, _, _ = _stored(database)
    assert [(e.event, e.from_state, e.to_state) for e in history] == [
        ("start", None, "new"), ("wait_on_customer", "new", "waiting_on_customer"),
        ("resume", "waiting_on_customer", "open"), ("resolve", "open", "resolved")]
    assert (history[1].actor, history[1].reason) == ("li.wei", "asked for the invoice number")
    assert history[2].actor == "crmcore-cli"
    assert ticket.status is TicketStatus.RESOLVED
    assert ticket.resolved_at == datetime(2026, 3, 3, 11, tzinfo=UTC)
    assert ticket.first_response_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    with CRM.open("sqlite", path=database) as crm:  # the SLA clock paused while waiting
        [sla] = [s for s in PolicyService(crm).sla(datetime(2026, 3, 4, tzinfo=UTC))
                 if s.ticket_id == "K1"]
        assert sla.resolution.paused == timedelta(hours=PAUSED_BUSINESS_HOURS)


@pytest.mark.parametrize(("argv", "message"), [
    (("K9", "open"), "ticket 'K9' does not exist"),
    (("K1", "solved"), "STATUS: 'solved' is not a status of the ticket flow (known: new, open, "
                       "waiting_on_customer, on_hold, resolved, closed); allowed next from "
                       "'new': open, waiting_on_customer, on_hold, resolved, closed"),
    (("K1", "new"), "STATUS: ticket 'K1' is 'new' and cannot move to 'new'; allowed next from "
                    "'new': open, waiting_on_customer, on_hold, resolved, closed"),
    (("K1", "open", "--as-of", "2026-03-01"),
     "flow 'ticket': K1 in state 'new': event 'open' refused: at 2026-03-01T00:00:00+00:00 is "
     "before the state was entered (2026-03-02T09:00:00+00:00)"),
    (("K1", "open", "--actor", " "),
     "flow 'ticket': K1 before the start: event 'start' refused: an actor (who) must be named"),
    (("K1", "open", "--as-of", "soon"),
     "--as-of: 'soon' is not a date (YYYY-MM-DD) or ISO date-time"),
])
def test_s4_refused_moves_say_why_and_store_nothing(
        database: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
        message: str) -> None:
    before = _stored(database)
    error = _run(capsys, "ticket", "status", *argv, "--db", database, status=1)
    assert error == f"crmcore: error: {message}\n"
    assert _stored(database) == before
    assert (before[1], before[2]) == ([], 0)  # the flow never started


def test_s7_a_closed_ticket_lists_no_next_status_and_stays_closed(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "ticket", "status", "K1", "closed", "--db", database, "--as-of", "2026-03-05",
         "--reason", "duplicate of K0")
    before = _stored(database)
    error = _run(capsys, "ticket", "status", "K1", "open", "--db", database, status=1)
    assert "'K1' is 'closed' and cannot move to 'open'; allowed next from 'closed': none, " \
           "it is final" in error
    assert _stored(database) == before
    assert before[0].status is TicketStatus.CLOSED


def test_s4_event_to_finds_the_one_event_of_each_move_in_the_flow() -> None:
    flow = ticket_flow()
    for source, target, transition in flow.edges():
        if source != target:
            assert event_to(flow, "K", source, target) == transition.event
