"""Refusals and pictures in Chinese: G9 report settings name the option in the run's
language, ValidationError reasons raised outside crmcore.validation are translated,
and ``crmcore pdca report`` words its charts in zh_CN."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import run

from crmcore.errors import ValidationError
from crmcore.i18n import language
from crmcore.lifecycle.taxonomy import ChurnType
from crmcore.sales.receivables import Receivable
from crmcore.vocabulary import member


@pytest.mark.parametrize(("option", "value", "english", "chinese"), [
    ("--large-share", "2", "--large-share: 2.0 must be a share in (0, 1]",
     "--large-share：2.0 必须是 (0, 1] 范围内的比例"),
    ("--largest", "0", "--largest: 0 must be a whole number of at least 1",
     "--largest：0 必须是至少为 1 的整数"),
])
def test_g9_report_settings_are_refused_in_the_language(tmp_path: Path, option: str, value: str,
                                                        english: str, chinese: str) -> None:
    database = str(tmp_path / "unused.db")
    status, _, err = run("report", "differentiation", option, value, "--db", database)
    assert (status, err) == (1, f"crmcore: error: {english}\n")
    status, _, err = run("report", "differentiation", option, value, "--db", database,
                         "--lang", "zh_CN")
    assert (status, err) == (1, f"crmcore：错误：{chinese}\n")
    assert not Path(database).exists()


def _receivable(**changes: object) -> Receivable:
    values: dict[str, object] = {
        "id": "INV-1", "customer_id": "C1", "issued_on": date(2026, 3, 1),
        "due_on": date(2026, 3, 31), "amount": Decimal("100.00"), "currency": "CNY"}
    return Receivable(**{**values, **changes})  # type: ignore[arg-type]


def test_reasons_with_values_are_worded_in_the_language_raised_in() -> None:
    with language("zh_CN"), pytest.raises(ValidationError) as raised:
        _receivable(due_on=date(2026, 2, 1))
    assert str(raised.value) == "due_on：'2026-02-01' 早于 issued_on 2026-03-01"
    with pytest.raises(ValidationError, match=r"^due_on: '2026-02-01' is before issued_on "
                                              r"2026-03-01$"):
        _receivable(due_on=date(2026, 2, 1))


def test_a_literal_reason_is_translated_without_marks() -> None:
    with language("zh_CN"), pytest.raises(ValidationError) as raised:
        _receivable(amount=Decimal("100.001"))
    assert "小数位超过两位" in str(raised.value)


def test_an_unknown_term_is_refused_in_chinese_listing_codes_and_terms() -> None:
    with language("zh_CN"), pytest.raises(ValidationError) as raised:
        member(ChurnType, "流失了", "churn_type")
    text = str(raised.value)
    assert text.startswith("churn_type：'流失了' 不是 natural, malicious, competitive, "
                           "negligence, unknown 之一，也不是其中任何一项的中文术语：")
    assert "竞争流失" in text


def test_pdca_report_words_its_charts_in_chinese(zh_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "charts"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-glyph warning for SVG text
        status, _, err = run("pdca", "report", "demo-complaints", "--db", str(zh_db),
                             "--out", str(out), "--lang", "zh_CN")
    assert status == 0, err
    pareto = (out / "demo-complaints-pareto.svg").read_text(encoding="utf-8")
    for text in ("循环 demo-complaints 的原因", "次数", "累计占比（%）", "关键少数", "延迟交货"):
        assert text in pareto, text
    run_chart = (out / "demo-complaints-run-complaint_rate.svg").read_text(encoding="utf-8")
    for text in ("各循环的投诉率", "投诉率 (%)", "基线", "结果", "目标"):
        assert text in run_chart, text
    assert "across cycles" not in run_chart
