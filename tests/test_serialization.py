"""The shared converter: exact round trips and errors that name path and value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import (
    Channel,
    ContactPreferences,
    Customer,
    InvalidDataError,
    Priority,
    QuietHours,
    Transaction,
    structure,
    unstructure,
)
from crmcore.events import DomainEvent, event_json
from crmcore.serialization import default_converter, dump_json, make_converter


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


_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False).map(Decimal),
    st.datetimes(timezones=st.just(UTC)), st.sampled_from(list(Priority)))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=3), inner, max_size=3)), max_leaves=12)


@given(st.dictionaries(st.text(max_size=4), _VALUES, max_size=4))
def test_json_mapping_fast_path_equals_cattrs_generic_unstructure(value: dict[str, Any]) -> None:
    """Event data and flow fields (``dict[str, Any]``) take a fast path: it must give
    exactly what cattrs' generic run-time dispatch gives for the same dict."""
    converter = default_converter()
    assert converter.unstructure(value, unstructure_as=dict[str, Any]) == \
        converter.unstructure(value)


@given(_VALUES)
def test_dump_json_writes_what_json_dumps_writes(value: Any) -> None:
    """dump_json calls the C encoder directly: the text is json.dumps' with the same options,
    and a value that is not JSON data is refused the same way."""
    options: dict[str, Any] = {"ensure_ascii": False, "sort_keys": True,
                               "separators": (",", ":")}
    try:
        expected = json.dumps(value, **options)
    except TypeError as error:
        expected = str(error)
        with pytest.raises(TypeError, match="is not JSON serializable") as refused:
            dump_json(value)
        assert str(refused.value) == expected
    else:
        assert dump_json(value) == expected
    assert dump_json(value, default=unstructure) == \
        json.dumps(unstructure(value), **options)


@given(st.text(min_size=1, max_size=8).filter(str.strip), st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
    st.text(min_size=1, max_size=8).filter(str.strip),
    st.none() | st.sampled_from(["C1", "0-0001"]),
    st.dictionaries(st.text(max_size=4), _VALUES, max_size=4))
def test_event_json_is_the_text_of_the_unstructured_event(
        kind: str, at: datetime, subject: str, customer_id: str | None,
        data: dict[str, Any]) -> None:
    """The outbox encodes an event in one pass (event_json): the same text as the shared
    converter's unstructured event, whatever the data holds (Decimals, datetimes, enums)."""
    event = DomainEvent(type=kind, occurred_at=at, subject=subject, customer_id=customer_id,
                        data=data)
    assert event_json(event) == dump_json(unstructure(event))
