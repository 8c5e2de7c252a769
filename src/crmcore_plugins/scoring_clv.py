"""The ``clv`` scoring strategy: BG/NBD + Gamma-Gamma fitted on the customers' own history.

Options: ``measure`` (``clv`` (default), ``probability_alive`` or
``expected_purchases``), ``horizon_days`` (365), ``unit_days`` (7),
``period_days`` (30) and ``discount_rate_per_period`` (0.01). Needs the
``clv`` extra (numpy, scipy); choosing it without them is a configuration
error that says what to install. Value-matrix grading (G3) uses it as the
potential axis; the lifecycle uses ``probability_alive`` as at-risk evidence.

Besides the port's :meth:`~ClvScoring.score` (entity objects), the strategy
takes purchases as columns (:meth:`~ClvScoring.score_columns`, e.g. from
:func:`crmcore.book.read_purchases`): a book of millions of purchases is then
scored without a :class:`~crmcore.model.Transaction` object per purchase.
Purchases count on their UTC calendar day, amounts to the cent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crmcore.errors import ConfigError
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.model import Transaction
from crmcore.options import Options
from crmcore.ports import ScoringFactory

if TYPE_CHECKING:  # imported where used: this module loads with every plugin host
    import crmcore.grading.columns
    from crmcore_plugins.clv import ClvAnalysis, RfmSummary

MEASURES = ("clv", "probability_alive", "expected_purchases")
"""What the strategy can score."""


class ClvScoring:
    """Scores customers with a lifetime-value model fitted as of each call's date."""

    def __init__(self, measure: str = "clv", *, horizon_days: float = 365.0,
                 unit_days: float = 7.0, period_days: float = 30.0,
                 discount_rate_per_period: float = 0.01) -> None:
        if measure not in MEASURES:
            raise ConfigError(tr("{key}: {value!r} is not one of {choices}").format(
                key="measure", value=measure, choices=", ".join(MEASURES)))
        self.measure = measure
        self.horizon_days = horizon_days
        self.unit_days = unit_days
        self.period_days = period_days
        self.discount_rate_per_period = discount_rate_per_period

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> Mapping[str, float]:
        """Fit on purchases before ``as_of`` and score every customer who has one."""
        from crmcore.grading.columns import TransactionColumns

        before = [t for t in transactions if t.occurred_at < as_of]
        return self.score_columns(TransactionColumns.from_transactions(before), as_of=as_of)

    def score_columns(self, columns: crmcore.grading.columns.TransactionColumns, *,
                      as_of: datetime) -> Mapping[str, float]:
        """:meth:`score` of purchases given as columns (lists or numpy arrays)."""
        analysis = self.analyse_columns(columns, as_of=as_of)
        return {} if analysis is None else self._measured(analysis)

    def score_summary(self, summary: RfmSummary) -> Mapping[str, float]:
        """:meth:`score` of customers already summarised (frequency, recency, T and
        monetary value in this strategy's ``unit_days``, e.g. computed inside a
        database by :func:`crmcore_plugins.pushdown.clv.source_scores`)."""
        from crmcore_plugins.clv import analyse_summary

        return self._measured(analyse_summary(
            summary, horizon_days=self.horizon_days, period_days=self.period_days,
            discount_rate_per_period=self.discount_rate_per_period))

    def _measured(self, analysis: ClvAnalysis) -> dict[str, float]:
        """The chosen measure of every customer of ``analysis``."""
        values = {"probability_alive": analysis.probability_alive,
                  "expected_purchases": analysis.expected_purchases,
                  "clv": analysis.clv}[self.measure]
        if values is None:
            raise ConfigError(tr("measure: 'clv' cannot be computed here: {why}").format(
                why=analysis.clv_unavailable))
        return dict(zip(map(str, analysis.summary.customer_ids.tolist()), values.tolist(),
                        strict=True))

    def analyse_columns(self, columns: crmcore.grading.columns.TransactionColumns, *,
                        as_of: datetime) -> ClvAnalysis | None:
        """Models and every prediction from the purchases before ``as_of`` (None: none)."""
        import numpy as np

        from crmcore.grading.columns import US_PER_DAY, to_micros
        from crmcore_plugins.clv import analyse_summary, summarize_codes

        at_us = np.asarray(columns.at_us, dtype=np.int64)
        codes = np.asarray(columns.customer, dtype=np.int64)
        cents = np.asarray(columns.amount_cents, dtype=np.int64)
        before = at_us < to_micros(as_of)
        if not before.any():
            return None
        if not before.all():  # copies only when some purchases are later
            at_us, codes, cents = at_us[before], codes[before], cents[before]
        del before
        summary = summarize_codes(columns.ids, codes, at_us // US_PER_DAY, cents / 100.0,
                                  calibration_end=as_of.astimezone(UTC).date(),
                                  unit_days=self.unit_days)
        return analyse_summary(summary, horizon_days=self.horizon_days,
                               period_days=self.period_days,
                               discount_rate_per_period=self.discount_rate_per_period)


def open_clv_scoring(options: Options) -> ClvScoring:
    """Factory for ``clv``; checks that numpy and scipy are installed."""
    try:
        import scipy  # noqa: F401
    except ImportError:
        raise ConfigError(tr("the 'clv' scoring strategy needs numpy and scipy: pip install "
                             "'crmcore[clv]'")) from None
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
