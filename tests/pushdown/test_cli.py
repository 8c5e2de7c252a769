"""``crmcore grade --erp``, ``[source]`` for ``crmcore run`` and ``lifecycle advance``.

The ERP is a real SQLite database file read through a mapping file; the
grades are stored in crmcore's own database, never in the ERP's.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.grading import latest_grades
from crmcore.lifecycle.service import LifecycleService

AS_OF = "2026-06-30"
MAPPING = """
name = "shop"
[customers]
table = "{customers}"
[customers.columns]
id = "id"
name = "name"
acquired_at = "created"
[transactions]
table = "orders"
where = [{{ column = "state", op = "=", value = "done" }}]
[transactions.columns]
id = "id"
customer_id = "customer_id"
occurred_at = "at"
amount = "{amount}"
"""


def _purchases() -> list[tuple[str, datetime, str]]:
    start = datetime(2025, 7, 1, 9, tzinfo=UTC)
    return [(f"C{n % 23:02d}", start + timedelta(days=(n * 37) % 360, hours=n % 5),
             f"{(n * 7919) % 50_000 / 100:.2f}") for n in range(120)]


@pytest.fixture
def erp(tmp_path: Path) -> Path:
    """An ERP database: customers, and orders of which some are drafts (never counted)."""
    path = tmp_path / "erp.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id TEXT, name TEXT, created TIMESTAMP)")
        connection.execute("CREATE TABLE orders (id INTEGER, customer_id TEXT, at TIMESTAMP, "
                           "amount NUMERIC, state TEXT)")
        connection.executemany("INSERT INTO customers VALUES (?, ?, '2025-01-02 00:00:00')",
                               [(f"C{n:02d}", f"customer {n}") for n in range(23)])
        rows = [(n, c, at.strftime("%Y-%m-%d %H:%M:%S"), amount, "done")
                for n, (c, at, amount) in enumerate(_purchases())]
        rows.append((999, "C01", "2026-06-01 00:00:00", "99999.00", "draft"))
        connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", rows)
    return path


def _mapping(tmp_path: Path, *, customers: str = "customers", amount: str = "amount") -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(MAPPING.format(customers=customers, amount=amount), encoding="utf-8")
    return path


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\n" + "".join(
        f"{c},{at.isoformat()},{amount}\n" for c, at, amount in _purchases()), encoding="utf-8")
    return path


def _grades(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    assert main(list(argv)) == 0
    return {row["customer_id"]: row["grade"] for row in json.loads(capsys.readouterr().out)}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("scheme", ["pareto-abc", "rfm"])
def test_grade_erp_in_place_equals_grading_its_export(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path, scheme: str) -> None:
    """G1/RFM: `grade --erp` computes in the ERP's database what grading the export gives."""
    expected = _grades(capsys, "grade", str(_export(tmp_path)), "--scheme", scheme,
                       "--as-of", AS_OF, "--format", "json")
    found = _grades(capsys, "grade", "--erp", str(_mapping(tmp_path)), "--url",
                    f"sqlite:///{erp}", "--scheme", scheme, "--as-of", AS_OF, "--format", "json")
    assert len(found) == 23
    assert found == expected


def test_grade_erp_stores_in_crmcore_and_never_writes_the_erp(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path) -> None:
    before = _digest(erp)
    database = tmp_path / "crm.db"
    found = _grades(capsys, "grade", "--erp", str(_mapping(tmp_path)), "--url",
                    f"sqlite:///{erp}", "--scheme", "pareto-abc", "--as-of", AS_OF,
                    "--format", "json", "--db", str(database))
    with CRM.open("sqlite", path=str(database)) as crm:
        assert latest_grades(crm, "pareto-abc") == found
    assert _digest(erp) == before


@pytest.mark.parametrize(("change", "key"), [
    ({"customers": "clients"}, "customers.table: 'clients' is not a table"),
    ({"amount": "total"}, "transactions.columns.amount: column 'total' is not in table"),
])
def test_a_mapping_naming_what_the_erp_lacks_names_the_key_and_stores_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path, change: dict[str, str],
        key: str) -> None:
    database = tmp_path / "crm.db"
    status = main(["grade", "--erp", str(_mapping(tmp_path, **change)), "--url",
                   f"sqlite:///{erp}", "--scheme", "pareto-abc", "--as-of", AS_OF,
                   "--db", str(database)])
    assert status == 1
    assert key in capsys.readouterr().err
    assert not database.exists()


@pytest.mark.parametrize("url", ["postgresql://reader:s3cret@127.0.0.1:1/erp",
                                 "sqlite:///{tmp}/absent.db", "ftp://erp"])
def test_a_url_that_does_not_connect_names_the_option_and_hides_the_password(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str) -> None:
    database = tmp_path / "crm.db"
    status = main(["grade", "--erp", str(_mapping(tmp_path)), "--url",
                   url.format(tmp=tmp_path), "--scheme", "pareto-abc", "--as-of", AS_OF,
                   "--db", str(database)])
    error = capsys.readouterr().err
    assert status == 1
    assert "--url" in error
    assert "s3cret" not in error
    assert not database.exists()


def test_a_missing_pushdown_extra_is_named(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ibis", None)  # as if ibis-framework were not installed
    status = main(["grade", "--erp", str(_mapping(tmp_path)), "--url", f"sqlite:///{erp}",
                   "--scheme", "pareto-abc", "--as-of", AS_OF])
    assert status == 1
    assert "pip install 'crmcore[pushdown]'" in capsys.readouterr().err


def _config(tmp_path: Path, erp: Path, source: str | None = None) -> Path:
    path = tmp_path / "crm.toml"
    table = source if source is not None else (
        f'erp = "{_mapping(tmp_path)}"\nurl = "sqlite:///{erp}"\n')
    path.write_text(f'[storage]\nbackend = "sqlite"\npath = "{tmp_path / "crm.db"}"\n'
                    f'[run]\nsteps = ["grade", "lifecycle"]\n[source]\n{table}',
                    encoding="utf-8")
    return path


def test_the_daily_run_grades_and_advances_the_configured_source(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path) -> None:
    """`[source]`: the run grades the ERP in place, the lifecycle reads its purchases (L1)."""
    before = _digest(erp)
    expected = _grades(capsys, "grade", str(_export(tmp_path)), "--scheme", "pareto-abc",
                       "--as-of", AS_OF, "--format", "json")
    config = _config(tmp_path, erp)
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    capsys.readouterr()
    with CRM.from_file(config) as crm:
        assert latest_grades(crm, "pareto-abc") == expected
        stages = {state.subject_id: state.state for state in LifecycleService(crm).states()}
    assert len(stages) == 23
    assert set(stages.values()) <= {"active", "at-risk", "loyal"}
    assert _digest(erp) == before


def test_lifecycle_advance_reads_the_configured_source(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path) -> None:
    config = _config(tmp_path, erp)
    assert main(["lifecycle", "advance", "--config", str(config), "--as-of", AS_OF,
                 "--format", "json"]) == 0
    moves = json.loads(capsys.readouterr().out)
    assert {move["customer_id"] for move in moves if move["to"] == "active"} == \
        {f"C{n:02d}" for n in range(23)}


def test_a_source_table_without_a_mapping_names_the_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, erp: Path) -> None:
    config = _config(tmp_path, erp, source=f'url = "sqlite:///{erp}"\n')
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 1
    assert "source.erp: is required" in capsys.readouterr().err
