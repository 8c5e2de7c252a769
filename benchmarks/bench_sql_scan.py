"""Benchmark the columnar read and the batch writes of the ``sql`` storage backend.

Stores N transaction records (default 200,000) in a fresh database and reports
rows per second for:

* ``insert_many``: the port's set-based insert (``COPY`` on PostgreSQL,
  ``executemany`` on SQLite), one transaction;
* ``scan (engine)``: :meth:`SqlSession.scan
  <crmcore_plugins.storage_sql.SqlSession.scan>` of customer id, time
  (instant) and amount (decimal), typed in the database;
* ``scan (decode)``: the reference path a 0.1 backend takes, ``query`` then
  :func:`crmcore.columns.records_as_columns` (every body decoded);
* ``plain SQL``: the same three values selected untyped through the driver
  (``fetchall``), what a user would write by hand;
* ``get_many`` / ``update_many`` / ``delete_many`` of a tenth of the records.

Run: ``python benchmarks/bench_sql_scan.py [--rows N] [--url URL] [--smoke]``.
Without ``--url`` a SQLite file in a temporary folder is used; with a
PostgreSQL URL the tables go into a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from crmcore.columns import records_as_columns
from crmcore.ports import ColumnType, StoredRecord
from crmcore_plugins.storage_sql import SqlStorage

START = datetime(2020, 1, 1, tzinfo=UTC)
COLUMNS: dict[str, ColumnType] = {"customer_id": "text", "at": "instant", "amount": "decimal"}


def records(count: int) -> list[StoredRecord]:
    """``count`` purchase records for ``count // 100`` customers."""
    customers = max(1, count // 100)
    return [StoredRecord(
        "transaction", f"t{n:08d}", 1, f"c{(n * 7919) % customers:06d}",
        START + timedelta(seconds=n * 97),
        {"id": f"t{n:08d}", "amount": f"{(n * 1543) % 100_000 / 100:.2f}", "currency": "CNY",
         "items": [{"sku": f"s{n % 50}", "quantity": 1 + n % 3}]},
    ) for n in range(count)]


def _timed(label: str, rows: int, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<22} {rows:>9,} rows {seconds:8.3f} s {rows / seconds:>12,.0f} rows/s")
    return result


def run(storage: SqlStorage, count: int) -> None:
    """Time each operation on ``storage`` with ``count`` records."""
    stored = records(count)
    tenth = stored[::10]

    def insert() -> None:
        with storage.transaction() as session:
            session.insert_many(stored)

    def scan() -> int:
        with storage.transaction() as session:
            return sum(len(chunk["at"]) for chunk in session.scan("transaction", COLUMNS))

    def decode() -> int:
        with storage.transaction() as session:
            return sum(len(chunk["at"]) for chunk in records_as_columns(
                session.query("transaction"), COLUMNS, 65_536))

    amount = "body ->> 'amount'" if storage.engine.dialect.name == "postgresql" else \
        "json_extract(body, '$.amount')"
    name = "crmcore_records" if storage.schema is None else f'"{storage.schema}".crmcore_records'

    def plain() -> int:
        with storage.engine.connect() as connection:
            return len(connection.exec_driver_sql(
                f"SELECT customer_id, at, {amount} FROM {name} "
                "WHERE kind = 'transaction'").fetchall())

    def get_many() -> int:
        with storage.transaction() as session:
            return len(session.get_many("transaction", [r.id for r in tenth]))

    def update_many() -> None:
        with storage.transaction() as session:
            session.update_many([(attrs.evolve(r, version=2), 1) for r in tenth])

    def delete_many() -> int:
        with storage.transaction() as session:
            return session.delete_many("transaction", [r.id for r in tenth])

    _timed("insert_many", count, insert)
    assert _timed("scan (engine)", count, scan) == count
    assert _timed("scan (decode)", count, decode) == count
    assert _timed("plain SQL", count, plain) == count
    assert _timed("get_many", len(tenth), get_many) == len(tenth)
    _timed("update_many", len(tenth), update_many)
    assert _timed("delete_many", len(tenth), delete_many) == len(tenth)


def main() -> None:
    """Parse the options, set up the database and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--url", help="a SQLAlchemy URL (default: a SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="a quick run with 2,000 rows")
    arguments = parser.parse_args()
    count = 2_000 if arguments.smoke else arguments.rows
    folder = Path(tempfile.mkdtemp(prefix="crmcore-bench-"))
    url = arguments.url or f"sqlite:///{folder / 'bench.db'}"
    schema = None if url.startswith("sqlite") else f"bench_{uuid.uuid4().hex[:8]}"
    storage = SqlStorage(url, schema=schema)
    print(f"{storage.url} ({count:,} records)")
    try:
        run(storage, count)
    finally:
        if schema is not None:
            with storage.engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        storage.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
