"""Benchmark the daily path end to end: import, grade, lifecycle, run, agenda, start-up.

For each size (customers; 10 purchases each) it writes a seeded book as the two
CSV files an ERP exports (:mod:`_daily_book`, reused between runs), then times
each crmcore command as a user runs it, each beside the tool a user would use
instead, in the same run:

===================  =============================================  =============================
step                 crmcore                                        peer
===================  =============================================  =============================
import-customers     ``crmcore import customers FILE --db DB``      csv + sqlite3 ``executemany``
import-transactions  ``crmcore import transactions FILE --db DB``   csv + sqlite3 ``executemany``
grade-csv            ``crmcore grade FILE --scheme pareto-abc``     DuckDB ``read_csv``; polars
grade-db             ``crmcore grade --db DB --scheme pareto-abc``  one SQL query in sqlite3
lifecycle            ``crmcore lifecycle advance --db DB``          (none: absolute target)
run                  ``crmcore run --db DB`` (on a copy of DB)      (none: absolute target)
agenda               ``crmcore agenda --db DB --owner owner-001``   ``crmcore --version``
run-next-day         ``crmcore run`` again, as of the next day      (none)
version              ``crmcore --version``                          ``python -c pass``
===================  =============================================  =============================

Every command and every peer runs in a subprocess of its own (peers are small
inline Python scripts), so times include interpreter start and imports on both
sides and peak memory is comparable: a small timer process forks the command
and reads its maximum resident set size and CPU time from ``wait4`` (what
``/usr/bin/time -v`` does, without needing GNU time installed). The grade
peers compute the same metric as crmcore (revenue of the 12 calendar months
before the as-of date, summed exactly), competition ranks and
crmcore's cut-offs (rank <= floor(c x N + 1/2)); their grades are compared with
crmcore's for every customer before the row is reported. Ratios are crmcore over
its peer; targets are reported, never asserted (the exit status is 1 only when
grades differ or a command fails).

``lifecycle`` and ``run`` start from a freshly imported book, so they replay
every customer's whole purchase history (the first day's work);
``run-next-day`` is the steady state: the same book one day later.

Peers whose package is missing (duckdb, polars) are skipped with a note; a
step that crmcore does not support yet (its command exits with a usage error)
is reported as n/a.

Run: ``python benchmarks/bench_daily_run.py [--sizes 10k,100k,1m]
[--steps import,grade-csv,...] [--dir DIR] [--smoke]``; the results are also
written as JSON under ``benchmarks/results/`` (git-ignored) unless ``--smoke``.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import importlib.util
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

from _daily_book import AS_OF, Book, owner_name, write_book

from crmcore.grading import window_start

HERE = Path(__file__).resolve().parent
STEPS = ("import", "grade-csv", "grade-db", "lifecycle", "run", "agenda", "run-next-day",
         "version")
NEEDS: dict[str, tuple[str, ...]] = {  # steps whose state a step reads
    "grade-db": ("import",), "lifecycle": ("import",), "run": ("import",),
    "agenda": ("import", "run"), "run-next-day": ("import", "run"),
}
AS_OF_TEXT = AS_OF.isoformat()
WINDOW_START = window_start(datetime.combine(AS_OF, day_time(), UTC), 12).date().isoformat()
MIB = 1024 * 1024
GIB_MIB = 1024

# -- peers: what a user would write instead -------------------------------------------------

SQLITE_IMPORT = """
import csv, sqlite3, sys
source, db, table, columns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
connection = sqlite3.connect(db)
with connection:
    connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})")
    connection.execute(f"CREATE INDEX IF NOT EXISTS {table}_key ON {table} ({columns[0]})")
    with open(source, newline="") as file:
        rows = csv.reader(file)
        next(rows)
        marks = ", ".join("?" * len(columns))
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
connection.close()
"""

# One grade per customer from a relation per_customer(customer_id, revenue): competition
# ranks and crmcore's cut-offs (A: rank <= floor(5% N + 1/2), B: <= floor(25% N + 1/2)),
# revenue <= 0 last. Standard SQL: runs in DuckDB and SQLite alike.
GRADES_SQL = """
WITH per_customer AS ({per_customer}),
ranked AS (
  SELECT customer_id, revenue, rank() OVER (ORDER BY revenue DESC) AS rnk,
         count(*) OVER () AS n
  FROM per_customer)
