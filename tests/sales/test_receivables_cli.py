"""M4 and G9 on the command line: ``crmcore receivables`` and ``crmcore report differentiation``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crmcore.cli import main

INVOICES = """invoice,customer_id,amount,currency,issued_on,due_on,paid_on,paid_amount
I1,C1,1200,EUR,2026-01-02,2026-02-01,,
I2,C1,30,USD,2026-01-05,2026-01-20,,
I3,C2,80,EUR,2026-02-01,2026-03-01,2026-02-10,80
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "crm.db")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nC1,Acme\nC2,Bolt\n", encoding="utf-8")
    assert main(["import", "customers", str(customers), "--db", path]) == 0
    invoices = tmp_path / "ar.csv"
    invoices.write_text(INVOICES, encoding="utf-8")
    assert main(["receivables", "import", str(invoices), "--column", "id=invoice",
                 "--db", path]) == 0
    return path


def test_m4_list_shows_each_currency_apart_with_days_overdue(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["receivables", "list", "--as-of", "2026-03-01", "--db", db,
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"customer": "C1", "currency": "EUR", "open": "1200.00", "invoices": 2,
         "days_overdue": 40},
        {"customer": "C1", "currency": "USD", "open": "30.00", "invoices": 2,
         "days_overdue": 40}]
    assert main(["receivables", "list", "--as-of", "2026-03-01", "--db", db,
                 "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == ["customer", "currency", "open", "invoices", "days_overdue"]
    assert len(table) == 3


def test_m4_limits_and_the_p7_warning_from_the_command_line(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["receivables", "limit", "C2", "50", "EUR", "--db", db]) == 0
    assert main(["receivables", "limit", "C1", "1000", "EUR", "--db", db]) == 0
    capsys.readouterr()
    assert main(["receivables", "over-limit", "--as-of", "2026-03-01", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "C1" in out
    assert "unknown" in out  # USD open against a EUR limit: not compared
    assert "C2" not in out
    assert main(["receivables", "warn", "--as-of", "2026-03-01", "--db", db]) == 0
    assert "0 new early warning(s)" in capsys.readouterr().out  # unknown is not over
    assert main(["receivables", "over-limit", "--as-of", "2026-02-05", "--db", db]) == 0
    assert "C2        over" in capsys.readouterr().out  # before C2 paid its 80 EUR
    assert main(["receivables", "warn", "--as-of", "2026-02-05", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "new: customer C2 is over its credit limit" in out
    assert "1 new early warning(s) raised (P7)" in out
    assert main(["receivables", "warn", "--as-of", "2026-02-06", "--db", db]) == 0
    assert "0 new early warning(s) raised (P7); 1 raised before" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["receivables", "limit", "C1", "-5", "EUR"], "limit: '-5' must not be negative"),
    (["receivables", "limit", "C9", "5", "EUR"], "customer_id: customer 'C9' does not exist"),
    (["receivables", "limit", "C1", "5", "eur"], "currency: 'eur'"),
])
def test_m4_bad_limits_are_errors_naming_field_and_value(
        db: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*argv, "--db", db]) != 0
    assert message in capsys.readouterr().err


def test_m4_bad_invoice_file_names_line_and_column_and_stores_nothing(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,customer_id,amount,currency,issued_on,due_on\n"
                   "I7,C1,10,EUR,2026-01-02,2026-02-01\nI8,C3,10,EUR,2026-01-02,2026-02-01\n",
                   encoding="utf-8")
    capsys.readouterr()
    assert main(["receivables", "import", str(bad), "--db", db]) == 1
    assert "line 3, column 'customer_id': 'C3' is not a stored customer" in \
        capsys.readouterr().err
    assert main(["receivables", "list", "--as-of", "2026-03-01", "--db", db,
                 "--format", "json"]) == 0
    assert "I7" not in capsys.readouterr().out
    assert main(["receivables", "import", str(bad), "--column", "nope=x", "--db", db]) == 1
    assert "names no invoice field" in capsys.readouterr().err


def test_g9_report_command_prints_table_json_and_csv(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", "differentiation", "--as-of", "2026-06-30", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Customers who cause cost (G9, costly" in out
    assert main(["report", "differentiation", "--report", "costly", "--as-of", "2026-06-30",
                 "--format", "json", "--db", db]) == 0
    (costly,) = json.loads(capsys.readouterr().out)
    assert [row["customer"] for row in costly["rows"]] == ["C1"]  # C1's invoices are late
    assert main(["report", "differentiation", "--report", "costly", "--as-of", "2026-06-30",
                 "--format", "csv", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("customer,name,complaints")
    assert main(["report", "differentiation", "--format", "csv", "--db", db]) == 1
    assert "name one report with --report" in capsys.readouterr().err


def test_m4_invoice_amounts_in_a_chinese_export_are_read_exactly(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cn = tmp_path / "cn.csv"
    cn.write_text("id,customer_id,amount,currency,issued_on,due_on\n"
                  "I9,C2,\"¥1,200.50\",CNY,2026-01-02,2026-02-01\n", encoding="utf-8")
    assert main(["receivables", "import", str(cn), "--amount-format", "cn", "--db", db]) == 0
    capsys.readouterr()
    assert main(["receivables", "list", "--as-of", "2026-01-10", "--db", db,
                 "--format", "json"]) == 0
    assert {"customer": "C2", "currency": "CNY", "open": "1200.50", "invoices": 1,
            "days_overdue": 0} in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("option", "value", "shown"), [("--large-share", "0", "0.0"),
                                                        ("--largest", "0", "0")])
def test_g9_bad_report_settings_name_the_option(
        db: str, option: str, value: str, shown: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", "differentiation", option, value, "--db", db]) == 1
    assert f"{option}: {shown} must be" in capsys.readouterr().err
