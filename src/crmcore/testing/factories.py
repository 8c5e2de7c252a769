"""Plain factory functions: one valid entity with sensible defaults, any field overridden.

Defaults are deterministic and fit together: every entity belongs to the
customer :data:`CUSTOMER_ID` that :func:`make_customer` builds, and times are
placed around :data:`NOW` (the time of the ``crmcore_clock`` fixture)::

    crm.record(make_customer())
    crm.record(make_transaction(id="T002", amount=Decimal("42.50")))

An unknown keyword raises :class:`TypeError`; an invalid value raises
:class:`~crmcore.errors.ValidationError`, exactly as the constructor would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from crmcore.events import DomainEvent
from crmcore.model import (
    Commitment,
    ContactPerson,
    Customer,
    Interaction,
    InteractionKind,
    Opportunity,
    SurveyResponse,
    Ticket,
    TicketKind,
    Transaction,
)

T = TypeVar("T")

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""Monday 2026-01-05 09:00 UTC: the factories' reference time and the test clock's start."""

CUSTOMER_ID = "C001"
"""The id of the default customer, and the ``customer_id`` of every other default entity."""


def _build(cls: type[T], defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> T:
    """``cls`` built from ``defaults`` updated with ``overrides``."""
    return cls(**{**defaults, **overrides})


def make_customer(**overrides: Any) -> Customer:
    """A :class:`~crmcore.model.Customer`: organisation ``C001``, acquired a year before NOW."""
    defaults = {
        "id": CUSTOMER_ID,
        "name": "Acme Trading Co.",
        "acquired_at": NOW - timedelta(days=365),
    }
    return _build(Customer, defaults, overrides)


def make_contact_person(**overrides: Any) -> ContactPerson:
    """A :class:`~crmcore.model.ContactPerson`: the primary contact ``P001``."""
    defaults = {
        "id": "P001",
        "customer_id": CUSTOMER_ID,
        "name": "Li Wei",
        "title": "Purchasing manager",
        "email": "li.wei@example.com",
        "is_primary": True,
    }
    return _build(ContactPerson, defaults, overrides)


def make_transaction(**overrides: Any) -> Transaction:
    """A :class:`~crmcore.model.Transaction`: ``T001``, 100.00 a day before NOW."""
    defaults = {
        "id": "T001",
        "customer_id": CUSTOMER_ID,
        "occurred_at": NOW - timedelta(days=1),
        "amount": Decimal("100.00"),
    }
    return _build(Transaction, defaults, overrides)


def make_interaction(**overrides: Any) -> Interaction:
    """A :class:`~crmcore.model.Interaction`: call ``I001`` two hours before NOW."""
    defaults = {
        "id": "I001",
        "customer_id": CUSTOMER_ID,
        "occurred_at": NOW - timedelta(hours=2),
        "kind": InteractionKind.CALL,
        "subject": "Quarterly check-in",
    }
    return _build(Interaction, defaults, overrides)


def make_ticket(**overrides: Any) -> Ticket:
    """A :class:`~crmcore.model.Ticket`: new complaint ``K001`` opened an hour before NOW."""
    defaults = {
        "id": "K001",
        "customer_id": CUSTOMER_ID,
        "opened_at": NOW - timedelta(hours=1),
        "kind": TicketKind.COMPLAINT,
        "category": "delivery",
        "subject": "Order arrived late",
    }
    return _build(Ticket, defaults, overrides)


def make_opportunity(**overrides: Any) -> Opportunity:
    """A :class:`~crmcore.model.Opportunity`: open ``O001`` received a week before NOW."""
    defaults = {
        "id": "O001",
        "customer_id": CUSTOMER_ID,
        "title": "Annual supply contract",
        "received_at": NOW - timedelta(days=7),
        "estimated_value": Decimal("5000.00"),
    }
    return _build(Opportunity, defaults, overrides)


def make_survey_response(**overrides: Any) -> SurveyResponse:
    """A :class:`~crmcore.model.SurveyResponse`: ``S001``, CSAT 5 and NPS 9, at NOW."""
    defaults = {
        "id": "S001",
        "customer_id": CUSTOMER_ID,
        "answered_at": NOW,
        "survey": "post-purchase",
        "csat": 5,
        "nps": 9,
    }
    return _build(SurveyResponse, defaults, overrides)


def make_commitment(**overrides: Any) -> Commitment:
    """A :class:`~crmcore.model.Commitment`: ``M001`` made at NOW, due a day after it was made.

    Overriding only ``made_at`` moves the default ``due_at`` with it.
    """
    made_at = overrides.get("made_at", NOW)
    defaults = {
        "id": "M001",
        "customer_id": CUSTOMER_ID,
        "made_at": made_at,
        "due_at": made_at + timedelta(days=1),
        "description": "Call back with a delivery date",
    }
    return _build(Commitment, defaults, overrides)


def make_domain_event(**overrides: Any) -> DomainEvent:
    """A :class:`~crmcore.events.DomainEvent` ``customer.recorded`` at NOW, with a fresh id."""
    defaults = {
        "type": "customer.recorded",
        "occurred_at": NOW,
        "subject": f"customer:{CUSTOMER_ID}",
        "customer_id": CUSTOMER_ID,
    }
    return _build(DomainEvent, defaults, overrides)
