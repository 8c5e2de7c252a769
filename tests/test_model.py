"""The domain model refuses invalid objects (K1-K3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from crmcore import (
    Celebration,
    Channel,
    Commitment,
    ContactPerson,
    ContactPreferences,
    Customer,
    Interaction,
    InteractionKind,
    Opportunity,
    QuietHours,
    SurveyResponse,
    Ticket,
    TicketKind,
    Transaction,
    ValidationError,
)
from crmcore.model import (
    ENTITY_TYPES,
    EntityType,
    entity_type,
    register_entity_type,
    registered_entity_types,
)

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_k1_customer_carries_contacts_preferences_religion_and_time_zone() -> None:
    prefs = ContactPreferences(channels=[Channel.EMAIL, Channel.PHONE], language="zh-CN",
                               time_zone="Asia/Shanghai", religion="buddhist",
                               celebrations=[Celebration("founding day", 3, 8, 1998)])
    acme = Customer(id="C1", name="Acme", owner="li.wei", preferences=prefs,
                    attributes={"annual_turnover": 60_000_000, "reputation": "high"})
    contact = ContactPerson(id="P1", customer_id="C1", name="Wang Fang", title="buyer",
                            phone="+86 21 5555 1234", email="wang@acme.example")
    assert acme.preferences.channels == (Channel.EMAIL, Channel.PHONE)
    assert contact.customer_id == acme.id


def test_k2_entities_are_immutable_and_updated_by_evolve() -> None:
    acme = Customer(id="C1", name="Acme")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        acme.name = "Other"  # type: ignore[misc]
    renamed = attrs.evolve(acme, name="Acme Group")
    assert (acme.name, renamed.name) == ("Acme", "Acme Group")


def test_k3_commitment_due_time_cannot_precede_the_promise() -> None:
    with pytest.raises(ValidationError, match=r"due_at: .* is before made_at"):
        Commitment(id="K1", customer_id="C1", made_at=NOW, due_at=NOW - timedelta(hours=1),
                   description="call back")


@pytest.mark.parametrize(("build", "field", "reason"), [
    (lambda: Transaction(id="T1", customer_id="C1", occurred_at=NOW, amount=Decimal(1),
                         quantity=-1), "quantity", "must be at least 0"),
    (lambda: Transaction(id="T1", customer_id="C1", occurred_at=NOW, amount=Decimal(-5)),
     "amount", "must not be negative"),
    (lambda: Transaction(id="T1", customer_id="C1", occurred_at=NOW, amount=Decimal("NaN")),
     "amount", "is not a finite amount"),
    (lambda: Transaction(id="T1", customer_id="C1", occurred_at=datetime(2026, 1, 1),
                         amount=Decimal(1)), "occurred_at", "naive datetime"),
    (lambda: Transaction(id="T1", customer_id="C1", amount=Decimal(1),
                         occurred_at=datetime.min.replace(tzinfo=timezone(timedelta(hours=8)))),
     "occurred_at", "is out of the supported range"),
    (lambda: Transaction(id="T1", customer_id="C1", occurred_at=NOW, amount=1.5),
     "amount", "is not a Decimal"),
    (lambda: ContactPreferences(time_zone="Mars/Base"), "time_zone", "is not a time zone"),
    (lambda: ContactPreferences(channels=["telepathy"]), "channels[0]", "is not a channel"),
    (lambda: ContactPreferences(channels=[Channel.SMS, Channel.SMS]), "channels[1]",
     "is listed twice"),
    (lambda: ContactPreferences(best_weekdays=[7]), "best_weekdays[0]", "weekday"),
    (lambda: ContactPreferences(language="not a language"), "language", "language tag"),
    (lambda: Customer(id="", name="x"), "id", "is not a valid id"),
    (lambda: Customer(id="a/b", name="x"), "id", "is not a valid id"),
    (lambda: Customer(id="C1", name="  "), "name", "non-empty"),
    (lambda: Customer(id="C1", name="x", attributes={"score": float("nan")}),
     "attributes.score", "NaN"),
    (lambda: Customer(id="C1", name="x", attributes={"tags": ["a"]}), "attributes.tags",
     "is not a text, number"),
    (lambda: Celebration("birthday", 2, 30), "day", "does not exist in month 2"),
    (lambda: QuietHours(time(8), time(8)), "end", "must differ from start"),
    (lambda: ContactPerson(id="P1", customer_id="C1", name="x", email="no-at-sign"),
     "email", "is not an e-mail address"),
    (lambda: Ticket(id="K1", customer_id="C1", opened_at=NOW, kind=TicketKind.COMPLAINT,
                    category="price", resolved_at=NOW - timedelta(days=1)),
     "resolved_at", "is before opened_at"),
    (lambda: SurveyResponse(id="S1", customer_id="C1", answered_at=NOW, survey="x", csat=6),
     "csat", "from 1 to 5"),
    (lambda: SurveyResponse(id="S1", customer_id="C1", answered_at=NOW, survey="x", nps=-1),
     "nps", "from 0 to 10"),
    (lambda: Opportunity(id="O1", customer_id="C1", title="deal", received_at=NOW,
                         expected_close=date(2025, 1, 1)), "expected_close", "before"),
])
def test_k1_invalid_objects_cannot_exist(build, field: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == field
    assert reason in str(caught.value)


def test_quiet_hours_across_midnight() -> None:
    night = QuietHours(time(22), time(7))
    assert night.contains(time(23, 30))
    assert night.contains(time(6, 59))
    assert not night.contains(time(7))
    assert not night.contains(time(12))
    lunch = QuietHours(time(12), time(13))
    assert lunch.contains(time(12, 30))
    assert not lunch.contains(time(13))


def test_interaction_channel_defaults_from_its_kind() -> None:
    call = Interaction(id="I1", customer_id="C1", occurred_at=NOW, kind=InteractionKind.CALL)
    visit = Interaction(id="I2", customer_id="C1", occurred_at=NOW, kind=InteractionKind.VISIT)
    assert (call.channel, visit.channel) == (Channel.PHONE, Channel.IN_PERSON)


def test_transaction_profit_needs_cost() -> None:
    sold = Transaction(id="T1", customer_id="C1", occurred_at=NOW, amount=Decimal("100"),
                       cost=Decimal("60"))
    assert sold.profit == Decimal("40")
    assert attrs.evolve(sold, cost=None).profit is None


def test_capabilities_can_register_their_own_entity_types() -> None:
    @attrs.frozen
    class Note:
        id: str
        customer_id: str

    note_type = register_entity_type(EntityType("test-note", Note, "customer_id", None))
    assert entity_type("test-note") is note_type
    assert note_type in registered_entity_types()
    assert register_entity_type(EntityType("test-note", Note, "customer_id", None)) == note_type
    with pytest.raises(Exception, match="'customer' is already registered"):
        register_entity_type(EntityType("customer", Note, "customer_id", None))


def test_every_entity_type_is_registered_once_by_kind_and_class() -> None:
    kinds = [t.kind for t in ENTITY_TYPES]
    assert len(kinds) == len(set(kinds))
    for registered in ENTITY_TYPES:
        assert entity_type(registered.kind) is registered
        assert entity_type(registered.cls) is registered
    with pytest.raises(Exception, match="not an entity kind"):
        entity_type("invoice")
