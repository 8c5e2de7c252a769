"""Benchmark bulk loading of transactions through the ``sql`` storage backend.

Loads N generated transactions (default 1,000,000) for N/100 customers into a
fresh database three ways and reports rows per second:

* ``crmcore bulk_insert``: :meth:`SqlStorage.bulk_insert
  <crmcore_plugins.storage_sql.SqlStorage.bulk_insert>` (entity -> stored
  record conversion included; batches of ``executemany`` (SQLite) or
  ``COPY`` (PostgreSQL) with one look-up of already stored ids per batch,
  all in one transaction);
* ``crmcore CRM.import_entities``: the row-by-row application path (checks
  each transaction's customer, skips identical repeats, writes one import
  event), on the first ``--import-rows`` transactions only, since it makes
  two round trips per row;
* ``pandas to_sql``: what a user would otherwise do, ``DataFrame.to_sql`` of
  the same rows (id, customer id, time, amount) with pandas' default
  ``executemany`` in chunks, timed without building the DataFrame (skipped
  when pandas is not installed).

Run: ``python benchmarks/bench_sql_bulk_load.py [--rows N] [--url URL] [--smoke]``.
Without ``--url`` a SQLite file in a temporary folder is used; with a
PostgreSQL URL the tables go into a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crmcore import CRM, Customer, Transaction
from crmcore.unit_of_work import to_record
from crmcore_plugins.storage_sql import SqlStorage

START = datetime(2020, 1, 1, tzinfo=UTC)


def customers(count: int) -> Iterator[Customer]:
    """``count`` customers ``c000000``, ``c000001``..."""
    for number in range(count):
        yield Customer(id=f"c{number:06d}", name=f"Customer {number}",
                       acquired_at=START + timedelta(hours=number))


def transactions(count: int, customer_count: int) -> Iterator[Transaction]:
    """``count`` purchases spread over the customers and about three years."""
    for number in range(count):
        yield Transaction(
            id=f"t{number:08d}", customer_id=f"c{(number * 7919) % customer_count:06d}",
            occurred_at=START + timedelta(seconds=number * 97),
            amount=Decimal((number * 1543) % 100_000) / 100,
        )


class Target:
    """A fresh place per measurement: a schema on PostgreSQL, a file on SQLite."""

    def __init__(self, url: str | None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crmcore-bench-"))
        self.url = url
        self.schemas: list[str] = []
        self.engine = sa.create_engine(url) if url else None

    def fresh(self) -> dict[str, Any]:
        """Storage options for an empty database."""
        if self.url is None:
            return {"url": f"sqlite:///{self.folder / f'{uuid.uuid4().hex}.db'}"}
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.schemas.append(schema)
        return {"url": self.url, "schema": schema}

    def close(self) -> None:
        if self.engine is not None:
            with self.engine.begin() as connection:
                for schema in self.schemas:
                    connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def _rate(label: str, rows: int, seconds: float) -> float:
    rate = rows / seconds
    print(f"{label:32s} {rows:>10,d} rows in {seconds:8.2f} s = {rate:>10,.0f} rows/s")
    return rate


def bench_bulk_insert(
    target: Target, purchases: list[Transaction], customer_count: int, batch: int
) -> float:
    options = target.fresh()
    storage = SqlStorage(options["url"], schema=options.get("schema"))
    try:
        storage.bulk_insert((to_record(c) for c in customers(customer_count)), batch_size=batch)
        began = time.perf_counter()
        new = storage.bulk_insert((to_record(t) for t in purchases), batch_size=batch)
        seconds = time.perf_counter() - began
        with storage.transaction() as session:
            assert new == len(purchases) == session.count("transaction"), new
    finally:
        storage.close()
    return _rate("crmcore bulk_insert", len(purchases), seconds)


def bench_import_entities(target: Target, rows: int, customer_count: int) -> float:
    options = target.fresh()
    with CRM.open("sql", **options) as crm:
        crm.import_entities(customers(customer_count), source="bench-customers")
        began = time.perf_counter()
        report = crm.import_entities(transactions(rows, customer_count), source="bench")
        seconds = time.perf_counter() - began
        assert report.new["transaction"] == rows
    return _rate("crmcore CRM.import_entities", rows, seconds)


def bench_pandas(target: Target, purchases: list[Transaction], batch: int) -> float | None:
    try:
        import pandas as pd
    except ImportError:
        print("pandas to_sql: skipped (pandas is not installed)")
        return None
    began = time.perf_counter()
    frame = pd.DataFrame(
        [(t.id, t.customer_id, t.occurred_at, float(t.amount)) for t in purchases],
        columns=["id", "customer_id", "occurred_at", "amount"],
    )
    print(f"{'(building the DataFrame)':32s} {len(purchases):>10,d} rows in "
          f"{time.perf_counter() - began:8.2f} s, not counted below")
    options = target.fresh()
    engine = sa.create_engine(options["url"])
    schema = options.get("schema")
    try:
        if schema is not None:
            with engine.begin() as connection:
                connection.execute(sa.schema.CreateSchema(schema))
        began = time.perf_counter()
        frame.to_sql("pandas_transactions", engine, schema=schema, index=False,
                     chunksize=batch)
        seconds = time.perf_counter() - began
    finally:
        engine.dispose()
    return _rate("pandas DataFrame.to_sql", len(purchases), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--import-rows", type=int, default=20_000,
                        help="rows for the row-by-row CRM.import_entities comparison")
    parser.add_argument("--smoke", action="store_true", help="5,000 rows, for CI")
    arguments = parser.parse_args()
    rows = 5000 if arguments.smoke else arguments.rows
    import_rows = min(rows, 2000 if arguments.smoke else arguments.import_rows)
    customer_count = max(1, rows // 100)
    target = Target(arguments.url)
    where = "SQLite file" if arguments.url is None else \
        sa.make_url(arguments.url).render_as_string(hide_password=True)
    print(f"bulk load of {rows:,d} transactions for {customer_count:,d} customers into {where}")
    purchases = list(transactions(rows, customer_count))  # made before any clock starts
    try:
        bulk = bench_bulk_insert(target, purchases, customer_count, arguments.batch_size)
        imported = bench_import_entities(target, import_rows, max(1, import_rows // 100))
        pandas = bench_pandas(target, purchases, arguments.batch_size)
    finally:
        target.close()
    print(f"bulk_insert / import_entities: {bulk / imported:5.1f}x")
    if pandas is not None:
        print(f"bulk_insert / pandas to_sql:   {bulk / pandas:5.1f}x")


if __name__ == "__main__":
    main()
