"""Issue 13, item 1, for the commands beyond the demo and the agenda: ``pipeline``,
``forecast``, ``receivables``, ``report differentiation``, ``pdca``, ``schedule``,
``survey``, ``ticket status``, ``erase``, ``stale``, ``deliver``, ``events`` and
``plugins`` print Chinese headings and sentences with ``--lang zh_CN`` on a real SQLite
demo book; only ids, data and codes a user types stay ASCII."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import english_words, run

AS_OF = "2026-06-30"

CODES = (
    r"\b(complained|still-ordering|narrow|costly)\b",  # G9 report names (--report)
    r"\b[A-Z]{3}\b",                                     # currency codes
)
"""What else may stay ASCII here: report names typed with --report, currency codes."""


def left_english(text: str, *data: str) -> list[str]:
    """The lines of ``text`` with English words left after ids, codes and ``data`` (stored
    texts shown as they are)."""
    found = []
    for line in text.splitlines():
        for stored in data:
            line = line.replace(stored, " ")
        for pattern in CODES:
            line = re.sub(pattern, " ", line)
        if english_words(line):
            found.append(line)
    return found


def chinese(text: str) -> bool:
    """Whether ``text`` has Chinese characters."""
    return re.search(r"[\u4e00-\u9fff]", text) is not None



@pytest.fixture
def copy(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo book a command may change."""
    target = tmp_path / "copy.db"
    shutil.copyfile(demo_db, target)
    return target


def zh(*argv: str) -> str:
    """``crmcore ARGV --lang zh_CN``: its standard output (the run must succeed)."""
    status, out, err = run(*argv, "--lang", "zh_CN")
    assert status == 0, err
    return out


def test_pipeline_list_and_show_are_chinese(demo_db: Path) -> None:
    out = zh("pipeline", "list", "--db", str(demo_db), "--as-of", AS_OF)
    assert out.startswith(f"截至 {AS_OF} 的销售漏斗：")
    assert "赢单概率" in out.splitlines()[1]
    assert "冷启动" in out  # the win probability's why, through the catalogue
    assert left_english(out) == []
    first = out.splitlines()[3].split()[0]
    shown = zh("pipeline", "show", first, "--db", str(demo_db), "--as-of", AS_OF)
    assert shown.startswith(f"销售机会 {first}")
    assert "尚需时间" in shown
    title = json.loads(zh("pipeline", "show", first, "--db", str(demo_db), "--as-of", AS_OF,
                          "--format", "json"))["title"]
    assert left_english(shown, title) == []


def test_pipeline_json_keeps_codes(demo_db: Path) -> None:
    out = zh("pipeline", "list", "--db", str(demo_db), "--as-of", AS_OF, "--format", "json")
    rows = json.loads(out)["opportunities"]
    assert rows
    assert {row["stage"] for row in rows} <= {"qualification", "needs_analysis", "proposal",
                                              "negotiation"}


def test_pipeline_errors_are_chinese(demo_db: Path) -> None:
    status, out, err = run("pipeline", "list", "--db", str(demo_db), "--stage", "nowhere",
                           "--lang", "zh_CN")
    assert status != 0
    assert out == ""
    assert "--stage：'nowhere' 不是阶段（已知：" in err


def test_forecast_is_chinese(demo_db: Path) -> None:
    out = zh("forecast", "--db", str(demo_db), "--as-of", AS_OF, "--why")
    assert out.startswith(f"截至 {AS_OF} 按期间的预测")
    assert "区间：90% 的正态近似" in out
    assert left_english(out) == []


def test_receivables_tables_are_chinese(demo_db: Path) -> None:
    listed = zh("receivables", "list", "--db", str(demo_db), "--as-of", AS_OF)
    assert listed.splitlines()[0].split() == ["客户", "币种", "未结金额", "发票", "逾期天数"]
    assert left_english(listed) == []
    over = zh("receivables", "over-limit", "--db", str(demo_db), "--as-of", AS_OF)
    assert "额度" in over.splitlines()[0]
    assert left_english(over) == []


def test_receivables_warnings_are_chinese(copy: Path) -> None:
    out = zh("receivables", "warn", "--db", str(copy), "--as-of", AS_OF)
    assert "条新预警（P7）" in out
    assert left_english(out) == []


