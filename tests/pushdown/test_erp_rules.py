"""The shipped Odoo and ERPNext mappings follow the ERPs' rules inside SQLite, PostgreSQL
and MariaDB: child contacts roll up, foreign currencies convert at the rate of the
document's date, credit notes net out, drafts and cancelled documents never count.

Each engine holds the same small books (:mod:`tests.pushdown.erp_books`) in
real tables; the purchases are computed in the engine by one Ibis expression.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from crmcore import ConfigError, ValidationError
from crmcore_plugins.erp import ErpSource, erp_purchases, load_mapping, parse_mapping
from crmcore_plugins.pushdown.sources import MappedSource

from .erp_book_engines import Books
from .erp_books import (
    ERPNEXT_CUSTOMERS,
    ERPNEXT_EXPECTED,
    GBP,
    ODOO_EXPECTED,
    ODOO_PARTNERS,
    USD,
    shipped_mapping_text,
)


def _rows(table: Any) -> list[tuple[str, datetime, int]]:
    found = table.to_pyarrow().to_pylist()
    return sorted((row["customer_id"], _naive(row["at"]), row["amount_cents"])
                  for row in found)


def _naive(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None)
    assert isinstance(moment, date)
    return datetime(moment.year, moment.month, moment.day)


def test_odoo_orders_follow_odoo_rules(books: Books) -> None:
    """Child contacts roll up to the commercial partner; USD and GBP orders convert at the
    rate valid on their date; posted credit notes net out (order 8 in full); drafts,
    quotations and cancelled orders and refunds never count."""
    purchases = erp_purchases(books.backend, load_mapping("odoo"), schema=books.schema)
    assert purchases.columns == ("customer_id", "at", "amount_cents")
    assert _rows(purchases) == ODOO_EXPECTED


def test_erpnext_invoices_follow_erpnext_rules(books: Books) -> None:
    """Submitted invoices only, at base_grand_total; returns net out of the invoice they
    name (SINV-0007 in full) or, naming none, of the customer's latest invoice."""
    purchases = erp_purchases(books.backend, load_mapping("erpnext"), schema=books.schema)
    assert _rows(purchases) == ERPNEXT_EXPECTED


def test_erpnext_document_rate_converts_like_base_grand_total(books: Books) -> None:
    """A mapping may convert with the document's own rate: grand_total x conversion_rate."""
    text = shipped_mapping_text("erpnext").replace(
        'amount = "base_grand_total"', 'amount = "grand_total"\nrate = "conversion_rate"')
    purchases = erp_purchases(books.backend, parse_mapping(text), schema=books.schema)
    assert _rows(purchases) == ERPNEXT_EXPECTED


def test_a_currency_without_a_rate_on_the_date_names_the_row(books: Books) -> None:
    """A given rate table replaces the ERP's; GBP has none there, so order 9 is named."""
    rates = books.backend.create_table(
        f"rates_{uuid.uuid4().hex[:8]}",
        pa.table({"currency": pa.array([USD, USD], pa.int64()),
                  "date": pa.array([date(2024, 1, 1), date(2024, 2, 1)], pa.date32()),
                  "rate": pa.array([1.1, 1.25], pa.float64())}), temp=True)
    with pytest.raises(ValidationError, match=r"sale_order\['9'\]\.currency: '3' has no rate "
                       r"on or before 2024-03-05 \(purchases\.orders\[0\]\)"):
        erp_purchases(books.backend, load_mapping("odoo"), schema=books.schema, rates=rates)
    assert GBP == 3


def test_a_given_rate_table_converts(books: Books) -> None:
    """With GBP in the given table at a different rate, order 9 converts at that rate."""
    rates = books.backend.create_table(
        f"rates_{uuid.uuid4().hex[:8]}",
        pa.table({"currency": pa.array([USD, USD, GBP], pa.int64()),
                  "date": pa.array([date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 5)],
                                   pa.date32()),
                  "rate": pa.array([1.1, 1.25, 0.5], pa.float64())}), temp=True)
    purchases = erp_purchases(books.backend, load_mapping("odoo"), schema=books.schema,
                              rates=rates)
    found = _rows(purchases)
    assert found[-1] == ("5", datetime(2024, 3, 5, 16, 0), 8000)
    assert found[:-1] == ODOO_EXPECTED[:-1]


@pytest.mark.parametrize(("old", "new", "message"), [
    ('table = "sale_order"', 'table = "sale_orders"',
     "purchases.orders[0].table: table 'sale_orders' does not exist"),
    ('amount = "amount_total"\ncurrency', 'amount = "amount_totl"\ncurrency',
     "purchases.orders[0].amount: column 'amount_totl' is not in table 'sale_order'"),
    ('column = "commercial_partner_id"', 'column = "commercial_id"',
     "purchases.roll_up.column: column 'commercial_id' is not in table 'res_partner'"),
    ('date = "name"', 'date = "day"',
     "purchases.rates.date: column 'day' is not in table 'res_currency_rate'"),
    ('{ column = "move_type"', '{ column = "type"',
     "purchases.credit_notes[0].where[0]: column 'type' is not in table 'account_move'"),
])
def test_a_mapping_naming_a_missing_table_or_column_names_the_key(
    books: Books, old: str, new: str, message: str
) -> None:
    rows, _, purchases = shipped_mapping_text("odoo").partition("[purchases]")
    assert old in purchases
    text = rows + "[purchases]" + purchases.replace(old, new, 1)
    with pytest.raises(ConfigError) as raised:
        erp_purchases(books.backend, parse_mapping(text), schema=books.schema)
    assert message in str(raised.value)


