"""The same grade for every CDNOW customer on DuckDB (Parquet, CSV), SQLite and PostgreSQL.

The embedded path grades the whole CDNOW history from columns
(:mod:`tests.pushdown.cdnow_grades`); the pushdown path reads the same
purchases through a mapping where they are stored, computes the metrics in
the engine and grades the one row per customer it returns. PostgreSQL holds
them in Odoo's shape (``res_partner`` and ``sale_order``) and is read through
the shipped ``odoo`` mapping; the PostgreSQL server is the one tests/sql
starts.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from crmcore_plugins.erp.mapping import mapping_from_dict
from crmcore_plugins.pushdown.sources import MappedSource, SourceSpec, connect

from .cdnow_grades import AS_OF, assert_same_grades, assert_same_ranks_in_engine
from .conftest import Purchases
from .engines import naive_utc

GENERIC = {
    "name": "files",
    "customers": {"table": "customers", "columns": {"id": "id", "name": "name"}},
    "transactions": {"table": "purchases",
                     "columns": {"id": "id", "customer_id": "customer_id",
                                 "occurred_at": "at", "amount": "amount"}},
}
"""A generic mapping: a customers table and a purchases table."""


def _tables(cdnow: Purchases) -> tuple[pa.Table, pa.Table]:
    customers = sorted(set(cdnow.customer_id))
    purchases = pa.table({
        "id": pa.array(range(len(cdnow.at)), pa.int64()),
        "customer_id": pa.array(cdnow.customer_id, pa.string()),
        "at": pa.array(naive_utc(cdnow.at), pa.timestamp("us")),
        "amount": pa.array([Decimal(a) for a in cdnow.amount], pa.decimal128(12, 2)),
    })
    people = pa.table({"id": pa.array(customers, pa.string()),
                       "name": pa.array([f"customer {c}" for c in customers], pa.string())})
    return people, purchases


def _source(backend: Any) -> MappedSource:
    return MappedSource(backend, mapping_from_dict(GENERIC))


def _check_every_scheme(cdnow: Purchases, source: MappedSource) -> None:
    purchases = source.purchases()
    for as_of in AS_OF:
        assert_same_grades(cdnow, purchases, as_of)
        assert_same_ranks_in_engine(cdnow, purchases, as_of)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_duckdb_over_files_grades_every_cdnow_customer_as_embedded(
        cdnow: Purchases, tmp_path: Path, suffix: str) -> None:
    """G1, G5, RFM and G2 grades from DuckDB reading Parquet or CSV files in a folder."""
    for name, table in zip(("customers", "purchases"), _tables(cdnow), strict=True):
        if suffix == ".parquet":
            pq.write_table(table, tmp_path / f"{name}.parquet")
        else:
            pyarrow.csv.write_csv(table, tmp_path / f"{name}.csv")
    source = _source(connect(str(tmp_path)))
    assert source.backend.name == "duckdb"
    _check_every_scheme(cdnow, source)


@pytest.mark.slow
def test_sqlite_file_grades_every_cdnow_customer_as_embedded(
        cdnow: Purchases, tmp_path: Path) -> None:
    """The same grades computed inside a SQLite database file."""
    path = tmp_path / "erp.db"
    people, purchases = _tables(cdnow)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT)")
        connection.execute("CREATE TABLE purchases (id INTEGER PRIMARY KEY, customer_id TEXT, "
                           "at TIMESTAMP, amount NUMERIC)")
        connection.executemany("INSERT INTO customers VALUES (?, ?)",
                               [tuple(row.values()) for row in people.to_pylist()])
        connection.executemany(
            "INSERT INTO purchases VALUES (?, ?, ?, ?)",
            [(row["id"], row["customer_id"], row["at"].isoformat(" "), str(row["amount"]))
             for row in purchases.to_pylist()])
    _check_every_scheme(cdnow, _source(connect(f"sqlite:///{path}")))


ODOO_TABLES = """
CREATE TABLE res_partner (
    id integer PRIMARY KEY, name text NOT NULL, customer_rank integer, active boolean,
    is_company boolean, create_date timestamp, lang text, tz text, email text, phone text,
    commercial_partner_id integer);
CREATE TABLE sale_order (
    id integer PRIMARY KEY, name text, partner_id integer REFERENCES res_partner (id),
    date_order timestamp NOT NULL, amount_total numeric(12, 2), state text,
    currency_id integer, company_id integer);
CREATE TABLE res_company (
    id integer PRIMARY KEY, name text, currency_id integer, parent_path text);
CREATE TABLE res_currency_rate (
    id integer PRIMARY KEY, name date NOT NULL, rate numeric, currency_id integer,
    company_id integer);
CREATE TABLE account_move (
    id integer PRIMARY KEY, name text, move_type text, state text, partner_id integer,
    invoice_date date, amount_total numeric(12, 2), currency_id integer, company_id integer);
INSERT INTO res_company VALUES (1, 'CDNOW', 1, '1/');
INSERT INTO account_move VALUES (1, 'RINV/1', 'out_refund', 'draft', 1, '1998-01-01', 10, 1, 1);
"""


def _load_odoo(url: str, cdnow: Purchases) -> None:
    """CDNOW as Odoo's partners and sale orders, plus a draft and a cancelled order and a
    draft credit note."""
    import sqlalchemy as sa

    customers = sorted(set(cdnow.customer_id))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in ODOO_TABLES.split(";"):
            if statement.strip():
                connection.execute(sa.text(statement))
        connection.execute(
            sa.text("INSERT INTO res_partner (id, name, customer_rank, active, is_company, "
                    "commercial_partner_id) VALUES (:id, :name, 1, true, false, :id)"),
            [{"id": int(c), "name": f"customer {c}"} for c in customers])
        orders = [{"id": n, "name": f"S{n:05d}", "partner_id": int(c),
                   "date_order": naive_utc([at])[0], "amount_total": Decimal(amount),
                   "state": "sale"}
                  for n, (c, at, amount) in enumerate(
                      zip(cdnow.customer_id, cdnow.at, cdnow.amount, strict=True), start=1)]
        ignored = [dict(orders[0], id=len(orders) + 1, state="draft", amount_total=999999),
                   dict(orders[1], id=len(orders) + 2, state="cancel", amount_total=999999)]
        connection.execute(
            sa.text("INSERT INTO sale_order (id, name, partner_id, date_order, amount_total, "
                    "state, currency_id, company_id) VALUES (:id, :name, :partner_id, "
                    ":date_order, :amount_total, :state, 1, 1)"), orders + ignored)
    engine.dispose()


@pytest.mark.slow
def test_postgresql_in_odoo_shape_grades_every_cdnow_customer_as_embedded(
        cdnow: Purchases, pg_database: str) -> None:
    """Odoo on PostgreSQL through the shipped mapping: draft and cancelled orders and draft
    credit notes never count."""
    _load_odoo(pg_database, cdnow)
    source = SourceSpec("odoo", pg_database).open()
    assert source.backend.name == "postgres"
    as_partners = attrs.evolve(cdnow, customer_id=tuple(str(int(c)) for c in cdnow.customer_id))
    _check_every_scheme(as_partners, source)
