"""Small Odoo- and ERPNext-shaped books, written into a real database with SQLAlchemy.

The tables carry the real ERPs' table and column names (Odoo: ``res_partner``,
``sale_order``, ``account_move``, ``res_currency_rate``...; ERPNext:
``tabCustomer``, ``tabSales Invoice``, ``tabAddress``) and rows chosen so that
every rule of the shipped mappings shows: a child contact's orders, drafts
and cancelled documents, credit notes (linked and not, partial and in full),
foreign currencies and their rate dates. The expected purchases are written
out by hand beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

EUR, USD, GBP = 1, 2, 3

ODOO_COMPANIES = [(1, "YourCompany", EUR, None, "1/")]  # id, name, currency, parent, path
ODOO_RATES = [  # id, name (date), rate (units per EUR), currency_id, company_id
    (1, date(2023, 1, 1), "1.000000", EUR, 1),
    (2, date(2024, 1, 1), "1.100000", USD, 1),
    (3, date(2024, 2, 1), "1.250000", USD, 1),
    (4, date(2024, 3, 1), "0.800000", GBP, 1),
]
ODOO_PARTNERS = [
    # id, name, parent_id, commercial_partner_id, is_company, country_id, customer_rank, active
    (1, "Azure Interior", None, 1, True, 21, 2, True),
    (2, "Brandon Freeman", 1, 1, False, 21, 0, True),      # a contact of Azure Interior
    (3, "Deco Addict", None, 3, True, 75, 2, True),
    (4, "Addison Olson", 3, 3, False, 75, 0, True),         # a contact of Deco Addict
    (5, "Colleen Diaz", None, 5, False, 233, 1, True),
    (6, "Lumber Inc", None, 6, True, 233, 1, True),         # a customer who bought nothing
]
ODOO_COUNTRIES = [(21, "BE", "Belgium"), (75, "FR", "France"), (233, "US", "United States")]
ODOO_ORDERS = [  # id, name, partner_id, date_order, amount_total, currency_id, company_id, state
    (1, "S00001", 1, datetime(2024, 1, 10, 9, 0), "100.00", EUR, 1, "sale"),
    (2, "S00002", 2, datetime(2024, 1, 20, 14, 30), "50.00", EUR, 1, "done"),
    (3, "S00003", 2, datetime(2024, 1, 25, 8, 0), "999.00", EUR, 1, "draft"),
    (4, "S00004", 1, datetime(2024, 1, 26, 8, 0), "999.00", EUR, 1, "cancel"),
    (5, "S00005", 3, datetime(2024, 1, 15, 10, 0), "110.00", USD, 1, "sale"),
    (6, "S00006", 4, datetime(2024, 2, 10, 11, 0), "125.00", USD, 1, "sale"),
    (7, "S00007", 5, datetime(2024, 2, 5, 12, 0), "80.00", EUR, 1, "sent"),
    (8, "S00008", 5, datetime(2024, 2, 6, 12, 0), "200.00", EUR, 1, "sale"),
    (9, "S00009", 5, datetime(2024, 3, 5, 16, 0), "40.00", GBP, 1, "sale"),
]
ODOO_MOVES = [  # id, name, move_type, state, partner_id, invoice_date, amount_total, currency_id
    (1, "RINV/2024/00001", "out_refund", "posted", 2, date(2024, 1, 22), "20.00", EUR),
    (2, "RINV/2024/00002", "out_refund", "draft", 5, date(2024, 2, 6), "200.00", EUR),
    (3, "INV/2024/00001", "out_invoice", "posted", 5, date(2024, 2, 6), "200.00", EUR),
    (4, "RINV/2024/00003", "out_refund", "posted", 5, date(2024, 2, 7), "200.00", EUR),
    (5, "RINV/2024/00004", "out_refund", "posted", 3, date(2024, 2, 15), "55.00", USD),
    (6, "RINV/2024/00005", "out_refund", "cancel", 1, date(2024, 1, 12), "100.00", EUR),
]
ODOO_EXPECTED = sorted([
    ("1", datetime(2024, 1, 10, 9, 0), 10000),     # order 1
    ("1", datetime(2024, 1, 20, 14, 30), 3000),    # order 2 by a contact, less refund 1
    ("3", datetime(2024, 1, 15, 10, 0), 10000),    # 110 USD at 1.10
    ("3", datetime(2024, 2, 10, 11, 0), 5600),     # 125 USD at 1.25, less 55 USD at 1.25
    ("5", datetime(2024, 3, 5, 16, 0), 5000),      # 40 GBP at 0.80; order 8 refunded in full
])
"""``(customer_id, at, amount_cents)`` the Odoo mapping must yield, sorted."""

ERPNEXT_CUSTOMERS = [
    # name, customer_name, territory, customer_group, primary address, customer_type, disabled
    ("Grant Plastics Ltd.", "Grant Plastics Ltd.", "India", "Commercial", "Grant-Billing",
     "Company", 0),
    ("Palmer Productions", "Palmer Productions Ltd.", "United States", "Commercial", None,
     "Company", 0),
    ("Nordic Traders AB", "Nordic Traders AB", "Sweden", "Distributor", "Nordic-Billing",
     "Company", 0),
]
ERPNEXT_ADDRESSES = [("Grant-Billing", "India"), ("Nordic-Billing", "Sweden")]
ERPNEXT_INVOICES = [
    # name, customer, posting_date, currency, conversion_rate, grand_total, base_grand_total,
    # docstatus, is_return, return_against
    ("SINV-0001", "Grant Plastics Ltd.", date(2024, 1, 2), "INR", "1", "11800", "11800",
     1, 0, None),
    ("SINV-0002", "Grant Plastics Ltd.", date(2024, 1, 15), "INR", "1", "5900", "5900",
     2, 0, None),                                                            # cancelled
    ("SINV-0003", "Palmer Productions", date(2024, 1, 20), "USD", "83.2", "250", "20800",
     1, 0, None),
    ("SINV-0004", "Palmer Productions", date(2024, 1, 25), "USD", "83.4", "-50", "-4170",
     1, 1, "SINV-0003"),                                                     # a return
    ("SINV-0005", "Nordic Traders AB", date(2024, 2, 1), "SEK", "7.95", "1000", "7950",
     1, 0, None),
    ("SINV-0006", "Nordic Traders AB", date(2024, 2, 3), "SEK", "7.9", "500", "3950",
     0, 0, None),                                                            # a draft
    ("SINV-0007", "Nordic Traders AB", date(2024, 2, 10), "SEK", "8.0", "2000", "16000",
     1, 0, None),
    ("SINV-0008", "Nordic Traders AB", date(2024, 2, 12), "SEK", "8.0", "-2000", "-16000",
     1, 1, "SINV-0007"),                                                     # returned whole
    ("SINV-0009", "Grant Plastics Ltd.", date(2024, 2, 20), "INR", "1", "-800", "-800",
     1, 1, ""),                                           # a return naming no invoice
]
ERPNEXT_EXPECTED = sorted([
    ("Grant Plastics Ltd.", datetime(2024, 1, 2), 1100000),   # less the unlinked return
    ("Palmer Productions", datetime(2024, 1, 20), 1663000),   # 20800 - 4170
    ("Nordic Traders AB", datetime(2024, 2, 1), 795000),
])
"""``(customer_id, at, amount_cents)`` the ERPNext mapping must yield, sorted."""


def odoo_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The Odoo tables (only the columns the mapping reads, and a few it must ignore)."""
    return {
        "res_company": sa.Table(
            "res_company", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("currency_id", sa.Integer),
            sa.Column("parent_id", sa.Integer), sa.Column("parent_path", sa.String(64))),
        "res_currency_rate": sa.Table(
            "res_currency_rate", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.Date, nullable=False),
            sa.Column("rate", sa.Numeric(18, 6)), sa.Column("currency_id", sa.Integer),
            sa.Column("company_id", sa.Integer)),
        "res_partner": sa.Table(
            "res_partner", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("parent_id", sa.Integer),
            sa.Column("commercial_partner_id", sa.Integer), sa.Column("is_company", sa.Boolean),
            sa.Column("country_id", sa.Integer), sa.Column("customer_rank", sa.Integer),
            sa.Column("active", sa.Boolean), sa.Column("create_date", sa.DateTime),
            sa.Column("lang", sa.String(16)), sa.Column("tz", sa.String(64)),
            sa.Column("email", sa.String(64)), sa.Column("phone", sa.String(32))),
        "res_country": sa.Table(
            "res_country", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(2)), sa.Column("name", sa.String(64))),
        "sale_order": sa.Table(
            "sale_order", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("partner_id", sa.Integer),
            sa.Column("date_order", sa.DateTime), sa.Column("amount_total", sa.Numeric(12, 2)),
            sa.Column("currency_id", sa.Integer), sa.Column("company_id", sa.Integer),
            sa.Column("state", sa.String(16))),
        "account_move": sa.Table(
            "account_move", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("move_type", sa.String(16)),
            sa.Column("state", sa.String(16)), sa.Column("partner_id", sa.Integer),
            sa.Column("invoice_date", sa.Date), sa.Column("amount_total", sa.Numeric(12, 2)),
            sa.Column("currency_id", sa.Integer), sa.Column("company_id", sa.Integer)),
    }


