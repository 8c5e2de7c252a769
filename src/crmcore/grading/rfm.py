"""RFM: recency, frequency and monetary scores 1-5 by quintile, and named segments.

Scores: each axis is cut into fifths of the customers with the rank rule of
:mod:`crmcore.grading.rank` (round half up, ties never split and take the
better score), so the result depends neither on input order nor on customer
ids. Recency ranks fewer days as better; a customer who never bought
scores R 1; no purchase (frequency 0) scores F 1 and no revenue M 1.

Segments are ordered rules over the scores ``r``, ``f``, ``m`` and
``fm = (f + m) / 2``: the first that holds decides, so segments are mutually
exclusive, and the last is the explicit catch-all. Rules table::

    [rules]
    recency = "recency_days"    # the metric of each axis
    frequency = "frequency"
    monetary = "revenue"

    [[rules.segments]]
    grade = "Champions"
    when.all = [{ metric = "r", op = ">=", value = 4 }, { metric = "fm", op = ">=", value = 4 }]
    ...
    [[rules.segments]]
    grade = "Hibernating"
    otherwise = true
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._backend import np, use_numpy
from crmcore.grading._document import Table
from crmcore.grading.conditions import mapping_lookup
from crmcore.grading.rank import Basis, RankCut, RankOutcome, rank_cut
from crmcore.grading.results import Explanation, FunctionExplainer, GradeTable, finite
from crmcore.grading.thresholds import ThresholdRule, first_match, parse_rule_list
from crmcore.i18n import tr

if TYPE_CHECKING:
    from crmcore.grading.metrics import MetricTable
    from crmcore.grading.schemes import GradeScheme

SCORE_FIELDS = ("r", "f", "m", "fm")
"""What segment conditions may read."""

QUINTILES = (Fraction(1, 5),) * 4


@attrs.frozen
class RfmRules:
    """Which metric feeds each axis, and the ordered segments."""

    segments: tuple[ThresholdRule, ...]
    recency: str = "recency_days"
    frequency: str = "frequency"
    monetary: str = "revenue"

    def grade_names(self) -> tuple[str, ...]:
        """The segment of each rule, in order."""
        return tuple(segment.grade for segment in self.segments)

    def segment_table(self) -> list[int]:
        """The deciding segment rule for each of the 125 (r, f, m) combinations.

        Entry ``(r-1)*25 + (f-1)*5 + (m-1)``; segments read only the scores,
        so they are evaluated once per combination, not once per customer.
        """
        table = []
        for r in range(1, 6):
            for f in range(1, 6):
                for m in range(1, 6):
                    scores = {"r": float(r), "f": float(f), "m": float(m), "fm": (f + m) / 2}
                    table.append(first_match(self.segments, mapping_lookup(scores, {})))
        return table


def parse_rfm_rules(table: Table) -> RfmRules:
    """Read the ``[rules]`` of an rfm scheme."""
    recency = table.text("recency", "recency_days")
    frequency = table.text("frequency", "frequency")
    monetary = table.text("monetary", "revenue")
    segments = parse_rule_list(table, "segments", fields=SCORE_FIELDS, check=False)
    table.check_all_used()
    return RfmRules(segments, recency, frequency, monetary)


@attrs.frozen
class RfmScores:
    """Per-customer scores 1-5 on each axis, with the rank outcomes behind them."""

    r: Any
    f: Any
    m: Any
    outcomes: tuple[RankOutcome, RankOutcome, RankOutcome]


def rfm_scores(metrics: MetricTable, *, recency: str = "recency_days",
               frequency: str = "frequency", monetary: str = "revenue",
               fast: bool | None = None) -> RfmScores:
    """Score every customer of ``metrics`` 1-5 on recency, frequency and monetary value."""
    numpy = use_numpy(fast)
    days = metrics.column(recency, key="rules.recency")
    recent = -np.asarray(days, dtype=np.float64) if numpy else [-float(v) for v in days]
    axes = (
        (recent, False),
        (metrics.column(frequency, key="rules.frequency"), True),
        (metrics.column(monetary, key="rules.monetary"), True),
    )
    outcomes = tuple(rank_cut(values, RankCut(QUINTILES, Basis.COUNT, nonpositive_last), fast=fast)
                     for values, nonpositive_last in axes)
    if numpy:
        scores = [5 - np.asarray(o.codes) for o in outcomes]
    else:
        scores = [[5 - code for code in o.codes] for o in outcomes]
    return RfmScores(scores[0], scores[1], scores[2], (outcomes[0], outcomes[1], outcomes[2]))


def grade_rfm(scheme: GradeScheme, metrics: MetricTable, *, fast: bool | None = None
              ) -> GradeTable:
    """Score and segment every customer of ``metrics``."""
    rules = scheme.rules
    if not isinstance(rules, RfmRules):
        raise ConfigError(tr("scheme {name}: not an rfm scheme").format(name=scheme.name))
    scores = rfm_scores(metrics, recency=rules.recency, frequency=rules.frequency,
                        monetary=rules.monetary, fast=fast)
    table = rules.segment_table()
    segment_codes = [scheme.order(segment.grade) for segment in rules.segments]
    if use_numpy(fast):
        combo = (scores.r - 1) * 25 + (scores.f - 1) * 5 + (scores.m - 1)
        rule_index = np.asarray(table, dtype=np.int64)[combo]
        codes = np.asarray(segment_codes, dtype=np.int64)[rule_index]
    else:
        rule_index = [table[(r - 1) * 25 + (f - 1) * 5 + (m - 1)]
                      for r, f, m in zip(scores.r, scores.f, scores.m, strict=True)]
        codes = [segment_codes[index] for index in rule_index]
    names = (rules.recency, rules.frequency, rules.monetary)
    bounds = scores.outcomes[0].boundaries

    def explain(position: int) -> Explanation:
        r, f, m = (int(axis[position]) for axis in (scores.r, scores.f, scores.m))
        index = int(rule_index[position])
        row = metrics.row(position)
        axes = [[name, row.get(name), int(outcome.ranks[position])]
                for name, outcome in zip(names, scores.outcomes, strict=True)]
        return Explanation(
            scheme=scheme.name, version=scheme.version, code="rfm",
            params={"r": r, "f": f, "m": m, "axes": axes,
                    "population": scores.outcomes[0].population, "bounds": list(bounds),
                    **rules.segments[index].params(index)},
            metrics=finite({name: row[name] for name in names if name in row}),
            rank=None, population=scores.outcomes[0].population, rule=index,
            scores={"r": r, "f": f, "m": m},
        )

    return GradeTable(scheme, metrics.as_of, metrics.ids, codes, FunctionExplainer(explain),
                      metrics=metrics)
