"""Benchmark the pushdown: grading metrics computed inside PostgreSQL, against the alternatives.

N purchases of M customers (default 1,000,000 / 100,000) in a PostgreSQL
table shaped like an ERP's order lines (``customer_id``, ``at``,
``amount numeric(12, 2)``). Three ways to get every customer's grading
metrics (revenue, transactions and purchase days in the last 12 months,
recency, tenure) as of one date:

* ``pushdown``: crmcore's Ibis expression through a mapping
  (:mod:`crmcore_plugins.pushdown`), one row per customer fetched into a
  :class:`~crmcore.grading.MetricTable`;
* ``hand-written SQL``: one ``GROUP BY`` query computing the same metrics,
  fetched with psycopg (what a user would write by hand);
* ``pushdown (revenue)``: the same, computing only the revenue, as grading by
  a scheme ranking by revenue (``pareto-abc``) does: no distinct purchase
  days, so no sort;
* ``pull rows``: every purchase fetched into Python (streamed, three integer
  columns the server computes) and the metrics computed by crmcore's numpy
  kernel: the fastest way to pull;
* ``ErpSource``: what crmcore did before the pushdown: the mapping read row
  by row through SQLAlchemy (:meth:`ErpSource.transaction_columns
  <crmcore_plugins.erp.ErpSource.transaction_columns>`), then the kernel;
* ``ErpSource (rules)``: the row path of a mapping with a ``[purchases]``
  section (as the shipped Odoo and ERPNext mappings have): the purchases by
  the ERP's rules, computed by the pushdown's expression and streamed row by
  row into Python (one object per purchase), then the kernel.

Targets (issue 11): pushdown <= 1.2x the hand-written SQL and >= 5x faster
than pulling the rows. The results are checked to be equal. The
first pushdown call of a process also pays Ibis's one-time backend set-up
(about a second): it is shown apart and not counted. Each way shows its best
wall time (the server's work included) and the CPU seconds of this client
process (user + system) in that run.

Run: ``python benchmarks/bench_pushdown.py [--rows N] [--customers M] [--url URL]
[--server-cpu ROUNDS] [--smoke]``.
Without ``--url`` a throw-away PostgreSQL server is started as tests/sql
starts its own (the server binaries must be installed: ``.ci/postgres.sh``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psycopg

from crmcore.grading import MetricTable, TransactionColumns, compute_metrics, window_start
from crmcore.grading.columns import US_PER_DAY, to_cents, to_micros
from crmcore_plugins.erp.mapping import mapping_from_dict
from crmcore_plugins.pushdown.grading import pushdown_metrics
from crmcore_plugins.pushdown.sources import MappedSource, connect

T = TypeVar("T")
AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
MAPPING = mapping_from_dict({
    "name": "bench",
    "customers": {"table": "customers", "columns": {"id": "id", "name": "name"}},
    "transactions": {"table": "purchases", "require_customer": False,
                     "columns": {"id": "id", "customer_id": "customer_id", "occurred_at": "at",
                                 "amount": "amount"}},
})
RULES_MAPPING = mapping_from_dict({
    "name": "bench-rules",
    "customers": {"table": "customers", "columns": {"id": "id", "name": "name"}},
    "transactions": {"table": "purchases",
                     "columns": {"id": "id", "customer_id": "customer_id", "occurred_at": "at",
                                 "amount": "amount"}},
    "purchases": {"orders": [{"table": "purchases", "id": "id", "customer": "customer_id",
                              "at": "at", "amount": "amount"}]},
})
COMPARED = ("revenue", "transactions", "frequency", "recency_days", "tenure_days")


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """``url``, or a throw-away server started by tests/sql's own fixture code."""
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pytest
    from tests.sql.conftest import postgres_url

    server: Any = postgres_url._get_wrapped_function()()  # the fixture's generator
    try:
        yield next(server)
    except pytest.skip.Exception as skipped:
        raise SystemExit(f"no PostgreSQL server: {skipped}") from None
    finally:
        server.close()


