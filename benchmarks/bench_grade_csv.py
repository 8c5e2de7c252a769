"""Benchmark ``crmcore grade FILE.csv --scheme pareto-abc`` against DuckDB on the same file.

Generates a transactions CSV (``customer_id,date,amount``; skewed purchase
counts over two years, log-normal amounts with cents) once per size and
keeps it in ``--dir``. Then, in one run:

* ``crmcore``: ``crmcore grade FILE.csv --scheme pareto-abc`` as a user runs
  it, in a subprocess, writing its table (one row per customer with the
  explanation in words) to a file;
* ``duckdb``: ``SELECT ... FROM read_csv(...)`` computing the same metric
  (revenue of the 12 months before the as-of date, in exact decimals), the
  same competition ranks and the same cut-offs (top 5% A, next 20% B, the
  rest and revenue <= 0 C, cut-off ranks rounded half up), writing one row
  per customer to a CSV file. Timed in a subprocess too (interpreter start
  and ``import duckdb`` included, as the crmcore side includes its own), and
  in-process (the query alone).

Both outputs are compared customer by customer before any time is printed.

Run: ``python benchmarks/bench_grade_csv.py --rows 1000000 [--customers N]``
(customers default to a tenth of the rows).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_daily_run import DUCKDB_PER_CUSTOMER, GRADES_SQL

AS_OF = "2026-06-30"
WINDOW_START = "2025-06-30"

DUCKDB_SQL = ("COPY (" + GRADES_SQL.format(per_customer=DUCKDB_PER_CUSTOMER)
              + ") TO '{out}' (HEADER, DELIMITER ',')")
"""The daily-run benchmark's SQL (same metric, ranks and cut-offs), written to a file."""


def generate(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    """Write the transactions CSV (numpy + pyarrow, a few seconds per 10M rows)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, customers)
    cumulative = np.cumsum(activity)
    codes = np.minimum(np.searchsorted(cumulative, rng.random(rows) * cumulative[-1]),
                       customers - 1)
    ids = pa.array([f"C{i:08d}" for i in range(customers)])
    as_of_day = int(np.datetime64(AS_OF, "D").astype(np.int64))
    days = as_of_day - rng.integers(1, 731, rows)
    scale = rng.lognormal(3.5, 1.0, customers)
    cents = np.round(scale[codes] * rng.lognormal(0.0, 0.4, rows) * 100).astype(np.int64)
    table = pa.table({
        "customer_id": ids.take(pa.array(codes)),
        "date": pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32()),
        "amount": pa.array(cents / 100),
    })
    partial = path.with_suffix(".partial")
    pacsv.write_csv(table, partial, pacsv.WriteOptions(quoting_style="none"))
    partial.rename(path)


def run_crmcore(path: Path, out: Path) -> float:
    command = [sys.executable, "-m", "crmcore.cli", "grade", str(path), "--scheme", "pareto-abc",
               "--as-of", AS_OF]
    start = time.perf_counter()
    with out.open("w") as sink:
        subprocess.run(command, check=True, stdout=sink, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def run_duckdb_subprocess(path: Path, out: Path) -> float:
    sql = DUCKDB_SQL.format(path=path, out=out, start=WINDOW_START, as_of=AS_OF)
    start = time.perf_counter()
    script = f"import duckdb; duckdb.sql('SET enable_progress_bar = false'); duckdb.sql({sql!r})"
    subprocess.run([sys.executable, "-c", script], check=True)
    return time.perf_counter() - start


def run_duckdb_inprocess(path: Path, out: Path) -> float:
    import duckdb

    sql = DUCKDB_SQL.format(path=path, out=out, start=WINDOW_START, as_of=AS_OF)
    connection = duckdb.connect()
    connection.sql("SET enable_progress_bar = false")
    start = time.perf_counter()
    connection.sql(sql)
    return time.perf_counter() - start


def table_grades(path: Path) -> dict[str, str]:
    """Customer -> grade from crmcore's table output (two header lines)."""
    with path.open() as file:
        lines = file.read().splitlines()[2:]
    return dict(line.split(maxsplit=2)[:2] for line in lines)  # type: ignore[misc]


def csv_grades(path: Path) -> dict[str, str]:
    """Customer -> grade from DuckDB's CSV output."""
    with path.open(newline="") as file:
        return {row["customer_id"]: row["grade"] for row in csv.DictReader(file)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--dir", default="/tmp/crmcore-bench")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side (best is shown)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI smoke test: 5,000 rows, one run per side")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.rows, arguments.repeat = 5_000, 1
    customers = arguments.customers or max(arguments.rows // 10, 1)
    folder = Path(arguments.dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"sales-{arguments.rows}-{customers}.csv"
    if not data.exists():
        print(f"generating {data} ...", flush=True)
        generate(data, arguments.rows, customers)
    crm_out, duck_out = folder / "crmcore-grades.txt", folder / "duckdb-grades.csv"
    crm = min(run_crmcore(data, crm_out) for _ in range(arguments.repeat))
    duck = min(run_duckdb_subprocess(data, duck_out) for _ in range(arguments.repeat))
    duck_query = min(run_duckdb_inprocess(data, duck_out) for _ in range(arguments.repeat))
    ours, theirs = table_grades(crm_out), csv_grades(duck_out)
    differ = [c for c in theirs if ours.get(c) != theirs[c]]
    if len(ours) != len(theirs) or differ:
        raise SystemExit(f"grades differ: {len(ours)} vs {len(theirs)} customers; "
                         f"e.g. {differ[:3]}")
    print(f"{arguments.rows:,} rows, {len(ours):,} customers: same grade for every customer")
    print(f"crmcore grade (subprocess)   {crm:8.2f} s")
    print(f"duckdb        (subprocess)   {duck:8.2f} s   ratio {crm / duck:.2f} (target <= 2)")
    print(f"duckdb        (query alone)  {duck_query:8.2f} s   ratio {crm / duck_query:.2f}")


if __name__ == "__main__":
    main()
