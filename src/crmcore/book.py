"""The stored book read as columns: the one data path from storage to the kernels.

Every capability that works on a whole book (grading, lifecycle evidence,
lifetime value, the daily run) reads it here, through
:meth:`~crmcore.ports.StorageSession.scan`, without building an entity
object per stored row (ADR 0007). Entity objects stay at the edges: single
records, validation, the API a host calls with one customer.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.grading._backend import use_numpy
from crmcore.grading.columns import UNKNOWN_COST, TransactionColumns, to_cents
from crmcore.model import ContactPreferences, Customer, PartyKind
from crmcore.ports import StorageSession
from crmcore.serialization import structure

CUSTOMER_KIND = "customer"
TRANSACTION_KIND = "transaction"


def cents_of(text: str | None) -> int:
    """Hundredths of a stored decimal text, rounded half-even (``None``: unknown cost).

    The common ``123`` / ``123.4`` / ``123.45`` forms skip :class:`~decimal.Decimal`.
    """
    if text is None:
        return UNKNOWN_COST
    whole, dot, fraction = text.partition(".")
    if whole.isdigit() and whole.isascii() and (not dot or (
            len(fraction) <= 2 and fraction.isdigit() and fraction.isascii())):
        return int(whole) * 100 + (int(fraction.ljust(2, "0")) if dot else 0)
    return to_cents(Decimal(text))


@attrs.frozen
class CustomerColumns:
    """Every stored customer: ids in a stable order, acquisition times, attributes."""

    ids: tuple[str, ...]
    acquired_us: tuple[int | None, ...]
    attributes: tuple[dict[str, Any], ...] | None


def read_customers(session: StorageSession, *, attributes: bool = True) -> CustomerColumns:
    """The stored customers as columns, sorted by id (attributes only when asked)."""
    wanted: dict[str, Any] = {"id": "text", "acquired_at": "instant"}
    if attributes:
        wanted["attributes"] = "json"
    ids: list[str] = []
    acquired: list[int | None] = []
    found_attributes: list[dict[str, Any]] = []
    for chunk in session.scan(CUSTOMER_KIND, wanted):
        ids.extend(chunk["id"])
        acquired.extend(chunk["acquired_at"])
        if attributes:
            found_attributes.extend(value or {} for value in chunk["attributes"])
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return CustomerColumns(
        tuple(ids[i] for i in order), tuple(acquired[i] for i in order),
        tuple(found_attributes[i] for i in order) if attributes else None)


def read_purchases(session: StorageSession, *, until: datetime | None = None,
                   since: datetime | None = None, customers: CustomerColumns | None = None,
                   fast: bool | None = None) -> TransactionColumns:
    """Stored transactions with ``since <= occurred_at < until`` as grading columns.

    ``customers`` (see :func:`read_customers`) come first in ``ids``, in
    their order, with their attributes and acquisition times; buyers not
    among them follow. Equal to
    :meth:`~crmcore.grading.columns.TransactionColumns.from_transactions`
    over the same entities, up to the order of rows.
    """
    index: dict[str, int] = {}
    acquired: list[int | None] = []
    attributes: list[dict[str, Any]] = []
    if customers is not None:
        index = {customer_id: code for code, customer_id in enumerate(customers.ids)}
        acquired = list(customers.acquired_us)
        attributes = list(customers.attributes or ({} for _ in customers.ids))
    codes, times, amounts, costs = array("q"), array("q"), array("q"), array("q")
    for chunk in session.scan(TRANSACTION_KIND, _PURCHASE_COLUMNS, since=since, until=until):
        for customer_id in chunk["customer_id"]:
            code = index.get(customer_id)
            if code is None:
                code = index[customer_id] = len(index)
                acquired.append(None)
                attributes.append({})
            codes.append(code)
        times.extend(chunk["at"])
        amounts.extend(map(cents_of, chunk["amount"]))
        costs.extend(map(cents_of, chunk["cost"]))
    columns = TransactionColumns(tuple(index), codes, times, amounts, costs,
                                 tuple(attributes), tuple(acquired))
    if use_numpy(fast):
        return columns.as_numpy()
    return attrs.evolve(columns, customer=codes.tolist(), at_us=times.tolist(),
                        amount_cents=amounts.tolist(), cost_cents=costs.tolist())


_PURCHASE_COLUMNS: dict[str, Any] = {
    "customer_id": "text", "at": "instant", "amount": "decimal", "cost": "decimal"}


def select_ids(columns: CustomerColumns, wanted: Sequence[str] | None) -> CustomerColumns:
    """Only the customers in ``wanted`` (all when None), order kept."""
    if wanted is None:
        return columns
    keep = set(wanted)
    positions = [i for i, customer_id in enumerate(columns.ids) if customer_id in keep]
    return CustomerColumns(
        tuple(columns.ids[i] for i in positions), tuple(columns.acquired_us[i] for i in positions),
        None if columns.attributes is None
        else tuple(columns.attributes[i] for i in positions))


_CUSTOMER_COLUMNS: dict[str, Any] = {
    "id": "text", "at": "instant", "name": "text", "kind": "text", "owner": "text",
    "acquired_at": "text", "parent_id": "text", "attributes": "text", "preferences": "text",
    "tags": "text", "verified_at": "text"}


def customer_entities(session: StorageSession) -> list[Customer]:
    """Every stored customer as a :class:`~crmcore.model.Customer`, in the order of
    :meth:`~crmcore.ports.StorageSession.query` (time index, then id).

    Built from its columns without decoding the stored document through
    cattrs: each distinct ``preferences``, ``attributes`` and ``tags`` text is
    decoded once (most customers share a few; the entity copies its
    attributes, so none is shared). A customer
    whose columns do not build one (an absent field, a bad value) is decoded
    as :meth:`~crmcore.CRM.find` decodes it, defaults and errors alike.
    """
    preferences: dict[str, ContactPreferences] = {}

    def preferences_of(text: str | None) -> ContactPreferences:
        if text is None:
            raise ValueError("no preferences")  # the defaults: decoded below
        if text not in preferences:
            preferences[text] = structure(json.loads(text), ContactPreferences)
        return preferences[text]

    decoded: dict[str, Any] = {}

    def json_of(text: str | None) -> Any:
        if text is None:
            raise ValueError("absent")  # the defaults: decoded below
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    rows: list[tuple[bool, int, str, Customer]] = []
    for chunk in session.scan(CUSTOMER_KIND, _CUSTOMER_COLUMNS):
        for values in zip(*chunk.values(), strict=True):
            row = dict(zip(chunk, values, strict=True))
            try:
                customer = Customer(
                    id=row["id"], name=row["name"], kind=PartyKind(row["kind"]),
                    owner=row["owner"], acquired_at=_moment(row["acquired_at"]),
                    parent_id=row["parent_id"], attributes=json_of(row["attributes"]),
                    preferences=preferences_of(row["preferences"]),
                    tags=json_of(row["tags"]), verified_at=_moment(row["verified_at"]))
            except (ValidationError, TypeError, ValueError):
                customer = _decoded_customer(session, row["id"])
            rows.append((row["at"] is not None, row["at"] or 0, row["id"], customer))
    rows.sort(key=lambda found: found[:3])
    return [found[3] for found in rows]


def _decoded_customer(session: StorageSession, customer_id: str) -> Customer:
    """The stored customer decoded as :meth:`~crmcore.CRM.find` decodes it."""
    record = session.get(CUSTOMER_KIND, customer_id)
    if record is None:  # removed since the scan began: not possible inside one transaction
        raise ValueError(f"customer {customer_id!r} vanished while it was read")
    return structure(record.body, Customer, path=f"{CUSTOMER_KIND}[{customer_id!r}]")


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