def load(dsn: str, rows: int, customers: int) -> None:
    """Generate the purchases inside the server (random, seeded): no client round trips."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS purchases")
        connection.execute("CREATE TABLE purchases (id bigint, customer_id text, at timestamp, "
                           "amount numeric(12, 2))")
        connection.execute("SELECT setseed(0.42)")
        connection.execute(
            "INSERT INTO purchases SELECT g, (floor(random() * %(m)s))::bigint::text, "
            "timestamp '2024-01-01' + random() * interval '912 days', "
            "round((random() * 500)::numeric, 2) FROM generate_series(1, %(n)s) AS g",
            {"m": customers, "n": rows})
        connection.execute("DROP TABLE IF EXISTS customers")
        connection.execute("CREATE TABLE customers AS SELECT g::text AS id, 'customer ' || g "
                           "AS name FROM generate_series(0, %(m)s - 1) AS g", {"m": customers})
        connection.execute("ANALYZE purchases")
        for table in ("purchases", "customers"):  # no autovacuum in the measured CPU
            connection.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ServerCpu:
    """CPU seconds used by a PostgreSQL server on this machine: the postmaster and its
    children (backends, parallel workers; those that exited count in the postmaster's
    ``cutime``), read from ``/proc``. Unavailable (None) for a server elsewhere."""

    def __init__(self, dsn: str) -> None:
        self.postmaster: int | None = None
        with psycopg.connect(dsn) as connection:  # read while the backend lives
            row = connection.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            if Path(f"/proc/{row[0]}/stat").exists():
                self.postmaster = int(self._fields(row[0])[1])
        self.tick = float(os.sysconf("SC_CLK_TCK"))

    @staticmethod
    def _fields(pid: int | str) -> list[str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2:].split()  # after "pid (name) "

    def seconds(self) -> float | None:
        """The server's CPU seconds so far (user + system)."""
        if self.postmaster is None:
            return None
        own = self._fields(self.postmaster)  # utime stime cutime cstime: fields 12-15
        total = sum(int(value) for value in own[11:15])
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = self._fields(entry.name)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / self.tick


SERVER: ServerCpu | None = None


def timed(label: str, work: Callable[[], T], best_of: int) -> tuple[float, float, T]:
    """The best wall time of ``best_of`` runs of ``work``, the least CPU seconds of a run
    (this client process and, for a local server, the server's) and the last result."""
    best, least, result = float("inf"), float("inf"), None
    client = server = 0.0
    for _ in range(best_of):
        start, used = time.perf_counter(), _cpu()
        served = SERVER.seconds() if SERVER else None
        result = work()
        wall = time.perf_counter() - start
        used = _cpu() - used
        time.sleep(0.5)  # the way's server process has exited and been reaped: it counts
        after = SERVER.seconds() if SERVER else None
        served = None if served is None or after is None else after - served
        best = min(best, wall)
        if used + (served or 0.0) < least:
            least, client, server = used + (served or 0.0), used, served or 0.0
    shown = f"server {server:7.2f} s" if SERVER and SERVER.postmaster else "server n/a"
    print(f"{label:<20} wall {best:7.2f} s   CPU {least:7.2f} s (client {client:6.2f} s, "
          f"{shown})")
    assert result is not None
    return best, least, result


def by_pushdown(dsn: str, only: tuple[str, ...] | None = None) -> MetricTable:
    """crmcore's pushdown: the mapping's purchases, metrics in the engine, one row back
    (``only`` those metrics, as grading by a scheme asks for the ones it uses)."""
    source = MappedSource(connect(dsn), MAPPING)
    try:
        return pushdown_metrics(source.purchases(), as_of=AS_OF, only=only)
    finally:
        source.backend.disconnect()


HAND_WRITTEN = """
SELECT customer_id,
       COALESCE(SUM(cents) FILTER (WHERE at >= %(start)s), 0) AS revenue_cents,
       COUNT(*) FILTER (WHERE at >= %(start)s) AS transactions,
       COUNT(DISTINCT at::date) FILTER (WHERE at >= %(start)s) AS frequency,
       %(day)s - MAX(at::date - DATE '1970-01-01') AS recency_days,
       %(day)s - MIN(at::date - DATE '1970-01-01') AS tenure_days
FROM (SELECT customer_id, at, (amount * 100)::bigint AS cents
      FROM purchases WHERE at < %(as_of)s) AS p
GROUP BY customer_id
"""


