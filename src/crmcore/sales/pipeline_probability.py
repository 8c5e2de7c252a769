"""The pipeline's probability column: win probability for each open opportunity, with why.

The model lives in :mod:`crmcore.sales.win_probability`; this module is the
seam between it and the stored pipeline. :func:`closed_history` turns the won
and lost opportunities into the model's history (the last open stage each
reached, the days spent there, the time to answer the lead); :func:`features_of`
describes an open one the same way; :func:`pipeline_probabilities` fits the
model on the history and predicts every open opportunity.

Amounts are given to the model only when every stated amount shares one
currency; in a mixed-currency book the amount is unknown to the model, never
summed or compared across currencies. When the model module is not installed,
:func:`pipeline_probabilities` returns no predictions and the listing shows
``n/a`` (the :data:`PROBABILITY_SEAM` note says why).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.sales.opportunities import SalesOpportunity, StageStay, stage_stays
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.probability_customers import stored_standing
from crmcore.transitions import HistoryEntry

if TYPE_CHECKING:
    from crmcore.sales.probability_customers import CustomerStanding

__all__ = ["PROBABILITY_SEAM", "Prediction", "closed_history", "features_of",
           "pipeline_probabilities"]

PROBABILITY_SEAM = "crmcore.sales.win_probability"
"""The module that provides ``WinProbabilityModel`` and ``explain``; without it the
probability column reads ``n/a``."""


@attrs.frozen
class Prediction:
    """One opportunity's win probability and the sentence explaining it."""

    probability: float
    why: str
    factors: tuple[tuple[str, str, float], ...] = ()


def _model_module() -> Any | None:
    try:
        return importlib.import_module(PROBABILITY_SEAM)
    except ImportError:
        return None


def _one_currency(items: Sequence[SalesOpportunity]) -> bool:
    return len({item.currency for item in items if item.amount is not None}) <= 1


def _response_hours(entries: Sequence[HistoryEntry]) -> dict[str, float]:
    """Hours from receiving each lead to answering it (the ``lead`` flow)."""
    starts: dict[str, datetime] = {}
    answers: dict[str, datetime] = {}
    for entry in entries:
        if entry.flow != "lead":
            continue
        if entry.from_state is None:
            starts[entry.subject_id] = entry.at
        elif entry.event == "answer":
            answers[entry.subject_id] = entry.at
    return {key: (answers[key] - starts[key]).total_seconds() / 3600
            for key in answers if key in starts}


def features_of(item: SalesOpportunity, as_of: datetime, *, use_amount: bool = True,
                response_hours: float | None = None,
                standing: CustomerStanding | None = None) -> Any:
    """The model's ``OpportunityFeatures`` of an open opportunity as of ``as_of``
    (with ``standing``: the customer's grade and lifecycle stage then)."""
    features = importlib.import_module("crmcore.sales.probability_features")
    grade, stage = (standing.at(item.customer_id, as_of, inclusive=True) if standing
                    else (None, None))
    return features.OpportunityFeatures(
        stage=item.stage, source=item.source, territory=item.territory,
        amount=item.amount if use_amount else None,
        days_in_stage=item.days_in_stage(as_of), response_hours=response_hours,
        grade=grade, lifecycle_stage=stage)


def closed_history(items: Sequence[SalesOpportunity], stays: Mapping[str, Sequence[StageStay]],
                   *, use_amount: bool = True,
                   response_hours: Mapping[str, float] | None = None,
                   standing: CustomerStanding | None = None) -> list[Any]:
    """The won and lost opportunities as the model's ``ClosedOpportunity`` records.

    The stage is the last open stage reached and ``days_in_stage`` the time spent
    there before closing (an opportunity closed from its first stage counts too);
    with ``standing``, the customer's grade and lifecycle stage just before closing.
    """
    features = importlib.import_module("crmcore.sales.probability_features")
    hours = response_hours or {}
    made = []
    for item in items:
        own = stays.get(item.id, ())
        if item.stage not in ("won", "lost") or len(own) < 2:
            continue
        last_open = own[-2]
        grade, stage = (standing.at(item.customer_id, own[-1].entered_at) if standing
                        else (None, None))
        made.append(features.ClosedOpportunity(
            id=item.id, won=item.stage == "won", closed_on=own[-1].entered_at.date(),
            features=features.OpportunityFeatures(
                stage=last_open.stage, source=item.source, territory=item.territory,
                amount=item.amount if use_amount else None,
                days_in_stage=last_open.days(own[-1].entered_at),
                response_hours=hours.get(item.id), grade=grade, lifecycle_stage=stage)))
    return made


def pipeline_probabilities(pipeline: PipelineService, as_of: datetime
                           ) -> dict[str, Prediction]:
    """Win probability of every open opportunity, learned from the closed ones.

    Empty when :data:`PROBABILITY_SEAM` cannot be imported.
    """
    module = _model_module()
    if module is None:
        return {}
    items = pipeline.opportunities()
    entries = pipeline.crm.find(HistoryEntry)
    stays = _stays_by_subject(pipeline, entries)
    use_amount = _one_currency(items)
    hours = _response_hours(entries)
    standing = stored_standing(pipeline.crm, entries, as_of)
    model = module.WinProbabilityModel.fit(
        closed_history(items, stays, use_amount=use_amount, response_hours=hours,
                       standing=standing),
        module.WinProbabilitySettings.from_options(
            pipeline.crm.settings("sales").section("win_probability")))
    predictions = {}
    for item in items:
        if item.stage in ("won", "lost"):
            continue
        made = model.predict(features_of(item, as_of, use_amount=use_amount,
                                         response_hours=hours.get(item.id), standing=standing))
        predictions[item.id] = Prediction(
            made.probability, module.explain(made),
            tuple((f.feature, f.level, f.log_odds) for f in made.factors))
    return predictions


def _stays_by_subject(pipeline: PipelineService, entries: Sequence[HistoryEntry]
                      ) -> dict[str, list[StageStay]]:
    grouped: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        if entry.flow == pipeline.flow.name:
            grouped.setdefault(entry.subject_id, []).append(entry)
    return {key: stage_stays(value) for key, value in grouped.items()}
