"""Quickstart: record customers and purchases, read them back, watch the events.

Run with ``python examples/quickstart.py``; it works in a temporary folder.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from crmcore import (
    CRM,
    Channel,
    ContactPreferences,
    Customer,
    InvalidDataError,
    Transaction,
    ValidationError,
    structure,
)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "crm.db"
        with CRM.open("sqlite", path=str(database), notifiers=["log"]) as crm:
            crm.record(Customer(
                id="C1", name="Acme Ltd", owner="li.wei",
                attributes={"annual_turnover": 60_000_000, "reputation": "high"},
                preferences=ContactPreferences(channels=[Channel.EMAIL, Channel.PHONE],
                                               language="zh-CN", time_zone="Asia/Shanghai"),
            ))
            crm.record_many([
                Transaction(id=f"T{day}", customer_id="C1", amount=Decimal("1200.00"),
                            occurred_at=datetime(2026, 3, day, 10, tzinfo=UTC))
                for day in (1, 15, 29)
            ])
            total = sum(t.amount for t in crm.find(Transaction, customer_id="C1"))
            print(f"C1 bought {crm.count(Transaction)} times for {total}")

            try:  # bad data from a host system: a readable error, nothing stored
                structure({"id": "C2", "name": "Beta",
                           "preferences": {"time_zone": "Mars/Base"}}, Customer)
            except InvalidDataError as error:
                print(f"rejected: {error}")
            try:
                Transaction(id="T9", customer_id="C1", amount=Decimal("-5"),
                            occurred_at=datetime(2026, 3, 1, tzinfo=UTC))
            except ValidationError as error:
                print(f"rejected: {error}")
            print(f"events in the outbox: {[e.event.type for e in crm.events()]}")


if __name__ == "__main__":
    main()