SELECT customer_id,
       CASE WHEN revenue <= 0 THEN 'C'
            WHEN rnk <= floor((n * 5 + 50) / 100.0) THEN 'A'
            WHEN rnk <= floor((n * 25 + 50) / 100.0) THEN 'B'
            ELSE 'C' END AS grade
FROM ranked ORDER BY customer_id
"""

DUCKDB_PER_CUSTOMER = """
SELECT customer_id,
       sum(CASE WHEN date >= DATE '{start}' AND date < DATE '{as_of}' THEN amount ELSE 0 END)
         AS revenue
FROM read_csv('{path}', header = true,
              columns = {{'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DECIMAL(18,2)'}})
GROUP BY customer_id
"""

DUCKDB_GRADE = """
import sys, duckdb
duckdb.sql(f"COPY ({sys.argv[1]}) TO '{sys.argv[2]}' (HEADER, DELIMITER ',')")
"""

POLARS_GRADE = """
import sys
from datetime import date
import polars as pl
path, out = sys.argv[1], sys.argv[2]
start, as_of = date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4])
schema = {"customer_id": pl.String, "date": pl.Date, "amount": pl.Decimal(18, 2)}
in_window = (pl.col("date") >= start) & (pl.col("date") < as_of)
revenue = pl.col("amount").filter(in_window).sum().fill_null(0).alias("revenue")
ranked = (pl.scan_csv(path, schema=schema).group_by("customer_id").agg(revenue)
          .with_columns(rnk=pl.col("revenue").rank("min", descending=True).cast(pl.Int64),
                        n=pl.len().cast(pl.Int64)))
