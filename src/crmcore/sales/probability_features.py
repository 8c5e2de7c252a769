"""What the win-probability models see of an opportunity (M1): plain records and bands.

An opportunity is described by :class:`OpportunityFeatures` (stage, source, territory,
amount, days in the current stage, response time, the customer's grade and lifecycle
stage); a closed one is a :class:`ClosedOpportunity` (its features as they were when it
closed, whether it was won, and the day it closed). These records depend on nothing else
in the sales package, so any host record can be turned into them.

The models work on *levels*: each feature becomes one text value. Text features are
used as given; numbers are cut into the bands of :class:`FeatureBands` (fixed edges,
so a level never changes meaning when history grows). A missing value is the level
``"unknown"``: it is learned like any other, never replaced by a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from crmcore.errors import ValidationError

__all__ = [
    "FEATURES",
    "UNKNOWN",
    "ClosedOpportunity",
    "FeatureBands",
    "OpportunityFeatures",
    "band_label",
]

FEATURES = ("stage", "source", "territory", "amount", "days_in_stage", "response_hours",
            "grade", "lifecycle_stage")
"""The features, in the order every level tuple and explanation uses."""

UNKNOWN = "unknown"
"""The level of a feature whose value is missing."""


def _check_text(name: str, value: object, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(name, value, "is not a non-empty text")


def _check_number(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError(name, value, "is not a number")
    if not math.isfinite(float(value)) or value < 0:
        raise ValidationError(name, value, "is not a finite number >= 0")


@dataclass(frozen=True)
class OpportunityFeatures:
    """The facts about one opportunity that win probability is learned from.

    ``stage`` is the stage the opportunity is in (for a closed one: the last open stage it
    reached, never "won" or "lost" themselves); ``amount`` is in one currency the host
    chooses (convert before banding when the book mixes currencies); ``days_in_stage`` is
    the age in the current stage and ``response_hours`` the time to first answer the
    customer. Every field but ``stage`` may be ``None`` (the level ``"unknown"``).
    """

    stage: str
    source: str | None = None
    territory: str | None = None
    amount: float | Decimal | None = None
    days_in_stage: float | None = None
    response_hours: float | None = None
    grade: str | None = None
    lifecycle_stage: str | None = None

    def __post_init__(self) -> None:
        """Refuse a bad value, naming the field."""
        _check_text("stage", self.stage, required=True)
        for name in ("source", "territory", "grade", "lifecycle_stage"):
            _check_text(name, getattr(self, name))
        for name in ("amount", "days_in_stage", "response_hours"):
            _check_number(name, getattr(self, name))


@dataclass(frozen=True)
class ClosedOpportunity:
    """A won or lost opportunity: the history win probability learns from."""

    id: str
    features: OpportunityFeatures
    won: bool
    closed_on: date

    def __post_init__(self) -> None:
        """Refuse a bad value, naming the field."""
        _check_text("id", self.id, required=True)
        if not isinstance(self.features, OpportunityFeatures):
            raise ValidationError("features", self.features, "is not OpportunityFeatures")
        if not isinstance(self.won, bool):
            raise ValidationError("won", self.won, "is not True or False")
        if not isinstance(self.closed_on, date):
            raise ValidationError("closed_on", self.closed_on, "is not a date")


def band_label(value: float | Decimal | None, edges: Sequence[float]) -> str:
    """The band of ``value`` between ``edges``: ``"<10"``, ``"10-100"``, ``">=100"``.

    >>> from crmcore.sales.probability_features import band_label
    >>> band_label(5, (10, 100)), band_label(10, (10, 100)), band_label(None, (10,))
    ('<10', '10-100', 'unknown')
    """
    if value is None:
        return UNKNOWN
    number = float(value)
    if number < edges[0]:
        return f"<{edges[0]:g}"
    for low, high in pairwise(edges):
        if number < high:
            return f"{low:g}-{high:g}"
    return f">={edges[-1]:g}"


def _edges(name: str, value: tuple[float, ...]) -> tuple[float, ...]:
    if any(isinstance(e, bool) or not isinstance(e, int | float) for e in value):
        raise ValidationError(name, value, "is not a list of numbers")
    edges = tuple(float(edge) for edge in value)
    if not edges or any(not math.isfinite(e) for e in edges) or any(
            b <= a for a, b in pairwise(edges)):
        raise ValidationError(name, value, "is not a non-empty increasing list of numbers")
    return edges


@dataclass(frozen=True)
class FeatureBands:
    """Band edges of the numeric features (fixed, so levels keep their meaning)."""

    amount: tuple[float, ...] = (1_000.0, 10_000.0, 100_000.0)
    days_in_stage: tuple[float, ...] = (7.0, 30.0, 90.0)
    response_hours: tuple[float, ...] = (4.0, 24.0, 72.0)

    def __post_init__(self) -> None:
        """Refuse edges that are empty, not finite or not increasing."""
        for name in ("amount", "days_in_stage", "response_hours"):
            object.__setattr__(self, name, _edges(name, getattr(self, name)))

    def levels(self, features: OpportunityFeatures) -> tuple[str, ...]:
        """One level per name of :data:`FEATURES`, in that order."""
        return (
            features.stage,
            features.source or UNKNOWN,
            features.territory or UNKNOWN,
            band_label(features.amount, self.amount),
            band_label(features.days_in_stage, self.days_in_stage),
            band_label(features.response_hours, self.response_hours),
            features.grade or UNKNOWN,
            features.lifecycle_stage or UNKNOWN,
        )

