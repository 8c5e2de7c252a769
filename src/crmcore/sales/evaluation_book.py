"""A generated book whose true win probabilities are known, and the honest comparison (M1).

:func:`generate_book` draws closed opportunities whose win probability is set by a known
rule, then draws the outcome from it. The rule is *not* the model's own form: amount,
age in stage and response time act continuously (the models see bands), and the
features are correlated as in a real book (good grades bring larger deals, later
stages and faster answers; territories prefer some sources), which is what a naive
Bayes that multiplies per-field frequencies gets wrong.

:func:`compare_on_book` fits on the opportunities closed before the book's cut-off day
and scores the predictions on those closed from it on (a held-out *later* period, as
a host would use the model), for the learned model, the naive Bayes baseline and the
known truth (the best any model could do).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from crmcore.sales.evaluation import (
    ReliabilityBin,
    auc,
    brier_score,
    calibration_error,
    reliability_curve,
)
from crmcore.sales.naive_bayes_baseline import NaiveBayesBaseline
from crmcore.sales.probability_features import ClosedOpportunity, OpportunityFeatures
from crmcore.sales.probability_solver import sigmoid
from crmcore.sales.win_probability import WinProbabilityModel, WinProbabilitySettings

__all__ = ["BookOpportunity", "Comparison", "KnownTruthBook", "ModelScore",
           "compare_on_book", "generate_book", "held_out_cutoff"]

_START = date(2024, 1, 1)
_DAYS = 730
_GRADES = (("A", 0.15, 0.8), ("B", 0.30, 0.3), ("C", 0.35, 0.0), ("D", 0.20, -0.6))
_LIFECYCLE = {"new": -0.2, "active": 0.2, "loyal": 0.5, "lapsed": -0.7}
_TERRITORIES = {"north": 0.3, "south": -0.2, "east": 0.0, "west": 0.1, "centre": -0.4}
_SOURCES = {"referral": 0.7, "partner": 0.4, "fair": 0.0, "web": -0.3, "cold_call": -0.8}
_STAGES = {"qualification": -1.2, "needs": -0.5, "proposal": 0.3, "negotiation": 1.0}
_PREFERRED_SOURCE = {"north": "referral", "south": "web", "east": "fair", "west": "partner",
                     "centre": "cold_call"}


@dataclass(frozen=True)
class BookOpportunity:
    """A generated closed opportunity and the probability its outcome was drawn from."""

    closed: ClosedOpportunity
    true_probability: float


@dataclass(frozen=True)
class KnownTruthBook:
    """Generated opportunities (in closing order) and the day the held-out period starts."""

    opportunities: tuple[BookOpportunity, ...]
    cutoff: date

    def split(self) -> tuple[list[BookOpportunity], list[BookOpportunity]]:
        """Those closed before :attr:`cutoff` (to fit) and from it on (to score)."""
        earlier = [o for o in self.opportunities if o.closed.closed_on < self.cutoff]
        later = [o for o in self.opportunities if o.closed.closed_on >= self.cutoff]
        return earlier, later


def _grade(rng: random.Random) -> tuple[str, float]:
    draw = rng.random()
    for grade, share, effect in _GRADES:
        if draw < share:
            return grade, effect
        draw -= share
    return _GRADES[-1][0], _GRADES[-1][2]


def _one(rng: random.Random, number: int) -> BookOpportunity:
    grade, effect = _grade(rng)
    strong = grade in "AB"
    lifecycle = rng.choice(("active", "loyal", "loyal", "new") if strong
                           else ("new", "new", "active", "lapsed"))
    territory = rng.choice(tuple(_TERRITORIES))
    source = (_PREFERRED_SOURCE[territory] if rng.random() < 0.6
              else rng.choice(tuple(_SOURCES)))
    stages = tuple(_STAGES)
    stage = stages[min(3, int(rng.random() * 4 + (0.8 if strong else -0.3) * rng.random()))]
    amount = math.exp(rng.gauss(math.log(40_000 if strong else 6_000), 1.0))
    days = rng.expovariate(1 / 25)
    hours = math.exp(rng.gauss(math.log(6 if strong else 20), 1.0))
    log_odds = (-0.5 + effect + _LIFECYCLE[lifecycle] + _TERRITORIES[territory]
                + _SOURCES[source] + _STAGES[stage] - 0.35 * math.log10(amount / 10_000)
                - 0.015 * min(days, 120) - 0.25 * math.log2(1 + hours / 8))
    probability = sigmoid(log_odds)
    won = rng.random() < probability
    opened = _START + timedelta(days=rng.randrange(_DAYS))
    closed_on = opened + timedelta(days=1 + int(rng.expovariate(1 / 45)))
    features = OpportunityFeatures(
        stage=stage, source=None if rng.random() < 0.05 else source, territory=territory,
        amount=round(amount, 2), days_in_stage=round(days, 1),
        response_hours=None if rng.random() < 0.1 else round(hours, 1), grade=grade,
        lifecycle_stage=lifecycle)
    return BookOpportunity(ClosedOpportunity(f"opp-{number:06d}", features, won, closed_on),
                           probability)


def generate_book(size: int, seed: int = 15, held_out: float = 0.25) -> KnownTruthBook:
    """``size`` closed opportunities; about the last ``held_out`` share of them (by closing
    day) is held out."""
    rng = random.Random(seed)
    opportunities = sorted((_one(rng, i) for i in range(size)),
                           key=lambda o: (o.closed.closed_on, o.closed.id))
    return KnownTruthBook(tuple(opportunities), held_out_cutoff(opportunities, held_out))


def held_out_cutoff(opportunities: Sequence[BookOpportunity], held_out: float) -> date:
    """The closing day from which about the last ``held_out`` share of ``opportunities``
    (sorted by closing day) is held out."""
    size = len(opportunities)
    return opportunities[min(size - 1, int(size * (1.0 - held_out)))].closed.closed_on


@dataclass(frozen=True)
class ModelScore:
    """One model's scores on the held-out period."""

    name: str
    brier: float
    calibration_error: float
    auc: float
    reliability: tuple[ReliabilityBin, ...]


