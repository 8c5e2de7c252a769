"""Rank-based schemes: value ABC (G1, ``pareto-abc``) and the customer pyramid (G5).

Rules table::

    [rules]
    metric = "revenue"          # or profit, or any metric (G1 only)
    # weights = { revenue = 1.0, tenure_days = 20.0 }   # G1: value as a weighted sum
    basis = "count"             # or "value-share"
    shares = [0.05, 0.20]       # each grade's share but the last (which takes the rest)
    nonpositive_last = true     # value <= 0 or missing: the last grade

The pyramid grades by revenue or profit, never by number of uses (G5).
The tie and rounding rules are those of :mod:`crmcore.grading.rank`.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._backend import np, use_numpy
from crmcore.grading._document import Table
from crmcore.grading.conditions import format_value
from crmcore.grading.rank import Basis, RankCut, RankOutcome, rank_cut
from crmcore.grading.results import Explanation, GradeTable

if TYPE_CHECKING:
    from crmcore.grading.metrics import MetricTable
    from crmcore.grading.schemes import GradeScheme

VALUE_METRICS = ("revenue", "profit")
"""What the pyramid (G5) may grade by."""


@attrs.frozen
class RankedRules:
    """Rank customers by ``metric`` (or a weighted sum) and cut by ``cut``."""

    cut: RankCut
    metric: str = "revenue"
    weights: Mapping[str, float] = attrs.field(factory=dict)

    def grade_count(self) -> int:
        """How many grades the cut makes."""
        return len(self.cut.shares) + 1

    @property
    def value_name(self) -> str:
        """What customers are ranked by, in words."""
        if not self.weights:
            return self.metric
        return " + ".join(f"{format_value(w)}×{name}" for name, w in self.weights.items())

    def values(self, metrics: MetricTable, *, fast: bool | None = None) -> Any:
        """The ranking value of every customer (NaN terms of a weighted sum count 0)."""
        if not self.weights:
            return metrics.column(self.metric, key="rules.metric")
        columns = [(metrics.column(name, key=f"rules.weights.{name}"), weight)
                   for name, weight in self.weights.items()]
        if use_numpy(fast):
            total = np.zeros(len(metrics))
            for column, weight in columns:
                array = np.asarray(column, dtype=np.float64)
                total = total + np.where(np.isnan(array), 0.0, array) * weight
            return total
        made = [0.0] * len(metrics)
        for column, weight in columns:
            made = [t + (0.0 if v != v else v) * weight for t, v in zip(made, column, strict=True)]
        return made


def _fraction(table: Table, index: int, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise table.fail(f"shares[{index}]", value, "is not a share between 0 and 1")
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def parse_ranked_rules(table: Table, *, by_value_only: bool) -> RankedRules:
    """Read the ``[rules]`` of a pareto-abc or pyramid scheme."""
    metric = table.text("metric", "revenue")
    weights_table = table.table("weights", {})
    if by_value_only and (metric not in VALUE_METRICS or weights_table):
        shown = dict(weights_table) if weights_table else metric
        raise table.fail("weights" if weights_table else "metric", shown,
                         "is not allowed: the pyramid grades by revenue or profit, never by "
                         "number of uses (G5)")
    weights = {}
    for name, weight in weights_table.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise table.fail(f"weights.{name}", weight, "is not a number")
        weights[name] = float(weight)
    basis = Basis(table.choice("basis", tuple(b.value for b in Basis), Basis.COUNT.value))
    shares_list = table.array("shares")
    shares = tuple(_fraction(table, index, value) for index, value in enumerate(shares_list))
    if not shares:
        raise table.fail("shares", shares_list, "must list at least one share")
    if sum(shares, Fraction(0)) > 1:
        raise table.fail("shares", shares_list, "add up to more than 1")
    nonpositive_last = table.flag("nonpositive_last", True)
    table.check_all_used()
    return RankedRules(RankCut(shares, basis, nonpositive_last), metric, weights)


def grade_ranked(scheme: GradeScheme, metrics: MetricTable, *, fast: bool | None = None
                 ) -> GradeTable:
    """Grade every customer of ``metrics`` by a rank-based scheme."""
    rules = scheme.rules
    if not isinstance(rules, RankedRules):
        raise ConfigError(f"scheme {scheme.name}: not a rank-based scheme")
    values = rules.values(metrics, fast=fast)
    outcome = rank_cut(values, rules.cut, fast=fast)
    used = [rules.metric] if not rules.weights else list(rules.weights)

    def explain(position: int) -> Explanation:
        code = int(outcome.codes[position])
        value = float(values[position])
        row = metrics.row(position)
        return Explanation(
            scheme=scheme.name, version=scheme.version,
            decided_by=describe_rank(scheme, rules, outcome, position, value),
            metrics={name: row[name] for name in used if name in row},
            rank=int(outcome.ranks[position]), population=outcome.population,
            cutoff=outcome.cutoffs[code],
        )

    return GradeTable(scheme, metrics.as_of, metrics.ids, outcome.codes, explain,
                      values=values, cutoffs=outcome.cutoffs, metrics=metrics)


def describe_rank(scheme: GradeScheme, rules: RankedRules, outcome: RankOutcome,
                  position: int, value: float) -> str:
    """The deciding cut-off of one customer, in words."""
    code = int(outcome.codes[position])
    grade = scheme.grade_names[code]
    n = outcome.population
    head = f"rank {int(outcome.ranks[position]):,} of {n:,} by {rules.value_name}"
    if value != value:
        return f"{head}: no value, so the last grade {grade}"
    head += f" = {format_value(value)}"
    if not outcome.eligible[position]:
        return f"{head}: not above 0, so the last grade {grade}"
    cumulative = rules.cut.cumulative
    last = code == len(cumulative)
    if rules.cut.basis is Basis.COUNT:
        low = outcome.boundaries[code - 1] + 1 if code else 1
        if last:
            return f"{head}; {grade}: ranks after {low - 1:,} (the rest)"
        return (f"{head}; {grade}: ranks {low:,}-{outcome.boundaries[code]:,} "
                f"(top {_percent(cumulative[code])} of {n:,}, rounded half up; "
                "ties take the better grade)")
    assert outcome.shares_ahead is not None
    ahead = f"{float(outcome.shares_ahead[position]):.1%} of the value is ahead"
    if last:
        return f"{head}; {ahead}; {grade}: the rest"
    return f"{head}; {ahead}; {grade}: less than {_percent(cumulative[code])} ahead"


def _percent(share: Fraction) -> str:
    return f"{format_value(float(share * 100))}%"
