"""Property: the Odoo mapping's rules in the engine equal a plain Python reading of them.

Random Odoo books (orders in every state, child contacts, three currencies with
rates per company and shared ones, posted and draft credit notes) are written
to a real SQLite file; the purchases the pushdown computes and those the row
path (``ErpSource``) streams must both equal :func:`reference`, a direct
transcription of the rules: confirmed orders of the commercial partner,
converted at the document's company's latest rate on or before its day (else a
shared one) times the company currency's own rate (Odoo's ``_get_conversion_rate``;
its earliest later one when none by then, else 1), a branch company (4, of root
1) converting as its root company, posted credit notes netted out of the customer's
latest order on or before them, an order refunded in full dropped.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore_plugins.erp import ErpSource, erp_purchases, load_mapping
from crmcore_plugins.pushdown.sources import connect

from .erp_books import EUR, GBP, USD, odoo_tables

Purchase = tuple[str, datetime, int]
START = datetime(2024, 1, 1)
PARTNERS = [(1, None), (2, 1), (3, None), (4, 3), (5, None)]  # id, commercial partner
COMPANY_CURRENCY = {1: EUR, 2: EUR, 3: USD, 4: EUR}
ROOT = {1: 1, 2: 2, 3: 3, 4: 1}  # company 4 is a branch of company 1 (Odoo 17)
PATHS = {1: "1/", 2: "2/", 3: "3/", 4: "1/4/"}

day = st.integers(0, 60)
money = st.sampled_from(["10.00", "20.29", "99.99", "125.00", "0.50", "333.33"])
rate_value = st.sampled_from(["0.800000", "1.100000", "1.250000", "1.600000", "2.000000"])
orders = st.lists(st.tuples(st.sampled_from([p for p, _ in PARTNERS]), day,
                            st.integers(0, 23), money, st.sampled_from([EUR, USD, GBP]),
                            st.sampled_from([1, 2, 3, 4]),
                            st.sampled_from(["sale", "done", "draft", "cancel", "sent"])),
                  min_size=1, max_size=12)
notes = st.lists(st.tuples(st.sampled_from([p for p, _ in PARTNERS]), day, money,
                           st.sampled_from([EUR, USD, GBP]), st.sampled_from([1, 2, 3, 4]),
                           st.sampled_from(["posted", "posted", "draft"])), max_size=6)
rates = st.lists(st.tuples(day, rate_value, st.sampled_from([USD, GBP, EUR]),
                           st.sampled_from([1, 2, None])), max_size=8)


def _cents(value: float) -> int:
    return int(value + 0.5)  # amounts are positive: half away from zero


def _rate(currency: int, company: int, when: date,
          rate_rows: list[tuple[date, str, int, int | None]], *, later: bool) -> float | None:
    """Odoo's pick: the company's own rate first, then the latest on or before ``when``;
    with ``later`` and none by then, the earliest later one."""
    mine = [(own is None, at, float(rate)) for at, rate, cur, own in rate_rows
            if cur == currency and own in (None, company)]
    before = [(shared, -at.toordinal(), rate) for shared, at, rate in mine if at <= when]
    after = [(shared, at.toordinal(), rate) for shared, at, rate in mine if at > when]
    found = min(before) if before else min(after) if after and later else None
    return None if found is None else found[2]


def _convert(amount: str, currency: int, company: int, when: date,
             rate_rows: list[tuple[date, str, int, int | None]]) -> int:
    root = ROOT[company]
    if currency == COMPANY_CURRENCY[root]:
        return _cents(float(amount) * 100)
    rate = _rate(currency, root, when, rate_rows, later=False)
    assert rate is not None
    own = _rate(COMPANY_CURRENCY[root], root, when, rate_rows, later=True) or 1.0
    return _cents(float(amount) * (own / rate) * 100)


def reference(order_rows: list[tuple[int, int, datetime, str, int, int, str]],
              note_rows: list[tuple[int, int, date, str, int, int, str]],
              rate_rows: list[tuple[date, str, int, int | None]]) -> list[Purchase]:
    """The Odoo mapping's purchases, computed plainly in Python."""
    owner = {p: str(c if c is not None else p) for p, c in PARTNERS}
    kept = {n: (owner[p], at, _convert(a, cur, co, at.date(), rate_rows))
            for n, p, at, a, cur, co, state in order_rows if state in ("sale", "done")}
    credited: defaultdict[int, int] = defaultdict(int)
    for _n, p, when, a, cur, co, state in note_rows:
        if state != "posted":
            continue
        earlier = [(at, str(n), n) for n, (c, at, _) in kept.items()
                   if c == owner[p] and at.date() <= when]
        if earlier:
            credited[max(earlier)[2]] += _convert(a, cur, co, when, rate_rows)
    return sorted((c, at, cents - credited[n]) for n, (c, at, cents) in kept.items()
                  if cents > credited[n])


