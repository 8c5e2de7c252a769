"""Money read from the engine becomes integer cents exactly as crmcore rounds it (half-even)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa  # type: ignore[import-untyped]

from crmcore.grading.columns import to_cents
from crmcore_plugins.pushdown.metrics import cents

AMOUNTS = ["0.005", "0.015", "0.025", "1.005", "2.675", "10.125", "-0.015", "7.1", "3.999"]


def test_decimal_amounts_round_half_even_like_the_embedded_path() -> None:
    backend = ibis.duckdb.connect()
    table = backend.create_table("money", pa.table({"amount": pa.array(
        [Decimal(a) for a in AMOUNTS], pa.decimal128(12, 3))}))
    found = table.select(cents=cents(table["amount"])).to_pyarrow().column("cents").to_pylist()
    assert found == [to_cents(Decimal(a)) for a in AMOUNTS]


def test_two_decimal_and_float_amounts_keep_their_cents() -> None:
    backend = ibis.duckdb.connect()
    values = ["29.33", "0.10", "14.96", "63.34", "1234567.89"]
    table = backend.create_table("money", pa.table({
        "exact": pa.array([Decimal(v) for v in values], pa.decimal128(12, 2)),
        "float": pa.array([float(v) for v in values], pa.float64())}))
    found = table.select(exact=cents(table["exact"]), float=cents(table["float"])).to_pyarrow()
    expected = [to_cents(Decimal(v)) for v in values]
    assert found.column("exact").to_pylist() == expected
    assert found.column("float").to_pylist() == expected


def test_a_declared_two_decimal_column_stored_as_float_keeps_its_cents(tmp_path: Path) -> None:
    """SQLite keeps NUMERIC(10,2) as REAL: 0.29 is 0.28999..., which a cast made 28 cents."""
    path = tmp_path / "money.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE money (amount NUMERIC(10, 2))")
        connection.executemany("INSERT INTO money VALUES (?)",
                               [(float(v),) for v in ("0.29", "0.57", "1.15", "4.35", "8.2")])
    table = ibis.sqlite.connect(str(path)).table("money")
    assert table["amount"].type().is_decimal()
    found = table.select(cents=cents(table["amount"])).to_pyarrow().column("cents").to_pylist()
    assert found == [29, 57, 115, 435, 820]