grade = (pl.when(pl.col("revenue") <= 0).then(pl.lit("C"))
         .when(pl.col("rnk") <= (pl.col("n") * 5 + 50) // 100).then(pl.lit("A"))
         .when(pl.col("rnk") <= (pl.col("n") * 25 + 50) // 100).then(pl.lit("B"))
         .otherwise(pl.lit("C")).alias("grade"))
ranked.select("customer_id", grade).sort("customer_id").collect().write_csv(out)
"""

# Grading what is stored, in the same SQLite file crmcore wrote: every stored customer,
# revenue of the window from the transactions' own table (ADR 0009: the amount is a native
# column ``f_amount``; times are fixed-width UTC text).
SQLITE_PER_CUSTOMER = """
SELECT c.id AS customer_id, coalesce(t.revenue, 0) AS revenue
FROM records AS c LEFT JOIN (
  SELECT customer_id,
         sum(CAST(round(CAST(f_amount AS REAL) * 100) AS INTEGER)) AS revenue
  FROM "kind.transaction" WHERE at >= ? AND at < ?
  GROUP BY customer_id) AS t ON t.customer_id = c.id
WHERE c.kind = 'customer'
"""

SQLITE_GRADE = """
import csv, sqlite3, sys
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = connection.execute(sys.argv[2], sys.argv[4:6]).fetchall()
with open(sys.argv[3], "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow(["customer_id", "grade"])
    writer.writerows(rows)
"""


# -- measuring one process ------------------------------------------------------------------

@dataclass
class Measured:
    """One subprocess: wall seconds, peak resident MiB, CPU seconds, exit status."""

    seconds: float
    peak_mib: float
    cpu_seconds: float
    status: int
    stderr: str = ""


# Forks the command from a small process and reports its own wait4 figures: a child
# spawned straight from the benchmark would inherit the benchmark's resident set as the
# starting point of its peak (Linux carries the parent's high-water mark over vfork+exec).
TIMER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": seconds, "maxrss": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime,
               "status": os.waitstatus_to_exitcode(status)}, report)
"""


def measure(command: Sequence[str], *, stdout: Path | None = None) -> Measured:
    """Run ``command`` in a process of its own: wall and CPU time, peak resident set."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    with tempfile.TemporaryDirectory() as scratch, \
            (stdout.open("w") if stdout else open(os.devnull, "w")) as out:
        report, errors = Path(scratch) / "report.json", Path(scratch) / "stderr"
        with errors.open("w") as sink:
            subprocess.run([sys.executable, "-c", TIMER, str(report), *command],
                           stdout=out, stderr=sink, env=env, check=False)
        figures = json.loads(report.read_text())
        text = errors.read_text()
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB here
    return Measured(figures["seconds"], figures["maxrss"] * scale / MIB, figures["cpu"],
                    figures["status"], text[-2000:])


def compile_crmcore() -> None:
    """Compile crmcore's bytecode first, as ``pip install`` does, so that no measured
    process pays for compiling it (an editable install with ``PYTHONDONTWRITEBYTECODE``
    would otherwise compile every module in every process)."""
    for package in ("crmcore", "crmcore_plugins"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def best_of(repeat: int, command: Sequence[str]) -> Measured:
    """The fastest of ``repeat`` runs (for commands of a fraction of a second)."""
    return min((measure(command) for _ in range(repeat)), key=lambda m: m.seconds)


def python(script: str, *arguments: object) -> list[str]:
    """``python -c script arguments...`` with this interpreter."""
    return [sys.executable, "-c", script, *map(str, arguments)]


def crmcore(*arguments: object) -> list[str]:
    """The ``crmcore`` command as installed beside this interpreter."""
    script = Path(sys.executable).with_name("crmcore")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "crmcore.cli"]
    return [*head, *map(str, arguments)]


# -- results --------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table: a crmcore step at a size, beside one peer."""

    step: str
    customers: int
    crmcore: Measured | None
    peer_name: str = ""
    peer: Measured | None = None
    target: str = ""
    verdict: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """crmcore's wall time over the peer's."""
        if self.crmcore is None or self.peer is None:
            return None
        return self.crmcore.seconds / self.peer.seconds


def verdict(ok: bool) -> str:
    """A target's verdict word."""
    return "meets" if ok else "MISSES"


def grades_of(path: Path) -> dict[str, str]:
    """customer_id -> grade from a CSV file with those two columns."""
    with path.open(newline="") as file:
        return {row["customer_id"]: row["grade"] for row in csv.DictReader(file)}


def compare_grades(row: Row, ours: Path, theirs: Path) -> bool:
    """Note on ``row`` whether both files grade every customer alike."""
    mine, peer = grades_of(ours), grades_of(theirs)
    differ = sorted(c for c in mine.keys() | peer.keys() if mine.get(c) != peer.get(c))
    if differ:
        row.notes.append(f"GRADES DIFFER for {len(differ):,} customers, e.g. {differ[:3]} "
                         f"(crmcore {[mine.get(c) for c in differ[:3]]}, "
                         f"{row.peer_name} {[peer.get(c) for c in differ[:3]]})")
        row.verdict = "GRADES DIFFER"
        return False
    row.notes.append(f"same grade for all {len(mine):,} customers")
    return True


def missing(module: str) -> bool:
    """True when ``module`` cannot be imported here (the peer is skipped)."""
    return importlib.util.find_spec(module) is None


# -- the steps ------------------------------------------------------------------------------

class Size:
    """The files of one size: the book, crmcore's databases and the peers'."""

    def __init__(self, folder: Path, customers: int, seed: int) -> None:
        began = time.perf_counter()
        self.book: Book = write_book(folder, customers, seed=seed)
        self.book_seconds = time.perf_counter() - began
        self.customers = customers
        self.work = folder / f"work-{customers}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.db = self.work / "crmcore.db"
        self.run_db = self.work / "crmcore-run.db"
        self.peer_db = self.work / "peer.db"

    def path(self, name: str) -> Path:
        """A scratch file of this size."""
        return self.work / name


def _fresh(*paths: Path) -> None:
    for path in paths:
        for extra in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{extra}").unlink(missing_ok=True)


def _failed(row: Row, measured: Measured) -> bool:
    if measured.status == 0:
        return False
    usage = measured.status == 2 and "usage:" in measured.stderr
    row.crmcore = None if usage else measured
    row.verdict = "n/a" if usage else "FAILED"
    last = measured.stderr.strip().splitlines()[-1:] or ["(no message)"]
    row.notes.append(("not available yet: " if usage else f"exit {measured.status}: ")
                     + last[0])
    return True


def step_import(size: Size) -> list[Row]:
    _fresh(size.db, size.peer_db)
    book = size.book
    rows = []
    for kind, source, table, columns in (
            ("customers", book.customers_csv, "customers", "id,name,owner,acquired_at"),
            ("transactions", book.transactions_csv, "transactions",
             "customer_id,date,amount")):
        row = Row(f"import-{kind}", size.customers, None, "sqlite3")
        measured = measure(crmcore("import", kind, source, "--db", size.db))
        if _failed(row, measured):
            raise SystemExit(f"crmcore import {kind} failed: {row.notes[-1]}")
        row.crmcore = measured
        row.peer = measure(python(SQLITE_IMPORT, source, size.peer_db, table, columns))
        if kind == "transactions":
            ratio = row.ratio or 0.0
            row.target = "<= 2x, <= 200 MiB"
            row.verdict = verdict(ratio <= 2 and measured.peak_mib <= 200)
        rows.append(row)
    _fresh(size.peer_db)
    return rows


def _grade_peer(row: Row, command: list[str], ours: Path, theirs: Path) -> None:
    row.peer = measure(command)
    if row.peer.status != 0:
        row.notes.append(f"{row.peer_name} failed: {row.peer.stderr.strip()[-300:]}")
        row.peer = None
        return
    if row.crmcore is not None:
        compare_grades(row, ours, theirs)


def step_grade_csv(size: Size) -> list[Row]:
    source = size.book.transactions_csv
    ours = size.path("grades-crmcore-csv.csv")
    measured = measure(crmcore("grade", source, "--scheme", "pareto-abc", "--as-of",
                               AS_OF_TEXT, "--format", "csv"), stdout=ours)
    rows = []
    per_customer = DUCKDB_PER_CUSTOMER.format(
        start=WINDOW_START, as_of=AS_OF_TEXT, path=str(source).replace("'", "''"))
    for peer, module, command in (
            ("duckdb", "duckdb", python(DUCKDB_GRADE, GRADES_SQL.format(
                per_customer=per_customer), size.path("grades-duckdb.csv"))),
            ("polars", "polars", python(POLARS_GRADE, source, size.path("grades-polars.csv"),
                                        WINDOW_START, AS_OF_TEXT))):
        row = Row("grade-csv", size.customers, measured, peer)
        rows.append(row)
        if _failed(row, measured):
            continue
        if missing(module):
            row.notes.append(f"{peer} is not installed: peer skipped "
                             f"(pip install 'crmcore[bench]')")
            continue
        _grade_peer(row, command, ours, size.path(f"grades-{peer}.csv"))
        if peer == "duckdb" and row.ratio is not None and not row.verdict:
            row.target = "<= 2x"
            row.verdict = verdict(row.ratio <= 2)
    return rows


def _utc_text(day: str) -> str:
    """A date as the fixed-width UTC text the SQLite backend stores times in."""
    return datetime.combine(datetime.fromisoformat(day).date(), day_time(), UTC) \
        .isoformat(timespec="microseconds")


def step_grade_db(size: Size) -> list[Row]:
    ours = size.path("grades-crmcore-db.csv")
    row = Row("grade-db", size.customers, None, "sqlite3")
    measured = measure(crmcore("grade", "--db", size.db, "--scheme", "pareto-abc", "--as-of",
                               AS_OF_TEXT, "--format", "csv"), stdout=ours)
    if not _failed(row, measured):
        row.crmcore = measured
    _grade_peer(row, python(SQLITE_GRADE, size.db,
                            GRADES_SQL.format(per_customer=SQLITE_PER_CUSTOMER),
                            size.path("grades-sqlite.csv"),
                            _utc_text(WINDOW_START), _utc_text(AS_OF_TEXT)),
                ours, size.path("grades-sqlite.csv"))
    return [row]


def _absolute(row: Row, measured: Measured, seconds: float, gib: float) -> None:
    row.target = f"<= {seconds:g} s, <= {gib:g} GiB"
    row.verdict = verdict(measured.seconds <= seconds and measured.peak_mib <= gib * GIB_MIB)


def step_lifecycle(size: Size) -> list[Row]:
    row = Row("lifecycle", size.customers, None)
    measured = measure(crmcore("lifecycle", "advance", "--db", size.db, "--as-of", AS_OF_TEXT))
    if not _failed(row, measured):
        row.crmcore = measured
        _absolute(row, measured, 180, 3)
    return [row]


def step_run(size: Size, *, next_day: bool = False) -> list[Row]:
    as_of = (AS_OF + timedelta(days=1)).isoformat() if next_day else AS_OF_TEXT
    report = size.path("run.json")
    row = Row("run-next-day" if next_day else "run", size.customers, None)
    measured = measure(crmcore("run", "--db", size.run_db, "--as-of", as_of,
                               "--format", "json"), stdout=report)
    if not _failed(row, measured):
        row.crmcore = measured
        if not next_day:
            _absolute(row, measured, 300, 3)
        steps = json.loads(report.read_text())["steps"]
        row.notes.append("steps: " + ", ".join(f"{s['step']} {s['seconds']:.1f} s"
                                                for s in steps))
    return [row]


def step_agenda(size: Size, repeat: int) -> list[Row]:
    owner = owner_name(0)
    out = size.path("agenda.txt")
    row = Row("agenda", size.customers, None, "crmcore --version")
    command = crmcore("agenda", "--db", size.run_db, "--as-of", AS_OF_TEXT, "--owner", owner)
    measured = min((measure(command, stdout=out) for _ in range(repeat)),
                   key=lambda m: m.seconds)
    if _failed(row, measured):
        return [row]
    row.crmcore = measured
    row.peer = best_of(repeat, crmcore("--version"))
    beyond = measured.seconds - row.peer.seconds
    row.target = "<= 0.1 s beyond start-up"
    row.verdict = verdict(beyond <= 0.1)
    first = out.read_text().splitlines()[:1] or [""]
    stored = "stored by the daily run" in first[0]
    row.notes.append(f"{owner}: {beyond * 1000:.0f} ms beyond start-up; "
                     + ("read the run's stored agenda" if stored
                        else "COMPUTED (no stored agenda matched)"))
    return [row]


def step_version(size: Size, repeat: int) -> list[Row]:
    row = Row("version", size.customers, best_of(repeat, crmcore("--version")),
              "python -c pass", best_of(repeat, python("pass")))
    row.target = "<= 5x"
    row.verdict = verdict((row.ratio or 0.0) <= 5)
    return [row]


def run_size(size: Size, steps: Sequence[str], repeat: int) -> list[Row]:
    """The selected steps at one size (with the steps they need, unreported)."""
    needed = set(steps) | {need for step in steps for need in NEEDS.get(step, ())}
    rows: list[Row] = []

    def report(step: str, work: Callable[[], list[Row]]) -> None:
        if step not in needed:
            return
        began = time.perf_counter()
        done = work()
        if step in steps:
            rows.extend(done)
            for row in done:
                print(format_row(row), flush=True)
        else:
            print(f"  ({step} done for later steps in {time.perf_counter() - began:.1f} s)",
                  flush=True)

    report("import", lambda: step_import(size))
    if "run" in needed:
        _fresh(size.run_db)
        shutil.copyfile(size.db, size.run_db)  # the run starts from the imported book
    report("grade-csv", lambda: step_grade_csv(size))
    report("grade-db", lambda: step_grade_db(size))
    report("lifecycle", lambda: step_lifecycle(size))
    report("run", lambda: step_run(size))
    report("agenda", lambda: step_agenda(size, repeat))
    report("run-next-day", lambda: step_run(size, next_day=True))
    report("version", lambda: step_version(size, repeat))
    return rows


# -- printing -------------------------------------------------------------------------------

HEADER = (f"{'step':20}{'customers':>10}{'crmcore s':>11}{'cpu s':>8}{'peer s':>9}{'ratio':>7}"
          f"{'crm MiB':>9}{'peer MiB':>10}  {'peer':18}{'target':26}verdict")


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_row(row: Row) -> str:
    """One table line, then its notes indented."""
    ours, peer = row.crmcore, row.peer
    line = (f"{row.step:20}{row.customers:>10,}"
            f"{_number(ours.seconds if ours else None, 2):>11}"
            f"{_number(ours.cpu_seconds if ours else None, 2):>8}"
            f"{_number(peer.seconds if peer else None, 2):>9}{_number(row.ratio, 2):>7}"
            f"{_number(ours.peak_mib if ours else None, 0):>9}"
            f"{_number(peer.peak_mib if peer else None, 0):>10}  {row.peer_name or '-':18}"
            f"{row.target or '-':26}{row.verdict or '-'}")
    return "\n".join([line, *(f"{'':22}{note}" for note in row.notes)])


def scaling(rows: Sequence[Row]) -> list[str]:
    """Time growth between consecutive sizes of each step (lifecycle: <= 11x per 10x)."""
    lines = []
    timed: dict[str, dict[int, float]] = {}
    for row in rows:
        if row.crmcore is not None and row.step not in ("version", "agenda"):
            timed.setdefault(row.step, {})[row.customers] = row.crmcore.seconds
    for step, series in timed.items():
        for (small, before), (large, after) in itertools.pairwise(series.items()):
            growth, factor = after / before, large / small
            check = (f"  target <= {1.1 * factor:.0f}x: {verdict(growth <= 1.1 * factor)}"
                     if step == "lifecycle" else "")
            lines.append(f"{step:20}{small:>10,} -> {large:<10,} "
                         f"{factor:.0f}x customers: {growth:.1f}x time{check}")
    return lines


def rst_table(results: Sequence[dict[str, Any]]) -> str:
    """The rows of saved JSON results as a reStructuredText table (docs/performance.rst)."""
    head = ("step", "customers", "crmcore s", "cpu s", "peer", "peer s", "peer cpu s",
            "ratio", "crmcore MiB", "peer MiB", "target", "verdict")

    def cells(row: dict[str, Any]) -> tuple[str, ...]:
        ours, peer = row["crmcore"] or {}, row["peer"] or {}

        def figure(side: dict[str, float], key: str, digits: int) -> str:
            return _number(side.get(key), digits) if side else "n/a"

        return (row["step"], f"{row['customers']:,}", figure(ours, "seconds", 2),
                figure(ours, "cpu_seconds", 2), row["peer_name"] or "-",
                figure(peer, "seconds", 2), figure(peer, "cpu_seconds", 2),
                _number(row["ratio"], 2) if row["ratio"] is not None else "-",
                figure(ours, "peak_mib", 0), figure(peer, "peak_mib", 0),
                row["target"] or "-", row["verdict"] or "-")

    body = [cells(row) for result in results for row in result["rows"]]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    rule = "  ".join("=" * width for width in widths)

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)
                         ).rstrip()

    return "\n".join([rule, line(head), rule, *(line(row) for row in body), rule])


def parse_size(text: str) -> int:
    """``300``, ``10k``, ``1m`` -> a number of customers."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=HERE, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m",
                        help="customers per size, 10 purchases each (default: 10k,100k,1m)")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"steps to report (default: {','.join(STEPS)})")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir())
                        / "crmcore-bench-daily", help="books and databases (kept for reuse)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="best of N for the sub-second commands (default: 3)")
    parser.add_argument("--smoke", action="store_true", help="300 customers, for CI")
    parser.add_argument("--render", nargs="+", type=Path, metavar="RESULTS.json",
                        help="print saved results as a reStructuredText table and exit")
    arguments = parser.parse_args(argv)
    if arguments.render:
        print(rst_table([json.loads(path.read_text()) for path in arguments.render]))
        return 0
    steps = [step.strip() for step in arguments.steps.split(",") if step.strip()]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"--steps: unknown {', '.join(unknown)} (known: {', '.join(STEPS)})")
    sizes = [300] if arguments.smoke else [parse_size(s) for s in arguments.sizes.split(",")]
    repeat = 1 if arguments.smoke else arguments.repeat
    commit = _commit()
    compile_crmcore()
    started = datetime.now(UTC)
    print(f"crmcore daily path, {started:%Y-%m-%d %H:%M} UTC, commit {commit}, "
          f"{os.cpu_count()} CPUs, {platform.python_version()}; as of {AS_OF_TEXT}, "
          f"10 purchases per customer; wall time and peak RSS per process")
    print(HEADER)
    rows: list[Row] = []
    for customers in sizes:
        size = Size(arguments.dir, customers, arguments.seed)
        print(f"-- {customers:,} customers, {size.book.transactions:,} purchases "
              f"(book ready in {size.book_seconds:.1f} s)", flush=True)
        rows.extend(run_size(size, steps, repeat))
    growth = scaling(rows)
    if growth:
        print("scaling (crmcore time):")
        print("\n".join(growth))
    if not arguments.smoke:
        folder = HERE / "results"
        folder.mkdir(exist_ok=True)
        path = folder / f"daily_run-{started:%Y%m%dT%H%M}.json"
        path.write_text(json.dumps({
            "started": started.isoformat(), "commit": commit, "cpus": os.cpu_count(),
            "python": platform.python_version(), "rows": [
                {**asdict(row), "ratio": row.ratio} for row in rows]}, indent=1))
        print(f"results: {path}")
    bad = [row for row in rows if row.verdict in ("FAILED", "GRADES DIFFER")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
