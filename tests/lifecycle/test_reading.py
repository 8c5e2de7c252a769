"""The evidence read as columns equals the facts gathered from the stored entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.lifecycle import CustomerFacts
from crmcore.lifecycle.reading import in_batches, read_evidence, read_transactions
from crmcore.model import Priority, SurveyResponse, Ticket, TicketKind

T0 = datetime(2024, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=8)))


def _book(crm: CRM) -> None:
    crm.record_many([
        Customer(id="C2", name="Two", acquired_at=T0, attributes={"loyalty_type": "monopoly"}),
        Customer(id="C1", name="One"),
        Customer(id="C3", name="Three", acquired_at=T0 - timedelta(days=3)),
    ])
    crm.record_many([
        Transaction(id="T1", customer_id="C1", occurred_at=T0, amount=Decimal("9.99"),
                    cost=Decimal(4)),
        Transaction(id="T2", customer_id="C1", occurred_at=T0.astimezone(UTC) - timedelta(
            days=40), amount=Decimal(5)),
        Transaction(id="T3", customer_id="C2", occurred_at=T0 + timedelta(days=2),
                    amount=Decimal(1), quantity=3),
        Transaction(id="T4", customer_id="C2", occurred_at=T0 + timedelta(days=30),
                    amount=Decimal(1)),  # after the date
        SurveyResponse(id="S1", customer_id="C1", answered_at=T0, survey="csat", csat=4),
        SurveyResponse(id="S2", customer_id="C1", answered_at=T0, survey="nps", nps=9),
        Ticket(id="K1", customer_id="C2", opened_at=T0, kind=TicketKind.COMPLAINT,
               category="late", priority=Priority.HIGH, first_response_at=T0 + timedelta(
                   hours=30)),
        Ticket(id="K2", customer_id="C2", opened_at=T0, kind=TicketKind.REQUEST,
               category="manual"),
    ])


def test_read_evidence_gives_the_facts_gather_gives(crm: CRM) -> None:
    _book(crm)
    until = T0 + timedelta(days=10)
    with crm.storage.transaction() as session:
        book = read_evidence(session, until)
        only = read_evidence(session, until, customer_ids=["C2"])
    assert book.ids == ("C1", "C2", "C3")
    assert only.ids == ("C2",)
    for customer in crm.find(Customer):
        gathered = CustomerFacts.gather(
            customer, crm.find(Transaction, customer_id=customer.id, until=until),
            crm.find(Ticket, customer_id=customer.id, until=until),
            crm.find(SurveyResponse, customer_id=customer.id, until=until), p_alive=0.5)
        read = book.facts(customer.id, p_alive=0.5)
        assert read == gathered
        assert [p.utcoffset() for p in read.purchases] == \
            [p.utcoffset() for p in gathered.purchases]  # calendar days in their own offset


def test_read_transactions_keeps_what_a_scoring_strategy_reads(crm: CRM) -> None:
    _book(crm)
    with crm.storage.transaction() as session:
        read = {t.id: t for t in read_transactions(session, T0 + timedelta(days=10))}
    stored = {t.id: t for t in crm.find(Transaction, until=T0 + timedelta(days=10))}
    assert read == stored


def test_in_batches_refuses_an_empty_batch() -> None:
    assert list(in_batches(["a", "b", "c"], 2)) == [["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="batch_size: 0 must be at least 1"):
        list(in_batches(["a"], 0))
