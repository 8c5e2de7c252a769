"""M4: open invoices read from Odoo- and ERPNext-shaped tables in real databases.

The books carry the ERPs' real table and column names (Odoo ``account_move``
with ``amount_residual`` and ``reversed_entry_id``; ERPNext ``tabSales Invoice``
with ``outstanding_amount`` and ``return_against``) and rows chosen so every rule of
the shipped ``[receivables]`` sections shows: posted against draft and cancelled,
a child contact's invoice, partly paid invoices, open credit notes, several
currencies per customer, an invoice paid in full.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crmcore import CRM, ConfigError, Customer, ValidationError
from crmcore.cli import main
from crmcore.clock import FixedClock
from crmcore.sales.money import MixedCurrencyError
from crmcore.sales.receivables import Receivable, open_balances
from crmcore_plugins.erp import load_mapping, parse_mapping
from crmcore_plugins.erp.receivables import erp_receivables
from crmcore_plugins.erp.receivables_store import import_erp_receivables
from crmcore_plugins.pushdown.sources import connect

from .erp_books import shipped_mapping_text

sa = pytest.importorskip("sqlalchemy")

AS_OF = date(2024, 3, 1)
EUR, USD = 1, 2
D = date

ODOO_PARTNERS = [  # id, name, parent_id, commercial_partner_id
    (1, "Azure Interior", None, 1), (2, "Brandon Freeman", 1, 1),  # a contact of Azure
    (3, "Deco Addict", None, 3), (5, "Colleen Diaz", None, 5),
]
ODOO_MOVES = [
    # id, name, move_type, state, partner_id, invoice_date, invoice_date_due, amount_total,
    # amount_residual, currency_id, payment_state, reversed_entry_id
    (1, "INV/2024/00001", "out_invoice", "posted", 2, D(2024, 1, 10), D(2024, 2, 9),
     "1000.00", "400.00", EUR, "partial", None),
    (2, "INV/2024/00002", "out_invoice", "draft", 1, D(2024, 1, 11), D(2024, 2, 10),
     "500.00", "500.00", EUR, "not_paid", None),
    (3, "INV/2024/00003", "out_invoice", "cancel", 1, D(2024, 1, 12), D(2024, 2, 11),
     "700.00", "700.00", EUR, "not_paid", None),
    (4, "INV/2024/00004", "out_invoice", "posted", 3, D(2024, 1, 15), D(2024, 3, 1),
     "200.00", "200.00", USD, "not_paid", None),
    (5, "INV/2024/00005", "out_invoice", "posted", 3, D(2024, 1, 20), D(2024, 2, 19),
     "300.00", "300.00", EUR, "not_paid", None),
    (6, "INV/2024/00006", "out_invoice", "posted", 5, D(2024, 1, 5), D(2024, 2, 4),
     "80.00", "0.00", EUR, "paid", None),
    (7, "RINV/2024/00001", "out_refund", "posted", 3, D(2024, 2, 1), D(2024, 2, 1),
     "50.00", "50.00", EUR, "not_paid", 5),
    (8, "RINV/2024/00002", "out_refund", "posted", 2, D(2024, 2, 2), D(2024, 2, 2),
     "30.00", "30.00", EUR, "not_paid", None),
    (9, "RINV/2024/00003", "out_refund", "draft", 3, D(2024, 2, 3), D(2024, 2, 3),
     "200.00", "200.00", USD, "not_paid", 4),
    (10, "INV/2024/00007", "out_invoice", "posted", 5, D(2024, 2, 20), D(2024, 3, 21),
     "120.00", "120.00", EUR, "not_paid", None),
    (11, "BILL/2024/00001", "in_invoice", "posted", 5, D(2024, 2, 20), D(2024, 3, 21),
     "999.00", "999.00", EUR, "not_paid", None),
]
ODOO_EXPECTED = [  # id, customer, amount, currency, paid_amount, paid_on
    ("1", "1", Decimal("1000.00"), "EUR", Decimal("600.00"), AS_OF),   # a contact's, 600 paid
    ("10", "5", Decimal("120.00"), "EUR", Decimal(0), None),
    ("4", "3", Decimal("200.00"), "USD", Decimal(0), None),            # draft refund ignored
    ("5", "3", Decimal("300.00"), "EUR", Decimal("50.00"), AS_OF),     # less open refund 7
]

ERPNEXT_INVOICES = [
    # name, customer, posting_date, due_date, currency, grand_total, outstanding_amount,
    # docstatus, is_return, return_against
    ("SINV-0001", "Grant Plastics Ltd.", D(2024, 1, 2), D(2024, 2, 1), "INR", "11800",
     "11800", 1, 0, None),
    ("SINV-0002", "Grant Plastics Ltd.", D(2024, 1, 3), D(2024, 2, 2), "INR", "5000",
     "5000", 0, 0, None),                                                   # draft
    ("SINV-0003", "Palmer Productions", D(2024, 1, 10), D(2024, 2, 9), "USD", "2000",
     "500", 1, 0, None),
    ("SINV-0004", "Palmer Productions", D(2024, 1, 11), D(2024, 2, 10), "USD", "900",
     "900", 2, 0, None),                                                    # cancelled
    ("SINV-0005", "Palmer Productions", D(2024, 1, 20), D(2024, 1, 20), "USD", "-300",
     "-300", 1, 1, "SINV-0003"),                                            # open return
    ("SINV-0006", "Nordic Traders AB", D(2024, 2, 1), D(2024, 3, 2), "SEK", "900",
     "0", 1, 0, None),                                                      # paid in full
]
ERPNEXT_EXPECTED = [
    ("SINV-0001", "Grant Plastics Ltd.", Decimal(11800), "INR", Decimal(0), None),
    ("SINV-0003", "Palmer Productions", Decimal(2000), "USD", Decimal(1800), AS_OF),
]


def _tables(metadata: Any) -> dict[str, Any]:
    money = sa.Numeric(21, 9)
    name = sa.String(140)
    return {
        "res_partner": sa.Table(
            "res_partner", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("parent_id", sa.Integer),
            sa.Column("commercial_partner_id", sa.Integer)),
        "res_currency": sa.Table(
            "res_currency", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(3))),
        "account_move": sa.Table(
            "account_move", metadata, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)), sa.Column("move_type", sa.String(16)),
            sa.Column("state", sa.String(16)), sa.Column("partner_id", sa.Integer),
            sa.Column("invoice_date", sa.Date), sa.Column("invoice_date_due", sa.Date),
            sa.Column("amount_total", sa.Numeric(12, 2)),
            sa.Column("amount_residual", sa.Numeric(12, 2)),
            sa.Column("currency_id", sa.Integer), sa.Column("payment_state", sa.String(16)),
            sa.Column("reversed_entry_id", sa.Integer)),
        "tabSales Invoice": sa.Table(
            "tabSales Invoice", metadata, sa.Column("name", name, primary_key=True),
            sa.Column("customer", name), sa.Column("posting_date", sa.Date),
            sa.Column("due_date", sa.Date), sa.Column("currency", name),
            sa.Column("grand_total", money), sa.Column("outstanding_amount", money),
            sa.Column("docstatus", sa.SmallInteger), sa.Column("is_return", sa.SmallInteger),
            sa.Column("return_against", name)),
    }


def write_books(url: str, extra_moves: tuple[tuple[Any, ...], ...] = ()) -> None:
    """Create and fill the Odoo and ERPNext tables at ``url``."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    tables = _tables(metadata)
    data: dict[str, list[tuple[Any, ...]]] = {
        "res_partner": ODOO_PARTNERS, "res_currency": [(EUR, "EUR"), (USD, "USD")],
        "account_move": [*ODOO_MOVES, *extra_moves], "tabSales Invoice": ERPNEXT_INVOICES}
    with engine.begin() as connection:
        metadata.create_all(connection)
        for table_name, table in tables.items():
            connection.execute(sa.insert(table), [dict(zip(table.c.keys(), row, strict=True))
                                                  for row in data[table_name]])
    engine.dispose()


