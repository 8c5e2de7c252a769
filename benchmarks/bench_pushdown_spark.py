"""Benchmark the pushdown on Apache Spark in local mode: grading metrics at 1M and 10M purchases.

For each size N (default 1,000,000 and 10,000,000 purchases of N/10
customers, over two years), the purchases are generated inside Spark
(``spark.range`` and seeded random columns: no Python rows) and cached;
then every customer's grading metrics are computed by crmcore's Ibis
expression in Spark and fetched as one row per customer
(:func:`~crmcore_plugins.pushdown.grading.pushdown_metrics`). Printed per
size: the time, purchases per second, the CPU seconds of the query (Spark's
JVM and this Python process, read from ``/proc``: on a loaded machine the
wall time stretches, the CPU time much less) and the scaling of both against
the first size (1.0 would be linear). A first query on 1,000 purchases warms the
session up (Spark's and Ibis's one-time costs) and is shown apart.
Revenue and transaction totals are checked against Spark's own sums; at
``--smoke`` size every metric of every customer is also checked against
crmcore's embedded path.

Run: ``python benchmarks/bench_pushdown_spark.py [--rows N ...] [--cores C] [--smoke]``.
Needs the ``spark`` extra and Java 17+ (``.ci/spark.sh``).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from crmcore.grading import MetricTable, TransactionColumns, compute_metrics
from crmcore.testing.servers import spark_session
from crmcore_plugins.pushdown.grading import pushdown_metrics

AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
START = datetime(2024, 7, 1, tzinfo=UTC)
SPAN_SECONDS = int((AS_OF - START).total_seconds())


def purchases(spark: Any, rows: int, customers: int) -> Any:
    """``rows`` random purchases of up to ``customers`` customers, cached in Spark."""
    from pyspark.sql import functions as f

    frame = spark.range(rows).select(
        (f.abs(f.xxhash64("id", f.lit(7))) % customers).cast("string").alias("customer_id"),
        f.timestamp_seconds(f.lit(int(START.timestamp()))
                            + (f.rand(11) * SPAN_SECONDS).cast("long")).alias("at"),
        (f.rand(13) * 50_000).cast("long").alias("amount_cents"),
    ).cache()
    frame.count()  # materialise the cache before timing
    return frame


def embedded(frame: Any) -> MetricTable:
    """The embedded path's metrics of the same purchases (smoke size only)."""
    rows = frame.toArrow()
    ids = rows.column("customer_id").to_pylist()
    known = tuple(sorted(set(ids)))
    position = {customer_id: index for index, customer_id in enumerate(known)}
    at = rows.column("at").cast("int64").to_numpy()
    columns = TransactionColumns(known, np.asarray([position[i] for i in ids]), at,
                                 rows.column("amount_cents").to_numpy())
    return compute_metrics(columns, AS_OF)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds so far of process ``pid`` and of this process."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks + time.process_time()


def check(pushed: MetricTable, frame: Any, smoke: bool) -> None:
    """Totals agree with Spark's own sums; at smoke size, every metric with the embedded path."""
    from pyspark.sql import functions as f

    window = frame.filter(f.col("at") >= f.lit(datetime(2025, 7, 1)))
    total = window.agg(f.sum("amount_cents"), f.count("*")).collect()[0]
    revenue = np.asarray(pushed.columns["revenue"])
    count = np.asarray(pushed.columns["transactions"])
    assert round(float(revenue.sum()) * 100) == total[0], (revenue.sum(), total[0])
    assert int(count.sum()) == total[1]
    if smoke:
        reference = embedded(frame)
        assert reference.ids == pushed.ids
        for name, column in reference.columns.items():
            assert np.array_equal(np.asarray(column), np.asarray(pushed.columns[name]),
                                  equal_nan=True), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--cores", type=int, default=2, help="Spark local[C]")
    parser.add_argument("--smoke", action="store_true",
                        help="20,000 purchases, checked against the embedded path")
    arguments = parser.parse_args()
    sizes = [20_000] if arguments.smoke else arguments.rows
    import ibis

    with spark_session(arguments.cores, app_name="crmcore-bench") as spark:
        backend = ibis.pyspark.connect(spark)
        jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
        print(f"Spark {spark.version} local[{arguments.cores}], as of {AS_OF:%Y-%m-%d}")
        warm_up = purchases(spark, 1_000, 100)
        warm_up.createOrReplaceTempView("warm_up")
        started = time.perf_counter()
        pushdown_metrics(backend.table("warm_up"), as_of=AS_OF)
        print(f"warm-up (first query of the session, not counted): "
              f"{time.perf_counter() - started:.2f} s")
        first: tuple[float, float] | None = None
        for rows in sizes:
            frame = purchases(spark, rows, max(rows // 10, 1))
            name = f"purchases_{rows}"
            frame.createOrReplaceTempView(name)
            table = backend.table(name)
            started, used = time.perf_counter(), cpu_seconds(jvm)
            pushed = pushdown_metrics(table, as_of=AS_OF)
            seconds, cpu = time.perf_counter() - started, cpu_seconds(jvm) - used
            check(pushed, frame, arguments.smoke)
            scaling = "" if first is None else (
                f"  scaling {seconds / first[0] / (rows / sizes[0]):.2f} wall, "
                f"{cpu / first[1] / (rows / sizes[0]):.2f} CPU (1.00 = linear)")
            first = (seconds, cpu) if first is None else first
            print(f"{rows:>12,} purchases  {len(pushed.ids):>10,} customers  "
                  f"{seconds:8.2f} s  CPU {cpu:8.2f} s  {rows / seconds:>12,.0f} purchases/s"
                  f"{scaling}", flush=True)
            frame.unpersist()
            spark.catalog.dropTempView(name)


if __name__ == "__main__":
    main()
