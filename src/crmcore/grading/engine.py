"""Grade a population with any scheme: the one dispatch over scheme kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from crmcore.errors import ConfigError
from crmcore.grading.columns import TransactionColumns
from crmcore.grading.matrix import MatrixRules, grade_matrix
from crmcore.grading.metrics import METRICS, MetricTable, compute_metrics
from crmcore.grading.prospects import grade_prospects
from crmcore.grading.ranked import RankedRules, grade_ranked
from crmcore.grading.results import GradeTable
from crmcore.grading.rfm import RfmRules, grade_rfm
from crmcore.grading.schemes import GradeScheme, SchemeKind
from crmcore.grading.thresholds import grade_thresholds
from crmcore.i18n import tr
from crmcore.model import Customer, Opportunity, Transaction
from crmcore.options import Options
from crmcore.plugins import PluginHost
from crmcore.ports import ScoringStrategy


def metrics_named(scheme: GradeScheme) -> frozenset[str] | None:
    """The metric names a ranked, RFM or value-matrix scheme reads (None for other kinds)."""
    rules = scheme.rules
    if isinstance(rules, RankedRules):
        return frozenset(rules.weights) if rules.weights else frozenset({rules.metric})
    if isinstance(rules, RfmRules):
        return frozenset({rules.recency, rules.frequency, rules.monetary})
    if isinstance(rules, MatrixRules):
        return frozenset({rules.contribution})
    return None


def metrics_needed(scheme: GradeScheme) -> frozenset[str] | None:
    """The metrics ``scheme`` reads, when known and all valid (None: compute them all)."""
    names = metrics_named(scheme)
    return names if names is not None and names.issubset(METRICS) else None


def grade_metrics(scheme: GradeScheme, metrics: MetricTable, *,
                  potential: Mapping[str, float] | None = None,
                  fast: bool | None = None) -> GradeTable:
    """Grade the customers of ``metrics`` (every kind except prospect-abcd).

    value-matrix schemes need ``potential``: a score per customer id, as a
    scoring strategy returns (see :func:`potential_scores`).
    """
    if scheme.kind in (SchemeKind.PARETO_ABC, SchemeKind.PYRAMID):
        return grade_ranked(scheme, metrics, fast=fast)
    if scheme.kind is SchemeKind.THRESHOLDS:
        return grade_thresholds(scheme, metrics)
    if scheme.kind is SchemeKind.RFM:
        return grade_rfm(scheme, metrics, fast=fast)
    if scheme.kind is SchemeKind.VALUE_MATRIX:
        if potential is None:
            raise ConfigError(tr("scheme {name}: value-matrix grading needs potential scores "
                                 "(from a scoring strategy)").format(name=scheme.name))
        return grade_matrix(scheme, metrics, potential, fast=fast)
    raise ConfigError(tr("scheme {name}: {kind} grades opportunities, not transaction "
                         "metrics").format(name=scheme.name, kind=scheme.kind.value))


def potential_strategy(scheme: GradeScheme, plugins: PluginHost | None = None
                       ) -> ScoringStrategy:
    """The scoring strategy a value-matrix scheme names, built from its options (G3)."""
    rules = scheme.rules
    if not isinstance(rules, MatrixRules):
        raise ConfigError(tr("scheme {name}: only value-matrix schemes use potential").format(
            name=scheme.name))
    host = plugins if plugins is not None else PluginHost()
    factory = host.scoring_strategies().get(rules.potential, key="rules.potential")
    options = Options(rules.potential_options, "rules.potential_options")
    strategy = factory(options)
    options.check_all_used()
    return strategy


def potential_scores(scheme: GradeScheme, transactions: Sequence[Transaction], as_of: datetime,
                     plugins: PluginHost | None = None) -> dict[str, float]:
    """Scores from the scoring strategy a value-matrix scheme names (G3)."""
    strategy = potential_strategy(scheme, plugins)
    return {key: float(value) for key, value in
            strategy.score(transactions, as_of=as_of).items()}


def columnar_potential(scheme: GradeScheme, columns: TransactionColumns, as_of: datetime,
                       transactions: Callable[[], Sequence[Transaction]],
                       plugins: PluginHost | None = None) -> dict[str, float]:
    """:func:`potential_scores` from columns when the strategy reads them (``score_columns``,
    as ``clv`` does); otherwise ``transactions()`` builds the objects it takes."""
    strategy = potential_strategy(scheme, plugins)
    by_columns = getattr(strategy, "score_columns", None)
    scores = (by_columns(columns, as_of=as_of) if by_columns is not None
              else strategy.score(transactions(), as_of=as_of))
    return {key: float(value) for key, value in scores.items()}


def grade_book(scheme: GradeScheme, *, as_of: datetime,
               transactions: Iterable[Transaction] = (), customers: Iterable[Customer] = (),
               opportunities: Iterable[Opportunity] = (), window_months: int = 12,
               plugins: PluginHost | None = None, fast: bool | None = None) -> GradeTable:
    """Grade from entity objects: every customer given and every buyer.

    prospect-abcd schemes grade ``opportunities``; the others grade the
    metrics of ``transactions`` before ``as_of``.
    """
    if scheme.kind is SchemeKind.PROSPECT_ABCD:
        return grade_prospects(scheme, opportunities, as_of)
    bought = [t for t in transactions if t.occurred_at < as_of]
    columns = TransactionColumns.from_transactions(bought, customers)
    metrics = compute_metrics(columns, as_of, window_months=window_months, fast=fast,
                              only=metrics_needed(scheme))
    potential = None
    if scheme.kind is SchemeKind.VALUE_MATRIX:
        potential = potential_scores(scheme, bought, as_of, plugins)
    return grade_metrics(scheme, metrics, potential=potential, fast=fast)
