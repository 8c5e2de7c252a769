"""Benchmark the M4 balances and the G9 reports on a SQLite book, columns against objects.

Stores a demo book of N customers (default 5,000) with its demo invoices
(every purchase of the last 12 months invoiced), then times, each once:

- open balances per customer and currency: the columnar read
  (:func:`~crmcore.sales.receivables_columns.stored_balances`), the
  reference over objects (``open_balances(crm.find(Receivable))``) and the
  plain SQL a user would write (``GROUP BY customer_id, currency`` over the
  JSON bodies through ``sqlite3``, in floating point);
- the four G9 reports from columns (:func:`~crmcore.sales.differentiation.stored_inputs`)
  and from entity objects (:func:`~crmcore.sales.differentiation.entity_inputs`).

The columnar results are checked equal to the references before timing is printed.

Run: ``python benchmarks/bench_receivables.py [--customers N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmcore import CRM, Customer, FixedClock, Ticket, Transaction
from crmcore.demo.generator import generate_book
from crmcore.demo.receivables import demo_receivables
from crmcore.sales.differentiation import (
    REPORTS,
    differentiation_report,
    entity_inputs,
    stored_inputs,
)
from crmcore.sales.receivables import Receivable, open_balances
from crmcore.sales.receivables_columns import stored_balances

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)

PLAIN_SQL = """
SELECT customer_id, body ->> '$.currency',
       SUM(CAST(body ->> '$.amount' AS REAL) - CASE WHEN body ->> '$.paid_on' <= :day
           THEN CAST(body ->> '$.paid_amount' AS REAL) ELSE 0 END) AS open
FROM records WHERE kind = 'receivable' AND body ->> '$.issued_on' <= :day
GROUP BY 1, 2 HAVING open > 0
"""


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    """Build the book, time each path once, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--smoke", action="store_true", help="a tiny book, for CI")
    arguments = parser.parse_args()
    customers = 40 if arguments.smoke else arguments.customers
    book = generate_book(customers, seed=7, as_of=AS_OF)
    purchases = [e for e in book.entities if isinstance(e, Transaction)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        with CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF),
                      auto_deliver=False) as crm:
            crm.import_entities([*book.all(), *demo_receivables(purchases, as_of=AS_OF)],
                                source="bench")
            day = AS_OF.date()

            def columnar_balances() -> Any:
                with crm.storage.transaction() as session:
                    return stored_balances(session, day)

            fast, fast_s = _timed(columnar_balances)
            slow, slow_s = _timed(lambda: open_balances(crm.find(Receivable), day))
            assert fast == slow, "columnar balances differ from the reference"

            def columnar_reports() -> Any:
                with crm.storage.transaction() as session:
                    data = stored_inputs(session, AS_OF)
                return [differentiation_report(data, name, as_of=AS_OF) for name in REPORTS]

            def object_reports() -> Any:
                data = entity_inputs(AS_OF, crm.find(Customer), crm.find(Transaction),
                                     crm.find(Ticket), crm.find(Receivable))
                return [differentiation_report(data, name, as_of=AS_OF) for name in REPORTS]

            reports, reports_s = _timed(columnar_reports)
            reference, reference_s = _timed(object_reports)
            assert reports == reference, "columnar reports differ from the reference"
            invoices = crm.count(Receivable)
            rows = crm.count(Transaction) + crm.count(Ticket) + invoices
        db = sqlite3.connect(path)
        plain, plain_s = _timed(lambda: db.execute(PLAIN_SQL, {"day": day.isoformat()})
                                .fetchall())
        db.close()
    print(f"{customers:,} customers, {invoices:,} invoices, {rows:,} rows read by the reports")
    print(f"balances ({len(fast):,} customers owing, {len(plain):,} customer-currency rows):")
    print(f"  crmcore columns  {fast_s:8.3f} s")
    print(f"  crmcore objects  {slow_s:8.3f} s")
    print(f"  plain sqlite3    {plain_s:8.3f} s  (floating point, no days overdue)")
    print("G9, the four reports:")
    print(f"  crmcore columns  {reports_s:8.3f} s")
    print(f"  crmcore objects  {reference_s:8.3f} s")


if __name__ == "__main__":
    main()
