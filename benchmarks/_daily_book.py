"""A deterministic book of business as the CSV files an ERP exports, for the daily-run benchmark.

:func:`write_book` writes, once per (customers, purchases, seed) and then reuses:

- ``customers-N.csv``: ``id,name,owner,acquired_at``, owners ``owner-001`` to
  ``owner-200`` in turn, ``acquired_at`` the day of the first purchase;
- ``transactions-N-P.csv``: ``customer_id,date,amount``, exactly ``purchases``
  purchases per customer at the customer's own rhythm (10 to 90 days between
  purchases on average), the last one 1 to 400 days before :data:`AS_OF`, so the
  book holds active, lapsing and lost customers; amounts have two decimals,
  log-normal per customer.

Everything is drawn from one seeded numpy generator: the same arguments write
the same bytes. Files are written under a temporary name and renamed, so an
interrupted run never leaves a truncated book to be reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np

AS_OF = date(2026, 6, 30)
"""The day every step runs as of (midnight UTC); all purchases are before it."""

OWNERS = 200
"""Account owners ``owner-001`` .. ``owner-200``, assigned in turn."""

CHUNK = 50_000
"""Customers formatted per write."""


class Book(NamedTuple):
    """The two CSV files of one generated book and their sizes."""

    customers_csv: Path
    transactions_csv: Path
    customers: int
    transactions: int


def owner_name(number: int) -> str:
    """The owner of customer ``number`` (0-based)."""
    return f"owner-{number % OWNERS + 1:03d}"


def customer_id(number: int) -> str:
    """The id of customer ``number`` (0-based)."""
    return f"C{number:08d}"


def _purchase_days(rng: np.random.Generator, customers: int, purchases: int) -> np.ndarray:
    """Days before :data:`AS_OF` of each purchase, shape (customers, purchases), oldest first."""
    rhythm = rng.uniform(10.0, 90.0, customers)
    gaps = np.ceil(rng.exponential(1.0, (customers, purchases - 1)) * rhythm[:, None])
    idle = rng.integers(1, 401, customers)
    after = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]  # days from each purchase to the last
    return np.concatenate([after, np.zeros((customers, 1))], axis=1).astype(np.int64) \
        + idle[:, None]


def _write(path: Path, header: str, chunks: Iterable[list[str]]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="ascii", newline="") as file:
        file.write(header)
        for lines in chunks:
            file.writelines(lines)
    partial.rename(path)


def write_book(folder: Path, customers: int, *, purchases: int = 10, seed: int = 1) -> Book:
    """Write (or reuse) the book of ``customers`` x ``purchases`` under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    customers_csv = folder / f"customers-{customers}-s{seed}.csv"
    transactions_csv = folder / f"transactions-{customers}x{purchases}-s{seed}.csv"
    book = Book(customers_csv, transactions_csv, customers, customers * purchases)
    if customers_csv.exists() and transactions_csv.exists():
        return book
    rng = np.random.default_rng(seed)
    before = _purchase_days(rng, customers, purchases)
    scale = rng.lognormal(3.5, 1.0, customers)
    cents = np.maximum(np.round(scale[:, None] * rng.lognormal(0.0, 0.4, before.shape) * 100),
                       1).astype(np.int64)
    oldest = int(before.max())
    day_text = [(AS_OF - timedelta(days=d)).isoformat() for d in range(oldest + 1)]

    def customer_lines() -> Iterator[list[str]]:
        for first in range(0, customers, CHUNK):
            yield [f"{customer_id(n)},Customer {n},{owner_name(n)},{day_text[before[n, 0]]}\n"
                   for n in range(first, min(first + CHUNK, customers))]

    def transaction_lines() -> Iterator[list[str]]:
        for first in range(0, customers, CHUNK):
            last = min(first + CHUNK, customers)
            days, amounts = before[first:last].tolist(), cents[first:last].tolist()
            yield [f"{customer_id(first + i)},{day_text[d]},{c // 100}.{c % 100:02d}\n"
                   for i in range(last - first)
                   for d, c in zip(days[i], amounts[i], strict=True)]

    _write(customers_csv, "id,name,owner,acquired_at\n", customer_lines())
    _write(transactions_csv, "customer_id,date,amount\n", transaction_lines())
    return book
