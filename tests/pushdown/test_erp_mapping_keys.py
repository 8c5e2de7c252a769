"""A mapping's ``[purchases]`` section is checked when it is read; errors name the key."""

from __future__ import annotations

import pytest

from crmcore import ConfigError
from crmcore_plugins.erp import load_mapping, parse_mapping

from .erp_books import shipped_mapping_text

ODOO = shipped_mapping_text("odoo")


def _edited(old: str, new: str) -> str:
    rows, _, purchases = ODOO.partition("[purchases]")
    assert old in purchases
    return rows + "[purchases]" + purchases.replace(old, new, 1)


def test_shipped_mappings_read_the_erps_documents() -> None:
    odoo, erpnext = load_mapping("odoo").purchases, load_mapping("erpnext").purchases
    assert odoo is not None
    assert erpnext is not None
    assert [d.table for d in odoo.orders] == ["sale_order"]
    assert [d.table for d in odoo.credit_notes] == ["account_move"]
    assert odoo.rates is not None
    assert odoo.rates.meaning == "per_company_unit"
    assert erpnext.credit_notes[0].against == "return_against"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('customer = "partner_id"\nat = "date_order"', 'at = "date_order"',
     "purchases.orders[0].customer: is required"),
    ('amount = "amount_total"\ncurrency', 'amount = 3\ncurrency',
     "purchases.orders[0].amount: 3 is not a text"),
    ('company = "company_id"\nwhere = [{ column = "state"',
     'company = "company_id"\ncolour = "red"\nwhere = [{ column = "state"',
     "purchases.orders[0].colour: is not a known option"),
    ('op = "in"', 'op = "like"', "purchases.orders[0].where[0].op: 'like' is not one of"),
    ('meaning = "per_company_unit"', 'meaning = "inverse"',
     "purchases.rates.meaning: 'inverse' is not one of per_company_unit, company_per_unit"),
    ('roll_up = { table = "res_partner", key = "id", column = "commercial_partner_id" }',
     'roll_up = { table = "res_partner", column = "commercial_partner_id" }',
     "purchases.roll_up.key: is required"),
    ('company = "company_id"\nwhere = [{ column = "state"',
     'against = "origin"\nwhere = [{ column = "state"',
     "purchases.orders[0].against: only credit notes reverse a document"),
    ('company = "company_id"\nwhere = [{ column = "state"', 'where = [{ column = "state"',
     "purchases.orders[0].company: is required (company_currency is looked up"),
    ('[[purchases.orders]]', '[[purchases.order]]', "purchases.order: is not a known option"),
])
def test_a_bad_purchases_section_names_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_mapping(_edited(old, new))
    assert message in str(raised.value)


def test_orders_are_required() -> None:
    rows = ODOO.partition("[purchases]")[0]
    with pytest.raises(ConfigError, match=r"purchases\.orders: is required"):
        parse_mapping(rows + "[purchases]\n")


def test_a_currency_needs_a_company_currency() -> None:
    text = _edited('company_currency = { table = "res_company", key = "id", '
                   'column = "currency_id" }\n', "")
    with pytest.raises(ConfigError, match=r"purchases\.company_currency: is required when "
                       r"documents name a currency \(purchases\.orders\[0\]\.currency\)"):
        parse_mapping(text)