def _hand_parameters() -> dict[str, Any]:
    return {"start": window_start(AS_OF, 12).replace(tzinfo=None),
            "as_of": AS_OF.replace(tzinfo=None), "day": int(AS_OF.timestamp()) // 86_400}


def by_hand(dsn: str) -> dict[str, tuple[Any, ...]]:
    """One hand-written query, fetched with psycopg."""
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(HAND_WRITTEN, _hand_parameters()).fetchall()
    return {row[0]: row[1:] for row in rows}


def by_pulling(dsn: str) -> MetricTable:
    """Every purchase into Python (a streamed server-side cursor), then the numpy kernel."""
    index: dict[str, int] = {}
    codes, times, cents = array("q"), array("q"), array("q")
    query = ("SELECT customer_id, (extract(epoch FROM at) * 1000000)::bigint, "
             "(amount * 100)::bigint FROM purchases WHERE at < %s")
    with psycopg.connect(dsn) as connection, connection.cursor(name="pull") as cursor:
        cursor.itersize = 50_000
        cursor.execute(query, (AS_OF.replace(tzinfo=None),))
        for customer_id, micros, amount in cursor:
            codes.append(index.setdefault(customer_id, len(index)))
            times.append(micros)
            cents.append(amount)
    columns = TransactionColumns(tuple(index), codes, times, cents).as_numpy()
    return compute_metrics(columns, AS_OF)


def by_erp_source(url: str, mapping: Any = None) -> MetricTable:
    """crmcore before the pushdown: :class:`ErpSource` row by row, then the kernel."""
    from crmcore_plugins.erp import ErpSource

    with ErpSource(MAPPING if mapping is None else mapping, url) as source:
        read = source.transaction_columns(until=AS_OF)
    index: dict[str, int] = {}
    codes = [index.setdefault(customer_id, len(index)) for customer_id in read.customer_ids]
    columns = TransactionColumns(tuple(index), codes, [to_micros(t) for t in read.occurred_at],
                                 [to_cents(a) for a in read.amounts]).as_numpy()
    return compute_metrics(columns, AS_OF)


def by_erp_source_rules(url: str) -> MetricTable:
    """The row path of a mapping with ``[purchases]`` rules: :class:`ErpSource` streams the
    rules' purchases (the pushdown's expression, row by row into Python), then the kernel."""
    return by_erp_source(url, RULES_MAPPING)


def pushdown_sql(dsn: str) -> str:
    """The SQL the pushdown sends for the benchmark's metrics (as :func:`by_pushdown`)."""
    import ibis

    from crmcore_plugins.pushdown.metrics import grading_metrics

    source = MappedSource(connect(dsn), MAPPING)
    try:
        metrics = grading_metrics(source.purchases(), as_of=AS_OF)
        fetched = ("frequency", "profit_cents", "recency_days", "revenue_cents",
                   "tenure_days", "transactions")
        return str(ibis.to_sql(metrics.select("customer_id", *fetched), dialect="postgres"))
    finally:
        source.backend.disconnect()


def server_cpu_per_query(dsn: str, rounds: int) -> None:
    """The server CPU seconds of the pushdown's SQL and of the hand-written query, each run
    and fetched ``rounds`` times, interleaved, on one connection (its backend's CPU, read
    from ``/proc``): the engine's work alone, steadier than whole-program times."""
    queries = {"hand-written SQL": (HAND_WRITTEN, _hand_parameters()),
               "pushdown's SQL": (pushdown_sql(dsn), None)}
    found: dict[str, list[float]] = {label: [] for label in queries}
    tick = float(os.sysconf("SC_CLK_TCK"))
    with psycopg.connect(dsn) as connection:
        connection.execute("SET TIME ZONE 'UTC'")  # as Ibis sets it
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        stat = Path(f"/proc/{row[0]}/stat")
        if not stat.exists():
            print("server CPU per query: the server is not on this machine")
            return

        def used() -> float:
            text = stat.read_text()
            fields = text[text.rindex(")") + 2:].split()
            return (int(fields[11]) + int(fields[12])) / tick

        for _ in range(rounds):
            for label, (query, parameters) in queries.items():
                before = used()
                connection.execute(query, parameters).fetchall()
                found[label].append(used() - before)
    for label, seconds in found.items():
        print(f"{label:<20} server CPU per query: min {min(seconds):.2f} s, "
              f"median {statistics.median(seconds):.2f} s")
    hand = [max(seconds, 1 / tick) for seconds in found["hand-written SQL"]]  # one tick
    pushed = found["pushdown's SQL"]
    print(f"pushdown's SQL / hand-written SQL, server CPU: {min(pushed) / min(hand):.2f}x "
          f"(min), {statistics.median(pushed) / statistics.median(hand):.2f}x (median)")


def _column(table: MetricTable, name: str) -> dict[str, float]:
    return dict(zip(table.ids, np.asarray(table.columns[name], dtype=np.float64).tolist(),
                    strict=True))


def check_equal(pushed: MetricTable, pulled: MetricTable,
                hand: dict[str, tuple[Any, ...]]) -> None:
    """The three ways agree on every customer."""
    for name in COMPARED:
        assert _column(pushed, name) == _column(pulled, name), name
    revenue = _column(pushed, "revenue")
    assert {c: round(v * 100) for c, v in revenue.items()} == \
        {c: int(row[0]) for c, row in hand.items()}
    assert US_PER_DAY == 86_400_000_000


def main() -> None:
    """Parse the options, start or reach PostgreSQL, load, time and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--url", help="a PostgreSQL URL (default: start a throw-away server)")
    parser.add_argument("--best-of", type=int, default=3, metavar="K")
    parser.add_argument("--no-erp-source", action="store_true",
                        help="leave out ErpSource (minutes and gigabytes at 10M purchases)")
    parser.add_argument("--server-cpu", type=int, default=0, metavar="ROUNDS",
                        help="then run the pushdown's SQL and the hand-written query ROUNDS "
                             "times each, interleaved on one connection, and compare the "
                             "server's CPU per query")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick run: 20,000 purchases of 2,000 customers, once")
    arguments = parser.parse_args()
    rows, customers = (20_000, 2_000) if arguments.smoke else (arguments.rows,
                                                                arguments.customers)
    best_of = 1 if arguments.smoke else arguments.best_of
    with postgres(arguments.url) as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        started = time.perf_counter()
        load(dsn, rows, customers)
        global SERVER
        SERVER = ServerCpu(dsn)
        print(f"PostgreSQL: {rows:,} purchases of up to {customers:,} customers "
              f"(loaded in {time.perf_counter() - started:.1f} s); best of {best_of}")
        timed("pushdown (first)", lambda: by_pushdown(dsn), 1)  # Ibis sets up its backend once
        pushed = timed("pushdown", lambda: by_pushdown(dsn), best_of)
        hand = timed("hand-written SQL", lambda: by_hand(dsn), best_of)
        pulled = timed("pull rows", lambda: by_pulling(dsn), best_of)
        check_equal(pushed[2], pulled[2], hand[2])
        revenue = timed("pushdown (revenue)", lambda: by_pushdown(dsn, ("revenue",)), best_of)
        assert _column(revenue[2], "revenue") == _column(pushed[2], "revenue")
        ratios = [("pushdown / hand-written SQL", pushed, hand, "(target <= 1.2x)"),
                  ("pull rows / pushdown", pulled, pushed, "(target >= 5x)"),
                  ("pull rows / pushdown (revenue)", pulled, revenue, "(pareto-abc's grading)")]
        if not arguments.no_erp_source:
            erp = timed("ErpSource", lambda: by_erp_source(url), 1)
            check_equal(pushed[2], erp[2], hand[2])
            rules = timed("ErpSource (rules)", lambda: by_erp_source_rules(url), 1)
            check_equal(pushed[2], rules[2], hand[2])
            ratios += [("ErpSource / pushdown", erp, pushed, ""),
                       ("ErpSource (rules) / pushdown", rules, pushed, "")]
        for label, slower, faster, target in ratios:
            print(f"{label + ':':<32} wall {slower[0] / faster[0]:5.2f}x   "
                  f"CPU {slower[1] / faster[1]:5.2f}x {target}")
        print(f"customers: {len(pushed[2].ids):,}; every way gave the same metrics")
        if arguments.server_cpu:
            server_cpu_per_query(dsn, arguments.server_cpu)


if __name__ == "__main__":
    main()
