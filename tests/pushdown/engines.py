"""Put purchases into an engine: the helpers the pushdown tests share."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa  # type: ignore[import-untyped]

ENGINES = ("duckdb", "sqlite")
"""The embedded engines every property runs on."""


def naive_utc(moments: Sequence[datetime]) -> list[datetime]:
    """Aware times as naive UTC (the purchases contract of the pushdown metrics)."""
    return [moment.astimezone(UTC).replace(tzinfo=None) for moment in moments]


def purchase_table(customer_id: Sequence[str], at: Sequence[datetime],
                   amount_cents: Sequence[int], cost_cents: Sequence[int | None] | None = None
                   ) -> pa.Table:
    """An Arrow table in the purchases shape (times naive UTC, microseconds)."""
    columns: dict[str, Any] = {
        "customer_id": pa.array(list(customer_id), pa.string()),
        "at": pa.array(naive_utc(at), pa.timestamp("us")),
        "amount_cents": pa.array(list(amount_cents), pa.int64()),
    }
    if cost_cents is not None:
        columns["cost_cents"] = pa.array(list(cost_cents), pa.int64())
    return pa.table(columns)


def customer_table(ids: Sequence[str], acquired: Sequence[datetime | None]) -> pa.Table:
    """An Arrow table in the customers shape."""
    return pa.table({
        "customer_id": pa.array(list(ids), pa.string()),
        "acquired_at": pa.array([None if a is None else naive_utc([a])[0] for a in acquired],
                                pa.timestamp("us")),
    })


def connect(engine: str) -> Any:
    """A fresh in-memory backend of ``engine``."""
    return ibis.duckdb.connect() if engine == "duckdb" else ibis.sqlite.connect()


_SQLITE_TYPES = {pa.string(): "TEXT", pa.int64(): "INTEGER", pa.timestamp("us"): "TIMESTAMP"}


def load(backend: Any, table: pa.Table) -> Any:
    """``table`` stored in ``backend`` under a fresh name, as an Ibis table.

    SQLite gets a typed ``CREATE TABLE`` and its rows through the driver
    (Ibis' own insert cannot bind a missing timestamp there).
    """
    name = f"t_{uuid.uuid4().hex[:10]}"
    if backend.name != "sqlite":
        return backend.create_table(name, table)
    columns = ", ".join(f'"{field.name}" {_SQLITE_TYPES[field.type]}' for field in table.schema)
    backend.con.execute(f'CREATE TABLE "{name}" ({columns})')
    marks = ", ".join("?" * table.num_columns)
    rows = [tuple(value.isoformat(" ") if isinstance(value, datetime) else value
                  for value in row.values()) for row in table.to_pylist()]
    backend.con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
    return backend.table(name)
