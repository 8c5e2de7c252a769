"""The done-when checks of issue 13 on the real command line: ``crmcore demo --lang zh_CN``
and ``LANG=zh_CN.UTF-8 crmcore demo`` print the whole report in Chinese,
``crmcore agenda --lang zh_CN --format json`` gives Chinese reasons, an unknown
language is an error that lists the available ones."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from crmcore.cli import main
from crmcore.i18n import current_language

CUSTOMERS = "60"

ALLOWED = (
    r"crmcore lifecycle move \S+ explain_churn",  # a command to type
    r"[\w/.-]*\.db\b",                       # the database file
    r"'[^']*'",                              # quoted data: commitment, contract, product names
    r"\b\w+ Co\. \d+", r"\bCustomer \d+",    # generated customer names (data)
    r"\banswer about [a-z -]+",              # generated commitment descriptions (data)
    r"\b[a-z_]+:[A-Z][\w-]*",                 # agenda subjects (ticket:K1, customer:C1)
    r"\b[A-Z]\d{3,}[\w-]*", r"\bPRB-[0-9a-f]+",  # customer, ticket, problem ids
    r"\b[a-z]+\.[a-z]+\b",                   # owner logins (li.wei)
    r"\b[a-z-]+@\d+", r"\bpareto-abc\b",     # scheme names
    r"\bdemo-complaints(-2)?\b", r"\bcm-\d+\b",  # PDCA cycle and countermeasure ids
    r"\b[A-Z][a-z]+/[A-Za-z_]+\b",           # time zones (Asia/Shanghai)
    r"\d+(\.\d+)?[hx]\b",                    # 16.0h, 4.6x
    r"\bcrmcore\b", r"\b[np]=", r"\b[zt]\b",  # the program; sample size, p value; z and t tests
)
"""What may stay ASCII in Chinese output: ids, data, numbers with units, names."""


def english_words(line: str) -> list[str]:
    """The words of ``line`` that are English text: not ids, data, codes or acronyms."""
    for pattern in ALLOWED:
        line = re.sub(pattern, " ", line)
    return [word for word in re.findall(r"[A-Za-z]{2,}", line) if not word.isupper()]


def untranslated(text: str) -> list[str]:
    """The lines of ``text`` with English words left in them."""
    return [line for line in text.splitlines() if english_words(line)]


def run(*argv: str) -> tuple[int, str, str]:
    """``crmcore ARGV``: exit status, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()



def test_the_word_filter_catches_english_and_passes_ids() -> None:
    assert english_words("  C00122   2026-06-29 活跃 -> 忠诚: L4: li.wei 16.0h") == []
    assert english_words("most urgent: 最紧急") == ["most", "urgent"]
    assert english_words("VIP客户 2, CSAT 3.85 (n=220), pareto-abc@1") == []


def test_demo_in_zh_cn_prints_every_line_in_chinese(tmp_path: Path) -> None:
    status, out, err = run("demo", "--lang", "zh_CN", "--db", str(tmp_path / "d.db"),
                           "--customers", CUSTOMERS)
    assert status == 0, err
    assert "\n".join(untranslated(out)) == ""
    for heading in ("客户资料概况", "销售收入", "购买节奏", "客户服务", "满意度", "销售机会",
                    "客户生命周期", "客户分级", "持续改进（PDCA）", "待办事项（CCPR）"):
        assert f"\n{heading}\n" in out
    assert "为什么 C" in out  # the grade explanation, rendered through the catalogue
    assert current_language() == "en"  # the run's language ends with the run


