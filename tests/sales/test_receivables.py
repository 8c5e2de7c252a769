"""M4 receivables: invoices, open balances, days overdue, import (CSV and ERP rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import customer

from crmcore import CRM
from crmcore.csv_import import CsvLayout
from crmcore.errors import ImportRowError, ValidationError
from crmcore.sales.money import MixedCurrencyError
from crmcore.sales.receivables import (
    Balance,
    Receivable,
    open_balances,
    to_hundredths,
)
from crmcore.sales.receivables_columns import (
    balances_of,
    receivable_columns,
    stored_balances,
)
from crmcore.sales.receivables_import import (
    ReceivableLayout,
    import_receivables,
    receivables_from_rows,
)

START = date(2026, 1, 1)


def invoice(invoice_id: str = "I1", customer_id: str = "C1", amount: str = "100.00", *,
            currency: str = "EUR", issued: int = 0, due: int = 30, paid: int | None = None,
            paid_amount: str | None = None) -> Receivable:
    return Receivable(
        id=invoice_id, customer_id=customer_id, amount=Decimal(amount), currency=currency,
        issued_on=START + timedelta(days=issued), due_on=START + timedelta(days=due),
        paid_on=None if paid is None else START + timedelta(days=paid),
        paid_amount=Decimal(paid_amount if paid_amount is not None
                            else amount if paid is not None else "0"))


@st.composite
def invoices(draw: st.DrawFn, customers: tuple[str, ...] = ("C1", "C2", "C3")
             ) -> list[Receivable]:
    made = []
    for number in range(draw(st.integers(0, 12))):
        cents = draw(st.integers(1, 10**8))
        issued = draw(st.integers(0, 400))
        due = issued + draw(st.integers(0, 90))
        paid = draw(st.none() | st.integers(issued, issued + 400))
        paid_cents = 0 if paid is None else draw(st.integers(1, cents))
        made.append(Receivable(
            id=f"I{number}", customer_id=draw(st.sampled_from(customers)),
            amount=Decimal(cents) / 100, currency=draw(st.sampled_from(("EUR", "EUR", "USD"))),
            issued_on=START + timedelta(days=issued), due_on=START + timedelta(days=due),
            paid_on=None if paid is None else START + timedelta(days=paid),
            paid_amount=Decimal(paid_cents) / 100))
    return made


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": Decimal("-1")}, "amount"),
    ({"amount": Decimal("1.005")}, "amount"),
    ({"currency": "eur"}, "currency"),
    ({"due_on": START - timedelta(days=1)}, "due_on"),
    ({"paid_on": START, "paid_amount": Decimal("100.01")}, "paid_amount"),
    ({"paid_amount": Decimal("5")}, "paid_on"),
    ({"paid_on": START}, "paid_amount"),
    ({"paid_on": START - timedelta(days=1), "paid_amount": Decimal(1)}, "paid_on"),
])
def test_m4_invoice_refuses_bad_values_naming_the_field(change: dict[str, object],
                                                        field: str) -> None:
    values: dict[str, object] = {"id": "I1", "customer_id": "C1", "amount": Decimal(100),
                                 "currency": "EUR", "issued_on": START,
                                 "due_on": START + timedelta(days=30), **change}
    with pytest.raises(ValidationError) as raised:
        Receivable(**values)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_m4_days_overdue_and_balance_follow_the_as_of_day() -> None:
    bill = invoice(due=30, paid=50, paid_amount="40.00")
    assert bill.days_overdue(START + timedelta(days=30)) == 0
    assert bill.days_overdue(START + timedelta(days=31)) == 1
    assert bill.balance(START + timedelta(days=49)) == Decimal("100.00")
    assert bill.balance(START + timedelta(days=50)) == Decimal("60.00")  # paid that day
    assert bill.days_overdue(START + timedelta(days=60)) == 30
    assert bill.days_to_pay is None  # not fully paid
    assert invoice(paid=12).days_to_pay == 12
    assert bill.balance(START - timedelta(days=1)) == 0  # not issued yet


def test_m4_mixed_currencies_are_never_summed() -> None:
    balances = open_balances([invoice("I1"), invoice("I2", currency="USD", amount="30")],
                             START + timedelta(days=40))
    balance = balances["C1"]
    assert balance.open_cents == {"EUR": 10000, "USD": 3000}
    assert balance.text() == "100.00 EUR + 30.00 USD"
    with pytest.raises(MixedCurrencyError) as raised:
        balance.single()
    assert raised.value.field == "balances['C1'].currency"
    assert raised.value.value == ["EUR", "USD"]
    assert Balance("C2", {"EUR": 5}, 1, 0).single() == (5, "EUR")


@given(invoices(), st.integers(-10, 900))
def test_m4_days_overdue_never_negative_and_balance_is_invoiced_minus_paid(
        made: list[Receivable], offset: int) -> None:
    as_of = START + timedelta(days=offset)
    for bill in made:
        assert bill.days_overdue(as_of) >= 0
        assert bill.balance(as_of) >= 0
        if bill.issued_on <= as_of:
            assert bill.balance(as_of) == bill.amount - bill.paid_by(as_of)
    balances = open_balances(made, as_of)
    for who, balance in balances.items():
        for currency, cents in balance.open_cents.items():
            invoiced = sum(to_hundredths(b.amount) for b in made
                           if b.customer_id == who and b.currency == currency
                           and b.issued_on <= as_of)
            paid = sum(to_hundredths(b.paid_by(as_of)) for b in made
                       if b.customer_id == who and b.currency == currency
                       and b.issued_on <= as_of)
            assert cents == invoiced - paid
        assert balance.days_overdue >= 0


@given(invoices(), st.integers(-10, 900))
def test_m4_columnar_balances_equal_the_reference(made: list[Receivable], offset: int) -> None:
    as_of = START + timedelta(days=offset)
    assert balances_of(receivable_columns(made), as_of) == open_balances(made, as_of)


CSV = """invoice,customer_id,amount,currency,issued_on,due_on,paid_on,paid_amount,products
I1,C1,"1,200.50",EUR,2026-01-02,2026-02-01,,,pumps|valves
I2,C1,300,EUR,2026-01-05,2026-01-20,2026-01-25,300,
I3,C2,80,USD,2026-02-01,2026-03-01,2026-03-10,50,
"""

LAYOUT = ReceivableLayout({"id": "invoice"})


def test_m4_csv_import_stores_every_row_and_balances_read_back(crm: CRM) -> None:
    crm.record_many([customer("C1"), customer("C2")])
    report = import_receivables(crm, CSV.splitlines(keepends=True), LAYOUT, source="ar.csv")
    assert report.new["receivable"] == 3
    stored = crm.get(Receivable, "I1")
    assert stored is not None
    assert stored.products == ("pumps", "valves")
    with crm.storage.transaction() as session:
        balances = stored_balances(session, date(2026, 3, 31))
    assert balances["C1"].open_cents == {"EUR": 120050}
    assert balances["C1"].days_overdue == (date(2026, 3, 31) - date(2026, 2, 1)).days
    assert balances["C2"].open_cents == {"USD": 3000}
    assert balances == open_balances(crm.find(Receivable), date(2026, 3, 31))
    again = import_receivables(crm, CSV.splitlines(keepends=True), LAYOUT, source="ar.csv")
    assert again.new["receivable"] == 0  # the same file twice stores nothing new


@pytest.mark.parametrize(("row", "line", "column"), [
    ("I9,C1,abc,EUR,2026-01-02,2026-02-01,,,", 3, "amount"),
    ("I9,C1,10,EUR,02/01/2026,2026-02-01,,,", 3, "issued_on"),
    ("I9,C1,10,euro,2026-01-02,2026-02-01,,,", 3, "currency"),
    ("I9,C1,10,EUR,2026-01-02,2026-02-01,2026-01-03,11,", 3, "paid_amount"),
    ("I9,C1,-5,EUR,2026-01-02,2026-02-01,,,", 3, "amount"),
    ("I9,C9,10,EUR,2026-01-02,2026-02-01,,,", 3, "customer_id"),
])
def test_m4_bad_csv_row_names_line_and_column_and_stores_nothing(
        crm: CRM, row: str, line: int, column: str) -> None:
    crm.record(customer("C1"))
    header, first = CSV.splitlines()[:2]
    with pytest.raises(ImportRowError) as raised:
        import_receivables(crm, [header + "\n", first + "\n", row + "\n"], LAYOUT)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert crm.count(Receivable) == 0  # all rows or none


def test_m4_file_without_currency_needs_it_stated(crm: CRM) -> None:
    crm.record(customer("C1"))
    lines = ["id,customer_id,amount,issued_on,due_on\n", "I1,C1,10,2026-01-02,2026-02-01\n"]
    with pytest.raises(ImportRowError, match="currency"):
        import_receivables(crm, lines)
    layout = ReceivableLayout(currency="CNY", csv=CsvLayout(date_format="%Y-%m-%d"))
    assert import_receivables(crm, lines, layout).new["receivable"] == 1
    stored = crm.get(Receivable, "I1")
    assert stored is not None
    assert stored.currency == "CNY"


def test_m4_erp_rows_become_invoices_and_bad_values_name_the_column() -> None:
    columns = {"id": "name", "customer_id": "partner_id", "amount": "amount_total",
               "currency": "currency", "issued_on": "invoice_date", "due_on": "invoice_date_due",
               "paid_amount": "amount_paid", "paid_on": "payment_date"}
    rows = [{"name": "INV-1", "partner_id": 7, "amount_total": 120.5, "currency": "EUR",
             "invoice_date": date(2026, 1, 2), "invoice_date_due": "2026-02-01",
             "amount_paid": None, "payment_date": None}]
    (made,) = receivables_from_rows(rows, columns)
    assert (made.customer_id, made.amount, made.due_on) == ("7", Decimal("120.5"),
                                                            date(2026, 2, 1))
    rows[0]["invoice_date_due"] = "soon"
    with pytest.raises(ValidationError) as raised:
        list(receivables_from_rows(rows, columns))
    assert raised.value.field == "rows[0].invoice_date_due"
    with pytest.raises(ValidationError, match="do not map currency"):
        list(receivables_from_rows(rows, {k: v for k, v in columns.items() if k != "currency"}))


def test_m4_invoice_is_filed_under_its_issue_date() -> None:
    assert invoice(issued=3).issued_at == datetime(2026, 1, 4, tzinfo=UTC)
