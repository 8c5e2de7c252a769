"""Keeping customer data current (K2): when it was last verified, and what is stale.

A customer's ``verified_at`` says when its data was last checked with the
customer (:func:`mark_verified` sets it); :func:`stale_customers` lists the
customers whose data was not verified within a given number of days, never
verified first. The report reads the customers as columns (no object per
customer), so it runs on the whole book.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from crmcore.columns import EPOCH, micros_of
from crmcore.errors import ValidationError
from crmcore.model.customer import Customer
from crmcore.ports import ColumnType, StorageSession

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = ["StaleCustomer", "mark_verified", "stale_customers"]

_MICROS_PER_DAY = 86_400_000_000


@attrs.frozen
class StaleCustomer:
    """A customer whose data is due to be verified again.

    ``verified_at`` is None and ``days_since`` None when it was never verified.
    """

    customer_id: str
    name: str
    owner: str | None
    verified_at: datetime | None
    days_since: int | None

    def as_dict(self) -> dict[str, object]:
        """The row as JSON values."""
        return {"customer_id": self.customer_id, "name": self.name, "owner": self.owner,
                "verified_at": None if self.verified_at is None else self.verified_at.isoformat(),
                "days_since": self.days_since}


def stale_customers(session: StorageSession, *, as_of: datetime, older_than: timedelta,
                    owner: str | None = None) -> list[StaleCustomer]:
    """Customers not verified since ``as_of - older_than`` (or never), never-verified first,
    then the longest unverified; ``owner`` keeps one owner's customers."""
    if as_of.tzinfo is None:
        raise ValidationError("as_of", as_of.isoformat(), "is a naive datetime; give a time zone")
    if older_than < timedelta(0):
        raise ValidationError("older_than", str(older_than), "is negative")
    now = micros_of(as_of)
    cutoff = now - older_than // timedelta(microseconds=1)
    found: list[tuple[bool, int, str, str, str | None]] = []
    columns: dict[str, ColumnType] = {
        "id": "text", "name": "text", "owner": "text", "verified_at": "instant"}
    for chunk in session.scan("customer", columns):
        for customer_id, name, held_by, verified in zip(
                chunk["id"], chunk["name"], chunk["owner"], chunk["verified_at"], strict=True):
            if (owner is None or held_by == owner) and (verified is None or verified < cutoff):
                found.append((verified is not None, verified or 0, customer_id, name, held_by))
    found.sort()
    return [StaleCustomer(customer_id, name, held_by,
                          (EPOCH + timedelta(microseconds=at)).astimezone(as_of.tzinfo)
                          if known else None,
                          (now - at) // _MICROS_PER_DAY if known else None)
            for known, at, customer_id, name, held_by in found]


def mark_verified(crm: CRM, customer_id: str, *, at: datetime | None = None) -> Customer:
    """Record that ``customer_id``'s data was checked with the customer at ``at`` (now)."""
    customer = crm.require(Customer, customer_id)
    verified = attrs.evolve(customer, verified_at=at or crm.now())
    crm.replace(verified)
    return verified
