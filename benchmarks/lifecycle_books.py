"""Books for measuring ``crmcore lifecycle advance``: CDNOW at full size and generated ones.

Helpers a benchmark calls (nothing here times anything):

- :func:`write_cdnow_book` stores the CDNOW purchases of
  ``../shared/data/CDNOW_sample.txt`` (a 1/10 sample, 2,357 customers) ``copies``
  times under distinct customer ids, so ``copies=10`` is the size of the full
  CDNOW cohort (23,570 customers, 69,190 purchase lines);
- :func:`write_generated_book` stores ``customers`` customers with
  ``purchases`` purchases each at a per-customer rhythm, a complaint for one
  customer in twenty and satisfaction answers for one in five.

Both write stored records through the storage port's ``insert_many`` (bodies
as :func:`crmcore.unit_of_work.to_record` makes them, without an entity per
row) and return the date to advance as of.

Run: ``PYTHONPATH=src python benchmarks/lifecycle_books.py cdnow|generated PATH [N]``,
then ``crmcore lifecycle advance --db PATH --as-of DATE``.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crmcore.ports import StoredRecord
from crmcore_plugins.storage_sqlite import SqliteStorage

CDNOW_FILE = next(
    (folder / "shared" / "data" / "CDNOW_sample.txt" for folder in Path(__file__).resolve().parents
     if (folder / "shared" / "data" / "CDNOW_sample.txt").exists()),
    Path("/work/shared/data/CDNOW_sample.txt"))
"""The CDNOW sample, in the first ``shared/data`` above this file (a worktree sits deeper)."""
CDNOW_AS_OF = datetime(1998, 6, 30, 23, 59, tzinfo=UTC)
GENERATED_AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 50_000

_PREFERENCES: dict[str, Any] = {
    "channels": [], "language": None, "time_zone": None, "quiet_hours": [],
    "contact_every_days": None, "best_weekdays": [], "religion": None, "celebrations": [],
    "do_not_contact": False}


def _customer(customer_id: str) -> StoredRecord:
    return StoredRecord("customer", customer_id, 1, customer_id, None, {
        "id": customer_id, "name": f"Customer {customer_id}", "kind": "organisation",
        "owner": None, "acquired_at": None, "parent_id": None, "attributes": {},
        "preferences": _PREFERENCES, "tags": []})


def _purchase(purchase_id: str, customer_id: str, at: datetime, amount: str) -> StoredRecord:
    return StoredRecord("transaction", purchase_id, 1, customer_id, at, {
        "id": purchase_id, "customer_id": customer_id, "occurred_at": at.isoformat(),
        "amount": amount, "quantity": 1, "cost": None, "reference": None})


def _complaint(ticket_id: str, customer_id: str, at: datetime,
               answered: datetime | None) -> StoredRecord:
    return StoredRecord("ticket", ticket_id, 1, customer_id, at, {
        "id": ticket_id, "customer_id": customer_id, "opened_at": at.isoformat(),
        "kind": "complaint", "category": "delivery", "priority": "normal", "status": "new",
        "owner": None, "subject": None,
        "first_response_at": None if answered is None else answered.isoformat(),
        "resolved_at": None if answered is None else answered.isoformat(), "problem_id": None})


def _answer(answer_id: str, customer_id: str, at: datetime, csat: int) -> StoredRecord:
    return StoredRecord("survey_response", answer_id, 1, customer_id, at, {
        "id": answer_id, "customer_id": customer_id, "answered_at": at.isoformat(),
        "survey": "csat", "csat": csat, "nps": None, "answers": {}, "comment": None})


def _store(path: str | Path, records: Iterable[StoredRecord]) -> int:
    storage = SqliteStorage(path)
    count = 0
    try:
        batch: list[StoredRecord] = []
        for record in records:
            batch.append(record)
            if len(batch) == BATCH:
                with storage.transaction() as session:
                    session.insert_many(batch)
                count, batch = count + len(batch), []
        with storage.transaction() as session:
            session.insert_many(batch)
        return count + len(batch)
    finally:
        storage.close()


def write_cdnow_book(path: str | Path, *, copies: int = 10,
                     source: Path = CDNOW_FILE) -> datetime:
    """Store the CDNOW sample ``copies`` times (ids ``k-<sample id>``); return its as-of."""
    lines = [line.split() for line in source.read_text(encoding="ascii").splitlines()
             if line.strip()]

    def records() -> Iterator[StoredRecord]:
        for copy in range(copies):
            seen: set[str] = set()
            for number, (_, sample_id, day, _, amount) in enumerate(lines):
                customer_id = f"{copy}-{sample_id}"
                if customer_id not in seen:
                    seen.add(customer_id)
                    yield _customer(customer_id)
                at = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
                yield _purchase(f"{copy}-P{number}", customer_id, at, amount)

    _store(path, records())
    return CDNOW_AS_OF


def write_generated_book(path: str | Path, customers: int, *, purchases: int = 10,
                         seed: int = 7) -> datetime:
    """Store a generated book of ``customers`` x ``purchases``; return its as-of."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=UTC)

    def records() -> Iterator[StoredRecord]:
        for number in range(customers):
            customer_id = f"C{number:07d}"
            yield _customer(customer_id)
            rhythm = rng.uniform(10, 90)
            at = start + timedelta(days=rng.uniform(0, 700))
            for k in range(purchases):
                yield _purchase(f"{customer_id}-{k}", customer_id, at,
                                f"{rng.randint(5, 500)}.{rng.randint(0, 99):02d}")
                at += timedelta(days=rhythm * rng.expovariate(1.0), hours=rng.uniform(0, 9))
            if number % 20 == 0:
                opened = at - timedelta(days=rng.uniform(0, 60))
                answered = None if number % 40 == 0 else opened + timedelta(hours=80)
                yield _complaint(f"{customer_id}-K", customer_id, opened, answered)
            if number % 5 == 0:
                for k in range(3):
                    yield _answer(f"{customer_id}-S{k}", customer_id,
                                  start + timedelta(days=200 + 150 * k + number % 97),
                                  rng.choice((3, 4, 5, 5)))

    _store(path, records())
    return GENERATED_AS_OF


if __name__ == "__main__":
    kind, target = sys.argv[1], sys.argv[2]
    if kind == "cdnow":
        as_of = write_cdnow_book(target)
    else:
        as_of = write_generated_book(target, int(sys.argv[3]))
    print(as_of.date().isoformat())
