"""Readers are never blocked by a writer; read-only files work; reading never creates a db."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crmcore import CRM, Customer
from crmcore.cli import main
from crmcore.cli.common import READING_COMMANDS
from crmcore.errors import StorageError
from crmcore_plugins.storage_sqlite import SqliteStorage

HOLD_A_WRITE = textwrap.dedent("""
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE records SET version = version")
    print("holding", flush=True)
    sys.stdin.readline()          # until the test says so
    db.execute("COMMIT")
""")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.db"
    with CRM.open("sqlite", path=str(path)) as crm:
        crm.record_many([Customer(id=f"C{i}", name=f"Customer {i}") for i in range(5)])
    return path


def test_every_listed_reading_command_exists() -> None:
    for name in READING_COMMANDS:
        module, _, function = name.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), name


def test_a_reading_command_succeeds_while_another_process_holds_a_write(book: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", HOLD_A_WRITE, str(book)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdin is not None
        assert writer.stdout.readline().strip() == "holding"
        reader = subprocess.run(
            [sys.executable, "-m", "crmcore.cli", "lifecycle", "stages", "--db", str(book)],
            capture_output=True, text=True, timeout=120, check=False)
        assert reader.returncode == 0, reader.stderr
        with CRM.open("sqlite", path=str(book), timeout=0.1) as crm:
            assert crm.count(Customer) == 5  # CRM reads are read transactions too
            with pytest.raises(StorageError, match="locked"):
                crm.record(Customer(id="C9", name="blocked"))
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        writer.kill()


def test_read_only_storage_reads_and_refuses_writes_naming_the_file(book: Path) -> None:
    with CRM.open("sqlite", path=str(book), read_only=True) as crm:
        assert crm.count(Customer) == 5
        with pytest.raises(StorageError, match="read-only; this operation writes"):
            crm.record(Customer(id="C9", name="refused"))
    with CRM.open("sqlite", path=str(book)) as crm:
        assert crm.count(Customer) == 5


def test_read_only_from_configuration(book: Path, tmp_path: Path) -> None:
    config = tmp_path / "crm.toml"
    config.write_text(f'[storage]\npath = "{book.name}"\nread_only = true\n', encoding="utf-8")
    with CRM.from_file(config) as crm, pytest.raises(StorageError, match="read-only"):
        crm.record(Customer(id="C9", name="refused"))


def test_read_only_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(StorageError, match=r"typo\.db' does not exist"):
        SqliteStorage(missing, read_only=True)
    assert not missing.exists()


@pytest.mark.parametrize("command", [["agenda"], ["lifecycle", "stages"], ["compliance"],
                                     ["pdca", "list"], ["schedule"]])
def test_a_reading_command_refuses_a_missing_db_naming_it(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "typo.db"
    assert main([*command, "--db", str(missing)]) != 0
    assert f"--db: {str(missing)!r} does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_read_only_flag_on_a_writing_command(book: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "advance", "--db", str(book), "--read-only"]) != 0
    assert "read-only" in capsys.readouterr().err


def test_a_damaged_database_is_an_error_naming_it(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError, match=r"damaged\.db' is not a usable SQLite database"):
        SqliteStorage(damaged)
