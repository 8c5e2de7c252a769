"""Issue 13 item 3, files as users have them: encodings, workbooks, written amounts.

Done when: a GBK CSV and an .xlsx export of the same purchases import to identical
stored rows as the UTF-8 CSV.
"""

from __future__ import annotations

import codecs
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import encodings
from crmcore.amounts import FORMATS, amount_format
from crmcore.cli import main
from crmcore.csv_import import CsvLayout, read_transactions
from crmcore.encodings import (
    TextDecodeError,
    UnknownEncodingError,
    detect_encoding,
    encoding_name,
    open_text,
)
from crmcore.errors import ValidationError
from crmcore.sources import open_table

from .xlsx_writer import Cell, write_xlsx

try:
    import python_calamine  # noqa: F401
except ImportError:
    HAVE_CALAMINE = False
else:
    HAVE_CALAMINE = True

needs_calamine = pytest.mark.skipif(not HAVE_CALAMINE,
                                    reason="the xlsx extra (python-calamine) is not installed")

CUSTOMERS = "id,name\n张三,张三贸易有限公司\nC2,李四商行\n"
PURCHASES_UTF8 = ("customer_id,date,amount\n"
                  "张三,2025-03-01,1200\n"
                  "张三,2025-03-02 10:30:00,350.5\n"
                  "C2,2025-03-03,1200\n"
                  "C2,2025-03-03,1200\n")
"""The purchases as a UTF-8 export writes them (the same purchase twice stays two)."""

PURCHASE_ROWS: list[list[Cell]] = [
    ["customer_id", "date", "amount"],
    ["张三", date(2025, 3, 1), 1200],
    ["张三", datetime(2025, 3, 2, 10, 30), 350.5],
    ["C2", date(2025, 3, 3), 1200.0],
    ["C2", date(2025, 3, 3), 1200],
]
"""The same purchases as a workbook holds them: date cells and number cells."""