def test_demo_follows_lang_from_the_environment(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    status, out, err = run("demo", "--db", str(tmp_path / "d.db"), "--customers", CUSTOMERS)
    assert status == 0, err
    assert "客户生命周期" in out
    assert untranslated(out) == []


def test_english_output_has_no_chinese_mixed_in(demo_db: Path) -> None:
    status, out, _ = run("demo", "--db", str(demo_db), "--customers", CUSTOMERS, "--lang", "en")
    assert status == 0
    assert "\nAgenda (CCPR)\n" in out
    chinese = [line for line in out.splitlines() if re.search(r"[\u4e00-\u9fff]", line)]
    # English output is English: no "(中文)" labels mixed in
    assert chinese == []


def test_agenda_json_reasons_are_chinese(demo_db: Path) -> None:
    status, out, err = run("agenda", "--db", str(demo_db), "--as-of", "2026-06-30",
                           "--lang", "zh_CN", "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    items = data if isinstance(data, list) else data["items"]
    assert len(items) > 20
    reasons = [item["why"] for item in items]
    assert all(re.search(r"[\u4e00-\u9fff]", why) for why in reasons)
    left = [why for why in reasons if english_words(why)]
    assert left == []
    assert {item["kind"] for item in items} >= {"contact", "breach"}  # codes stay codes


def test_an_unknown_lang_is_an_error_listing_the_languages(demo_db: Path) -> None:
    status, out, err = run("agenda", "--db", str(demo_db), "--lang", "fr")
    assert status != 0
    assert out == ""
    assert "--lang" in err
    assert "'fr'" in err
    assert "en, zh_CN" in err


def test_errors_are_printed_in_the_language(tmp_path: Path) -> None:
    status, _, err = run("demo", "--lang", "zh_CN", "--db", str(tmp_path / "x.db"),
                         "--customers", "0")
    assert status != 0
    assert err.startswith("crmcore：错误：--customers：0 必须至少为 1")


def test_compliance_promises_and_evidence_are_chinese(demo_db: Path) -> None:
    status, out, err = run("compliance", "--db", str(demo_db), "--as-of", "2026-06-30",
                           "--lang", "zh_CN", "--format", "json")
    assert status == 0, err
    texts = [text for report in json.loads(out) for check in report["checks"]
             for text in (check["promise"], *check["evidence"])]
    assert len(texts) > 100
    assert [text for text in texts if english_words(text)] == []


def test_agenda_table_is_chinese(demo_db: Path) -> None:
    status, out, err = run("agenda", "--db", str(demo_db), "--as-of", "2026-06-30",
                           "--lang", "zh_CN", "--owner", "li.wei")
    assert status == 0, err
    assert out.startswith("截至 2026-06-30T00:00:00+00:00 的待办事项：")
    assert "负责人" in out.splitlines()[1]
    assert untranslated(out) == []



@pytest.mark.parametrize("command", [("lifecycle", "stages"), ("lifecycle", "show", "C00003"),
                                     ("lifecycle", "measures", "--as-of", "2026-06-30")])
def test_lifecycle_commands_print_chinese(zh_db: Path, command: tuple[str, ...]) -> None:
    status, out, err = run(*command, "--db", str(zh_db), "--lang", "zh_CN")
    assert status == 0, err
    assert re.search(r"[\u4e00-\u9fff]", out)
    assert "\n".join(untranslated(out)) == ""


@pytest.mark.parametrize("scheme", ["pareto-abc", "pyramid"])
def test_grade_command_explains_in_chinese(tmp_path: Path, scheme: str) -> None:
    purchases = tmp_path / "purchases.csv"
    purchases.write_text("customer_id,date,amount\nC1,2026-01-05,1200\nC2,2026-02-01,300\n"
                         "C3,2026-03-01,50\nC1,2026-04-01,800\n", encoding="utf-8")
    status, out, err = run("grade", str(purchases), "--scheme", scheme, "--as-of", "2026-06-30",
                           "--lang", "zh_CN")
    assert status == 0, err
    assert "第 1 名，共 3 位，按销售收入 = 2,000" in out
    assert untranslated(out) == []


def test_daily_run_summary_is_chinese(zh_db: Path, tmp_path: Path) -> None:
    database = tmp_path / "run.db"
    database.write_bytes(zh_db.read_bytes())
    status, out, err = run("run", "--db", str(database), "--as-of", "2026-06-30",
                           "--lang", "zh_CN")
    assert status == 0, err
    assert out.startswith("截至 2026-06-30T00:00:00+00:00 的每日运行：")
    assert untranslated(out) == []


def test_measures_table_is_chinese(demo_db: Path) -> None:
    status, out, err = run("measures", "--db", str(demo_db), "--as-of", "2026-06-30",
                           "--lang", "zh_CN")
    assert status == 0, err
    assert "满意度 CSAT（1-5）" in out
    assert untranslated(out) == []


def test_escalate_and_problems_print_chinese(zh_db: Path, tmp_path: Path) -> None:
    database = tmp_path / "esc.db"
    database.write_bytes(zh_db.read_bytes())
    for command in ("escalate", "problems"):
        status, out, err = run(command, "--db", str(database), "--as-of", "2026-06-30",
                               "--lang", "zh_CN")
        assert status == 0, err
        assert out.startswith("截至 2026-06-30T00:00:00+00:00 ")
        assert untranslated(out) == []


def test_import_summary_and_its_errors_are_chinese(tmp_path: Path) -> None:
    purchases = tmp_path / "purchases.csv"
    purchases.write_text("customer_id,date,amount\nC1,2026-01-05,1200\n", encoding="utf-8")
    database = str(tmp_path / "import.db")
    status, _, err = run("import", "transactions", str(purchases), "--db", database,
                         "--lang", "zh_CN")
    assert status != 0
    assert "'C1' 不是已保存的客户（请先导入客户，或加 --create-customers）" in err
    status, out, err = run("import", "transactions", str(purchases), "--db", database,
                           "--create-customers", "--lang", "zh_CN")
    assert status == 0, err
    assert "交易：1 行，新增 1，已存在 0" in out
