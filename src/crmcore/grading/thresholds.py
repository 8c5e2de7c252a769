"""Threshold tiers (G2): ordered rules of conditions; the first that holds decides.

Rules table::

    [[rules.tiers]]
    grade = "A"
    when.all = [
      { attribute = "annual_turnover", op = ">=", value = 50_000_000 },
      { attribute = "training_spend", op = ">=", value = 150_000 },
      { attribute = "reputation", op = "==", value = "high" },
    ]

    [[rules.tiers]]
    grade = "C"
    otherwise = true            # the explicit catch-all: required, and last

Numeric intervals of different tiers on one field must meet exactly (no
gap, no overlap): see :func:`crmcore.grading.conditions.check_ranges`;
``check_ranges = false`` in ``[rules]`` turns the check off.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._document import Table
from crmcore.grading.conditions import (
    Always,
    Condition,
    Lookup,
    Source,
    check_ranges,
    mapping_lookup,
    parse_condition,
)
from crmcore.grading.explain import render
from crmcore.grading.results import Explanation, FunctionExplainer, GradeTable, finite
from crmcore.i18n import tr

if TYPE_CHECKING:
    from crmcore.grading.metrics import MetricTable
    from crmcore.grading.schemes import GradeScheme


@attrs.frozen
class ThresholdRule:
    """``grade`` applies when ``condition`` holds (``Always`` for the catch-all)."""

    grade: str
    condition: Condition
    label: str = ""

    def params(self, index: int) -> dict[str, Any]:
        """The explanation parameters (code ``rule``) of this rule at ``index``."""
        return {"rule": index, "grade": self.grade, "label": self.label,
                "when": self.condition.describe()}

    def describe(self, index: int) -> str:
        """The rule in words, e.g. ``rule 2 (B): revenue ≥ 1,000``."""
        return render("rule", self.params(index))


@attrs.frozen
class ThresholdRules:
    """Ordered tiers; the last is the catch-all."""

    tiers: tuple[ThresholdRule, ...]

    def __attrs_post_init__(self) -> None:
        check_catch_all(self.tiers, "rules.tiers")

    def grade_names(self) -> tuple[str, ...]:
        """The grade of each tier, in order."""
        return tuple(tier.grade for tier in self.tiers)


def check_catch_all(rules: Sequence[ThresholdRule], key: str) -> None:
    """The last rule, and only it, must be the explicit catch-all."""
    if not rules or not isinstance(rules[-1].condition, Always):
        raise ConfigError(tr("{key}: the last rule must be the explicit catch-all "
                             "(otherwise = true)").format(key=key))
    for index, rule in enumerate(rules[:-1]):
        if isinstance(rule.condition, Always):
            raise ConfigError(tr("{key}[{index}]: only the last rule may be the catch-all; "
                                 "rules after it could never apply").format(key=key,
                                                                           index=index))


def parse_rule_list(table: Table, name: str, *, fields: Collection[str] | None = None,
                    check: bool = True) -> tuple[ThresholdRule, ...]:
    """Read ordered rules (``[[rules.<name>]]`` with grade, label, when or otherwise).

    ``fields`` limits the metrics the conditions may read; ``check`` runs the
    gap and overlap check.
    """
    rules = []
    for item in table.children(name):
        grade = item.text("grade")
        if not grade.strip():
            raise item.fail("grade", grade, tr("must be a non-empty text"))
        label = item.text("label", "")
        if item.has("otherwise"):
            if item.has("when") or item.flag("otherwise") is not True:
                raise ConfigError(tr("{key}: must be true, without 'when'").format(
                    key=item.key("otherwise")))
            condition: Condition = Always()
        else:
            condition = parse_condition(item.child("when", required=True))
        if fields is not None:
            for field in condition.fields():
                if field.source is not Source.METRIC or field.name not in fields:
                    raise ConfigError(tr("{key}: {value!r} is not one of {choices}").format(
                        key=item.key("when"), value=str(field), choices=", ".join(fields)))
        item.check_all_used()
        rules.append(ThresholdRule(grade, condition, label))
    key = table.key(name)
    check_catch_all(rules, key)
    if check:
        check_ranges([(f"{key}[{index}] ({rule.grade})", rule.condition)
                      for index, rule in enumerate(rules)])
    return tuple(rules)


def parse_threshold_rules(table: Table) -> ThresholdRules:
    """Read the ``[rules]`` of a thresholds scheme."""
    check = table.flag("check_ranges", True)
    tiers = parse_rule_list(table, "tiers", check=check)
    table.check_all_used()
    return ThresholdRules(tiers)


def first_match(rules: Sequence[ThresholdRule], lookup: Lookup) -> int:
    """The index of the first rule whose condition holds (the catch-all always does)."""
    for index, rule in enumerate(rules):
        if rule.condition.test(lookup):
            return index
    raise AssertionError("the catch-all rule always holds")  # pragma: no cover


def grade_thresholds(scheme: GradeScheme, metrics: MetricTable) -> GradeTable:
    """Grade every customer of ``metrics`` by ordered threshold rules."""
    rules = scheme.rules
    if not isinstance(rules, ThresholdRules):
        raise ConfigError(tr("scheme {name}: not a thresholds scheme").format(name=scheme.name))
    for rule in rules.tiers:
        for field in rule.condition.fields():
            if field.source is Source.METRIC:
                metrics.column(field.name, key=f"rules.tiers: {rule.grade}")
    decided = [first_match(rules.tiers, mapping_lookup(metrics.row(position),
                                                       metrics.attributes_of(position)))
               for position in range(len(metrics))]
    codes = [scheme.order(rules.tiers[index].grade) for index in decided]
    params = [rule.params(index) for index, rule in enumerate(rules.tiers)]

    def explain(position: int) -> Explanation:
        index = decided[position]
        row = metrics.row(position)
        attributes = metrics.attributes_of(position)
        seen = [field for rule in rules.tiers[:index + 1] for field in rule.condition.fields()]
        return Explanation(
            scheme=scheme.name, version=scheme.version, code="rule", params=params[index],
            metrics=finite({f.name: row[f.name] for f in seen
                            if f.source is Source.METRIC and f.name in row}),
            attributes={f.name: attributes[f.name] for f in seen
                        if f.source is Source.ATTRIBUTE and f.name in attributes},
            rule=index,
        )

    return GradeTable(scheme, metrics.as_of, metrics.ids, codes, FunctionExplainer(explain),
                      metrics=metrics)
