"""The potential × contribution matrix (G3, ``value-matrix``).

Each axis is split high/low; the four grades, in the scheme's order, are:

A = high potential, high contribution: all-out (全力以赴);
B = low potential, high contribution: control the time invested (控制投入时间);
C = high potential, low contribution: watch for change, keep in touch (关注变化,保持联系);
D = low potential, low contribution: consider last, keep in touch (最后考虑).

Contribution is a metric (``revenue`` by default); potential is the score of
a scoring strategy chosen by name (registered through the
``crmcore_register_scoring`` hook; ``rfm`` by default). "High" means
strictly above the axis' cut-off: the median by default, or a quantile
(linear interpolation between the two nearest values, as numpy's default),
or an absolute value. A customer without a score is low. Rules table::

    [rules]
    contribution = "revenue"
    contribution_split = "median"          # or { quantile = 0.75 } or { above = 10000 }
    potential = "rfm"                      # a registered scoring strategy
    potential_split = "median"
    potential_options = { window_months = 12 }
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._backend import np, to_list, use_numpy
from crmcore.grading._document import Table
from crmcore.grading.conditions import format_value
from crmcore.grading.results import Explanation, FunctionExplainer, GradeTable, finite
from crmcore.i18n import N_, tr

if TYPE_CHECKING:
    from crmcore.grading.metrics import MetricTable
    from crmcore.grading.schemes import GradeScheme

POTENTIAL = "potential"
"""The metric name the potential score is shown under in explanations."""

QUADRANTS = (N_("high potential, high contribution"), N_("low potential, high contribution"),
             N_("high potential, low contribution"), N_("low potential, low contribution"))
"""What each of the four grades means, in the scheme's grade order (G3)."""


class SplitMethod(StrEnum):
    """How an axis is split into high and low."""

    MEDIAN = "median"
    QUANTILE = "quantile"
    ABSOLUTE = "absolute"


@attrs.frozen
class AxisSplit:
    """Where an axis splits: ``value`` is the quantile or the absolute cut-off."""

    method: SplitMethod = SplitMethod.MEDIAN
    value: float = 0.5

    def cutoff(self, values: Sequence[float] | Any, *, fast: bool | None = None) -> float:
        """The cut-off for ``values`` (NaN ignored); high means strictly above it."""
        if self.method is SplitMethod.ABSOLUTE:
            return self.value
        if use_numpy(fast):
            array = np.asarray(values, dtype=np.float64)
            ordered = to_list(np.sort(array[~np.isnan(array)]))
        else:
            ordered = sorted(float(v) for v in values if v == v)
        if not ordered:
            return math.inf
        position = self.value * (len(ordered) - 1)
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))

    def describe(self) -> str:
        """``median``, ``quantile 0.75`` or ``10,000``."""
        if self.method is SplitMethod.MEDIAN:
            return "median"
        if self.method is SplitMethod.QUANTILE:
            return f"quantile {format_value(self.value)}"
        return "cut-off"


@attrs.frozen
class MatrixRules:
    """The contribution metric, the potential strategy and where each axis splits."""

    contribution: str = "revenue"
    potential: str = "rfm"
    contribution_split: AxisSplit = AxisSplit()
    potential_split: AxisSplit = AxisSplit()
    potential_options: Mapping[str, Any] = attrs.field(factory=dict)


def _split(table: Table, name: str) -> AxisSplit:
    if not table.has(name):
        return AxisSplit()
    raw = table.values[name]
    if raw == "median":
        table.text(name)
        return AxisSplit()
    if isinstance(raw, Mapping) and len(raw) == 1:
        spec = table.child(name, required=True)
        if spec.has("quantile"):
            q = spec.number("quantile")
            if not 0 < q < 1:
                raise spec.fail("quantile", q, tr("must be between 0 and 1 (exclusive)"))
            return AxisSplit(SplitMethod.QUANTILE, q)
        if spec.has("above"):
            return AxisSplit(SplitMethod.ABSOLUTE, spec.number("above"))
    raise table.fail(name, raw, tr('is not "median", {{ quantile = Q }} or '
                                   '{{ above = VALUE }}').format())


def parse_matrix_rules(table: Table) -> MatrixRules:
    """Read the ``[rules]`` of a value-matrix scheme."""
    rules = MatrixRules(
        contribution=table.text("contribution", "revenue"),
        potential=table.text("potential", "rfm"),
        contribution_split=_split(table, "contribution_split"),
        potential_split=_split(table, "potential_split"),
        potential_options=dict(table.table("potential_options", {})),
    )
    table.check_all_used()
    return rules


def grade_matrix(scheme: GradeScheme, metrics: MetricTable, potential: Mapping[str, float],
                 *, fast: bool | None = None) -> GradeTable:
    """Place every customer of ``metrics`` in the matrix; ``potential`` maps id to score."""
    rules = scheme.rules
    if not isinstance(rules, MatrixRules):
        raise ConfigError(tr("scheme {name}: not a value-matrix scheme").format(name=scheme.name))
    contribution = [float(v) for v in to_list(
        metrics.column(rules.contribution, key="rules.contribution"))]
    scores = [float(potential.get(customer_id, math.nan)) for customer_id in metrics.ids]
    c_cut = rules.contribution_split.cutoff(contribution, fast=fast)
    p_cut = rules.potential_split.cutoff(scores, fast=fast)
    codes = [(0 if p > p_cut else 1) if c > c_cut else (2 if p > p_cut else 3)
             for c, p in zip(contribution, scores, strict=True)]
    table = metrics.with_column(POTENTIAL, scores)

    def explain(position: int) -> Explanation:
        code = codes[position]
        c, p = contribution[position], scores[position]
        axes = [[axis, name, value if value == value else None,
                 cut if math.isfinite(cut) else None, split.describe()]
                for axis, name, value, cut, split in (
                    ("contribution", rules.contribution, c, c_cut, rules.contribution_split),
                    ("potential", rules.potential, p, p_cut, rules.potential_split))]
        grade = scheme.grades[code]
        meaning = f"{QUADRANTS[code]}" + (f": {grade.label}" if grade.label else "")
        return Explanation(
            scheme=scheme.name, version=scheme.version, code="matrix",
            params={"axes": axes, "grade": grade.name, "meaning": meaning},
            metrics=finite({rules.contribution: c, POTENTIAL: p}),
            cutoff=c_cut if math.isfinite(c_cut) else None,
        )

    return GradeTable(scheme, metrics.as_of, metrics.ids, codes, FunctionExplainer(explain),
                      metrics=table)
