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

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._backend import np, to_list, use_numpy
from crmcore.grading._document import Table
from crmcore.grading.conditions import float_text, format_value
from crmcore.grading.explain import RANK_HEAD, rank_middle, rank_tail
from crmcore.grading.number_texts import float_texts
from crmcore.grading.rank import Basis, RankCut, RankOutcome, rank_cut
from crmcore.grading.results import (
    Explainer,
    Explanation,
    GradeTable,
    Summary,
    SummaryColumns,
)
from crmcore.i18n import tr

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
        raise table.fail(f"shares[{index}]", value, tr("is not a share between 0 and 1"))
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def parse_ranked_rules(table: Table, *, by_value_only: bool) -> RankedRules:
    """Read the ``[rules]`` of a pareto-abc or pyramid scheme."""
    metric = table.text("metric", "revenue")
    weights_table = table.table("weights", {})
    if by_value_only and (metric not in VALUE_METRICS or weights_table):
        shown = dict(weights_table) if weights_table else metric
        raise table.fail("weights" if weights_table else "metric", shown,
                         tr("is not allowed: the pyramid grades by revenue or profit, never by "
                            "number of uses (G5)"))
    weights = {}
    for name, weight in weights_table.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise table.fail(f"weights.{name}", weight, tr("is not a number"))
        weights[name] = float(weight)
    basis = Basis(table.choice("basis", tuple(b.value for b in Basis), Basis.COUNT.value))
    shares_list = table.array("shares")
    shares = tuple(_fraction(table, index, value) for index, value in enumerate(shares_list))
    if not shares:
        raise table.fail("shares", shares_list, tr("must list at least one share"))
    if sum(shares, Fraction(0)) > 1:
        raise table.fail("shares", shares_list, tr("add up to more than 1"))
    nonpositive_last = table.flag("nonpositive_last", True)
    table.check_all_used()
    return RankedRules(RankCut(shares, basis, nonpositive_last), metric, weights)


def _shown_first_first(metrics: dict[str, list[float | None]]
                       ) -> dict[str, list[float | None]]:
    """The metrics some summary shows, in the order :meth:`SummaryColumns.of` finds them."""
    first = {name: next((i for i, value in enumerate(column) if value is not None), None)
             for name, column in metrics.items()}
    shown = sorted((position, order, name) for order, (name, position) in
                   enumerate(first.items()) if position is not None)
    return {name: metrics[name] for _, _, name in shown}


def grade_ranked(scheme: GradeScheme, metrics: MetricTable, *, fast: bool | None = None
                 ) -> GradeTable:
    """Grade every customer of ``metrics`` by a rank-based scheme."""
    rules = scheme.rules
    if not isinstance(rules, RankedRules):
        raise ConfigError(tr("scheme {name}: not a rank-based scheme").format(name=scheme.name))
    values = rules.values(metrics, fast=fast)
    outcome = rank_cut(values, rules.cut, fast=fast)
    return GradeTable(scheme, metrics.as_of, metrics.ids, outcome.codes,
                      RankExplainer(scheme, rules, outcome, values, metrics),
                      values=values, cutoffs=outcome.cutoffs, metrics=metrics)


TEXT_CHUNK = 65_536
"""Customers whose rank sentences :class:`RankExplainer` words at a time (bounds the parts)."""


