"""The row-by-row reader (``ErpSource``) applies a mapping's ERP rules as the pushdown does.

For a mapping with a ``[purchases]`` section, :meth:`ErpSource.transactions
<crmcore_plugins.erp.ErpSource.transactions>` yields the purchases of the ERP's
rules (roll-up, drafts and cancelled documents left out, currencies converted,
credit notes netted), the very purchases the pushdown grades, in real SQLite,
PostgreSQL and MariaDB tables. Both paths then give the same grades.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from crmcore import ConfigError
from crmcore.grading import grade_book, load_scheme
from crmcore_plugins.erp import ErpSource, erp_purchases, load_mapping, parse_mapping
from crmcore_plugins.pushdown.grading import grade_pushdown
from crmcore_plugins.pushdown.sources import MappedSource

from .erp_book_engines import Books
from .erp_books import ERPNEXT_EXPECTED, ODOO_EXPECTED, shipped_mapping_text

EXPECTED = {"odoo": ODOO_EXPECTED, "erpnext": ERPNEXT_EXPECTED}
DOCUMENTS = {"odoo": ["1", "2", "5", "6", "9"],
             "erpnext": ["SINV-0001", "SINV-0003", "SINV-0005"]}


def _purchases(source: ErpSource, since: datetime | None = None,
               until: datetime | None = None) -> list[tuple[str, datetime, int]]:
    return [(t.customer_id, t.occurred_at.replace(tzinfo=None), int(t.amount * 100))
            for t in source.transactions(since=since, until=until)]


@pytest.mark.parametrize("erp", ["odoo", "erpnext"])
def test_the_row_path_yields_the_purchases_of_the_erp_rules(books: Books, erp: str) -> None:
    """Rolled up, converted and netted, by time: what the pushdown computes, row by row."""
    in_engine = erp_purchases(books.backend, load_mapping(erp), schema=books.schema)
    pushed = sorted((row["customer_id"], row["at"].replace(tzinfo=None), row["amount_cents"])
                    for row in in_engine.to_pyarrow().to_pylist())
    with ErpSource.from_toml(erp, books.url, schema=books.schema) as source:
        transactions = list(source.transactions())
        rows = _purchases(source)
    assert sorted(rows) == pushed == EXPECTED[erp]
    assert rows == sorted(rows, key=lambda row: row[1])  # by time
    assert sorted(t.id for t in transactions) == DOCUMENTS[erp]
    assert all(t.occurred_at.tzinfo is UTC for t in transactions)


def test_columns_and_the_time_window_follow_the_rules_too(books: Books) -> None:
    """transaction_columns matches the entities; since is inclusive, until exclusive (order
    6 at 2024-02-10 11:00, the netted one, falls inside)."""
    since, until = datetime(2024, 1, 20, 14, 30, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
    with ErpSource.from_toml("odoo", books.url, schema=books.schema) as source:
        columns = source.transaction_columns(since=since, until=until)
        entities = list(source.transactions(since=since, until=until))
    assert columns.ids == [t.id for t in entities] == ["2", "6"]
    assert columns.customer_ids == ["1", "3"]
    assert columns.amounts == [Decimal("30.00"), Decimal("56.00")]
    assert columns.occurred_at == [t.occurred_at for t in entities]


@pytest.mark.parametrize("scheme", ["pareto-abc", "rfm"])
def test_both_paths_grade_alike(books: Books, scheme: str) -> None:
    """The embedded grades of the row path's transactions equal the pushdown's grades."""
    as_of = datetime(2024, 4, 1, tzinfo=UTC)
    mapping = attrs.evolve(load_mapping("odoo"), schema=books.schema)
    with ErpSource(mapping, books.url) as source:
        row_grades = grade_book(load_scheme(scheme), as_of=as_of,
                                transactions=list(source.transactions()),
                                customers=list(source.customers()))
    opened = MappedSource(books.backend, mapping)
    pushed = grade_pushdown(load_scheme(scheme), opened.purchases(), as_of=as_of,
                            customers=opened.customers())
    assert dict(zip(row_grades.ids, row_grades.grade_list, strict=True)) == \
        dict(zip(pushed.ids, pushed.grade_list, strict=True))


def test_a_rule_naming_a_missing_table_names_the_key_on_the_row_path(books: Books) -> None:
    """The row path reports a broken [purchases] section as the pushdown does."""
    broken = shipped_mapping_text("odoo").replace('table = "res_currency_rate"',
                                                  'table = "res_currency_rates"')
    with ErpSource(parse_mapping(broken), books.url, schema=books.schema) as source, \
            pytest.raises(ConfigError, match=r"purchases\.rates\.table: table "
                                             r"'res_currency_rates' does not exist"):
        list(source.transactions())
