"""The ``clv`` scoring strategy: BG/NBD + Gamma-Gamma fitted on the customers' own history.

Options: ``measure`` (``clv`` (default), ``probability_alive`` or
``expected_purchases``), ``horizon_days`` (365), ``unit_days`` (7),
``period_days`` (30) and ``discount_rate_per_period`` (0.01). Needs the
``clv`` extra (numpy, scipy); choosing it without them is a configuration
error that says what to install. Value-matrix grading (G3) uses it as the
potential axis; the lifecycle uses ``probability_alive`` as at-risk evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from crmcore.errors import ConfigError
from crmcore.hookspecs import hookimpl
from crmcore.model import Transaction
from crmcore.options import Options
from crmcore.ports import ScoringFactory

MEASURES = ("clv", "probability_alive", "expected_purchases")
"""What the strategy can score."""


class ClvScoring:
    """Scores customers with a lifetime-value model fitted as of each call's date."""

    def __init__(self, measure: str = "clv", *, horizon_days: float = 365.0,
                 unit_days: float = 7.0, period_days: float = 30.0,
                 discount_rate_per_period: float = 0.01) -> None:
        if measure not in MEASURES:
            raise ConfigError(f"measure: {measure!r} is not one of {', '.join(MEASURES)}")
        self.measure = measure
        self.horizon_days = horizon_days
        self.unit_days = unit_days
        self.period_days = period_days
        self.discount_rate_per_period = discount_rate_per_period

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> Mapping[str, float]:
        """Fit on purchases before ``as_of`` and score every customer who has one."""
        from crmcore_plugins.clv import analyse_purchases

        before = [t for t in transactions if t.occurred_at < as_of]
        if not before:
            return {}
        analysis = analyse_purchases(
            [t.customer_id for t in before], [t.occurred_at.date() for t in before],
            [float(t.amount) for t in before], calibration_end=as_of.date(),
            unit_days=self.unit_days, horizon_days=self.horizon_days,
            period_days=self.period_days,
            discount_rate_per_period=self.discount_rate_per_period,
        )
        values = {"probability_alive": analysis.probability_alive,
                  "expected_purchases": analysis.expected_purchases,
                  "clv": analysis.clv}[self.measure]
        if values is None:
            raise ConfigError(f"measure: 'clv' cannot be computed here: "
                              f"{analysis.clv_unavailable}")
        ids = analysis.summary.customer_ids
        return {str(ids[i]): float(values[i]) for i in range(len(ids))}


def open_clv_scoring(options: Options) -> ClvScoring:
    """Factory for ``clv``; checks that numpy and scipy are installed."""
    try:
        import scipy  # noqa: F401
    except ImportError:
        raise ConfigError("the 'clv' scoring strategy needs numpy and scipy: "
                          "pip install 'crmcore[clv]'") from None
    return ClvScoring(
        options.choice("measure", MEASURES, "clv"),
        horizon_days=options.number("horizon_days", 365.0),
        unit_days=options.number("unit_days", 7.0),
        period_days=options.number("period_days", 30.0),
        discount_rate_per_period=options.number("discount_rate_per_period", 0.01),
    )


@hookimpl
def crmcore_register_scoring(register: Callable[[str, ScoringFactory], None]) -> None:
    """Register the ``clv`` scoring strategy."""
    register("clv", open_clv_scoring)