class RankExplainer(Explainer):
    """Explains rank-based grades from the rank outcome: data per customer, words per grade."""

    def __init__(self, scheme: GradeScheme, rules: RankedRules, outcome: RankOutcome,
                 values: Any, metrics: MetricTable) -> None:
        self.scheme, self.rules, self.outcome, self.metrics = scheme, rules, outcome, metrics
        self.values = values
        self.used = [rules.metric] if not rules.weights else list(rules.weights)
        self.by = rules.value_name
        self.grades = [self._grade_params(code) for code in range(rules.grade_count())]

    def _grade_params(self, code: int) -> tuple[str, dict[str, Any]]:
        """The code of an eligible customer of grade ``code`` and that grade's parameters."""
        cumulative = self.rules.cut.cumulative
        grade = self.scheme.grade_names[code]
        last = code == len(cumulative)
        if self.rules.cut.basis is Basis.COUNT:
            boundaries = self.outcome.boundaries
            if last:
                return "rank.rest", {"grade": grade, "after": boundaries[code - 1] if code else 0}
            return "rank.count", {"grade": grade, "low": boundaries[code - 1] + 1 if code else 1,
                                  "high": boundaries[code], "top": float(cumulative[code] * 100)}
        if last:
            return "rank.share-rest", {"grade": grade}
        return "rank.share", {"grade": grade, "below": float(cumulative[code] * 100)}

    def _code(self, position: int, code: int, value: float) -> tuple[str, dict[str, Any]]:
        if value != value:
            return "rank.no-value", {"grade": self.scheme.grade_names[code]}
        if not self.outcome.eligible[position]:
            return "rank.not-positive", {"grade": self.scheme.grade_names[code]}
        reason, params = self.grades[code]
        if self.outcome.shares_ahead is not None:
            params = {**params, "ahead": float(self.outcome.shares_ahead[position])}
        return reason, params

    def explain(self, position: int) -> Explanation:
        """The explanation of one customer, with the rank, population and cut-off."""
        code = int(self.outcome.codes[position])
        value = float(self.values[position])
        reason, params = self._code(position, code, value)
        rank = int(self.outcome.ranks[position])
        row = self.metrics.row(position)
        return Explanation(
            scheme=self.scheme.name, version=self.scheme.version, code=reason,
            params={"rank": rank, "population": self.outcome.population, "by": self.by,
                    **({} if value != value else {"value": value}), **params},
            metrics={name: row[name] for name in self.used if name in row},
            rank=rank, population=self.outcome.population, cutoff=self.outcome.cutoffs[code],
        )

    def texts(self, positions: Iterable[int]) -> Iterator[str]:
        """The sentences in bulk: the cut's words are made once per grade, not per customer.

        With numpy and a count cut, whole columns are rendered at once
        (:meth:`_column_texts`); :meth:`_texts_one_by_one` is the reference.
        """
        chosen = list(positions)
        if (self.outcome.shares_ahead is None and use_numpy(None)
                and not isinstance(self.outcome.ranks, list)):
            return self._column_texts(chosen)
        return self._texts_one_by_one(chosen)

    def _column_texts(self, chosen: list[int]) -> Iterator[str]:
        """:meth:`_texts_one_by_one` by numpy columns: one tail per grade and value status.

        The words are made :data:`TEXT_CHUNK` customers at a time, so only
        the sentences themselves are held for all.
        """
        outcome = self.outcome
        at = np.asarray(chosen, dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64)[at]
        missing = np.isnan(values)
        status = np.where(missing, 0, np.where(np.asarray(outcome.eligible)[at], 2, 1))
        keys = np.asarray(outcome.codes, dtype=np.int64)[at] * 3 + status
        tails = {}
        for key, index in dict(zip(keys.tolist(), range(len(chosen)), strict=True)).items():
            reason, params = self._code(chosen[index], key // 3, float(values[index]))
            tails[key] = rank_tail(reason, {"population": outcome.population, **params})
        ranks = np.asarray(outcome.ranks)[at]
        middle = rank_middle(outcome.population, self.by)
        head = tr(RANK_HEAD)
        for start in range(0, len(chosen), TEXT_CHUNK):
            part = slice(start, start + TEXT_CHUNK)
            shown = float_texts(values[part], " = ")
            for index in np.flatnonzero(missing[part]).tolist():
                shown[index] = ""
            zipped = zip(ranks[part].tolist(), shown, map(tails.__getitem__, keys[part].tolist()),
                         strict=True)
            if head is RANK_HEAD:  # English keeps the f-string, the fast path
                yield from [f"rank {rank:,}{middle}{value}{tail}" for rank, value, tail in zipped]
            else:
                yield from [head.format(rank=rank, middle=middle, value=value) + tail
                            for rank, value, tail in zipped]

    def _texts_one_by_one(self, positions: Iterable[int]) -> Iterator[str]:
        """The reference of :meth:`texts`: a loop over customers, one tail per grade."""
        outcome, population = self.outcome, self.outcome.population
        codes, ranks = to_list(outcome.codes), to_list(outcome.ranks)
        values, eligible = to_list(self.values), to_list(outcome.eligible)
        middle = rank_middle(population, self.by)
        head = tr(RANK_HEAD)  # English keeps the f-string below, the fast path
        tails: dict[tuple[int, int], str] = {}
        for position in positions:
            code, value = codes[position], values[position]
            if value != value:
                key, shown = (code, 0), ""
            else:  # rank_value(value), without its two calls per customer
                key, shown = (code, 1 if not eligible[position] else 2), f" = {float_text(value)}"
            tail = tails.get(key)
            if tail is None or outcome.shares_ahead is not None:
                reason, params = self._code(position, code, float(value))
                tail = tails[key] = rank_tail(reason, {"population": population, **params})
            if head is RANK_HEAD:
                yield f"rank {ranks[position]:,}{middle}{shown}{tail}"
            else:
                yield head.format(rank=ranks[position], middle=middle, value=shown) + tail

    def summaries(self, positions: Iterable[int]) -> Iterator[Summary]:
        """Summaries in bulk, with :meth:`texts`."""
        chosen = list(positions)
        outcome, population = self.outcome, self.outcome.population
        codes, ranks = to_list(outcome.codes), to_list(outcome.ranks)
        columns = [(name, to_list(self.metrics.column(name))) for name in self.used]
        for position, text in zip(chosen, self.texts(chosen), strict=True):
            shown = [(name, float(column[position])) for name, column in columns]
            metrics = {name: v for name, v in shown if math.isfinite(v)}
            yield Summary(ranks[position], population, outcome.cutoffs[codes[position]],
                          metrics, text)

    def summary_columns(self, positions: Sequence[int]) -> SummaryColumns:
        """:meth:`summaries` as columns, without an object per customer."""
        outcome = self.outcome
        if use_numpy(None) and not isinstance(outcome.ranks, list):
            chosen = np.asarray(positions, dtype=np.int64)
            ranks = outcome.ranks[chosen].tolist()
            cutoffs = np.asarray(outcome.cutoffs, dtype=object)[outcome.codes[chosen]].tolist()
            metrics = {}
            for name in self.used:
                values = np.asarray(self.metrics.column(name), dtype=np.float64)[chosen]
                shown: list[float | None] = values.tolist()
                if not np.isfinite(values).all():
                    shown = [v if math.isfinite(v) else None for v in shown]  # type: ignore[arg-type]
                metrics[name] = shown
        else:
            codes, all_ranks = to_list(outcome.codes), to_list(outcome.ranks)
            ranks = [all_ranks[p] for p in positions]
            cutoffs = [outcome.cutoffs[codes[p]] for p in positions]
            metrics = {}
            for name in self.used:
                column = to_list(self.metrics.column(name))
                metrics[name] = [v if math.isfinite(v := float(column[p])) else None
                                 for p in positions]
        return SummaryColumns(ranks, [outcome.population] * len(positions), cutoffs,
                              _shown_first_first(metrics), list(self.texts(positions)))
