"""The lifecycle evidence a ``[source]`` gives is complete: distinct purchase moments suffice.

``source_evidence`` reads from the source only each customer's distinct
purchase moments (filtered and de-duplicated in the engine), no amounts and no
counts. The lifecycle rules (L1-L6) read a customer's first purchase, the last
one before a moment, the next one after a moment, the distinct purchase days
and the gaps between them: none reads an amount or how many purchases share a
moment. Property: for random books (several purchases at one moment and on one
day, drafts the mapping leaves out), advancing from the source moves every
customer exactly as advancing from crmcore's own storage holding the same
purchases does, at several dates in a row.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import CRM, Customer, Transaction
from crmcore.lifecycle.service import LifecycleService
from crmcore_plugins.erp import parse_mapping
from crmcore_plugins.pushdown.service import source_evidence
from crmcore_plugins.pushdown.sources import MappedSource, connect

MAPPING = parse_mapping("""
name = "shop"
[customers]
table = "customers"
[customers.columns]
id = "id"
name = "name"
[transactions]
table = "orders"
where = [{ column = "state", op = "=", value = "done" }]
[transactions.columns]
id = "id"
customer_id = "customer_id"
occurred_at = "at"
amount = "amount"
""")
START = datetime(2025, 1, 1, 9, tzinfo=UTC)
DATES = [START + timedelta(days=days) for days in (60, 200, 420)]

purchase = st.tuples(st.integers(0, 5),               # customer
                     st.integers(0, 400),             # day
                     st.sampled_from([0, 0, 3, 15]),  # hour: often the same moment
                     st.sampled_from(["done", "done", "done", "draft"]))


def _moves(crm: CRM, service: LifecycleService) -> list[tuple[str, str, datetime, str]]:
    found = []
    for as_of in DATES:
        report = service.advance(as_of)
        found += [(m.customer_id, m.event, m.at, m.rule) for m in report.moves]
    return found


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(purchase, min_size=1, max_size=40))
def test_advancing_from_a_source_moves_as_from_crmcores_storage(
        purchases: list[tuple[int, int, int, str]]) -> None:
    orders = [(n, f"C{c}", START + timedelta(days=day, hours=hour), state)
              for n, (c, day, hour, state) in enumerate(purchases)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "erp.db"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE customers (id TEXT, name TEXT)")
            connection.execute("CREATE TABLE orders (id INTEGER, customer_id TEXT, "
                               "at TIMESTAMP, amount NUMERIC, state TEXT)")
            connection.executemany("INSERT INTO customers VALUES (?, ?)",
                                   [(f"C{n}", f"customer {n}") for n in range(6)])
            connection.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, '10.00', ?)",
                [(n, c, at.strftime("%Y-%m-%d %H:%M:%S"), state) for n, c, at, state in orders])
        connection.close()
        backend = connect(f"sqlite:///{path}")
        try:
            with CRM.open("memory") as crm:
                from_source = _moves(crm, LifecycleService(
                    crm, evidence=source_evidence(MappedSource(backend, MAPPING)),
                    scoring=None))
        finally:
            backend.disconnect()
    with CRM.open("memory") as crm:
        crm.import_entities([Customer(id=f"C{n}", name=f"customer {n}") for n in range(6)],
                            source="test")
        crm.import_entities([Transaction(id=str(n), customer_id=c, occurred_at=at,
                                         amount=Decimal("10.00"))
                             for n, c, at, state in orders if state == "done"], source="test")
        stored = _moves(crm, LifecycleService(crm, scoring=None))
    assert from_source == stored
    assert bool(stored) == any(state == "done" for *_, state in orders)  # a buyer moves
