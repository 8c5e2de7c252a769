"""M4 credit limits, and the P7 warning route when a customer passes its limit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.conftest import RecordingNotifier, customer

from crmcore import CRM
from crmcore.errors import NotFoundError, ValidationError
from crmcore.event_catalogue import event_envelope, event_schema, schema_problems
from crmcore.improvement.early_warning import WARNING_EVENT, EarlyWarning
from crmcore.sales.credit import (
    CreditLimit,
    CreditState,
    credit_statuses,
    raise_credit_warnings,
    set_credit_limit,
)

from .test_receivables import invoice

AS_OF = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def book(crm: CRM) -> CRM:
    crm.record_many([customer("C1"), customer("C2"), customer("C3"),
                     invoice("I1", "C1", "800"), invoice("I2", "C1", "300"),
                     invoice("I3", "C2", "50"), invoice("I4", "C3", "10", currency="USD")])
    set_credit_limit(crm, "C1", "1000", "EUR")
    set_credit_limit(crm, "C2", Decimal(100), "EUR")
    set_credit_limit(crm, "C3", "100", "EUR")
    return crm


def test_m4_limits_are_compared_with_the_open_balance(book: CRM) -> None:
    with book.storage.transaction() as session:
        statuses = {s.customer_id: s for s in credit_statuses(session, AS_OF.date())}
    assert statuses["C1"].state is CreditState.OVER
    assert statuses["C1"].open_cents == 110000
    assert statuses["C2"].state is CreditState.WITHIN
    assert statuses["C3"].state is CreditState.UNKNOWN  # USD open, EUR limit: not compared
    assert "USD" in statuses["C3"].reason
    assert statuses["C3"].open_cents is None
    with book.storage.transaction() as session:  # before anything was issued: nothing open
        early = credit_statuses(session, date(2025, 12, 31))
    assert all(s.state is CreditState.WITHIN for s in early)


@pytest.mark.parametrize(("limit", "currency", "field"), [
    ("-5", "EUR", "limit"), ("lots", "EUR", "limit"), ("10", "Euro", "currency"),
    ("0.001", "EUR", "limit")])
def test_m4_bad_limits_name_the_field_and_store_nothing(crm: CRM, limit: str, currency: str,
                                                        field: str) -> None:
    crm.record(customer("C1"))
    with pytest.raises(ValidationError) as raised:
        set_credit_limit(crm, "C1", limit, currency)
    assert raised.value.field == field
    assert crm.count(CreditLimit) == 0


def test_m4_limit_for_an_unknown_customer_is_refused(crm: CRM) -> None:
    with pytest.raises(NotFoundError, match="customer_id: customer 'C9'"):
        set_credit_limit(crm, "C9", "10", "EUR")
    assert crm.count(CreditLimit) == 0


def test_m4_a_new_limit_replaces_the_old(book: CRM) -> None:
    set_credit_limit(book, "C1", "5000", "EUR")
    set_credit_limit(book, "C1", "5000", "EUR")  # the same again: nothing changes
    assert book.require(CreditLimit, "C1").limit == Decimal(5000)
    assert book.count(CreditLimit) == 3
    types = [entry.event.type for entry in book.events()]
    assert types.count("credit_limit.recorded") == 3
    assert types.count("credit_limit.updated") == 1


def test_p7_credit_warning_is_raised_once_per_month_and_reaches_notifiers(
        book: CRM, recorder: RecordingNotifier) -> None:
    first = raise_credit_warnings(book, AS_OF)
    assert [(w.id, new) for w, new in first] == [("credit_limit:C1@2026-03", True)]
    again = raise_credit_warnings(book, AS_OF.replace(day=20))
    assert [new for _, new in again] == [False]
    assert book.count(EarlyWarning) == 1
    book.deliver_events()
    warnings = [e for e in recorder.events if e.type == WARNING_EVENT]
    assert len(warnings) == 1
    assert warnings[0].customer_id == "C1"
    assert warnings[0].subject == "customer:C1"
    assert warnings[0].data["values"] == [1100.0]
    assert not list(schema_problems(event_envelope(warnings[0]),
                                    event_schema(WARNING_EVENT)))  # the catalogued shape
    assert "over its credit limit" in warnings[0].data["text"]
