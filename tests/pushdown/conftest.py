"""Engines and data for the pushdown tests: DuckDB, SQLite, a real PostgreSQL, CDNOW.

The PostgreSQL server is the one ``tests/sql`` starts (its ``postgres_url``
fixture, reused here). The CDNOW purchase log lives in ``../shared/data``
beside the repository, not in it: tests that need it skip when it is absent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import attrs
import pytest

try:
    import ibis  # noqa: F401
except ModuleNotFoundError:  # without the pushdown extra there is nothing here to test
    collect_ignore_glob = ["test_*.py"]

from tests.pushdown.erp_book_engines import books, mariadb  # noqa: F401 - fixtures
from tests.sql.conftest import postgres_url  # noqa: F401 - a fixture, reused

DATA = Path(os.environ.get("CRMCORE_SHARED_DATA")
            or Path(__file__).parents[2].parent / "shared" / "data")
"""Where the CDNOW log is: ``../shared/data``, or ``$CRMCORE_SHARED_DATA`` (a worktree
elsewhere)."""


@attrs.frozen
class Purchases:
    """Purchases as plain columns: ids, aware UTC times, amounts as decimal text."""

    customer_id: tuple[str, ...]
    at: tuple[datetime, ...]
    amount: tuple[str, ...]

    def cents(self) -> list[int]:
        """Amounts in hundredths, half-even (as crmcore reads them)."""
        return [int((Decimal(a) * 100).to_integral_value(rounding=ROUND_HALF_EVEN))
                for a in self.amount]

    def csv_text(self) -> str:
        """The purchases as a CSV export crmcore's CSV path reads."""
        lines = ["customer_id,date,amount"]
        lines += [f"{c},{t.isoformat()},{a}"
                  for c, t, a in zip(self.customer_id, self.at, self.amount, strict=True)]
        return "\n".join(lines) + "\n"


def read_cdnow_purchases() -> Purchases:
    """The whole CDNOW sample (skips when ``../shared/data`` is absent)."""
    path = DATA / "CDNOW_sample.txt"
    if not path.is_file():
        pytest.skip(f"CDNOW data {path} is absent (it lives in ../shared/data, not in the repo)")
    ids, times, amounts = [], [], []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip():
            _original, customer, day, _quantity, amount = line.split()
            ids.append(customer)
            times.append(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC))
            amounts.append(amount)
    return Purchases(tuple(ids), tuple(times), tuple(amounts))


@pytest.fixture(scope="session")
def cdnow() -> Purchases:
    """The CDNOW purchase log (6,919 purchases of 2,357 customers)."""
    return read_cdnow_purchases()


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:  # noqa: F811 - the reused fixture
    """A fresh PostgreSQL database on the session's server (URL), dropped afterwards."""
    import sqlalchemy as sa

    name = f"p_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = postgres_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
