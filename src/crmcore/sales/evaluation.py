"""Scores of probabilistic predictions of 0/1 outcomes: Brier, reliability, AUC (M1).

* :func:`brier_score`: the mean squared difference between probability and outcome
  (lower is better; 0.25 is a coin toss's score on a balanced book).
* :func:`reliability_curve`: predictions cut into equal-width bins; per bin the mean
  predicted probability beside the observed win rate (a calibrated model has them equal).
* :func:`calibration_error`: the expected calibration error, the bins' mean
  ``|predicted - observed|`` weighted by their sizes.
* :func:`auc`: the area under the ROC curve, the probability that a random won
  opportunity was given a higher probability than a random lost one (ties count
  half), from ranks in O(n log n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from crmcore.errors import ValidationError
from crmcore.i18n import tr

__all__ = ["ReliabilityBin", "auc", "brier_score", "calibration_error", "reliability_curve"]


def _checked(probabilities: Sequence[float], outcomes: Sequence[bool]) -> None:
    if len(probabilities) != len(outcomes):
        raise ValidationError("outcomes", len(outcomes),
                              tr("outcomes given for {count} probabilities").format(
                                  count=len(probabilities)))
    if not probabilities:
        raise ValidationError("probabilities", [], "is empty")
    for index, p in enumerate(probabilities):
        if not (0.0 <= p <= 1.0):
            raise ValidationError(f"probabilities[{index}]", p, "is not between 0 and 1")


def brier_score(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean of ``(p - outcome)^2``."""
    _checked(probabilities, outcomes)
    return math.fsum((p - float(y)) ** 2 for p, y in zip(probabilities, outcomes, strict=True)
                     ) / len(probabilities)


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin ``[low, high)`` of predictions (the last bin includes 1.0)."""

    low: float
    high: float
    count: int
    mean_predicted: float
    observed: float


def reliability_curve(probabilities: Sequence[float], outcomes: Sequence[bool],
                      bins: int = 10) -> list[ReliabilityBin]:
    """The non-empty bins of ``bins`` equal-width bins of the predictions."""
    _checked(probabilities, outcomes)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValidationError("bins", bins, "is not a whole number >= 1")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, y in zip(probabilities, outcomes, strict=True):
        members[min(int(p * bins), bins - 1)].append((p, y))
    return [ReliabilityBin(i / bins, (i + 1) / bins, len(group),
                           math.fsum(p for p, _ in group) / len(group),
                           sum(1 for _, y in group if y) / len(group))
            for i, group in enumerate(members) if group]


def calibration_error(probabilities: Sequence[float], outcomes: Sequence[bool],
                      bins: int = 10) -> float:
    """Expected calibration error over :func:`reliability_curve`'s bins."""
    curve = reliability_curve(probabilities, outcomes, bins)
    return math.fsum(b.count * abs(b.mean_predicted - b.observed) for b in curve
                     ) / len(probabilities)


def auc(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney U / (wins x losses), ties counted half).

    :raises ValidationError: when the outcomes are all wins or all losses.
    """
    _checked(probabilities, outcomes)
    wins = sum(1 for y in outcomes if y)
    losses = len(outcomes) - wins
    if wins == 0 or losses == 0:
        raise ValidationError("outcomes", f"{wins} won, {losses} lost",
                              "needs at least one win and one loss for an AUC")
    order = sorted(range(len(probabilities)), key=probabilities.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and probabilities[order[end + 1]] == probabilities[
                order[start]]:
            end += 1
        average_rank = (start + end) / 2.0 + 1.0
        rank_sum += average_rank * sum(1 for k in order[start:end + 1] if outcomes[k])
        start = end + 1
    return (rank_sum - wins * (wins + 1) / 2.0) / (wins * losses)
