"""Benchmark the Python side of ``crmcore import transactions``: everything but the storage.

Reads a transactions CSV (``customer_id,date,amount``) with
:func:`crmcore.csv_import.transaction_batches` and hands every batch to
:class:`crmcore.batch_import.BatchWriter` over a session that stores
nothing (its ``stored_ids`` knows every customer, its ``insert_many`` counts).
What is left is what crmcore's own Python costs per row: parsing, identity,
ids, records, the per-batch checks. Beside it, the floor: ``csv.reader``
alone over the same file. CPU seconds (``time.process_time``), best of
``--repeat`` runs.

Run: ``python benchmarks/bench_import_python.py [--file FILE.csv | --rows N] [--repeat R]
[--smoke]``
(``--rows`` writes a file of N rows, N/10 customers, in a temporary folder).
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crmcore.batch_import import BatchWriter
from crmcore.csv_import import transaction_batches
from crmcore.ports import StoredRecord


class _NullSession:
    """Knows every customer, stores nothing, counts the rows it was given."""

    def __init__(self) -> None:
        self.rows = 0

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, Any]:
        return dict.fromkeys(ids) if kind == "customer" else {}

    def stored_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        return set(ids) if kind == "customer" else set()

    def insert_many(self, records: Sequence[StoredRecord]) -> None:
        self.rows += len(records)


def write_file(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` purchases of ``rows // 10`` customers over two years, amounts with cents."""
    pick = random.Random(seed)
    start = date(2024, 7, 1)
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["customer_id", "date", "amount"])
        for n in range(rows):
            day = start + timedelta(days=pick.randrange(730))
            out.writerow([f"C{n // 10:08d}", day.isoformat(),
                          f"{pick.lognormvariate(3.5, 1):.2f}"])


def _crmcore(path: Path) -> int:
    session = _NullSession()
    writer = BatchWriter(session)  # type: ignore[arg-type]
    with path.open(newline="") as file:
        for batch in transaction_batches(file):
            writer.write(batch)
    return session.rows


def _csv_only(path: Path) -> int:
    with path.open(newline="") as file:
        return sum(1 for _ in csv.reader(file)) - 1


def best_cpu(work: Callable[[Path], int], path: Path, repeat: int) -> tuple[float, int]:
    """The least CPU seconds of ``repeat`` runs of ``work(path)``, and its row count."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        rows = work(path)
        best = min(best, time.process_time() - started)
    return best, rows


def main() -> None:
    """Parse the options, run both sides, print CPU seconds and microseconds per row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a transactions CSV to read")
    parser.add_argument("--rows", type=int, default=100_000,
                        help="rows of the generated file (without --file)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true",
                        help="2,000 generated rows, one run: for CI")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.file, arguments.rows, arguments.repeat = None, 2_000, 1
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.file
        if path is None:
            path = Path(folder) / "transactions.csv"
            write_file(path, arguments.rows)
        for name, work in (("csv.reader only", _csv_only), ("crmcore Python side", _crmcore)):
            seconds, rows = best_cpu(work, path, arguments.repeat)
            print(f"{name:20s} {rows:>10,} rows  {seconds:7.2f} s CPU  "
                  f"{seconds / rows * 1e6:6.2f} us/row")


if __name__ == "__main__":
    main()