def test_differentiation_report_is_chinese(demo_db: Path) -> None:
    out = zh("report", "differentiation", "--db", str(demo_db), "--as-of", AS_OF)
    for title in ("去年反复投诉的大客户", "去年最大的客户：他们还在订货吗？",
                  "只向我们购买一两种产品的客户", "带来成本的客户"):
        assert title in out
    assert left_english(out) == []


def test_differentiation_json_keeps_keys_and_codes(demo_db: Path) -> None:
    out = zh("report", "differentiation", "--db", str(demo_db), "--as-of", AS_OF,
             "--report", "still-ordering", "--format", "json")
    rows = json.loads(out)[0]["rows"]
    assert rows
    assert {"customer", "status"} <= set(rows[0])
    assert {row["status"] for row in rows} <= {"stopped", "ordering less", "ordering"}



def test_pdca_list_and_show_are_chinese(zh_db: Path) -> None:
    listed = zh("pdca", "list", "--db", str(zh_db))
    assert listed.splitlines()[0].split() == ["循环", "时期", "起始", "从", "转入", "标题"]
    assert left_english(listed) == []
    shown = zh("pdca", "show", "demo-complaints", "--db", str(zh_db))
    described, history = shown.split("\n\n", 1)
    assert left_english(described) == []
    lines = history.splitlines()
    assert lines[0].split() == ["#", "时间", "事件", "从", "到", "操作人", "原因"]
    assert [line.split()[2] for line in lines[2:5]] == ["开始", "修订计划", "修订计划"]
    # the recorded reasons were worded in Chinese when the demo stored them
    assert "投诉的帕累托分析：关键少数为 账单错误, 产品质量, 延迟交货" in history
    recorded_by = re.compile(r" demo( |$)", re.MULTILINE)  # the actor who recorded it
    assert left_english(recorded_by.sub(" ", history)) == []
    assert lines[-1] == "循环链：demo-complaints (已关闭) -> demo-complaints-2 (计划)"


def test_pdca_open_and_plan_print_chinese(zh_db: Path, tmp_path: Path) -> None:
    database = tmp_path / "pdca.db"
    shutil.copyfile(zh_db, database)
    opened = zh("pdca", "open", "--db", str(database), "--measure", "complaint_rate",
                "--period", "2026-Q1", "--problem", "投诉太多", "--id", "P-9",
                "--at", "2026-04-02")
    assert opened.startswith("已开启 P-9：基线 投诉率（2026-Q1）")
    planned = zh("pdca", "plan", "P-9", "--db", str(database), "--at", "2026-04-02")
    assert planned.startswith("P-9：计划已记录；仍缺：")
    assert "对策（尚无）" in planned
    assert left_english(planned) == []
    status, _, err = run("pdca", "plan", "P-9", "--db", str(database), "--target", "csat",
                         "--lang", "zh_CN")
    assert status != 0
    assert "--target：'csat' 不是 MEASURE<=GOAL 或 MEASURE>=GOAL[@PROBLEM] 的形式" in err


def test_pdca_warnings_summary_is_chinese(zh_db: Path) -> None:
    out = zh("pdca", "warnings", "--db", str(zh_db), "--targets", "demo-complaints-2",
             "--as-of", AS_OF, "--format", "table")
    assert left_english(out) == []
    assert chinese(out)


def test_schedule_is_chinese(demo_db: Path) -> None:
    out = zh("schedule", "--db", str(demo_db), "--from", "2026-06-01", "--to", "2026-07-15")
    lines = out.splitlines()
    assert lines[0].split() == ["负责人", "开始", "结束", "编号", "客户", "目的", "状态", "重叠"]
    assert lines[-1].startswith("2026-06-01T00:00:00+00:00 至 2026-07-15T00:00:00+00:00 共 ")
    assert left_english(out) == []
    status, _, err = run("schedule", "--db", str(demo_db), "--from", "2026-06-02", "--to",
                         "2026-06-01", "--lang", "zh_CN")
    assert status != 0
    assert "--to：2026-06-01T00:00:00+00:00 不晚于 --from 2026-06-02T00:00:00+00:00" in err


def test_survey_template_is_the_chinese_form() -> None:
    out = zh("survey", "template")
    assert out.startswith("调查 service_quality：请为每一项的重要性和表现各打 1-5 分")
    assert out.splitlines()[1].split() == ["维度", "条目", "陈述"]
    # the item keys are codes a response names; everything else is Chinese
    assert left_english(re.sub(r"\b[a-z]+(_[a-z]+)+\b", " ", out)) == []


