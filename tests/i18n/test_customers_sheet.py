"""``crmcore grade --customers BOOK.xlsx --customers-sheet NAME|NUMBER``: the customers
workbook's sheet is chosen apart from ``--sheet`` (which chooses the TRANSACTIONS file's),
and a missing sheet is an error naming ``--customers-sheet`` and listing the sheets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import run
from tests.international.test_files import needs_calamine
from tests.international.xlsx_writer import write_xlsx

CUSTOMER_ROWS = [["id", "name", "industry"], ["张三", "张三贸易有限公司", "制造"],
                 ["C2", "李四商行", "零售"]]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A purchases workbook (sheet 2 '购买'), a customers workbook (sheet 2 '客户', a notes
    sheet first) and the same customers as CSV."""
    write_xlsx(tmp_path / "t.xlsx", {"说明": [["导出说明"]], "购买": [
        ["customer_id", "date", "amount"], ["张三", date(2025, 3, 1), 1200],
        ["C2", date(2025, 3, 3), 800]]})
    write_xlsx(tmp_path / "c.xlsx", {"说明": [["本工作簿"], ["客户资料"]], "客户": CUSTOMER_ROWS})
    (tmp_path / "c.csv").write_text("\n".join(",".join(map(str, row)) for row in CUSTOMER_ROWS)
                                    + "\n", encoding="utf-8")
    return tmp_path


def _grade(files: Path, *options: str) -> tuple[int, str, str]:
    return run("grade", str(files / "t.xlsx"), "--sheet", "购买", "--scheme", "pareto-abc",
               "--as-of", "2025-04-01", "--format", "csv", *options)


@needs_calamine
@pytest.mark.parametrize("sheet", ["客户", "2"])
def test_the_customers_sheet_is_read_like_the_csv(files: Path, sheet: str) -> None:
    expected = _grade(files, "--customers", str(files / "c.csv"))
    assert expected[0] == 0, expected[2]
    assert _grade(files, "--customers", str(files / "c.xlsx"), "--customers-sheet", sheet) \
        == expected


@needs_calamine
def test_sheet_does_not_choose_the_customers_sheet(files: Path) -> None:
    status, _, err = _grade(files, "--customers", str(files / "c.xlsx"))  # its first sheet
    assert status == 1
    assert "(columns: 本工作簿)" in err


@needs_calamine
def test_a_missing_customers_sheet_names_the_option_and_lists_the_sheets(files: Path) -> None:
    book = files / "c.xlsx"
    status, out, err = _grade(files, "--customers", str(book), "--customers-sheet", "购买")
    assert (status, out) == (1, "")
    assert err == (f"crmcore: error: --customers-sheet: '购买' is not a sheet of {book} "
                   "(sheets: 1 '说明', 2 '客户')\n")
    status, _, err = _grade(files, "--customers", str(book), "--customers-sheet", "3",
                            "--lang", "zh_CN")
    assert err == (f"crmcore：错误：--customers-sheet：'3' 不是 {book} 中的工作表"
                   "（工作表：1 '说明', 2 '客户'）\n")


@needs_calamine
def test_customers_sheet_needs_a_customers_workbook(files: Path) -> None:
    status, _, err = _grade(files, "--customers", str(files / "c.csv"),
                            "--customers-sheet", "2")
    assert status == 1
    assert err.startswith("crmcore: error: --customers-sheet: '2' applies to workbooks")
    status, _, err = _grade(files, "--customers-sheet", "2")
    assert (status, err) == (1, "crmcore: error: --customers-sheet: '2' chooses a sheet of "
                                "the --customers workbook; give --customers\n")
