"""Win probability learned from the host's own won and lost history, explained (M1).

The model is a logistic regression on the levels of :data:`~crmcore.sales.
probability_features.FEATURES` (stage, source, territory, amount band, age in stage,
response time, the customer's grade and lifecycle stage), one coefficient per level,
fitted by maximum a posteriori with Gaussian priors:

* the intercept is drawn towards ``logit(prior)`` with precision ``prior_precision``;
* every level's coefficient is drawn towards 0 with precision ``l2``.

So the fit starts at the stated prior and moves towards the data as closed history
accumulates. Below ``min_closed`` closed opportunities, or fewer than ``min_each`` won
or lost among them (the *cold start*), nothing is learned: every prediction is the
prior itself, with a reason saying so.

Every prediction is additive in log-odds: ``log_odds = base + sum(factor.log_odds)``,
where ``base`` is the log-odds of an opportunity of average levels (each feature's
coefficients averaged over the closed history, weighted by count) and each factor is its
level's coefficient minus the feature's average coefficient (weighted by how often each
level closed). A positive factor raised the probability, a negative one lowered it. A
level never seen in the history contributes 0 (``seen`` is False).

Pure Python, no extra needed. The history is held as counts per distinct level pattern,
so :meth:`WinProbabilityModel.update` adds new closed opportunities and refits from the
previous coefficients (warm start) without revisiting every opportunity; the result is
the fit of all the history (the objective has one maximum). Same input, same output:
the sums run in sorted order, so even shuffled history gives identical coefficients.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.options import Options
from crmcore.sales.probability_features import (
    FEATURES,
    ClosedOpportunity,
    FeatureBands,
    OpportunityFeatures,
)
from crmcore.sales.probability_solver import Pattern, fit_logistic, sigmoid

__all__ = [
    "Factor",
    "Reason",
    "WinProbability",
    "WinProbabilityModel",
    "WinProbabilitySettings",
    "explain",
    "logit",
]


def logit(p: float) -> float:
    """``log(p / (1 - p))``."""
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class WinProbabilitySettings:
    """How the model starts and how strongly it is regularised.

    ``prior`` is the win probability stated for a book without enough history;
    learning starts once ``min_closed`` opportunities have closed with at least
    ``min_each`` won and ``min_each`` lost. ``prior_precision`` ties the intercept to
    ``logit(prior)`` and ``l2`` every level's coefficient to 0 (both in 1/log-odds²;
    larger means more shrinkage). ``bands`` cuts the numeric features.
    """

    prior: float = 0.2
    min_closed: int = 50
    min_each: int = 10
    prior_precision: float = 1.0
    l2: float = 1.0
    bands: FeatureBands = field(default_factory=FeatureBands)

    def __post_init__(self) -> None:
        """Refuse a bad setting, naming it."""
        if isinstance(self.prior, bool) or not (0.0 < self.prior < 1.0):
            raise ValidationError("prior", self.prior, "is not a probability strictly "
                                  "between 0 and 1")
        for name in ("min_closed", "min_each"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(name, value, "is not a whole number >= 0")
        for name in ("prior_precision", "l2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and value > 0):
                raise ValidationError(name, value, "is not a finite number > 0")

    @classmethod
    def from_options(cls, options: Options) -> WinProbabilitySettings:
        """Settings from a configuration table (``[sales.win_probability]``).

        Keys: ``prior``, ``min_closed``, ``min_each``, ``prior_precision``, ``l2``,
        ``amount_bands``, ``days_in_stage_bands``, ``response_hours_bands`` (lists of
        band edges); absent keys keep their defaults, an unknown key is refused.
        """
        options.refuse_unknown(_OPTION_KEYS)
        default = cls()
        edges = {name: options.items(f"{name}_bands")
                 for name in ("amount", "days_in_stage", "response_hours")}
        try:
            bands = FeatureBands(**{
                name: getattr(default.bands, name) if given is None else tuple(given)
                for name, given in edges.items()})
        except ValidationError as error:
            raise options.invalid(ValidationError(
                f"{error.field}_bands", edges[error.field], error.reason)) from None
        try:
            return cls(prior=options.number("prior", default.prior),
                       min_closed=options.integer("min_closed", default.min_closed),
                       min_each=options.integer("min_each", default.min_each),
                       prior_precision=options.number("prior_precision",
                                                      default.prior_precision),
                       l2=options.number("l2", default.l2), bands=bands)
        except ValidationError as error:
            raise options.invalid(error) from None


_OPTION_KEYS = ("prior", "min_closed", "min_each", "prior_precision", "l2", "amount_bands",
                "days_in_stage_bands", "response_hours_bands")


@dataclass(frozen=True)
class Factor:
    """One feature's contribution to a prediction, in log-odds (positive: raised it)."""

    feature: str
    level: str
    log_odds: float
    seen: bool = True

    @property
    def direction(self) -> str:
        """``"raised"``, ``"lowered"`` or ``"neutral"``."""
        if self.log_odds > 0:
            return "raised"
        return "lowered" if self.log_odds < 0 else "neutral"


