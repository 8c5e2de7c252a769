"""Odoo 17 branches, and a company currency whose own rate is not 1.

Facts from Odoo's own code (``res.company``, ``res.currency``): a branch has a
``parent_id`` and a stored ``parent_path`` (``"1/7/"``: branch 7 of root 1);
its currency is its root company's, and rates are looked up for the root
(``company_id`` NULL or the root's id). An amount converts by
``_get_conversion_rate``: × rate(company currency) / rate(document currency),
each rate picked on the document's day (the company's own first, then the
latest on or before; with none by then, the earliest later one; with none at
all, 1). The small Odoo book gets a branch, a branch of a branch, a company
whose own currency has a rate of 0.9 and one whose currency's only rate comes
after its order, in real PostgreSQL and SQLite databases; the pushdown and the
row path must both convert by these rules.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from crmcore import ConfigError
from crmcore_plugins.erp import erp_purchases, load_mapping, parse_mapping
from crmcore_plugins.pushdown.sources import connect

from .erp_books import (
    EUR,
    GBP,
    ODOO_EXPECTED,
    USD,
    engine_book_url,
    odoo_source_rows,
    shipped_mapping_text,
)

COMPANIES = [  # id, name, currency_id, parent_id, parent_path
    (7, "Branch Brussels", EUR, 1, "1/7/"),
    (8, "Branch Antwerp", EUR, 7, "1/7/8/"),
    (2, "Second Co", EUR, None, "2/"),
    (9, "Pound Co", GBP, None, "9/"),
]
RATES = [  # id, name, rate, currency_id, company_id
    (10, date(2024, 2, 5), "1.600000", USD, None),  # newer than company 1's 1.25, shared
    (11, date(2024, 1, 1), "0.900000", EUR, 2),     # company 2's own currency: not 1
    (12, date(2024, 1, 1), "1.800000", USD, 2),
    (13, date(2024, 1, 1), "1.000000", USD, 9),
    (14, date(2024, 6, 1), "0.500000", GBP, 9),     # company 9's currency: only later
]
ORDERS = [  # id, name, partner_id, date_order, amount_total, currency_id, company_id, state
    (20, "S00020", 5, datetime(2024, 2, 15, 10, 0), "100.00", USD, 7, "sale"),
    (21, "S00021", 5, datetime(2024, 2, 16, 10, 0), "100.00", USD, 8, "sale"),
    (22, "S00022", 6, datetime(2024, 2, 17, 10, 0), "70.00", EUR, 8, "sale"),
    (23, "S00023", 6, datetime(2024, 2, 15, 11, 0), "100.00", USD, 2, "sale"),
    (24, "S00024", 6, datetime(2024, 2, 15, 12, 0), "100.00", USD, 9, "sale"),
]
EXPECTED = sorted([
    *ODOO_EXPECTED,
    ("5", datetime(2024, 2, 15, 10, 0), 8000),   # branch 7: root 1's own 1.25, not the 1.6
    ("5", datetime(2024, 2, 16, 10, 0), 8000),   # branch of a branch: root 1's rates too
    ("6", datetime(2024, 2, 17, 10, 0), 7000),   # in the root's currency: as it is
    ("6", datetime(2024, 2, 15, 11, 0), 5000),   # 100 × 0.9 / 1.8, not 100 / 1.8
    ("6", datetime(2024, 2, 15, 12, 0), 5000),   # 100 × 0.5 (its earliest later) / 1.0
])

ODOO = shipped_mapping_text("odoo")
"""The shipped Odoo mapping's text, to edit per test."""


@pytest.fixture(params=["postgresql", "sqlite"])
def book_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The Odoo book with branches and company rates, in a fresh database of each engine."""
    return engine_book_url(request, tmp_path, (
        ("res_company", COMPANIES), ("res_currency_rate", RATES), ("sale_order", ORDERS)))


def _pushed(url: str, text: str | None = None) -> list[tuple[str, datetime, int]]:
    mapping = load_mapping("odoo") if text is None else parse_mapping(text)
    backend: Any = connect(url)
    try:
        rows = erp_purchases(backend, mapping).to_pyarrow().to_pylist()
    finally:
        backend.disconnect()
    return sorted((r["customer_id"], r["at"].replace(tzinfo=None), r["amount_cents"])
                  for r in rows)


def test_branches_convert_as_their_root_and_the_company_rate_counts(book_url: str) -> None:
    assert _pushed(book_url) == EXPECTED
    assert odoo_source_rows(book_url) == EXPECTED


def test_without_root_company_a_branch_is_a_company_of_its_own(book_url: str) -> None:
    """Odoo 16 and earlier had no branches: without the key, branch 7 takes the rates of
    company 7 (none of its own: the shared 1.6)."""
    text = ODOO.replace('root_company = { table = "res_company", key = "id", '
                                'parent_path = "parent_path" }', "")
    found = {(c, at): cents for c, at, cents in _pushed(book_url, text)}
    assert found["5", datetime(2024, 2, 15, 10, 0)] == 6250  # 100 / 1.6


def test_a_missing_parent_path_column_names_the_key(book_url: str) -> None:
    text = ODOO.replace('parent_path = "parent_path"', 'parent_path = "parent_pth"')
    with pytest.raises(ConfigError, match=r"purchases\.root_company\.parent_path: column "
                                          r"'parent_pth' is not in table 'res_company'"):
        _pushed(book_url, text)


def test_root_company_needs_each_converting_document_to_name_its_company() -> None:
    text = ODOO.replace(
        'company_currency = { table = "res_company", key = "id", column = "currency_id" }',
        "company_currency = 1").replace('company = "company_id"         # a company', "# a")
    assert parse_mapping(text).purchases is not None
    head, _, tail = text.partition("[[purchases.credit_notes]]")
    broken = head + "[[purchases.credit_notes]]" + tail.replace('company = "company_id"\n', "",
                                                                 1)
    with pytest.raises(ConfigError, match=r"purchases\.credit_notes\[0\]\.company: is "
                                          r"required \(the root company"):
        parse_mapping(broken)
    unknown = text.replace('parent_path = "parent_path" }', 'parent_path = "parent_path", '
                           'root = 1 }')
    with pytest.raises(ConfigError, match=r"purchases\.root_company\.root"):
        parse_mapping(unknown)