def _stored(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return list(connection.execute(
            "SELECT kind, id, version, body FROM all_records WHERE kind = 'transaction' "
            "ORDER BY id"))


def _import(tmp_path: Path, name: str, *options: str) -> list[tuple[object, ...]]:
    database = tmp_path / f"{name}.db"
    customers = tmp_path / "customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    assert main(["import", "customers", str(customers), "--db", str(database)]) == 0
    assert main(["import", "transactions", str(tmp_path / name), "--db", str(database),
                 "--time-zone", "Asia/Shanghai", *options]) == 0
    return _stored(database)


@needs_calamine
def test_item3_gbk_csv_and_xlsx_import_to_the_rows_of_the_utf8_csv(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's "done when": three forms of one export, one set of stored rows."""
    (tmp_path / "utf8.csv").write_text(PURCHASES_UTF8, encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes(PURCHASES_UTF8.encode("gbk"))
    write_xlsx(tmp_path / "export.xlsx", {"说明": [["导出自金蝶"]], "购买": PURCHASE_ROWS})
    expected = _import(tmp_path, "utf8.csv")
    assert len(expected) == 4
    assert _import(tmp_path, "gbk.csv") == expected
    out = capsys.readouterr().out
    assert "gbk.csv: gb18030 (detected)" in out
    assert _import(tmp_path, "gbk.csv", "--encoding", "GBK") == expected
    assert _import(tmp_path, "export.xlsx", "--sheet", "购买") == expected
    assert _import(tmp_path, "export.xlsx", "--sheet", "2") == expected
    assert "export.xlsx: sheet 2 '购买'" in capsys.readouterr().out


def test_item3_currency_amounts_in_a_gbk_export_read_with_amount_format_cn(
        tmp_path: Path) -> None:
    expected = _import(tmp_path, "plain.csv") if (tmp_path / "plain.csv").write_text(
        "customer_id,date,amount\n张三,2025-03-01,1200.00\nC2,2025-03-03,1200.50\n",
        encoding="utf-8") else []
    (tmp_path / "yuan.csv").write_bytes(
        "customer_id,date,amount\n张三,2025-03-01,\"¥1,200.00\"\nC2,2025-03-03,1200.50 元\n"
        .encode("gb18030"))
    assert _import(tmp_path, "yuan.csv", "--amount-format", "cn") == expected


def test_item3_currency_amounts_are_refused_without_the_form(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "yuan.csv").write_text("customer_id,date,amount\nC2,2025-03-01,¥1200\n",
                                       encoding="utf-8")
    database = tmp_path / "crm.db"
    assert main(["import", "transactions", str(tmp_path / "yuan.csv"), "--db", str(database),
                 "--create-customers"]) == 1
    assert "line 2, column 'amount': '¥1200' is not an amount in the plain form" in \
        capsys.readouterr().err


def test_item3_undecodable_file_names_offset_line_and_encoding_and_stores_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "customer_id,date,amount\n" + "C2,2025-03-01,10\n" * 3
    bad = text.encode("gbk") + b"C2,2025-03-02,\x80\n"   # 0x80 alone is no GB18030 character
    (tmp_path / "bad.csv").write_bytes(bad)
    database = tmp_path / "crm.db"
    assert main(["import", "transactions", str(tmp_path / "bad.csv"), "--db", str(database),
                 "--create-customers"]) == 1
    err = capsys.readouterr().err
    offset = len(text.encode()) + len("C2,2025-03-02,")
    assert f"line 5, byte offset {offset}: bytes 80 do not decode as gb18030 " \
           "(the detected encoding)" in err
    assert not database.exists() or _stored(database) == []


def test_item3_given_encoding_that_does_not_fit_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("id\n张三\n".encode("gbk"))
    with pytest.raises(TextDecodeError) as error:
        open_text(path, "utf-8")
    assert (error.value.line, error.value.offset, error.value.encoding) == (2, 3, "utf-8")
    assert "(the given encoding)" in str(error.value)


@pytest.mark.parametrize(("data", "expected"), [
    (codecs.BOM_UTF8 + "id\n张三\n".encode(), "utf-8-sig"),
    ("id\n张三\n".encode("utf-16"), "utf-16"),
    ("id\n张三\n".encode(), "utf-8"),
    (b"id\nplain ascii\n", "utf-8"),
    ("id\n张三\n".encode("gbk"), "gb18030"),
    ("id\n𠀀\n".encode("gb18030"), "gb18030"),
])
def test_item3_detection_rule_bom_then_strict_utf8_then_gb18030(
        tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == expected
    assert list(open_text(path).lines())[1].strip() in ("张三", "plain ascii", "𠀀")


def test_item3_utf16_export_reads_like_utf8(tmp_path: Path) -> None:
    (tmp_path / "u16.csv").write_bytes(PURCHASES_UTF8.encode("utf-16"))
    (tmp_path / "utf8.csv").write_text(PURCHASES_UTF8, encoding="utf-8")
    assert _import(tmp_path, "u16.csv") == _import(tmp_path, "utf8.csv")


def test_item3_unknown_encoding_lists_the_available_ones(tmp_path: Path) -> None:
    assert encoding_name("GB2312") == encoding_name("cp936") == "gb18030"
    with pytest.raises(UnknownEncodingError, match="'latin-9' is not a supported encoding "
                                                   r"\(available: utf-8, utf-8-sig, gb18030"):
        encoding_name("latin-9")


@needs_calamine
def test_item3_unknown_sheet_lists_the_sheets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", {"说明": [["x"]], "购买": PURCHASE_ROWS})
    assert main(["import", "transactions", str(book), "--db", str(tmp_path / "crm.db"),
                 "--sheet", "Sales"]) == 1
    assert "--sheet: 'Sales' is not a sheet of" in (err := capsys.readouterr().err)
    assert "(sheets: 1 '说明', 2 '购买')" in err
    assert main(["import", "transactions", str(book), "--db", str(tmp_path / "crm.db"),
                 "--sheet", "3"]) == 1


@needs_calamine
def test_item3_sheet_and_encoding_refuse_the_other_kind_of_file(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", {"s": PURCHASE_ROWS})
    text = tmp_path / "t.csv"
    text.write_text(PURCHASES_UTF8, encoding="utf-8")
    with pytest.raises(Exception, match="--encoding: 'gbk' does not apply to the workbook"):
        open_table(book, encoding="gbk")
    with pytest.raises(Exception, match="--sheet: '1' applies to workbooks"):
        open_table(text, sheet="1")


@needs_calamine
def test_item3_workbook_dates_follow_the_layout_date_format(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", {"s": [
        ["customer_id", "date", "amount"], ["C1", date(2025, 3, 1), 1234.5],
        ["C1", "01/03/2025", "1.234,50"]]})
    layout = CsvLayout(date_format="%d/%m/%Y", decimal_comma=True)
    rows = list(read_transactions(open_table(book, layout).lines(), layout))
    assert [(r.occurred_at.date(), r.amount) for r in rows] == \
        [(date(2025, 3, 1), Decimal("1234.5")), (date(2025, 3, 1), Decimal("1234.50"))]


@needs_calamine
def test_item3_grade_reads_gbk_and_xlsx_like_utf8(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The grading fast path (pyarrow) transcodes or falls back: same grades."""
    (tmp_path / "utf8.csv").write_text(PURCHASES_UTF8, encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes(PURCHASES_UTF8.encode("gbk"))
    write_xlsx(tmp_path / "export.xlsx", {"购买": PURCHASE_ROWS})
    outputs = []
    for name in ("utf8.csv", "gbk.csv", "export.xlsx"):
        assert main(["grade", str(tmp_path / name), "--scheme", "pareto-abc", "--as-of",
                     "2025-04-01", "--format", "csv", "--time-zone", "Asia/Shanghai"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "张三" in outputs[0]


# amounts -------------------------------------------------------------------------------

@pytest.mark.parametrize(("form", "text", "expected"), [
    ("cn", "¥1,200.00", "1200.00"), ("cn", "￥1200", "1200"), ("cn", "1,200.00 元", "1200.00"),
    ("cn", "CNY 1,200", "1200"), ("cn", "１，２００．５元", "1200.5"),
    ("eu", "1 200,50 €", "1200.50"), ("eu", "1\u00a0200,50\u00a0€", "1200.50"),
    ("eu", "1.200,50", "1200.50"), ("eu", "€12", "12"),
    ("plain", "1,234.5", "1234.5"), ("comma", "1.234,5", "1234.5"),
])
def test_item3_amount_forms_read_exactly(form: str, text: str, expected: str) -> None:
    assert FORMATS[form].parse(text) == Decimal(expected)
    assert str(FORMATS[form].parse(text)) == expected


@pytest.mark.parametrize(("form", "text"), [
    ("plain", "¥1200"), ("cn", "¥1200元"), ("cn", "1,20.00"), ("cn", "1.200,50"),
    ("eu", "1,200.50"), ("eu", "1.200.50"), ("eu", "1 200.000,5"), ("cn", "$1200"),
])
def test_item3_amounts_in_another_form_are_refused_not_guessed(form: str, text: str) -> None:
    with pytest.raises(ValueError, match=f"is not an amount in the {form} form"):
        FORMATS[form].parse(text)


def test_item3_unknown_amount_form_and_conflicting_decimal_comma() -> None:
    with pytest.raises(ValidationError, match="'us' is not an amount form"):
        CsvLayout(amount_format="us")
    with pytest.raises(ValidationError, match="decimal_comma"):
        amount_format("cn", decimal_comma=True)
    assert CsvLayout(decimal_comma=True).amounts is FORMATS["comma"]


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False),
       st.sampled_from(["", "¥", "￥", "CNY "]), st.sampled_from(["", " 元", "元"]),
       st.booleans())
def test_item3_cn_form_reads_what_a_simple_reference_writes(
        amount: Decimal, prefix: str, suffix: str, grouped: bool) -> None:
    """Property: a ``cn`` amount reads as the number a plain reference writes it from."""
    if prefix and suffix:
        suffix = ""
    number = f"{amount:,.2f}" if grouped else f"{amount:.2f}"
    assert FORMATS["cn"].parse(f"{prefix}{number}{suffix}") == amount


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False),
       st.sampled_from([".", " ", "\u00a0", "\u202f"]), st.sampled_from(["", " €", " EUR"]))
def test_item3_eu_form_reads_what_a_simple_reference_writes(
        amount: Decimal, separator: str, suffix: str) -> None:
    number = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", separator)
    assert FORMATS["eu"].parse(f"{number}{suffix}") == amount


def test_item3_import_table_gives_the_defaults_and_the_profile_the_zone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``[import]`` amount_format and encoding; dates in the company's zone (profile)."""
    plain = tmp_path / "plain.csv"
    plain.write_text("customer_id,date,amount\nC2,2025-03-01,1200.00\n", encoding="utf-8")
    yuan = tmp_path / "yuan.csv"
    yuan.write_bytes("customer_id,date,amount\nC2,2025-03-01,￥1200.00\n".encode("gbk"))
    expected = _import(tmp_path, "plain.csv")   # --time-zone Asia/Shanghai
    config = tmp_path / "crm.toml"
    config.write_text(f'profile = "zh-CN"\n[storage]\npath = "{tmp_path / "cfg.db"}"\n'
                      '[import]\namount_format = "cn"\nencoding = "GBK"\n'
                      "[policies]\ncalendar_years = [2025, 2026]\n", encoding="utf-8")
    assert main(["import", "transactions", str(yuan), "--config", str(config),
                 "--create-customers"]) == 0
    assert "yuan.csv：gb18030（已指定）" in capsys.readouterr().out  # the profile: zh_CN
    assert _stored(tmp_path / "cfg.db") == expected
    config.write_text('[import]\nencoding = "big5"\n', encoding="utf-8")
    assert main(["import", "transactions", str(yuan), "--config", str(config)]) == 1
    assert "import.encoding: 'big5' is not a supported encoding" in capsys.readouterr().err


# properties: the streaming checks against simple references ------------------------------

TEXTS = st.lists(st.text(st.characters(codec="gb18030", exclude_categories=["Cs"]),
                         max_size=12), max_size=8).map(lambda lines: "\n".join(lines))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS, st.sampled_from(["utf-8", "gb18030", "utf-16"]), st.integers(1, 9))
def test_item3_detection_and_decoding_give_back_the_text(
        tmp_path: Path, text: str, encoding: str, chunk: int) -> None:
    """Property: any text saved in a supported encoding reads back as itself, whatever
    the chunk size of the streaming check."""
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encodings, "_CHUNK", chunk)
        decoded = open_text(path)
    assert "".join(decoded.lines()) == text
    if encoding == "utf-16" and text:
        assert decoded.encoding == "utf-16"
    elif encoding == "gb18030" and not _is_utf8(text.encode(encoding)):
        assert decoded.encoding == "gb18030"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS, TEXTS, st.sampled_from(["utf-8", "gb18030"]), st.integers(1, 9))
def test_item3_decode_error_offset_and_line_match_a_reference(
        tmp_path: Path, before: str, after: str, encoding: str, chunk: int) -> None:
    """Property: the error names the offset and line a whole-file decode finds."""
    data = before.encode(encoding) + b"\xff" + after.encode(encoding)
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    try:
        data.decode(encoding)
    except UnicodeDecodeError as reference:
        offset = reference.start
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encodings, "_CHUNK", chunk)
        with pytest.raises(TextDecodeError) as error:
            open_text(path, encoding)
    assert error.value.offset == offset
    assert error.value.line == data[:offset].decode(encoding).count("\n") + 1


