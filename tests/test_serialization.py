"""The shared converter: exact round trips and errors that name path and value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from crmcore import (
    Channel,
    ContactPreferences,
    Customer,
    InvalidDataError,
    QuietHours,
    Transaction,
    structure,
    unstructure,
)
from crmcore.serialization import make_converter


def _customer_data(**preferences: object) -> dict[str, object]:
    data = unstructure(Customer(id="C1", name="Acme"))
    data["preferences"].update(preferences)
    return data


def test_k1_error_names_the_path_into_a_list_and_the_value() -> None:
    good = _customer_data()
    bad = _customer_data(time_zone="Mars/Base")
    with pytest.raises(InvalidDataError) as caught:
        structure([good, good, good, bad], list[Customer], path="customers")
    assert str(caught.value) == "customers[3].preferences.time_zone: 'Mars/Base' is not a time zone"
    assert caught.value.field == "customers[3].preferences.time_zone"
    assert caught.value.value == "Mars/Base"


def test_every_problem_is_reported_not_only_the_first() -> None:
    data = _customer_data(channels=["telepathy"])
    data["kind"] = "robot"
    del data["name"]
    data["colour"] = "blue"
    with pytest.raises(InvalidDataError) as caught:
        structure({"customers": [data]}, dict[str, list[Customer]])
    lines = str(caught.value).splitlines()
    assert "customers[0].name: is required" in lines
    assert "customers[0].kind: 'robot' is not a party kind (known: person, organisation) " \
           "nor a term of one: 个人 (person), 企业 (organisation)" in lines
    assert any(line.startswith("customers[0].preferences.channels[0]: 'telepathy' is not a "
                               "channel") for line in lines)
    assert "customers[0].colour: is not a known field" in lines


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("amount", 12.5, None),  # a float amount is read exactly through its text
    ("amount", "12,5", "is not a decimal number"),
    ("amount", True, "is not a decimal number"),
    ("quantity", "3", "is not a whole number"),
    ("quantity", 2.0, "is not a whole number"),
    ("occurred_at", "2026-01-01T10:00:00", "naive datetime"),
    ("occurred_at", "yesterday", "is not an ISO 8601 date and time"),
    ("customer_id", 42, "is not a text"),
])
def test_scalars_are_strict(field: str, value: object, reason: str | None) -> None:
    data = unstructure(Transaction(id="T1", customer_id="C1", amount=Decimal(1),
                                   occurred_at=datetime(2026, 1, 1, tzinfo=UTC)))
    data[field] = value
    if reason is None:
        assert structure(data, Transaction).amount == Decimal("12.5")
        return
    with pytest.raises(InvalidDataError, match=reason) as caught:
        structure(data, Transaction)
    assert caught.value.field == field


def test_a_text_is_not_a_list() -> None:
    data = _customer_data()
    data["tags"] = "vip"
    with pytest.raises(InvalidDataError, match="tags: 'vip' is not a list"):
        structure(data, Customer)


def test_round_trip_through_json_keeps_decimals_times_and_enums_exact() -> None:
    original = Customer(
        id="C1", name="Acme", attributes={"turnover": 50_000_000, "score": 0.1, "vip": True},
        preferences=ContactPreferences(channels=[Channel.EMAIL, Channel.SMS],
                                       quiet_hours=[QuietHours(time(22), time(7, 30))],
                                       time_zone="Asia/Shanghai"),
    )
    text = json.dumps(unstructure(original))
    assert structure(json.loads(text), Customer) == original
    assert '"channels": ["email", "sms"]' in text
    assert '"end": "07:30"' in text
    amount = Transaction(id="T1", customer_id="C1", amount=Decimal("0.10"),
                         occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert unstructure(amount)["amount"] == "0.10"


def test_make_converter_builds_independent_converters() -> None:
    first, second = make_converter(), make_converter()
    assert first is not second
    second.register_unstructure_hook(Decimal, float)
    assert first.unstructure(Decimal("1.5")) == "1.5"
