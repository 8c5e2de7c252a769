"""Odoo keeps currency rates per company: a document converts at its own company's rate.

``res_currency_rate.company_id`` names the company a rate belongs to (NULL: a
rate of any company). As Odoo's ``res.currency._get_rates`` picks them
(``ORDER BY company_id, name DESC``), the document's company's latest rate on
or before its date wins, even over a newer rate of no company, which is used
only when the company has none. The small Odoo book gets two more companies,
a rate of company 2, a newer rate of no company and an order of each company,
in real PostgreSQL and SQLite databases; the pushdown and the row path must
both convert by these rules.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crmcore import ConfigError, ValidationError
from crmcore_plugins.erp import erp_purchases, load_mapping, parse_mapping
from crmcore_plugins.pushdown.sources import connect

from .erp_books import (
    EUR,
    ODOO_EXPECTED,
    USD,
    engine_book_url,
    odoo_source_rows,
    odoo_tables,
    shipped_mapping_text,
)

MORE_COMPANIES = [(2, "Second Co", EUR), (3, "Third Co", EUR)]
MORE_RATES = [  # id, name, rate, currency_id, company_id
    (5, date(2024, 1, 1), "2.000000", USD, 2),     # company 2's own USD rate
    (6, date(2024, 2, 5), "1.600000", USD, None),  # newer, of no company
]
MORE_ORDERS = [  # id, name, partner_id, date_order, amount_total, currency_id, company_id, state
    (10, "S00010", 5, datetime(2024, 2, 15, 10, 0), "100.00", USD, 2, "sale"),
    (11, "S00011", 6, datetime(2024, 2, 15, 11, 0), "100.00", USD, 3, "sale"),
]
EXPECTED = sorted([
    *ODOO_EXPECTED,          # company 1's USD order 6 keeps its own 1.25, not the newer 1.6
    ("5", datetime(2024, 2, 15, 10, 0), 5000),   # company 2: its own 2.0, not the newer 1.6
    ("6", datetime(2024, 2, 15, 11, 0), 6250),   # company 3 has none: the shared 1.6
])

ODOO = shipped_mapping_text("odoo")
"""The shipped Odoo mapping's text, to edit per test."""


@pytest.fixture(params=["sqlite", "postgresql"])
def book_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The Odoo book with per-company rates, in a fresh database of each engine."""
    return engine_book_url(request, tmp_path, (
        ("res_company", MORE_COMPANIES), ("res_currency_rate", MORE_RATES),
        ("sale_order", MORE_ORDERS)))


def _pushed(backend: Any, text: str | None = None) -> list[tuple[str, datetime, int]]:
    mapping = load_mapping("odoo") if text is None else parse_mapping(text)
    rows = erp_purchases(backend, mapping).to_pyarrow().to_pylist()
    return sorted((r["customer_id"], r["at"].replace(tzinfo=None), r["amount_cents"])
                  for r in rows)


def test_each_document_converts_at_its_companys_rate(book_url: str) -> None:
    backend = connect(book_url)
    try:
        assert _pushed(backend) == EXPECTED
    finally:
        backend.disconnect()
    assert odoo_source_rows(book_url) == EXPECTED


def test_without_the_company_column_every_rate_is_shared(book_url: str) -> None:
    """The mapping without ``company``: the latest USD rate of any company converts all
    (what the mapping did before; Odoo would not)."""
    text = ODOO.replace('company = "company_id"         # a company', '# a company')
    backend = connect(book_url)
    try:
        found = {(c, at): cents for c, at, cents in _pushed(backend, text)}
    finally:
        backend.disconnect()
    assert found["5", datetime(2024, 2, 15, 10, 0)] == 6250  # 100 / 1.6, not 100 / 2.0


def test_a_company_without_a_rate_yet_names_the_document(book_url: str) -> None:
    """Company 3's order before any rate it may use (its own or a shared one) is named."""
    engine = sa.create_engine(book_url)
    table = odoo_tables(sa.MetaData())["sale_order"]
    with engine.begin() as connection:
        connection.execute(sa.insert(table), [dict(zip(table.c.keys(), (
            12, "S00012", 6, datetime(2024, 1, 20, 9, 0), "10.00", USD, 3, "sale"),
            strict=True))])
    engine.dispose()
    backend = connect(book_url)
    try:
        with pytest.raises(ValidationError, match=r"sale_order\['12'\]\.currency: '2' has no "
                                                  r"rate on or before 2024-01-20"):
            erp_purchases(backend, load_mapping("odoo"))
    finally:
        backend.disconnect()


def test_per_company_rates_need_each_converting_document_to_name_its_company() -> None:
    """With a fixed company currency, only per-company rates need the documents' company."""
    text = ODOO.replace(
        'company_currency = { table = "res_company", key = "id", column = "currency_id" }',
        "company_currency = 1")
    head, _, tail = text.partition("[[purchases.credit_notes]]")
    assert parse_mapping(text).purchases is not None
    broken = head + "[[purchases.credit_notes]]" + tail.replace(
        'company = "company_id"\n', "", 1)
    with pytest.raises(ConfigError, match=r"purchases\.credit_notes\[0\]\.company: is "
                                          r"required \(rates are per company"):
        parse_mapping(broken)