CUSTOMER_IDS = st.sampled_from(["张三", "李四商行", "C1", " 王五 ", "欧阳-9"])
AMOUNT_TEXTS = st.sampled_from(["1200", "350.5", "0.99", "1,234.50", "12", "007.10"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(CUSTOMER_IDS, st.sampled_from(["2026-01-02", "2025-12-31 10:00"]),
                          AMOUNT_TEXTS), min_size=1, max_size=20),
       st.sampled_from(["gb18030", "utf-16", "utf-8-sig"]))
def test_item3_grading_fast_path_reads_other_encodings_like_the_exact_reader(
        tmp_path: Path, rows: list[tuple[str, str, str]], encoding: str) -> None:
    """Property: pyarrow (transcoding) gives the exact reader's columns."""
    pytest.importorskip("pyarrow")
    from crmcore.grading import read_transaction_columns
    from crmcore.grading._backend import to_list
    from crmcore.grading.csv_arrow import read_transaction_file

    text = "customer_id,date,amount\n" + "".join(
        f'{who},{when},"{amount}"\n' for who, when, amount in rows)
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    fast = read_transaction_file(path, CsvLayout(), encoding=encoding)
    exact = read_transaction_columns(text.splitlines(keepends=True), CsvLayout(), fast=False)
    assert (fast.ids, to_list(fast.customer), to_list(fast.at_us), to_list(fast.amount_cents)) \
        == (exact.ids, to_list(exact.customer), to_list(exact.at_us),
            to_list(exact.amount_cents))
