"""Simple scoring strategies, the default potential axis of value-matrix grading (G3).

Registered through ``crmcore_register_scoring``:

``rfm``
    the mean of a customer's RFM quintile scores (1-5), as of ``as_of`` over
    ``window_months`` (default 12).
``recent-growth``
    how revenue moved between the last ``months`` months (default 6) and the
    ``months`` before: ``(recent - earlier) / (recent + earlier)``, from -1
    (stopped buying) to 1 (new or growing).

They stand in until a lifetime-value model is registered (``clv``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from crmcore.hookspecs import hookimpl
from crmcore.options import Options
from crmcore.ports import ScoringFactory

if TYPE_CHECKING:
    from crmcore.model import Transaction

# crmcore.grading is imported when a strategy scores, not when the plugin is loaded:
# every command loads the built-in plugins, and most never score.


class RfmScoring:
    """Scores each buyer by the mean of their R, F and M quintile scores."""

    def __init__(self, window_months: int = 12) -> None:
        self.window_months = window_months

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> Mapping[str, float]:
        """The mean RFM score of every customer who bought before ``as_of``."""
        from crmcore.grading.columns import TransactionColumns
        from crmcore.grading.metrics import compute_metrics
        from crmcore.grading.rfm import rfm_scores

        columns = TransactionColumns.from_transactions(
            t for t in transactions if t.occurred_at < as_of)
        metrics = compute_metrics(columns, as_of, window_months=self.window_months)
        scores = rfm_scores(metrics)
        return {customer_id: (int(scores.r[i]) + int(scores.f[i]) + int(scores.m[i])) / 3
                for i, customer_id in enumerate(metrics.ids)}


class RecentGrowthScoring:
    """Scores each buyer by the change of revenue between two equal periods."""

    def __init__(self, months: int = 6) -> None:
        self.months = months

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> Mapping[str, float]:
        """Growth from -1 to 1 of every customer who bought before ``as_of``."""
        from crmcore.grading.columns import TransactionColumns
        from crmcore.grading.metrics import compute_metrics

        columns = TransactionColumns.from_transactions(
            t for t in transactions if t.occurred_at < as_of)
        recent = compute_metrics(columns, as_of, window_months=self.months)
        both = compute_metrics(columns, as_of, window_months=2 * self.months)
        scores = {}
        for i, customer_id in enumerate(recent.ids):
            now = float(recent.columns["revenue"][i])
            before = float(both.columns["revenue"][i]) - now
            scores[customer_id] = (now - before) / (now + before) if now + before else 0.0
        return scores


def open_rfm(options: Options) -> RfmScoring:
    """Factory of ``rfm``: option ``window_months`` (default 12)."""
    return RfmScoring(options.integer("window_months", 12, minimum=1))


def open_recent_growth(options: Options) -> RecentGrowthScoring:
    """Factory of ``recent-growth``: option ``months`` (default 6)."""
    return RecentGrowthScoring(options.integer("months", 6, minimum=1))


@hookimpl
def crmcore_register_scoring(register: Callable[[str, ScoringFactory], None]) -> None:
    """Register ``rfm`` and ``recent-growth``."""
    register("rfm", open_rfm)
    register("recent-growth", open_recent_growth)
