"""Benchmark ``erase_customer`` (K2) on a SQLite book whose outbox carries every entity.

Stores a demo book of N customers (default 2,000) with ``record_many``, so
the outbox holds one event per entity with its body (the worst case for
``redact_events``, which reads every event), then erases M customers
(default 20) one by one and reports seconds per erasure, beside the plain
SQL a user would write for the same deletions and event rewrite
(``DELETE ... WHERE customer_id = ?`` and ``UPDATE outbox ... WHERE
body ->> '$.customer_id' = ?`` through ``sqlite3``, without secure_delete,
tombstone or checkpoint).

Run: ``python benchmarks/bench_erasure.py [--customers N] [--erase M] [--smoke]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crmcore import CRM, FixedClock
from crmcore.demo.generator import generate_book
from crmcore.erasure import erase_customer

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def _book(path: Path, customers: int) -> tuple[int, int]:
    with CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF), auto_deliver=False) as crm:
        crm.record_many(generate_book(customers, seed=3).all())
    with sqlite3.connect(path) as db:
        counts = (db.execute("SELECT COUNT(*) FROM all_records").fetchone()[0],
                  db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
    db.close()
    return counts


def _crmcore(path: Path, ids: list[str]) -> list[float]:
    times = []
    with CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF), auto_deliver=False) as crm:
        for customer_id in ids:
            started = time.perf_counter()
            erase_customer(crm, customer_id, reason="benchmark", actor="bench")
            times.append(time.perf_counter() - started)
    return times


def _plain(path: Path, ids: list[str]) -> list[float]:
    times = []
    db = sqlite3.connect(path, isolation_level=None)
    tables = ["records", *(f'"{name}"' for (name,) in db.execute(
        "SELECT table_name FROM kind_tables"))]
    for customer_id in ids:
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for table in tables:
            db.execute(f"DELETE FROM {table} WHERE customer_id = ?", (customer_id,))
        db.execute("UPDATE outbox SET body = json_set(body, '$.data', json('{}')) "
                   "WHERE body ->> '$.customer_id' = ?", (customer_id,))
        db.execute("COMMIT")
        times.append(time.perf_counter() - started)
    db.close()
    return times


def main() -> None:
    """Run the benchmark and print one line per path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--erase", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI")
    arguments = parser.parse_args()
    customers, erase = (50, 3) if arguments.smoke else (arguments.customers, arguments.erase)
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "book.db"
        records, events = _book(book, customers)
        ids = [f"C{n:05d}" for n in range(1, erase + 1)]
        print(f"book: {customers:,} customers, {records:,} records, {events:,} outbox events")
        for label, run in (("crmcore erase_customer", _crmcore), ("plain sqlite3", _plain)):
            copy = Path(folder) / f"{label.split()[0]}.db"
            shutil.copy(book, copy)
            times = run(copy, ids)
            print(f"{label:24s} median {statistics.median(times) * 1000:8.1f} ms per customer, "
                  f"max {max(times) * 1000:8.1f} ms ({len(times)} erased)")


if __name__ == "__main__":
    main()
