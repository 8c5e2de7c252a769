"""The policies' book read through columns, once per run (issue 10), against the
entity-by-entity read it replaced, on small random books (memory and SQLite files)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.policies.helpers import OFFICE

from crmcore import CRM
from crmcore.book import customer_entities
from crmcore.clock import FixedClock
from crmcore.errors import InvalidDataError
from crmcore.lifecycle.service import LifecycleService
from crmcore.lifecycle.taxonomy import UNKNOWN_REASON
from crmcore.model import (
    Celebration,
    Channel,
    Commitment,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    PartyKind,
    Priority,
    QuietHours,
    SurveyResponse,
    Ticket,
    TicketKind,
)
from crmcore.policies import (
    Appointment,
    Contract,
    EscalationAction,
    EscalationChain,
    EscalationStep,
    PolicyService,
    PolicySet,
    ReportingLines,
    Warranty,
    change_ticket_status,
)
from crmcore.policies.agenda import (
    Book,
    UnexplainedChurn,
    build_agenda,
    due_escalations,
    graded_ticket_sla,
)
from crmcore.policies.escalation import EscalationRecord, history_of
from crmcore.policies.reading import through, unexplained_churns
from crmcore.policies.tickets import TICKET_FLOW, intervals_from_history
from crmcore.ports import StoredRecord
from crmcore.sales.receivables_agenda import unpaid_notes
from crmcore.transitions import FlowState, HistoryEntry
from crmcore.unit_of_work import to_record

START = datetime(2026, 3, 2, tzinfo=UTC)
"""Monday 2 March 2026: the random books happen in the weeks after it."""

OWNERS = ("li.wei", "zhang.min", None)
POLICIES = PolicySet(
    calendar=OFFICE,
    lines=ReportingLines({"li.wei": "zhang.min", "zhang.min": "anna.berg"}),
    chain=EscalationChain((
        EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
        EscalationStep("supervisor", timedelta(hours=2), EscalationAction.TRANSFER),
        EscalationStep("manager", timedelta(hours=8)))))
PREFERENCES = (
    ContactPreferences(),
    ContactPreferences(channels=(Channel.PHONE, Channel.EMAIL), time_zone="Asia/Shanghai",
                       quiet_hours=(QuietHours(time(12), time(14)),), contact_every_days=3),
    ContactPreferences(best_weekdays=(1, 3), celebrations=(Celebration("founding", 3, 9, 2001),
                                                           Celebration("birthday", 3, 20))),
    ContactPreferences(do_not_contact=True),
    ContactPreferences(time_zone="America/New_York", quiet_hours=(QuietHours(time(0), time(23)),)),
)
ZONES = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))
EVENTS = ((), ("open",), ("open", "wait_on_customer", "resume"), ("hold", "resume", "resolve"),
          ("resolve", "reopen"), ("open", "close"))


def reference_book(crm: CRM, grades: dict[str, str], as_of: datetime) -> Book:
    """The book as PolicyService.book read it before issue 10: every record decoded."""
    until = through(as_of)
    tickets = crm.find(Ticket, until=until)
    history: dict[str, list[HistoryEntry]] = {}
    for entry in crm.find(HistoryEntry, until=until):
        if entry.flow == TICKET_FLOW:
            history.setdefault(entry.subject_id, []).append(entry)
    appointments = crm.find(Appointment)
    return Book(
        customers=crm.find(Customer), grades=grades, tickets=tickets,
        intervals={t.id: intervals_from_history(t, history[t.id])
                   for t in tickets if t.id in history},
        commitments=crm.find(Commitment), interactions=crm.find(Interaction, until=until),
        appointments=appointments, expiring=[*crm.find(Contract), *crm.find(Warranty)],
        escalations=history_of(crm.find(EscalationRecord)),
        unpaid=unpaid_notes(crm, {a.customer_id for a in appointments}, as_of),
        unexplained_churns=unexplained_churns(crm, until),
        surveys=[answer for answer in crm.find(SurveyResponse, until=until) if answer.comment])


def hours(draw: st.DrawFn, most: int) -> timedelta:
    return timedelta(hours=draw(st.integers(0, most)))


@st.composite
def books(draw: st.DrawFn) -> dict[str, object]:
    """A small book: customers, tickets with status changes, promises, contracts, visits."""
    count = draw(st.integers(1, 5))
    ids = [f"C{i}" for i in range(count)]
    customers = [Customer(
        id=customer_id, name=f"Customer {customer_id}",
        kind=draw(st.sampled_from(PartyKind)), owner=draw(st.sampled_from(OWNERS)),
        acquired_at=draw(st.none() | st.builds(
            lambda days, zone: (START - timedelta(days=days)).astimezone(zone),
            st.integers(0, 900), st.sampled_from(ZONES))),
        attributes=draw(st.sampled_from(({}, {"industry": "retail", "staff": 12}))),
        preferences=draw(st.sampled_from(PREFERENCES)),
        tags=draw(st.sampled_from(((), ("vip",), ("vip", "export")))))
        for customer_id in ids]
    tickets = [(Ticket(id=f"T{i}", customer_id=draw(st.sampled_from(ids)),
                       opened_at=START + hours(draw, 100),
                       kind=draw(st.sampled_from(TicketKind)),
                       category=draw(st.sampled_from(("delivery", "billing"))),
                       priority=draw(st.sampled_from(Priority)),
                       owner=draw(st.sampled_from(OWNERS))),
                draw(st.sampled_from(EVENTS)), hours(draw, 30))
               for i in range(draw(st.integers(0, 5)))]
    others: list[object] = []
    for i in range(draw(st.integers(0, 3))):
        made = START + hours(draw, 100)
        others.append(Commitment(
            id=f"P{i}", customer_id=draw(st.sampled_from(ids)), made_at=made,
            due_at=made + hours(draw, 60), description="call back",
            owner=draw(st.sampled_from(OWNERS)),
            fulfilled_at=draw(st.none() | st.just(made + timedelta(hours=5)))))
    for i in range(draw(st.integers(0, 2))):
        expires = START + timedelta(days=draw(st.integers(0, 60)))
        others.append(Contract(id=f"K{i}", customer_id=draw(st.sampled_from(ids)),
                               title="support", expires_at=expires,
                               owner=draw(st.sampled_from(OWNERS))))
        others.append(Warranty(id=f"W{i}", customer_id=draw(st.sampled_from(ids)),
                               product="pump", expires_at=expires + timedelta(days=30)))
    for i in range(draw(st.integers(0, 2))):
        others.append(Appointment(id=f"V{i}", customer_id=draw(st.sampled_from(ids)),
                                  starts_at=START + hours(draw, 200), purpose="visit",
                                  owner=draw(st.sampled_from(OWNERS))))
        others.append(Interaction(id=f"I{i}", customer_id=draw(st.sampled_from(ids)),
                                  occurred_at=START - hours(draw, 400),
                                  kind=InteractionKind.CALL, direction=Direction.OUTBOUND))
    return {"customers": customers, "tickets": tickets, "others": others,
            "grades": {customer_id: grade for customer_id in ids
                       if (grade := draw(st.sampled_from(("A", "B", "C", None)))) is not None},
            "earlier": START + hours(draw, 120), "as_of": START + hours(draw, 300),
            "lifecycle": draw(st.booleans())}


@contextmanager
def stored(storage: str, book: dict[str, object]) -> Iterator[CRM]:
    """The book stored in a fresh CRM, with escalations and problems applied ``earlier``."""
    with tempfile.TemporaryDirectory() as folder:
        options = {"path": str(Path(folder) / "crm.db")} if storage == "sqlite" else {}
        with CRM.open(storage, clock=FixedClock(START), **options) as crm:
            crm.record_many(book["customers"])  # type: ignore[arg-type]
            tickets: list[tuple[Ticket, tuple[str, ...], timedelta]] = book["tickets"]  # type: ignore[assignment]
            crm.record_many(ticket for ticket, _, _ in tickets)
            crm.record_many(book["others"])  # type: ignore[arg-type]
            for ticket, events, step in tickets:
                for number, event in enumerate(events, start=1):
                    change_ticket_status(crm, ticket.id, event, actor="li.wei",
                                         at=ticket.opened_at + step * number)
            if book["lifecycle"]:  # lifecycle history entries the policies must not read
                LifecycleService(crm).advance(START + timedelta(days=200))
            earlier = PolicyService(crm, POLICIES, grades=book["grades"])  # type: ignore[arg-type]
            earlier.apply_escalations(book["earlier"])  # type: ignore[arg-type]
            earlier.record_problems(book["earlier"])  # type: ignore[arg-type]
            yield crm


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=books())
def test_s4_columnar_book_plans_and_agendas_as_the_entity_read(
        storage: str, book: dict[str, object]) -> None:
    as_of: datetime = book["as_of"]  # type: ignore[assignment]
    grades: dict[str, str] = book["grades"]  # type: ignore[assignment]
    with stored(storage, book) as crm:
        reference = reference_book(crm, grades, as_of)
        service = PolicyService(crm, POLICIES, grades=grades)
        assert service.book(as_of) == reference
        assert [planned.record for planned in service.plan_escalations(as_of)] == \
            due_escalations(reference, as_of=as_of, policies=POLICIES)
        assert service.agenda(as_of) == build_agenda(reference, as_of=as_of, policies=POLICIES)
        complaints = [t for t in reference.tickets if t.kind is TicketKind.COMPLAINT]
        assert service.response_due(complaints, as_of) == {  # S7: the lifecycle's one clock
            t.id: graded_ticket_sla(t, grades.get(t.customer_id), POLICIES, as_of,
                                    reference.intervals.get(t.id)).first_response.due_at
            for t in complaints}

        shared = PolicyService(crm, POLICIES, grades=grades, share_reads=True)
        before = shared.agenda(as_of)  # the daily run's order: read, escalate, agenda
        assert before == service.agenda(as_of)
        shared.apply_escalations(as_of)
        shared.record_problems(as_of)
        after = reference_book(crm, grades, as_of)
        assert shared.book(as_of) == after
        assert shared.agenda(as_of) == build_agenda(after, as_of=as_of, policies=POLICIES)


@pytest.fixture
def raw_customers(crm: CRM) -> CRM:
    """A CRM holding customers written by hand: one without the later fields, one bad."""
    with crm.storage.transaction() as session:
        session.insert_many([
            StoredRecord("customer", "OLD", 1, "OLD", None, {"id": "OLD", "name": "Old"}),
            StoredRecord("customer", "NEW", 1, "NEW", START, {
                "id": "NEW", "name": "New", "acquired_at": START.isoformat(), "tags": ["x"],
                "attributes": {}, "preferences": {"time_zone": "Asia/Shanghai"}})])
    return crm


def test_customers_without_later_fields_read_as_the_decoded_read(raw_customers: CRM) -> None:
    with raw_customers.storage.transaction() as session:
        read = customer_entities(session)
    assert read == raw_customers.find(Customer)
    assert [c.id for c in read] == ["OLD", "NEW"]  # no time index first, as query orders


def test_a_bad_stored_customer_is_named_as_the_decoded_read_names_it(raw_customers: CRM) -> None:
    with raw_customers.storage.transaction() as session:
        session.insert(StoredRecord("customer", "BAD", 1, "BAD", None, {
            "id": "BAD", "name": "Bad", "preferences": {"time_zone": "Mars/Base"}}))
    with pytest.raises(InvalidDataError) as decoded:
        raw_customers.find(Customer)
    with pytest.raises(InvalidDataError) as columnar, \
            raw_customers.storage.transaction() as session:
        customer_entities(session)
    assert str(columnar.value) == str(decoded.value)
    assert "customer['BAD'].preferences.time_zone" in str(columnar.value)
    assert "Mars/Base" in str(columnar.value)


CHURN_FIELDS = (
    {}, {"churn_type": "unknown"}, {"churn_type": "negligence", "churn_reasons": ["other"]},
    {"churn_type": "negligence", "churn_reasons": [UNKNOWN_REASON, "other"], "churn_note": "?"},
    {"churn_type": "unknown", "churn_reasons": [UNKNOWN_REASON], "churn_note": "no cause"},
    {"churn_type": "competitive", "churn_reasons": f"said {UNKNOWN_REASON}"},  # a text: in it
    {"churn_type": "unknown", "churn_note": 7}, {"churn_type": "unknown", "churn_note": None},
    {"churn_type": 3, "churn_reasons": None, "evidence": {"silent_days": 400}})


def reference_churns(crm: CRM, until: datetime) -> list[UnexplainedChurn]:
    """L3's unexplained churns as read before issue 10: every flow state decoded."""
    found = []
    for state in crm.find(FlowState):
        fields = state.fields
        if state.state == "churned" and state.entered_at < until and (
                fields.get("churn_type") == "unknown"
                or UNKNOWN_REASON in (fields.get("churn_reasons") or ())):
            note = fields.get("churn_note")
            found.append(UnexplainedChurn(state.subject_id, state.entered_at,
                                          "" if note is None else str(note)))
    return sorted(found, key=lambda churn: churn.customer_id)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@settings(max_examples=20, deadline=None)
@given(states=st.lists(st.tuples(st.sampled_from(("churned", "active", "lost")),
                                 st.sampled_from(CHURN_FIELDS), st.integers(0, 40)),
                       max_size=8),
       until_day=st.integers(0, 40))
def test_l3_unexplained_churns_read_three_fields_as_the_decoded_states(
        storage: str, states: list[tuple[str, dict[str, object], int]], until_day: int) -> None:
    until = START + timedelta(days=until_day)
    with tempfile.TemporaryDirectory() as folder:
        options = {"path": str(Path(folder) / "crm.db")} if storage == "sqlite" else {}
        with CRM.open(storage, clock=FixedClock(START), **options) as crm:
            with crm.storage.transaction() as session:
                session.insert_many([to_record(FlowState(
                    f"lifecycle:C{i}", "lifecycle", 1, f"C{i}", f"C{i}", state,
                    START + timedelta(days=day), 2, fields))
                    for i, (state, fields, day) in enumerate(states)])
            read = sorted(unexplained_churns(crm, until), key=lambda churn: churn.customer_id)
            assert read == reference_churns(crm, until)