def _a_ticket(database: Path) -> str:
    """The id of a ticket the agenda names (an open one of the demo)."""
    status, out, err = run("agenda", "--db", str(database), "--as-of", AS_OF, "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    items = data if isinstance(data, list) else data["items"]
    return next(str(item["subject"]).split(":", 1)[1] for item in items
                if str(item["subject"]).startswith("ticket:"))


def test_ticket_status_and_its_refusals_are_chinese(copy: Path) -> None:
    ticket = _a_ticket(copy)
    out = zh("ticket", "status", ticket, "resolved", "--reason", "已处理", "--db", str(copy),
             "--as-of", AS_OF, "--actor", "li.wei")
    assert out.startswith(f"工单 {ticket}：")
    assert "-> 已解决（解决）" in out
    assert left_english(out) == []
    status, _, err = run("ticket", "status", ticket, "new", "--db", str(copy), "--lang", "zh_CN")
    assert status != 0
    assert f"STATUS：服务工单 '{ticket}' 处于 'resolved'，不能变为 'new'；" in err
    assert "允许的下一步：open, closed" in err


def test_erase_refusal_and_tombstone_are_chinese(copy: Path) -> None:
    status, _, err = run("erase", "C00059", "--reason", "客户要求", "--db", str(copy),
                         "--lang", "zh_CN")
    assert status != 0
    assert "删除 'C00059' 无法撤销：加 --yes 才会删除（未做任何更改）" in err
    out = zh("erase", "C00059", "--reason", "客户要求", "--yes", "--actor", "li.wei",
             "--db", str(copy))
    assert "由 li.wei 删除客户 C00059" in out
    assert out.splitlines()[1].split() == ["类型", "记录数", "行动"]
    assert left_english(out) == []


def test_stale_and_deliver_are_chinese(demo_db: Path, copy: Path) -> None:
    out = zh("stale", "--older-than", "90", "--db", str(demo_db), "--as-of", AS_OF)
    assert out.splitlines()[0].split() == ["客户", "名称", "负责人", "核实日期", "天数"]
    assert re.search(r"\n\d+ 位客户已 90 天未核实\n$", out)
    assert left_english(out) == []
    out = zh("deliver", "--db", str(copy))
    assert out.startswith("已投递 0，失败 0，等待 0")
    assert left_english(out) == []


def test_events_and_plugins_headings_are_chinese() -> None:
    listed = zh("events", "list")
    assert listed.splitlines()[0].split() == ["类型", "摘要"]
    # the summaries come from the event classes' docstrings: English, like the schema
    shown = zh("events", "show", listed.splitlines()[2].split()[0])
    assert shown.splitlines()[1].split() == ["数据字段", "JSON", "类型"]
    plugins = zh("plugins")
    assert plugins.splitlines()[0].split() == ["插件", "发行包", "注册内容"]
    assert "内置" in plugins
    assert "日历: holidays" in plugins


def test_pipeline_refusals_are_chinese_and_store_nothing(copy: Path) -> None:
    status, _, err = run("pipeline", "add", "O9", "--customer", "C00001", "--title", "x",
                         "--close", "unknown", "--amount", "5", "--db", str(copy),
                         "--lang", "zh_CN")
    assert status != 0
    assert "currency：None 在给出金额 5 时必须给出" in err
    status, _, err = run("pipeline", "show", "O9", "--db", str(copy), "--lang", "zh_CN")
    assert status != 0  # nothing was stored
    listed = json.loads(zh("pipeline", "list", "--db", str(copy), "--as-of", AS_OF, "--format",
                           "json"))["opportunities"]
    first = listed[0]["id"]
    status, _, err = run("pipeline", "move", first, "nowhere", "--db", str(copy),
                         "--lang", "zh_CN")
    assert status != 0
    assert "stage：'nowhere' 不是 sales-pipeline 流程的阶段（已知：qualification" in err


def test_survey_ipa_without_responses_says_so_in_chinese(demo_db: Path) -> None:
    status, out, err = run("survey", "ipa", "--db", str(demo_db), "--lang", "zh_CN")
    assert status != 0
    assert out == ""
    assert "responses：0 没有对调查 'service_quality' 的任何一项同时给出重要性和表现评分" in err
