"""G9 differentiation reports: what each says, and the columnar read equals the reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import CRM, Customer, Ticket, Transaction
from crmcore.errors import ConfigError
from crmcore.model import TicketKind
from crmcore.sales.differentiation import (
    REPORTS,
    UNKNOWN,
    DifferentiationInputs,
    DifferentiationRules,
    differentiation_report,
    entity_inputs,
    stored_inputs,
)
from crmcore.sales.receivables import Receivable

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def buy(tid: str, who: str, amount: str, day: date) -> Transaction:
    return Transaction(id=tid, customer_id=who, amount=Decimal(amount),
                       occurred_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))


def ticket(tid: str, who: str, day: date, *, kind: TicketKind = TicketKind.COMPLAINT,
           category: str = "late delivery", hours: int | None = None) -> Ticket:
    opened = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return Ticket(id=tid, customer_id=who, opened_at=opened, kind=kind, category=category,
                  resolved_at=None if hours is None else opened + timedelta(hours=hours))


def bill(iid: str, who: str, issued: date, *, due_days: int = 30, paid_after: int | None = None,
         products: tuple[str, ...] = ()) -> Receivable:
    return Receivable(id=iid, customer_id=who, amount=Decimal(100), currency="EUR",
                      issued_on=issued, due_on=issued + timedelta(days=due_days),
                      paid_on=None if paid_after is None else issued + timedelta(days=paid_after),
                      paid_amount=Decimal(100 if paid_after is not None else 0),
                      products=products)


def book() -> list[object]:
    people = [Customer(id=f"C{n}", name=f"Customer {n}",
                       attributes={"products_elsewhere": 5} if n == 2 else {})
              for n in range(1, 7)]
    return [
        *people,
        # last year (2025): C1 9000, C2 5000, C3 1000, C4 500, C5 100
        buy("T1", "C1", "9000", date(2025, 3, 1)), buy("T2", "C2", "5000", date(2025, 2, 1)),
        buy("T3", "C3", "1000", date(2025, 9, 1)), buy("T4", "C4", "500", date(2025, 5, 1)),
        buy("T5", "C5", "100", date(2025, 5, 1)),
        # this year: C1 keeps ordering, C2 orders less, C3 stopped
        buy("T6", "C1", "5000", date(2026, 2, 1)), buy("T7", "C2", "100", date(2026, 3, 1)),
        # complaints last year: C1 three times, C3 twice (not large), C2 once
        ticket("K1", "C1", date(2025, 4, 1)), ticket("K2", "C1", date(2025, 8, 1)),
        ticket("K3", "C1", date(2025, 9, 1), hours=20), ticket("K4", "C3", date(2025, 4, 1)),
        ticket("K5", "C3", date(2025, 6, 1)), ticket("K6", "C2", date(2025, 6, 1)),
        ticket("K7", "C4", date(2026, 1, 10), kind=TicketKind.REQUEST, category="return",
               hours=2),
        # invoices of the last 12 months: C2 one product, C5 two, C6 unnamed; C5 pays late
        bill("I1", "C2", date(2026, 1, 5), paid_after=10, products=("pumps",)),
        bill("I2", "C5", date(2026, 1, 5), paid_after=50, products=("pumps", "valves")),
        bill("I3", "C5", date(2026, 2, 5), paid_after=10, products=("valves",)),
        bill("I4", "C6", date(2026, 2, 5)),
        bill("I5", "C1", date(2026, 2, 5), paid_after=5, products=("a", "b", "c")),
    ]


@pytest.fixture
def stored(crm: CRM) -> CRM:
    crm.record_many(book())
    return crm


def report(crm: CRM, name: str, rules: DifferentiationRules | None = None
           ) -> list[dict[str, object]]:
    with crm.storage.transaction() as session:
        data = stored_inputs(session, AS_OF)
    return differentiation_report(data, name, as_of=AS_OF, rules=rules).as_dicts()


def test_g9_large_customers_who_complained_repeatedly(stored: CRM) -> None:
    rows = report(stored, "complained")
    assert [(r["customer"], r["complaints_last_year"]) for r in rows] == [("C1", 3)]
    wider = report(stored, "complained", DifferentiationRules(large_share=0.6))
    assert [r["customer"] for r in wider] == ["C1", "C3"]  # C3 is large now, C2 only once


def test_g9_largest_customers_and_whether_they_still_order(stored: CRM) -> None:
    rows = {r["customer"]: r for r in report(stored, "still-ordering")}
    assert list(rows) == ["C1", "C2", "C3", "C4", "C5"]
    assert rows["C1"]["status"] == "ordering"
    assert rows["C2"]["status"] == "ordering less"
    assert rows["C2"]["change"] == "-98%"
    assert rows["C3"]["status"] == "stopped"
    assert rows["C3"]["change"] == UNKNOWN  # nothing in the same span of last year
    assert len(report(stored, "still-ordering", DifferentiationRules(largest=2))) == 2


def test_g9_narrow_buyers_say_unknown_without_share_of_wallet_data(stored: CRM) -> None:
    with stored.storage.transaction() as session:
        made = differentiation_report(stored_inputs(session, AS_OF), "narrow", as_of=AS_OF)
    rows = {r["customer"]: r for r in made.as_dicts()}
    assert set(rows) == {"C2", "C5"}  # C1 buys three products, C6's invoices name none
    assert (rows["C2"]["products_elsewhere"], rows["C2"]["many_elsewhere"]) == (5, "yes")
    assert rows["C5"]["products_elsewhere"] == UNKNOWN
    assert rows["C5"]["share_of_wallet"] == UNKNOWN
    assert rows["C5"]["many_elsewhere"] == UNKNOWN
    assert "1 invoiced customer(s) whose invoices name no product" in made.notes[1]


def test_g9_customers_who_cause_cost(stored: CRM) -> None:
    rows = {r["customer"]: r for r in report(stored, "costly")}
    assert rows["C5"]["late_payments"] == 1
    assert rows["C5"]["days_late"] == 20
    assert rows["C6"]["signals"] == "late payment"  # open past due
    assert rows["C4"]["returns"] == 1
    assert "returns" in str(rows["C4"]["signals"])
    assert rows["C1"]["service_hours"] == 20.0  # the last 12 months' ticket, resolved
    assert "service time" in str(rows["C1"]["signals"])
    assert "C3" not in rows  # its complaints were more than 12 months ago


@pytest.mark.parametrize(("rules", "field"), [
    ({"large_share": 0}, "large_share"), ({"largest": 0}, "largest"),
    ({"service_hours_from": -1}, "service_hours_from"), ({"less_than": 2}, "less_than")])
def test_g9_bad_settings_name_the_setting(rules: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        DifferentiationRules(**rules)  # type: ignore[arg-type]


def test_g9_unknown_report_is_refused() -> None:
    empty = entity_inputs(AS_OF, [], [], [], [])
    with pytest.raises(ConfigError, match="'biggest' is not a differentiation report"):
        differentiation_report(empty, "biggest", as_of=AS_OF)


def _every(data: DifferentiationInputs) -> list[object]:
    return [differentiation_report(data, name, as_of=AS_OF) for name in REPORTS]


def test_g9_sqlite_columnar_read_equals_the_reference(tmp_path: Path) -> None:
    entities = book()
    with CRM.open("sqlite", path=str(tmp_path / "g9.db")) as crm:
        crm.record_many(entities)
        with crm.storage.transaction() as session:
            fast = _every(stored_inputs(session, AS_OF))
    slow = _every(entity_inputs(AS_OF, *_split(entities)))
    assert fast == slow


def _split(entities: list[object]) -> tuple[list[Customer], list[Transaction], list[Ticket],
                                            list[Receivable]]:
    return ([e for e in entities if isinstance(e, Customer)],
            [e for e in entities if isinstance(e, Transaction)],
            [e for e in entities if isinstance(e, Ticket)],
            [e for e in entities if isinstance(e, Receivable)])


@st.composite
def books(draw: st.DrawFn) -> list[object]:
    ids = [f"C{n}" for n in range(draw(st.integers(1, 6)))]
    made: list[object] = [Customer(id=i, name=i, attributes=draw(st.sampled_from(
        [{}, {"products_elsewhere": 4}, {"share_of_wallet": 0.25}]))) for i in ids]
    days = st.integers(-800, -1).map(lambda d: AS_OF.date() + timedelta(days=d))
    for n in range(draw(st.integers(0, 15))):
        made.append(buy(f"T{n}", draw(st.sampled_from(ids)),
                        str(draw(st.integers(1, 10**6)) / 100), draw(days)))
    for n in range(draw(st.integers(0, 10))):
        made.append(ticket(f"K{n}", draw(st.sampled_from(ids)), draw(days),
                           kind=draw(st.sampled_from(list(TicketKind))),
                           category=draw(st.sampled_from(["return", "price"])),
                           hours=draw(st.none() | st.integers(0, 100))))
    for n in range(draw(st.integers(0, 10))):
        made.append(bill(f"I{n}", draw(st.sampled_from(ids)), draw(days),
                         due_days=draw(st.integers(0, 60)),
                         paid_after=draw(st.none() | st.integers(0, 90)),
                         products=tuple(draw(st.lists(st.sampled_from("abcd"), max_size=3,
                                                      unique=True)))))
    return made


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_g9_columnar_reports_equal_the_reference(entities: list[object]) -> None:
    with CRM.open("memory") as crm:
        crm.record_many(entities)
        with crm.storage.transaction() as session:
            fast = _every(stored_inputs(session, AS_OF))
    assert fast == _every(entity_inputs(AS_OF, *_split(entities)))