def _write(path: Path, order_rows: list[tuple[object, ...]], note_rows: list[tuple[object, ...]],
           rate_rows: list[tuple[object, ...]]) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    tables = odoo_tables(sa.MetaData())
    data = {
        "res_company": [(c, f"company {c}", cur, None if ROOT[c] == c else ROOT[c], PATHS[c])
                        for c, cur in COMPANY_CURRENCY.items()],
        "res_currency_rate": [(n, *row) for n, row in enumerate(rate_rows, start=1)],
        "res_partner": [(p, f"partner {p}", c, c if c is not None else p, c is None, None, 1,
                         True) for p, c in PARTNERS],
        "res_country": [],
        "sale_order": [(n, f"S{n:05d}", p, at, a, cur, co, state)
                       for n, p, at, a, cur, co, state in order_rows],
        "account_move": [(n, f"R{n}", "out_refund", state, p, when, a, cur, co)
                         for n, p, when, a, cur, co, state in note_rows],
    }
    with engine.begin() as connection:
        for name, table in tables.items():
            table.create(connection)
            if data[name]:
                connection.execute(sa.insert(table), [dict(zip(table.c.keys(), row,
                                                                strict=False))
                                                       for row in data[name]])
    engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders, notes, rates)
def test_the_engine_and_the_row_path_follow_the_rules_as_written(
        drawn_orders: list[tuple[int, int, int, str, int, int, str]],
        drawn_notes: list[tuple[int, int, str, int, int, str]],
        drawn_rates: list[tuple[int, str, int, int | None]]) -> None:
    order_rows = [(n, p, START + timedelta(days=d, hours=h), a, cur, co, state)
                  for n, (p, d, h, a, cur, co, state) in enumerate(drawn_orders, start=1)]
    note_rows = [(n, p, (START + timedelta(days=d)).date(), a, cur, co, state)
                 for n, (p, d, a, cur, co, state) in enumerate(drawn_notes, start=1)]
    base = [(date(2023, 1, 1), "1.000000", EUR, None), (date(2023, 1, 1), "0.900000", USD, None),
            (date(2023, 1, 1), "0.700000", GBP, None)]  # every currency has a rate
    rate_rows = base + [((START + timedelta(days=d)).date(), r, cur, co)
                        for d, r, cur, co in drawn_rates]
    expected = reference(order_rows, note_rows, rate_rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "odoo.db"
        _write(path, list(order_rows), list(note_rows),
               [(at, rate, cur, co) for at, rate, cur, co in rate_rows])
        backend = connect(f"sqlite:///{path}")
        try:
            pushed = sorted((r["customer_id"], r["at"].replace(tzinfo=None), r["amount_cents"])
                            for r in erp_purchases(backend, load_mapping("odoo"))
                            .to_pyarrow().to_pylist())
        finally:
            backend.disconnect()
        with ErpSource.from_toml("odoo", f"sqlite:///{path}") as source:
            rows = sorted((t.customer_id, t.occurred_at.replace(tzinfo=None),
                           int(t.amount * 100)) for t in source.transactions())
    assert pushed == expected
    assert rows == expected
