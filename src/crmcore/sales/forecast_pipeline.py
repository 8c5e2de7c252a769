"""The M3 forecast of a stored book: the pipeline's open opportunities and repeat buyers.

:func:`stored_forecast` reads the open opportunities of a
:class:`~crmcore.sales.pipeline.PipelineService`, gives each the win probability the
pipeline shows (:func:`~crmcore.sales.pipeline_probability.pipeline_probabilities`,
learned from the stored won and lost opportunities, the prior on a cold start) and
forecasts them; with ``repeat_months`` it adds the repeat purchases the lifetime-value
model expects of the stored customers (purchases read as columns, fitted by the ``clv``
scoring strategy's :meth:`~crmcore_plugins.scoring_clv.ClvScoring.analyse_columns`).

Repeat purchases are placed by owner with the customer's ``owner``, and by territory
with the territory of the customer's latest opportunity; otherwise ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from crmcore.sales.forecast import Forecast, OpenOpportunity, forecast
from crmcore.sales.forecast_repeat import ClvUnavailableError, RepeatPurchases
from crmcore.sales.opportunities import SalesOpportunity
from crmcore.sales.pipeline import PipelineService

__all__ = ["open_opportunities", "stored_forecast", "stored_repeat_purchases"]


def open_opportunities(pipeline: PipelineService, as_of: datetime
                       ) -> tuple[list[OpenOpportunity], list[str]]:
    """The open opportunities with their win probabilities, and why (one line each)."""
    from crmcore.sales.pipeline_probability import pipeline_probabilities

    predictions = pipeline_probabilities(pipeline, as_of)
    made = []
    whys = []
    for item in pipeline.open():
        prediction = predictions[item.id]
        made.append(OpenOpportunity(item.id, item.amount, item.currency,
                                    prediction.probability, item.expected_close, item.owner,
                                    item.territory, item.customer_id))
        whys.append(f"{item.id}: {prediction.why}")
    return made, whys


def stored_repeat_purchases(pipeline: PipelineService, as_of: datetime, *, months: int,
                            currency: str) -> RepeatPurchases | None:
    """Repeat purchases of the stored customers over ``months`` (None: no purchases)."""
    from crmcore.book import read_purchases
    from crmcore.sales.forecast_repeat import repeat_from_analysis

    try:
        from crmcore_plugins.scoring_clv import ClvScoring

        scoring = ClvScoring()
        with pipeline.crm.storage.transaction() as session:
            columns = read_purchases(session, until=as_of, fast=False)
        analysis = scoring.analyse_columns(columns, as_of=as_of)
    except ImportError as error:
        raise ClvUnavailableError(f"repeat purchases need the lifetime-value model ({error}): "
                                  "pip install 'crmcore[clv]'") from None
    if analysis is None:
        return None
    return repeat_from_analysis(analysis, months=months, currency=currency)


def _customer_groups(pipeline: PipelineService, items: list[SalesOpportunity], by: str
                     ) -> dict[str, str]:
    if by == "territory":
        latest = sorted(items, key=lambda item: (item.created_at, item.id))
        return {item.customer_id: item.territory for item in latest if item.territory}
    from crmcore.model import Customer

    return {customer.id: customer.owner for customer in pipeline.crm.find(Customer)
            if customer.owner}


def stored_forecast(
    pipeline: PipelineService,
    as_of: datetime,
    *,
    by: str = "period",
    rates: Mapping[str, Decimal] | None = None,
    currency: str | None = None,
    repeat_months: int | None = None,
    repeat_currency: str | None = None,
    level: float = 0.90,
) -> tuple[Forecast, list[str]]:
    """The forecast of the stored pipeline as of ``as_of``, and each probability's why.

    ``repeat_currency`` (the currency purchases are stored in) is required with
    ``repeat_months``.
    """
    from crmcore.errors import ValidationError

    opportunities, whys = open_opportunities(pipeline, as_of)
    repeat = None
    groups: dict[str, str] = {}
    if repeat_months is not None:
        if repeat_currency is None:
            raise ValidationError("repeat_currency", None, "is required with repeat_months: "
                                  "purchases are stored without a currency")
        repeat = stored_repeat_purchases(pipeline, as_of, months=repeat_months,
                                         currency=repeat_currency)
        if by != "period":
            groups = _customer_groups(pipeline, pipeline.opportunities(), by)
    made = forecast(opportunities, as_of=as_of.date(), by=by, rates=rates, currency=currency,
                    repeat=repeat, customer_groups=groups, level=level)
    return made, whys