@dataclass(frozen=True)
class Reason:
    """Why a prediction is what it is: a code and its parameters (rendered by :func:`explain`).

    ``code`` is ``"cold_start"`` (the prior, not enough history) or ``"learned"``.
    """

    code: str
    params: Mapping[str, float | int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class WinProbability:
    """A predicted win probability, the factors behind it and the reason.

    ``log_odds == base_log_odds + sum(f.log_odds for f in factors)``; the factors are
    sorted by their absolute effect, largest first (ties in feature order).
    """

    probability: float
    log_odds: float
    base_log_odds: float
    factors: tuple[Factor, ...]
    reason: Reason


def explain(prediction: WinProbability) -> str:
    """A one-paragraph explanation of ``prediction`` in the current language.

    >>> from crmcore.sales.probability_features import OpportunityFeatures
    >>> from crmcore.sales.win_probability import WinProbabilityModel, explain
    >>> model = WinProbabilityModel.fit([])
    >>> print(explain(model.predict(OpportunityFeatures(stage="proposal"))))
    20% (cold start: 0 closed opportunities, 0 won, 0 lost; learning needs 50 closed \
with at least 10 won and 10 lost, so the stated prior 20% is used)
    """
    params = prediction.reason.params
    head = f"{prediction.probability:.0%} "
    if prediction.reason.code == "cold_start":
        return head + tr(
            "(cold start: {closed} closed opportunities, {won} won, {lost} lost; learning "
            "needs {min_closed} closed with at least {min_each} won and {min_each} lost, so "
            "the stated prior {prior} is used)").format(
            closed=params["closed"], won=params["won"], lost=params["lost"],
            min_closed=params["min_closed"], min_each=params["min_each"],
            prior=f"{params['prior']:.0%}")
    parts = [f"{term(f.feature)}={term(f.level)} {f.log_odds:+.2f}"
             + ("" if f.seen else tr(" (unseen)")) for f in prediction.factors]
    return head + tr("(learned from {closed} closed opportunities; base {base}; log-odds "
                     "factors: {factors})").format(
        closed=params["closed"], base=f"{sigmoid(prediction.base_log_odds):.0%}",
        factors=", ".join(parts))


Levels = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class WinProbabilityModel:
    """The history (counts per level pattern) and, once warm, the fitted coefficients.

    Build one with :meth:`fit`; add history with :meth:`update`. Instances are
    immutable: :meth:`update` returns a new model.
    """

    settings: WinProbabilitySettings
    patterns: Mapping[Levels, tuple[int, int]]
    coefficients: Mapping[tuple[str, str], float]
    intercept: float
    iterations: int = 0

    @classmethod
    def fit(cls, closed: Iterable[ClosedOpportunity],
            settings: WinProbabilitySettings | None = None) -> WinProbabilityModel:
        """Learn from ``closed`` (a full fit, from the prior)."""
        settings = settings or WinProbabilitySettings()
        empty = cls(settings, MappingProxyType({}), MappingProxyType({}), logit(settings.prior))
        return empty.update(closed)

    def update(self, closed: Iterable[ClosedOpportunity]) -> WinProbabilityModel:
        """A model of this history plus ``closed``, refitted from these coefficients."""
        patterns = dict(self.patterns)
        for index, opportunity in enumerate(closed):
            if not isinstance(opportunity, ClosedOpportunity):
                raise ValidationError(f"closed[{index}]", opportunity,
                                      "is not a ClosedOpportunity")
            levels = self.settings.bands.levels(opportunity.features)
            won, total = patterns.get(levels, (0, 0))
            patterns[levels] = (won + int(opportunity.won), total + 1)
        frozen = MappingProxyType(dict(sorted(patterns.items())))
        model = WinProbabilityModel(self.settings, frozen, self.coefficients, self.intercept)
        if model.cold:
            return model
        return model._refit()

    def to_json(self) -> dict[str, Any]:
        """The model as JSON-ready data (settings, history counts, coefficients), so a
        host can store it and :meth:`update` it in a later run (:meth:`from_json`)."""
        bands = self.settings.bands
        return {
            "settings": {"prior": self.settings.prior, "min_closed": self.settings.min_closed,
                         "min_each": self.settings.min_each,
                         "prior_precision": self.settings.prior_precision,
                         "l2": self.settings.l2, "amount_bands": list(bands.amount),
                         "days_in_stage_bands": list(bands.days_in_stage),
                         "response_hours_bands": list(bands.response_hours)},
            "patterns": [[*levels, won, total] for levels, (won, total) in self.patterns.items()],
            "coefficients": [[f, level, value] for (f, level), value in self.coefficients.items()],
            "intercept": self.intercept, "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WinProbabilityModel:
        """The model :meth:`to_json` wrote (same predictions, no refit).

        :raises ValidationError: naming the first part that does not fit.
        """
        try:
            settings = WinProbabilitySettings.from_options(
                Options(data["settings"], "settings"))
            width = len(FEATURES)
            patterns = {tuple(str(v) for v in row[:width]): (int(row[width]), int(row[width + 1]))
                        for row in data["patterns"]}
            coefficients = {(str(f), str(level)): float(value)
                            for f, level, value in data["coefficients"]}
            return cls(settings, MappingProxyType(dict(sorted(patterns.items()))),
                       MappingProxyType(coefficients), float(data["intercept"]),
                       int(data.get("iterations", 0)))
        except (KeyError, TypeError, ValueError, IndexError, ConfigError) as error:
            raise ValidationError("model", type(error).__name__,
                                  tr("is what reading the stored model raised: {error}")
                                  .format(error=error)) from None

    @property
    def closed(self) -> int:
        """How many closed opportunities the model has seen."""
        return sum(total for _, total in self.patterns.values())

    @property
    def won(self) -> int:
        """How many of them were won."""
        return sum(won for won, _ in self.patterns.values())

    @property
    def cold(self) -> bool:
        """True while the history is too short to learn from (the prior is used)."""
        closed, won = self.closed, self.won
        each = self.settings.min_each
        return closed < self.settings.min_closed or won < each or closed - won < each

    def _refit(self) -> WinProbabilityModel:
        keys = sorted({(f, levels[i]) for levels in self.patterns
                       for i, f in enumerate(FEATURES)}, key=_key_order)
        index = {key: i + 1 for i, key in enumerate(keys)}
        rows: list[Pattern] = [
            ((0, *(index[(f, levels[i])] for i, f in enumerate(FEATURES))), won, total)
            for levels, (won, total) in self.patterns.items()]
        settings = self.settings
        mean = [logit(settings.prior)] + [0.0] * len(keys)
        precision = [settings.prior_precision] + [settings.l2] * len(keys)
        start = [self.intercept] + [self.coefficients.get(key, 0.0) for key in keys]
        solution = fit_logistic(rows, mean=mean, precision=precision, start=start)
        coefficients = MappingProxyType(dict(zip(keys, solution.theta[1:], strict=True)))
        return WinProbabilityModel(settings, self.patterns, coefficients, solution.theta[0],
                                   solution.iterations)

    def _level_means(self) -> dict[str, float]:
        weighted: dict[str, list[float]] = {f: [] for f in FEATURES}
        counts: dict[str, int] = dict.fromkeys(FEATURES, 0)
        for levels, (_, total) in self.patterns.items():
            for i, f in enumerate(FEATURES):
                weighted[f].append(total * self.coefficients[(f, levels[i])])
                counts[f] += total
        return {f: math.fsum(weighted[f]) / counts[f] for f in FEATURES}

    def predict(self, features: OpportunityFeatures) -> WinProbability:
        """The win probability of an opportunity with ``features``, with its factors."""
        return self.predict_many([features])[0]

    def predict_many(self, features: Sequence[OpportunityFeatures]) -> list[WinProbability]:
        """:meth:`predict` for each of ``features`` (the shared work done once)."""
        for index, item in enumerate(features):
            if not isinstance(item, OpportunityFeatures):
                raise ValidationError(f"features[{index}]", item, "is not OpportunityFeatures")
        settings = self.settings
        closed, won = self.closed, self.won
        if self.cold:
            reason = Reason("cold_start", MappingProxyType({
                "closed": closed, "won": won, "lost": closed - won, "prior": settings.prior,
                "min_closed": settings.min_closed, "min_each": settings.min_each}))
            prior = logit(settings.prior)
            return [WinProbability(settings.prior, prior, prior, (), reason) for _ in features]
        means = self._level_means()
        base = self.intercept + math.fsum(means.values())
        reason = Reason("learned", MappingProxyType({"closed": closed, "won": won,
                                                     "lost": closed - won}))
        return [self._prediction(settings.bands.levels(item), means, base, reason)
                for item in features]

    def _prediction(self, levels: Levels, means: Mapping[str, float], base: float,
                    reason: Reason) -> WinProbability:
        factors = []
        for i, feature in enumerate(FEATURES):
            coefficient = self.coefficients.get((feature, levels[i]))
            seen = coefficient is not None
            effect = coefficient - means[feature] if coefficient is not None else 0.0
            factors.append(Factor(feature, levels[i], effect, seen))
        log_odds = base + math.fsum(f.log_odds for f in factors)
        ordered = tuple(sorted(factors, key=lambda f: -abs(f.log_odds)))
        return WinProbability(sigmoid(log_odds), log_odds, base, ordered, reason)


def _key_order(key: tuple[str, str]) -> tuple[int, str]:
    return FEATURES.index(key[0]), key[1]