REGIONS = """
name = "erpnext-regions"
[customers]
table = "tabCustomer"
[customers.columns]
id = "name"
name = "customer_name"
[customers.attributes]
territory = "territory"
customer_group = "customer_group"
country = { via = "customer_primary_address", table = "tabAddress", key = "name", \
column = "country" }
[transactions]
table = "tabSales Invoice"
where = [{ column = "docstatus", op = "=", value = 1 }]
[transactions.columns]
id = "name"
customer_id = "customer"
occurred_at = "posting_date"
amount = "base_grand_total"
"""
REGIONS_EXPECTED = {
    "Grant Plastics Ltd.": {"territory": "India", "customer_group": "Commercial",
                            "country": "India"},
    "Nordic Traders AB": {"territory": "Sweden", "customer_group": "Distributor",
                          "country": "Sweden"},
    "Palmer Productions": {"territory": "United States", "customer_group": "Commercial"},
}


def test_attributes_from_another_table_in_the_engine(books: Books) -> None:
    """Territory and customer group from the customer, the country from its primary
    address (a customer without one keeps its row, without a country)."""
    mapping = attrs.evolve(parse_mapping(REGIONS), schema=books.schema)
    rows = MappedSource(books.backend, mapping).customers().to_pyarrow().to_pylist()
    found = {row.pop("customer_id"): {k: v for k, v in row.items() if v is not None}
             for row in rows}
    assert found == REGIONS_EXPECTED


def test_attributes_from_another_table_read_by_the_erp_source(books: Books) -> None:
    """The row-by-row reader joins the same table for the same attributes."""
    with ErpSource(parse_mapping(REGIONS), books.url, schema=books.schema) as source:
        found = {customer.id: dict(customer.attributes) for customer in source.customers()}
    assert found == REGIONS_EXPECTED


@pytest.mark.parametrize(("old", "new", "message"), [
    ('table = "tabAddress"', 'table = "tabAdres"',
     "customers.attributes.country.table: table 'tabAdres' does not exist"),
    ('column = "country" }', 'column = "land" }',
     "customers.attributes.country.column: column 'land' is not in table 'tabAddress'"),
    ('via = "customer_primary_address"', 'via = "address"',
     "customers.attributes.country.via: column 'address' is not in table 'tabCustomer'"),
])
def test_a_joined_attribute_naming_a_missing_table_or_column_names_the_key(
    books: Books, old: str, new: str, message: str
) -> None:
    mapping = attrs.evolve(parse_mapping(REGIONS.replace(old, new, 1)), schema=books.schema)
    with pytest.raises(ConfigError) as in_engine:
        MappedSource(books.backend, mapping).customers()
    assert message in str(in_engine.value)
    with pytest.raises(ConfigError) as row_by_row:
        ErpSource(mapping, books.url)
    assert message in str(row_by_row.value)


def _embedded_grades(purchases: list[tuple[str, datetime, int]], customers: list[str],
                     scheme: str, as_of: datetime) -> dict[str, str]:
    """The embedded path's grades of the expected purchases and customers."""
    from crmcore import Customer, Transaction
    from crmcore.grading import grade_book, load_scheme

    table = grade_book(
        load_scheme(scheme), as_of=as_of,
        transactions=[Transaction(id=f"T{n}", customer_id=c, occurred_at=at.replace(tzinfo=UTC),
                                  amount=Decimal(cents) / 100)
                      for n, (c, at, cents) in enumerate(purchases)],
        customers=[Customer(id=c, name=c) for c in customers])
    return dict(zip(table.ids, table.grade_list, strict=True))


@pytest.mark.parametrize("scheme", ["pareto-abc", "rfm"])
@pytest.mark.parametrize(("erp", "expected", "customers"), [
    ("odoo", ODOO_EXPECTED, [str(p[0]) for p in ODOO_PARTNERS if p[6] > 0]),
    ("erpnext", ERPNEXT_EXPECTED, [c[0] for c in ERPNEXT_CUSTOMERS]),
])
def test_crmcore_grade_erp_follows_the_erps_rules(
    books: Books, capsys: pytest.CaptureFixture[str], erp: str,
    expected: list[tuple[str, datetime, int]], customers: list[str], scheme: str
) -> None:
    """`crmcore grade --erp odoo|erpnext --url URL`: the grades of the purchases the ERP's
    rules make (rolled up, converted, netted), every mapped customer included."""
    from crmcore.cli import main

    as_of = datetime(2024, 4, 1, tzinfo=UTC)
    assert main(["grade", "--erp", erp, "--url", books.url, "--scheme", scheme,
                 "--as-of", as_of.isoformat(), "--format", "json"]) == 0
    found = {row["customer_id"]: row["grade"] for row in json.loads(capsys.readouterr().out)}
    assert found == _embedded_grades(expected, customers, scheme, as_of)