@pytest.fixture(params=("sqlite", "postgresql"))
def erp_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The books in a SQLite file, or in a fresh database on the test PostgreSQL."""
    url: str = (f"sqlite:///{tmp_path / 'erp.db'}" if request.param == "sqlite"
                else request.getfixturevalue("pg_database"))
    write_books(url)
    return url


def _read(url: str, mapping: Any, as_of: date = AS_OF) -> Any:
    backend = connect(url)
    try:
        return erp_receivables(backend, mapping, as_of=as_of)
    finally:
        backend.disconnect()


def _summary(read: Any) -> list[tuple[Any, ...]]:
    return sorted((r.id, r.customer_id, r.amount, r.currency, r.paid_amount, r.paid_on)
                  for r in read.receivables)


def test_m4_odoo_posted_invoices_roll_up_with_their_residual(erp_url: str) -> None:
    read = _read(erp_url, load_mapping("odoo"))
    assert _summary(read) == ODOO_EXPECTED
    assert [r.id for r in read.settled] == ["6"]     # INV 6, paid in full: no payment date
    assert dict(read.unapplied) == {("1", "EUR"): Decimal("30.00")}  # refund 8, no invoice
    dates = {r.id: (r.issued_on, r.due_on) for r in read.receivables}
    assert dates["1"] == (date(2024, 1, 10), date(2024, 2, 9))


def test_m4_odoo_foreign_currency_stays_per_currency(erp_url: str) -> None:
    balances = open_balances(_read(erp_url, load_mapping("odoo")).receivables, AS_OF)
    assert dict(balances["3"].open_cents) == {"EUR": 25000, "USD": 20000}
    assert balances["3"].days_overdue == 11          # INV 5 due 19 February
    assert dict(balances["1"].open_cents) == {"EUR": 40000}
    with pytest.raises(MixedCurrencyError):
        balances["3"].single()


def test_m4_erpnext_submitted_invoices_less_open_returns(erp_url: str) -> None:
    read = _read(erp_url, load_mapping("erpnext"))
    assert _summary(read) == ERPNEXT_EXPECTED
    assert [r.id for r in read.settled] == ["SINV-0006"]
    assert dict(read.unapplied) == {}


@pytest.mark.parametrize(("old", "new", "message"), [
    ('open = "amount_residual"', 'open = "amount_open"',
     "receivables.invoices.open: column 'amount_open' is not in table 'account_move'"),
    ('column = "commercial_partner_id" }\ncurrency_names',
     'column = "commercial_id" }\ncurrency_names',
     "receivables.roll_up.column: column 'commercial_id' is not in table 'res_partner'"),
    ('against = "reversed_entry_id"', 'against = "reversal_of"',
     "receivables.credit_notes.against: column 'reversal_of' is not in table"),
])
def test_m4_a_mapping_naming_a_missing_column_names_the_key(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    write_books(url)
    text = shipped_mapping_text("odoo")
    assert old in text
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        _read(url, parse_mapping(text.replace(old, new, 1)))


@pytest.mark.parametrize(("old", "new", "message"), [
    ('due = "invoice_date_due"\nwhere', "where", "receivables.invoices.due: is required"),
    ('open = "amount_residual"', 'opened = "amount_residual"',
     "receivables.invoices.opened: is not a known option"),
    ('[receivables.invoices]\ntable = "account_move"\nid = "id"',
     '[receivables.invoices]\ntable = "account_move"\nid = "id"\nagainst = "x"',
     "receivables.invoices.against: only credit notes reverse an invoice"),
    ("currency_names = {", "currency_name = {", "receivables.currency_name: is not a known"),
])
def test_m4_the_receivables_section_is_checked_when_loaded(old: str, new: str,
                                                           message: str) -> None:
    text = shipped_mapping_text("odoo")
    assert old in text
    with pytest.raises(ConfigError, match=message):
        parse_mapping(text.replace(old, new, 1))


def test_m4_a_bad_erp_row_names_table_row_and_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    write_books(url, ((12, "INV/2024/00008", "out_invoice", "posted", 5, D(2024, 2, 1),
                       D(2024, 3, 1), "10.00", "15.00", EUR, "not_paid", None),))
    with pytest.raises(ValidationError) as raised:
        _read(url, load_mapping("odoo"))
    assert raised.value.field == "account_move['12'].amount_residual"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_m4_cli_imports_from_the_erp_all_or_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    erp = tmp_path / "erp.db"
    write_books(f"sqlite:///{erp}")
    before = _digest(erp)
    db = str(tmp_path / "crm.db")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nGrant Plastics Ltd.,Grant\n", encoding="utf-8")
    assert main(["import", "customers", str(customers), "--db", db]) == 0
    capsys.readouterr()
    # Palmer Productions is not a crmcore customer: nothing is stored
    assert main(["receivables", "import", "--erp", "erpnext", "--url", f"sqlite:///{erp}",
                 "--db", db]) != 0
    assert "tabSales Invoice['SINV-0003'].customer" in capsys.readouterr().err
    assert main(["receivables", "list", "--as-of", "2024-03-01", "--db", db,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    customers.write_text("id,name\nPalmer Productions,Palmer\n", encoding="utf-8")
    assert main(["import", "customers", str(customers), "--db", db]) == 0
    capsys.readouterr()
    assert main(["receivables", "import", "--erp", "erpnext", "--url", f"sqlite:///{erp}",
                 "--db", db]) == 0
    assert "2 rows, 2 new" in capsys.readouterr().out
    assert main(["receivables", "import", "--erp", "erpnext", "--url", f"sqlite:///{erp}",
                 "--db", db]) == 0                  # read again: nothing new, nothing clashes
    assert "2 rows, 0 new, 2 already stored" in capsys.readouterr().out
    # paid counts as paid on the day the ERP was read: list as of today
    assert main(["receivables", "list", "--db", db, "--format", "json"]) == 0
    assert [(row["customer"], row["currency"], row["open"], row["invoices"])
            for row in json.loads(capsys.readouterr().out)] == [
        ("Grant Plastics Ltd.", "INR", "11800.00", 1), ("Palmer Productions", "USD", "200.00", 1)]
    assert _digest(erp) == before


def test_m4_cli_needs_a_file_or_erp_with_url(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "crm.db")
    assert main(["receivables", "import", "--erp", "odoo", "--db", db]) != 0
    assert main(["receivables", "import", "--db", db]) != 0
    assert "--erp with --url" in capsys.readouterr().err


def _set_residual(url: str, move: int, residual: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE account_move SET amount_residual = :r WHERE id = :i"),
                           {"r": residual, "i": move})
    engine.dispose()


def test_m4_reading_the_erp_again_updates_what_was_paid_since(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    write_books(url)
    clock = FixedClock(datetime(2024, 3, 1, 9, tzinfo=UTC))
    mapping = load_mapping("odoo")
    with CRM.open("sqlite", path=str(tmp_path / "crm.db"), clock=clock) as crm:
        for who in ("1", "3", "5"):
            crm.record(Customer(id=who, name=f"partner {who}"))
        first = import_erp_receivables(crm, _read(url, mapping), source="erp:odoo")
        assert (first.report.new["receivable"], first.updated, first.left_out) == (4, 0, 1)
        clock.advance(timedelta(days=9))              # nothing paid: nothing changes
        again = import_erp_receivables(crm, _read(url, mapping, date(2024, 3, 10)),
                                       source="erp:odoo")
        assert (again.report.new["receivable"], again.updated) == (0, 0)
        assert again.report.skipped["receivable"] == 4
        _set_residual(url, 1, "0.00")                 # INV 1 paid in full...
        _set_residual(url, 4, "150.00")               # ...INV 4 in part
        later = import_erp_receivables(crm, _read(url, mapping, date(2024, 3, 10)),
                                       source="erp:odoo")
        assert later.updated == 2
        paid = crm.require(Receivable, "1")
        assert (paid.paid_amount, paid.paid_on, paid.days_to_pay) == (
            Decimal("1000.00"), date(2024, 3, 10), 60)
        part = crm.require(Receivable, "4")
        assert (part.paid_amount, part.paid_on) == (Decimal("50.00"), date(2024, 3, 10))
        assert crm.require(Receivable, "5").paid_on == AS_OF   # unchanged: first date kept
        assert "1" not in open_balances(crm.find(Receivable), date(2024, 3, 10))
