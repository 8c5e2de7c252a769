"""Opportunity stages as a flow definition, lost reasons, and the pipeline's view (M1).

The stages are the ``sales-pipeline`` flow (``crmcore/sales/flows/pipeline.toml``):
qualification, needs analysis, proposal, negotiation, then won or lost. Every
stage change goes through :func:`crmcore.transitions.apply_transition`, so the
flow history holds each stage's entry time and the time spent in the stage
before (:func:`stage_stays`). A lost opportunity needs a ``lost_reason`` from a
:class:`LostReasons` catalogue (``other`` needs a ``lost_note``).

An :class:`SalesOpportunity` is the pipeline's read of one opportunity: the stored
:class:`~crmcore.model.Opportunity` (kind ``opportunity``) joined with its
stage record; the stage lives only in the flow, never in a second copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import N_, tr
from crmcore.model import Opportunity
from crmcore.options import Options
from crmcore.transitions import (
    CheckRegistry,
    FlowDefinition,
    FlowState,
    HistoryEntry,
    TransitionContext,
)
from crmcore.transitions.loader import load_packaged_flow

__all__ = [
    "LOST_REASONS",
    "PIPELINE_FLOW",
    "UNKNOWN",
    "LostReasons",
    "SalesOpportunity",
    "StageStay",
    "open_stages",
    "pipeline_flow",
    "stage_stays",
]

PIPELINE_FLOW = "sales-pipeline"
"""The flow name of opportunity stages."""

UNKNOWN = "unknown"
"""What the pipeline shows for a value that is not stated (a close date, an amount)."""

LOST_REASONS: tuple[str, ...] = (
    "price", "competitor", "no_budget", "no_decision", "timing", "product_fit",
    "relationship", "other",
)
"""The default lost-reason catalogue (``other`` needs a ``lost_note``)."""


@attrs.frozen
class LostReasons:
    """The catalogue of reasons an opportunity may be lost for.

    In the configuration: ``[sales] lost_reasons = ["price", ...]``.
    """

    reasons: tuple[str, ...] = attrs.field(default=LOST_REASONS)

    @reasons.validator
    def _check(self, _attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        if not isinstance(value, tuple) or not value or not all(
                isinstance(item, str) and item.strip() for item in value):
            raise ConfigError(tr("{field}: {value!r} {reason}").format(
                field="sales.lost_reasons", value=value,
                reason=tr("must be a non-empty list of non-empty texts")))
        if len(set(value)) != len(value):
            raise ConfigError(tr("{field}: {value!r} {reason}").format(
                field="sales.lost_reasons", value=list(value), reason=tr("lists a reason twice")))

    @classmethod
    def from_options(cls, options: Options) -> LostReasons:
        """Read ``lost_reasons`` from a ``[sales]`` table (the default when absent)."""
        if not options.has("lost_reasons"):
            return cls()
        return cls(tuple(options.texts("lost_reasons")))

    def check(self, fields: Mapping[str, Any]) -> None:
        """Raise :class:`ValidationError` unless ``fields`` hold a catalogue reason
        (and a ``lost_note`` for ``other``)."""
        reason = fields.get("lost_reason")
        if reason not in self.reasons:
            raise ValidationError("lost_reason", reason,
                                  tr("is not a lost reason (known: {known})").format(
                                      known=", ".join(self.reasons)))
        note = fields.get("lost_note")
        if reason == "other" and (not isinstance(note, str) or not note.strip()):
            raise ValidationError("lost_note", note, "must say what 'other' means")


def pipeline_flow(lost_reasons: LostReasons | None = None) -> FlowDefinition:
    """The shipped pipeline flow, checking lost reasons against ``lost_reasons``."""
    catalogue = lost_reasons or LostReasons()

    def lost_reason_in_catalogue(context: TransitionContext) -> None:
        """The lost reason is one of the catalogue's (M1)."""
        catalogue.check(context.fields)

    checks = CheckRegistry(validators={"lost_reason_in_catalogue": lost_reason_in_catalogue})
    return load_packaged_flow("crmcore.sales", {"pipeline": "pipeline.toml"}, "pipeline",
                              checks, label=N_("flow"))


