"""Refusals of grading, the early warnings, the profiles and the table sources, and the
grading texts they explain with (prospect reasons, held downgrades), in zh_CN (issue 13).

Each refusal is provoked for real through the public API under ``zh_CN`` and must be
exactly the Chinese translation of its template, filled with the values as given
(``{value!r}`` stays the repr), with no English sentence left; in English it keeps the
wording it had before it came from the catalogue.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.i18n.refusals import assert_chinese, assert_english
from tests.i18n.test_catalogues import ROOT
from tests.i18n.test_command_errors import CATALOGUE, english_sentence

from crmcore import i18n
from crmcore.grading import GradeTable, MetricTable, grade_book, grade_metrics, load_scheme
from crmcore.grading.hysteresis import Hysteresis, decide
from crmcore.grading.metrics import window_start
from crmcore.grading.schemes import GradeScheme, scheme_from_mapping
from crmcore.improvement.early_warning import rules_from_toml
from crmcore.model import Opportunity
from crmcore.profiles import profile_named
from crmcore.sources import open_table

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
METRICS = MetricTable(("C1", "C2"), {"revenue": [1.0, 2.0]}, AS_OF)


def _thresholds(*tiers: dict[str, Any]) -> GradeScheme:
    """A thresholds scheme of ``tiers`` (its ``[[rules.tiers]]``)."""
    return scheme_from_mapping({"name": "t", "version": 1, "kind": "thresholds",
                                "rules": {"tiers": list(tiers), "check_ranges": False}})


CASES: dict[str, tuple[Callable[[], Any], str, dict[str, Any]]] = {
    "hysteresis margin": (lambda: Hysteresis(margin=1.5),
                          "{key}: {value!r} must be from 0 up to (not including) 1",
                          {"key": "margin", "value": 1.5}),
    "metrics window": (lambda: window_start(AS_OF, 0),
                       "{key}: {value!r} must be a whole number of at least 1",
                       {"key": "window_months", "value": 0}),
    "metric unknown": (lambda: METRICS.column("loyalty", key="rules.metric"),
                       "{key}: {value!r} is not a metric (known: {known})",
                       {"key": "rules.metric", "value": "loyalty", "known": "revenue"}),
    "matrix needs potential": (lambda: grade_metrics(load_scheme("value-matrix"), METRICS),
                               "scheme {name}: value-matrix grading needs potential scores "
                               "(from a scoring strategy)", {"name": "value-matrix"}),
    "catch-all missing": (lambda: _thresholds({"grade": "A", "when": {
                              "metric": "revenue", "op": ">=", "value": 1}}),
                          "{key}: the last rule must be the explicit catch-all "
                          "(otherwise = true)", {"key": "rules.tiers"}),
    "shares over 1": (lambda: scheme_from_mapping({"name": "p", "version": 1,
                                                   "kind": "pareto-abc",
                                                   "rules": {"shares": [0.6, 0.5]}}),
                      "{key}: {value!r} {reason}",
                      {"key": "rules.shares", "value": [0.6, 0.5],
                       "reason": "add up to more than 1"}),
    "condition in": (lambda: _thresholds({"grade": "A", "when": {"metric": "revenue",
                                                                 "in": []}}),
                     "{key}: {value!r} {reason}",
                     {"key": "rules.tiers[0].when.in", "value": [],
                      "reason": "must be a non-empty list of texts, numbers or true/false "
                                "values"}),
    "profile": (lambda: profile_named("mars"),
                "profile: {value!r} is not a shipped profile (available: {profiles})",
                {"value": "mars", "profiles": "zh-CN"}),
    "warning rules key": (lambda: rules_from_toml("[other]\n", source="w.toml"),
                          "{source}: {key}: is not a known key (known: {known})",
                          {"source": "w.toml", "key": "other", "known": "warnings"}),
    "workbook encoding": (lambda: open_table("book.xlsx", encoding="gbk"),
                          "{option}: {value!r} does not apply to the workbook {path} (a "
                          "workbook names its own encoding)",
                          {"option": "--encoding", "value": "gbk", "path": "book.xlsx"}),
}
"""Refusals to provoke: a function raising it, its template and the values it fills in."""


def _translated(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the ``reason`` (a scheme document's refusal) in Chinese."""
    return {name: CATALOGUE.gettext(value) if name == "reason" else value
            for name, value in values.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_refusal_is_its_chinese_template(name: str) -> None:
    assert_chinese(CASES[name], _translated)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_english_refusal_keeps_its_wording(name: str) -> None:
    assert_english(CASES[name])


def _prospects() -> GradeTable:
    """Two open opportunities: one flagged twice, one within 3 months but with concerns."""
    received = AS_OF - timedelta(days=10)
    close = AS_OF.date() + timedelta(days=30)
    return grade_book(load_scheme("prospect-abcd"), as_of=AS_OF, opportunities=[
        Opportunity(id="D-O1", customer_id="D", title="deal", received_at=received,
                    expected_close=close, poor_credit=True, haggles=True),
        Opportunity(id="B-O1", customer_id="B", title="deal", received_at=received,
                    expected_close=close, concerns=("price",))])


def test_a_prospects_reason_is_worded_in_chinese() -> None:
    with i18n.language("zh_CN"):
        graded = _prospects()
        flagged, held = graded.explain("D").decided_by, graded.explain("B").decided_by
    assert "被标记为信用差 且 讨价还价" in flagged
    assert "有待消除的顾虑（price）" in held
    assert "问题解决前最多为 B" in held
    assert english_sentence(flagged) is None
    english = _prospects()
    assert "flagged poor credit and haggles" in english.explain("D").decided_by
    assert "but concerns to resolve (price): B at best" in english.explain("B").decided_by


def test_a_held_downgrade_is_noted_in_chinese() -> None:
    scheme = load_scheme("pareto-abc")
    policy = Hysteresis(downgrade_runs=2)
    with i18n.language("zh_CN"):
        kept, note = decide(scheme, policy, current="A", proposed="B", streak=1)
    assert kept == "A"
    assert note == "保持 A：降级为 B 已在 1 次运行中提出，需要连续 2 次"
    assert decide(scheme, policy, current="A", proposed="B", streak=1)[1] == (
        "kept A: a downgrade to B was proposed in 1 of the 2 consecutive runs needed")


def test_a_matrix_explanation_words_its_axes_in_chinese() -> None:
    metrics = MetricTable(("C0", "C1"), {"revenue": [100.0, 1.0]}, AS_OF)
    graded = grade_metrics(load_scheme("value-matrix", overrides={"rules": {
        "potential_split": {"quantile": 0.5}}}), metrics, potential={"C0": 9.0, "C1": 1.0})
    with i18n.language("zh_CN"):
        chinese = graded.explain("C0").decided_by
    assert chinese.startswith("贡献 销售收入 100 > 中位数 50.50（高）; "
                              "潜力 rfm 9 > 0.5 分位数 5（高）")
    assert graded.explain("C0").decided_by.startswith(
        "contribution revenue 100 > median 50.50 (high); potential rfm 9 > quantile 0.5 5 "
        "(high)")


def test_a_threshold_rule_is_described_in_chinese() -> None:
    scheme = _thresholds({"grade": "A", "when": {"all": [
        {"metric": "revenue", "op": ">=", "value": 2},
        {"any": [{"metric": "revenue", "in": [2, 3]},
                 {"metric": "revenue", "op": "<", "value": 9}]},
    ]}}, {"grade": "B", "otherwise": True})
    with i18n.language("zh_CN"):  # a rule is worded when grading (its params keep the words)
        graded = grade_metrics(scheme, METRICS)
        best, rest = graded.explain("C2").decided_by, graded.explain("C1").decided_by
    assert best.endswith("：revenue ≥ 2 且 (revenue 属于 {2, 3} 或 revenue < 9)")
    assert rest.endswith("：其他情况")
    assert grade_metrics(scheme, METRICS).explain("C2").decided_by.endswith(
        ": revenue ≥ 2 and (revenue in {2, 3} or revenue < 9)")


def test_every_scheme_document_reason_comes_from_the_catalogue() -> None:
    """``Table.fail(name, value, reason)`` in grading: ``reason`` is ``tr(...)`` (perhaps
    ``.format``-ted), never a literal or f-string the check would not see."""
    written_in = []
    for path in sorted((ROOT / "src" / "crmcore" / "grading").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "fail" and len(node.args) == 3):
                reason = node.args[2]
                if isinstance(reason, ast.Call) and isinstance(reason.func, ast.Attribute):
                    reason = reason.func.value  # tr("...").format(...)
                if not (isinstance(reason, ast.Call) and isinstance(reason.func, ast.Name)
                        and reason.func.id == "tr"):
                    written_in.append(f"{path.name}:{node.lineno}")
    assert not written_in