@dataclass(frozen=True)
class Comparison:
    """The scores of each model, with the sizes of the two periods."""

    fitted_on: int
    scored_on: int
    scores: tuple[ModelScore, ...]

    def score(self, name: str) -> ModelScore:
        """The score of the model called ``name``."""
        return next(s for s in self.scores if s.name == name)


def _score(name: str, probabilities: Sequence[float], outcomes: Sequence[bool],
           bins: int) -> ModelScore:
    return ModelScore(name, brier_score(probabilities, outcomes),
                      calibration_error(probabilities, outcomes, bins),
                      auc(probabilities, outcomes),
                      tuple(reliability_curve(probabilities, outcomes, bins)))


def compare_on_book(book: KnownTruthBook, settings: WinProbabilitySettings | None = None,
                    bins: int = 10) -> Comparison:
    """Fit the model and the naive Bayes baseline on the earlier period, score the later.

    The models are named ``"win probability"``, ``"naive Bayes"`` and ``"known truth"``.
    """
    earlier, later = book.split()
    history = [o.closed for o in earlier]
    model = WinProbabilityModel.fit(history, settings)
    baseline = NaiveBayesBaseline.fit(history, model.settings.bands)
    features = [o.closed.features for o in later]
    outcomes = [o.closed.won for o in later]
    learned = [p.probability for p in model.predict_many(features)]
    naive = [baseline.predict(f) for f in features]
    truth = [o.true_probability for o in later]
    return Comparison(len(earlier), len(later), (
        _score("win probability", learned, outcomes, bins),
        _score("naive Bayes", naive, outcomes, bins),
        _score("known truth", truth, outcomes, bins)))