@attrs.frozen
class StageStay:
    """One stay of an opportunity in a stage: entered, left (None: still there)."""

    stage: str
    entered_at: datetime
    left_at: datetime | None

    def days(self, as_of: datetime) -> float:
        """Days in the stage, up to ``as_of`` for the current stay."""
        end = self.left_at if self.left_at is not None else as_of
        return (end - self.entered_at).total_seconds() / 86400


def stage_stays(entries: Iterable[HistoryEntry]) -> list[StageStay]:
    """One opportunity's stays, oldest first, from its pipeline flow history.

    Internal events (none in the shipped flow) do not end a stay.
    """
    stays: list[StageStay] = []
    for entry in sorted(entries, key=lambda item: item.sequence):
        if stays and entry.to_state == stays[-1].stage and entry.from_state is not None:
            continue
        if stays:
            stays[-1] = attrs.evolve(stays[-1], left_at=entry.at)
        stays.append(StageStay(entry.to_state, entry.at, None))
    return stays


@attrs.frozen
class SalesOpportunity:
    """An opportunity as the pipeline sees it: the stored record and its stage.

    ``expected_close`` None means unknown (shown as :data:`UNKNOWN`, never a
    made-up date); ``amount`` None likewise. ``lost_reason`` is set for a lost one.
    """

    id: str
    customer_id: str
    title: str
    amount: Decimal | None
    currency: str | None
    stage: str
    owner: str | None
    territory: str | None
    source: str | None
    expected_close: date | None
    created_at: datetime
    stage_entered_at: datetime
    lost_reason: str | None = None

    @classmethod
    def of(cls, opportunity: Opportunity, state: FlowState) -> SalesOpportunity:
        """Join a stored opportunity with its pipeline state record."""
        reason = state.fields.get("lost_reason")
        return cls(opportunity.id, opportunity.customer_id, opportunity.title,
                   opportunity.estimated_value, opportunity.currency, state.state,
                   opportunity.owner, opportunity.territory, opportunity.source,
                   opportunity.expected_close, opportunity.received_at, state.entered_at,
                   reason if isinstance(reason, str) else None)

    def days_in_stage(self, as_of: datetime) -> float:
        """Days since the opportunity entered its current stage."""
        return max(0.0, (as_of - self.stage_entered_at).total_seconds() / 86400)

    def age_days(self, as_of: datetime) -> float:
        """Days since the opportunity was created."""
        return max(0.0, (as_of - self.created_at).total_seconds() / 86400)

    def days_to_close(self, as_of: datetime) -> int | None:
        """The time still needed: whole days from ``as_of`` to the expected close date
        (negative when it has passed); None when the date is unknown."""
        if self.expected_close is None:
            return None
        return (self.expected_close - as_of.date()).days

    def close_label(self) -> str:
        """The expected close date as ISO text, or :data:`UNKNOWN`."""
        return UNKNOWN if self.expected_close is None else self.expected_close.isoformat()

    def amount_label(self) -> str:
        """``"12,000.00 EUR"``, or :data:`UNKNOWN` when the amount is not stated."""
        if self.amount is None:
            return UNKNOWN
        return f"{self.amount:,.2f} {self.currency or UNKNOWN}"

    def features(self, as_of: datetime) -> dict[str, Any]:
        """What a win-probability model reads: stage, source, territory, owner, size
        (amount and currency), age in stage and age, as of ``as_of``."""
        return {"stage": self.stage, "source": self.source, "territory": self.territory,
                "owner": self.owner, "amount": self.amount, "currency": self.currency,
                "days_in_stage": self.days_in_stage(as_of), "age_days": self.age_days(as_of),
                "expected_close": self.expected_close}

    def as_json(self, as_of: datetime) -> dict[str, Any]:
        """JSON-ready values; unknown close dates and amounts are ``"unknown"``."""
        return {"id": self.id, "customer_id": self.customer_id, "title": self.title,
                "amount": UNKNOWN if self.amount is None else str(self.amount),
                "currency": self.currency or UNKNOWN, "stage": self.stage,
                "owner": self.owner, "territory": self.territory, "source": self.source,
                "expected_close": self.close_label(),
                "created_at": self.created_at.isoformat(),
                "stage_entered_at": self.stage_entered_at.isoformat(),
                "days_in_stage": round(self.days_in_stage(as_of), 1),
                "lost_reason": self.lost_reason}


def open_stages(flow: FlowDefinition) -> Sequence[str]:
    """The stages of ``flow`` that are not final, in order."""
    return tuple(state.name for state in flow.states if not state.final)