def erpnext_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The ERPNext tables (Frappe's ``tab`` names, with spaces)."""
    name = sa.String(140)
    return {
        "tabCustomer": sa.Table(
            "tabCustomer", metadata, sa.Column("name", name, primary_key=True),
            sa.Column("customer_name", name), sa.Column("territory", name),
            sa.Column("customer_group", name), sa.Column("customer_primary_address", name),
            sa.Column("customer_type", name), sa.Column("disabled", sa.SmallInteger),
            sa.Column("creation", sa.DateTime)),
        "tabAddress": sa.Table(
            "tabAddress", metadata, sa.Column("name", name, primary_key=True),
            sa.Column("country", name)),
        "tabSales Invoice": sa.Table(
            "tabSales Invoice", metadata, sa.Column("name", name, primary_key=True),
            sa.Column("customer", name), sa.Column("posting_date", sa.Date),
            sa.Column("currency", name), sa.Column("conversion_rate", sa.Numeric(21, 9)),
            sa.Column("grand_total", sa.Numeric(21, 9)),
            sa.Column("base_grand_total", sa.Numeric(21, 9)),
            sa.Column("docstatus", sa.SmallInteger), sa.Column("is_return", sa.SmallInteger),
            sa.Column("return_against", name)),
    }


def _rows(table: sa.Table, rows: Sequence[tuple[object, ...]]) -> list[dict[str, object]]:
    """Rows as dicts of the leading columns (the columns after them stay NULL)."""
    return [dict(zip(table.c.keys(), row, strict=False)) for row in rows]


def write_books(engine: sa.Engine, schema: str | None = None) -> None:
    """Create and fill both books' tables (in ``schema`` when given)."""
    metadata = sa.MetaData(schema=schema)
    odoo, erpnext = odoo_tables(metadata), erpnext_tables(metadata)
    data: dict[str, Sequence[tuple[object, ...]]] = {
        "res_company": ODOO_COMPANIES, "res_currency_rate": ODOO_RATES,
        "res_partner": ODOO_PARTNERS, "res_country": ODOO_COUNTRIES,
        "sale_order": ODOO_ORDERS,
        "account_move": [(*row, 1) for row in ODOO_MOVES],
        "tabCustomer": ERPNEXT_CUSTOMERS, "tabAddress": ERPNEXT_ADDRESSES,
        "tabSales Invoice": ERPNEXT_INVOICES,
    }
    with engine.begin() as connection:
        metadata.create_all(connection)
        for name, table in {**odoo, **erpnext}.items():
            connection.execute(sa.insert(table), _rows(table, data[name]))


def odoo_book_with(url: str, extra: Sequence[tuple[str, Sequence[tuple[object, ...]]]]) -> None:
    """Write the Odoo book at ``url`` and then ``extra``: (table name, rows) added to it."""
    engine = sa.create_engine(url)
    write_books(engine)
    tables = odoo_tables(sa.MetaData())
    with engine.begin() as connection:
        for name, rows in extra:
            table = tables[name]
            connection.execute(sa.insert(table),
                               [dict(zip(table.c.keys(), row, strict=False)) for row in rows])
    engine.dispose()


def engine_book_url(request: pytest.FixtureRequest, tmp_path: Path,
                    extra: Sequence[tuple[str, Sequence[tuple[object, ...]]]]) -> str:
    """A fresh database of the engine ``request.param`` names (``sqlite`` or
    ``postgresql``) holding the Odoo book and ``extra``; its URL."""
    url = (f"sqlite:///{tmp_path / 'odoo.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_database"))
    odoo_book_with(url, extra)
    return url


def shipped_mapping_text(name: str) -> str:
    """A shipped mapping's TOML text (``odoo``, ``erpnext``), to edit in a test."""
    from importlib import resources

    return resources.files("crmcore_plugins.erp").joinpath("mappings", f"{name}.toml") \
        .read_text(encoding="utf-8")


def odoo_source_rows(url: str) -> list[tuple[str, datetime, int]]:
    """The purchases ``ErpSource`` reads row by row through the shipped Odoo mapping:
    (customer, naive time, cents), sorted."""
    from crmcore_plugins.erp import ErpSource

    with ErpSource.from_toml("odoo", url) as source:
        return sorted((t.customer_id, t.occurred_at.replace(tzinfo=None), int(t.amount * 100))
                      for t in source.transactions())
