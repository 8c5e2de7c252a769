"""``crmcore grade FILE --encoding E --customers C [--customers-encoding E2]``: the customers
file has its own encoding (default: ``[import] encoding``, else detected like the main
file's), so ``--encoding gbk`` for the transactions no longer refuses a customers workbook
or mis-reads a UTF-8 customers CSV; errors name ``--customers-encoding``."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import run
from tests.international.test_files import needs_calamine
from tests.international.xlsx_writer import write_xlsx

PURCHASES = "customer_id,date,amount\n张三,2025-03-01,1200\nC2,2025-03-03,800\n"
CUSTOMERS = "id,name,industry\n张三,张三贸易有限公司,制造\nC2,李四商行,零售\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The purchases in GBK; the customers as UTF-8 CSV, GBK CSV and a workbook."""
    (tmp_path / "t.csv").write_bytes(PURCHASES.encode("gbk"))
    (tmp_path / "t_utf8.csv").write_text(PURCHASES, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "c_gbk.csv").write_bytes(CUSTOMERS.encode("gbk"))
    write_xlsx(tmp_path / "c.xlsx", {"客户": [line.split(",") for line in
                                            CUSTOMERS.splitlines()]})
    return tmp_path


def _grade(files: Path, transactions: str, *options: str) -> tuple[int, str, str]:
    return run("grade", str(files / transactions), "--scheme", "pareto-abc",
               "--as-of", "2025-04-01", "--format", "csv", *options)


def _expected(files: Path) -> tuple[int, str, str]:
    result = _grade(files, "t_utf8.csv", "--customers", str(files / "c.csv"))
    assert result[0] == 0, result[2]
    return result


@pytest.mark.parametrize("customers", [
    ("c.csv",),  # detected as UTF-8, not read as the transactions' GBK
    ("c_gbk.csv",),
    ("c_gbk.csv", "--customers-encoding", "gbk"),
    ("c.csv", "--customers-encoding", "UTF-8"),
])
def test_the_customers_file_has_its_own_encoding(files: Path, customers: tuple[str, ...]
                                                 ) -> None:
    name, *options = customers
    assert _grade(files, "t.csv", "--encoding", "gbk", "--customers", str(files / name),
                  *options) == _expected(files)


@needs_calamine
def test_encoding_of_the_transactions_does_not_refuse_a_customers_workbook(files: Path
                                                                           ) -> None:
    assert _grade(files, "t.csv", "--encoding", "gbk", "--customers", str(files / "c.xlsx")) \
        == _expected(files)


@needs_calamine
def test_customers_encoding_refuses_a_workbook_naming_the_option(files: Path) -> None:
    book = files / "c.xlsx"
    status, out, err = _grade(files, "t.csv", "--customers", str(book),
                              "--customers-encoding", "gbk")
    assert (status, out) == (1, "")
    assert err == (f"crmcore: error: --customers-encoding: 'gbk' does not apply to the "
                   f"workbook {book} (a workbook names its own encoding)\n")


def test_a_bad_customers_encoding_names_the_option_in_either_language(files: Path) -> None:
    customers = ("--customers", str(files / "c_gbk.csv"))
    status, _, err = _grade(files, "t.csv", *customers, "--customers-encoding", "big5")
    assert status == 1
    assert err.startswith("crmcore: error: --customers-encoding: 'big5' is not a supported "
                          "encoding (available: utf-8, utf-8-sig, gb18030, utf-16;")
    status, _, err = _grade(files, "t.csv", *customers, "--customers-encoding", "utf-8",
                            "--lang", "zh_CN")
    offset = len(b"id,name,industry\n")  # the first Chinese character
    assert (status, err) == (1, f"crmcore：错误：{files / 'c_gbk.csv'}：第 2 行，字节偏移 "
                                f"{offset}：无法按 utf-8（--customers-encoding 给出的编码）解码\n")


def test_customers_encoding_needs_a_customers_file(files: Path) -> None:
    status, _, err = _grade(files, "t.csv", "--customers-encoding", "gbk")
    assert (status, err) == (1, "crmcore: error: --customers-encoding: 'gbk' is the encoding "
                                "of the --customers file; give --customers\n")
