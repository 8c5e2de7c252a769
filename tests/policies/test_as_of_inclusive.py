"""Events exactly at ``as_of`` count for the service as for the per-ticket clock (S4; issue 12).

The stored book is read with ``until`` bounds, which are exclusive; the pure clocks
include a ticket opened, or a status changed, at ``as_of``. For every moment at which
something happens in a small stored book, :meth:`PolicyService.sla` and the batch clocks
must equal :func:`ticket_sla` over the complete stored history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.policies.helpers import OFFICE

from crmcore import CRM
from crmcore.model import (
    Channel,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    Ticket,
    TicketKind,
)
from crmcore.policies import PolicyService, PolicySet, change_ticket_status
from crmcore.policies.sla import SlaClock, TicketSla, ticket_sla
from crmcore.policies.sla_batch import (
    STATE_CODES,
    ClockColumns,
    from_micros,
    sla_columns,
    ticket_columns,
)
from crmcore.policies.tickets import TICKET_FLOW, StatusInterval, intervals_from_history
from crmcore.transitions import HistoryEntry

MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
GRADES = {"A1": "A", "C1": "C"}


def hour(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def store_book(crm: CRM) -> None:
    """Two customers, three tickets, status changes during office hours."""
    crm.record_many([Customer(id=c, name=c, owner="li.wei", acquired_at=hour(-9000))
                     for c in GRADES])
    crm.record_many([
        Ticket(id="T1", customer_id="A1", opened_at=hour(0), kind=TicketKind.REQUEST,
               category="installation", owner="li.wei"),
        Ticket(id="T2", customer_id="C1", opened_at=hour(2), kind=TicketKind.REQUEST,
               category="training", owner="li.wei"),
        Ticket(id="T3", customer_id="C1", opened_at=hour(4), kind=TicketKind.REQUEST,
               category="training", owner="li.wei"),
    ])
    change_ticket_status(crm, "T1", "open", at=hour(2), actor="li.wei")
    change_ticket_status(crm, "T1", "wait_on_customer", at=hour(4), actor="li.wei")
    change_ticket_status(crm, "T1", "resolve", at=hour(25), actor="li.wei")
    change_ticket_status(crm, "T2", "resolve", at=hour(6), actor="li.wei")


def event_moments(crm: CRM) -> list[datetime]:
    """Every moment at which a ticket opens or changes status."""
    moments = {t.opened_at for t in crm.find(Ticket)}
    moments |= {e.at for e in crm.find(HistoryEntry) if e.flow == TICKET_FLOW}
    return sorted(moments)


def full_intervals(crm: CRM) -> dict[str, tuple[StatusInterval, ...]]:
    """Each ticket's intervals from its whole stored history, as the clock takes them."""
    entries = [e for e in crm.find(HistoryEntry) if e.flow == TICKET_FLOW]
    return {t.id: intervals_from_history(t, entries) for t in crm.find(Ticket)}


def per_ticket(crm: CRM, policies: PolicySet, as_of: datetime) -> list[TicketSla]:
    """The reference: :func:`ticket_sla` of every ticket opened by ``as_of``."""
    intervals = full_intervals(crm)
    return sorted((ticket_sla(t, policies.calendar, as_of, grade=GRADES[t.customer_id],
                              policy=policies.sla, intervals=intervals[t.id])
                   for t in crm.find(Ticket) if t.opened_at <= as_of),
                  key=lambda sla: sla.ticket_id)


def assert_columns_equal(column: ClockColumns, index: int, clock: SlaClock) -> None:
    assert int(column.elapsed_us[index]) == clock.elapsed // ONE_US
    assert int(column.paused_us[index]) == clock.paused // ONE_US
    assert STATE_CODES[column.state[index]] is clock.state
    assert from_micros(int(column.due_us[index])) == clock.due_at
    assert bool(column.running[index]) is clock.running
    assert from_micros(int(column.stopped_us[index])) == clock.stopped_at


@pytest.fixture
def service(crm: CRM) -> PolicyService:
    store_book(crm)
    return PolicyService(crm, PolicySet(calendar=OFFICE), grades=GRADES)


def test_the_book_has_events_at_the_moments_tested(service: PolicyService) -> None:
    assert event_moments(service.crm) == [hour(0), hour(2), hour(4), hour(6), hour(25)]


@pytest.mark.parametrize("nudge", [timedelta(0), ONE_US, -ONE_US])
def test_s4_service_sla_equals_per_ticket_clock_at_each_event(
        service: PolicyService, nudge: timedelta) -> None:
    for moment in event_moments(service.crm):
        as_of = moment + nudge
        if as_of < hour(0):
            continue
        found = sorted(service.sla(as_of), key=lambda sla: sla.ticket_id)
        assert found == per_ticket(service.crm, service.policies, as_of), as_of.isoformat()


def test_s4_batch_equals_per_ticket_clock_at_each_event(service: PolicyService) -> None:
    crm, policies = service.crm, service.policies
    intervals = full_intervals(crm)
    for as_of in event_moments(crm):
        expected = per_ticket(crm, policies, as_of)
        opened = sorted((t for t in crm.find(Ticket) if t.opened_at <= as_of),
                        key=lambda t: t.id)
        columns = sla_columns(ticket_columns(opened, grades=GRADES, policy=policies.sla,
                                             intervals=intervals),
                              policies.calendar, as_of, policy=policies.sla)
        assert [t.id for t in opened] == [sla.ticket_id for sla in expected]
        for index, sla in enumerate(expected):
            assert_columns_equal(columns.first_response, index, sla.first_response)
            assert_columns_equal(columns.resolution, index, sla.resolution)


def test_s4_ticket_opened_and_resolved_at_as_of_are_seen(service: PolicyService) -> None:
    slas = {sla.ticket_id: sla for sla in service.sla(hour(4))}
    assert "T3" in slas  # opened exactly at as_of
    assert slas["T3"].resolution.elapsed == timedelta(0)
    assert slas["T1"].resolution.running is False  # waiting on the customer from as_of
    resolved = {sla.ticket_id: sla for sla in service.sla(hour(6))}["T2"]
    assert resolved.resolution.stopped_at == hour(6)  # resolved exactly at as_of


def test_s7_problems_count_a_complaint_opened_at_as_of(crm: CRM) -> None:
    crm.record(Customer(id="A1", name="A1", owner="li.wei", acquired_at=hour(-9000)))
    crm.record_many([
        Ticket(id=f"K{n}", customer_id="A1", opened_at=hour(n), kind=TicketKind.COMPLAINT,
               category="late delivery", owner="li.wei")
        for n in range(3)
    ])
    service = PolicyService(crm, PolicySet(calendar=OFFICE), grades=GRADES)
    (problem,) = service.record_problems(hour(2))
    assert "K2" in problem.incident_ids


def test_s8_compliance_counts_a_contact_at_as_of(crm: CRM) -> None:
    crm.record(Customer(id="A1", name="A1", owner="li.wei", acquired_at=hour(-9000),
                        preferences=ContactPreferences(channels=(Channel.PHONE,))))
    crm.record(Interaction(id="I1", customer_id="A1", occurred_at=hour(3),
                           kind=InteractionKind.CALL, direction=Direction.OUTBOUND))
    service = PolicyService(crm, PolicySet(calendar=OFFICE), grades=GRADES)
    evidence = [line for check in service.compliance(hour(3))[0].checks
                for line in check.evidence]
    assert any(line.startswith("I1 ") for line in evidence), evidence
