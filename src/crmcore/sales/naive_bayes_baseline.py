"""The reference baseline: a frequency-table naive Bayes, of the kind Odoo ships (M1).

Odoo's predictive lead scoring counts, per field value, how many leads with that value
were won and lost (each count plus 0.1), and multiplies the per-field frequencies as if
the fields were independent::

    P(won | x) = P(won) prod_i P(x_i | won)
                 / (P(won) prod_i P(x_i | won) + P(lost) prod_i P(x_i | lost))

with ``P(x_i | won) = (won_i + 0.1) / won_total``. As in Odoo, a field whose value is
missing or was never seen is left out of the product. It sees the same levels as
:class:`~crmcore.sales.win_probability.WinProbabilityModel` (the same bands), so the
evaluation compares the models and not their inputs. Kept as a yardstick, not for use:
the independence assumption double-counts correlated fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crmcore.sales.probability_features import (
    FEATURES,
    UNKNOWN,
    ClosedOpportunity,
    FeatureBands,
    OpportunityFeatures,
)

__all__ = ["SMOOTHING", "NaiveBayesBaseline"]

SMOOTHING = 0.1
"""Added to every won and lost count, as Odoo does."""


@dataclass(frozen=True)
class NaiveBayesBaseline:
    """Won and lost counts per (feature, level), and the totals."""

    won_total: int
    lost_total: int
    counts: Mapping[tuple[str, str], tuple[int, int]]
    bands: FeatureBands = field(default_factory=FeatureBands)

    @classmethod
    def fit(cls, closed: Iterable[ClosedOpportunity],
            bands: FeatureBands | None = None) -> NaiveBayesBaseline:
        """Count ``closed`` by level."""
        bands = bands or FeatureBands()
        counts: dict[tuple[str, str], tuple[int, int]] = {}
        won_total = lost_total = 0
        for opportunity in closed:
            won = int(opportunity.won)
            won_total += won
            lost_total += 1 - won
            for feature, level in zip(FEATURES, bands.levels(opportunity.features),
                                      strict=True):
                w, lost = counts.get((feature, level), (0, 0))
                counts[(feature, level)] = (w + won, lost + 1 - won)
        return cls(won_total, lost_total, counts, bands)

    def predict(self, features: OpportunityFeatures) -> float:
        """P(won | features); 0.5 when nothing has closed, the base rate if one class only."""
        if self.won_total == 0 or self.lost_total == 0:
            return 0.5 if self.won_total == self.lost_total else float(self.won_total > 0)
        log_won = math.log(self.won_total)
        log_lost = math.log(self.lost_total)
        for feature, level in zip(FEATURES, self.bands.levels(features), strict=True):
            count = self.counts.get((feature, level))
            if level == UNKNOWN or count is None:
                continue
            log_won += math.log((count[0] + SMOOTHING) / self.won_total)
            log_lost += math.log((count[1] + SMOOTHING) / self.lost_total)
        return 1.0 / (1.0 + math.exp(min(log_lost - log_won, 700.0)))
