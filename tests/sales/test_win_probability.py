"""M1 win probability: learned from closed history, explained, safe on a cold start."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ConfigError, ValidationError
from crmcore.options import Options
from crmcore.sales.evaluation_book import generate_book
from crmcore.sales.probability_features import (
    FEATURES,
    ClosedOpportunity,
    FeatureBands,
    OpportunityFeatures,
)
from crmcore.sales.win_probability import (
    WinProbabilityModel,
    WinProbabilitySettings,
    explain,
    logit,
)

BOOK = [o.closed for o in generate_book(600, seed=3).opportunities]


def _closed(number: int, won: bool, stage: str = "proposal") -> ClosedOpportunity:
    return ClosedOpportunity(f"o{number}", OpportunityFeatures(stage=stage), won,
                             date(2025, 1, 1))


def test_m1_cold_start_returns_the_stated_prior_with_a_reason_saying_so() -> None:
    settings = WinProbabilitySettings(prior=0.3)
    model = WinProbabilityModel.fit(BOOK[:20], settings)
    prediction = model.predict(BOOK[0].features)
    assert model.cold
    assert prediction.probability == 0.3
    assert prediction.factors == ()
    assert prediction.reason.code == "cold_start"
    assert prediction.reason.params["closed"] == 20
    text = explain(prediction)
    assert "cold start" in text
    assert "stated prior 30%" in text
    assert "needs 50 closed" in text


def test_m1_learning_starts_at_the_stated_threshold() -> None:
    settings = WinProbabilitySettings(min_closed=12, min_each=3)
    below = [_closed(i, i % 2 == 0) for i in range(11)]
    assert WinProbabilityModel.fit(below, settings).cold
    at = WinProbabilityModel.fit([*below, _closed(11, False)], settings)
    assert not at.cold
    assert at.predict(OpportunityFeatures(stage="proposal")).reason.code == "learned"
    one_sided = [_closed(i, i < 2) for i in range(40)]  # 2 won: fewer than min_each
    assert WinProbabilityModel.fit(one_sided, settings).cold


def test_m1_factors_add_up_to_the_log_odds_and_name_every_feature() -> None:
    model = WinProbabilityModel.fit(BOOK)
    for opportunity in BOOK[:50]:
        prediction = model.predict(opportunity.features)
        assert {f.feature for f in prediction.factors} == set(FEATURES)
        total = prediction.base_log_odds + math.fsum(f.log_odds for f in prediction.factors)
        assert total == pytest.approx(prediction.log_odds, abs=1e-12)
        assert prediction.probability == pytest.approx(1 / (1 + math.exp(-total)))
        sizes = [abs(f.log_odds) for f in prediction.factors]
        assert sizes == sorted(sizes, reverse=True)


def test_m1_a_winning_stage_raises_and_a_losing_one_lowers() -> None:
    history = ([_closed(i, i % 10 != 0, "negotiation") for i in range(60)]
               + [_closed(100 + i, i % 10 == 0, "qualification") for i in range(60)])
    model = WinProbabilityModel.fit(history)
    late = model.predict(OpportunityFeatures(stage="negotiation"))
    early = model.predict(OpportunityFeatures(stage="qualification"))
    stage = {p: next(f for f in p.factors if f.feature == "stage") for p in (late, early)}
    assert stage[late].direction == "raised"
    assert stage[early].direction == "lowered"
    assert late.probability > 0.7 > 0.3 > early.probability
    assert "stage=negotiation +" in explain(late)


def test_m1_a_level_never_seen_contributes_nothing() -> None:
    model = WinProbabilityModel.fit(BOOK)
    seen = BOOK[0].features
    unseen = replace(seen, territory="atlantis")
    factor = next(f for f in model.predict(unseen).factors if f.feature == "territory")
    assert factor.seen is False
    assert factor.log_odds == 0.0
    assert "(unseen)" in explain(model.predict(unseen))


def test_m1_the_fit_moves_from_the_prior_towards_the_data() -> None:
    settings = WinProbabilitySettings(prior=0.1, min_closed=10, min_each=2)
    observed = 0.6

    def average(size: int) -> float:
        history = [_closed(i, i % 5 < 3) for i in range(size)]  # 60 % won
        model = WinProbabilityModel.fit(history, settings)
        return model.predict(OpportunityFeatures(stage="proposal")).probability

    small, large = average(10), average(1000)
    assert 0.1 < small < large < observed
    assert large == pytest.approx(observed, abs=0.01)


def test_m1_same_input_gives_identical_output_in_any_order() -> None:
    shuffled = list(BOOK)
    random.Random(7).shuffle(shuffled)
    first, again, other_order = (WinProbabilityModel.fit(h) for h in (BOOK, BOOK, shuffled))
    features = [o.features for o in BOOK[:100]]
    expected = first.predict_many(features)
    assert again.predict_many(features) == expected
    assert other_order.predict_many(features) == expected


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=3))
def test_m1_incremental_refit_equals_a_full_refit(split: int, seed: int) -> None:
    history = BOOK[:300]
    random.Random(seed).shuffle(history)
    full = WinProbabilityModel.fit(history)
    incremental = WinProbabilityModel.fit(history[:split]).update(history[split:])
    assert incremental.closed == full.closed
    assert incremental.coefficients.keys() == full.coefficients.keys()
    for key, value in full.coefficients.items():
        assert incremental.coefficients[key] == pytest.approx(value, abs=1e-7)
    features = [o.features for o in BOOK[:40]]
    for a, b in zip(incremental.predict_many(features), full.predict_many(features),
                    strict=True):
        assert a.probability == pytest.approx(b.probability, abs=1e-9)


def test_m1_bands_cut_numbers_and_name_missing_values_unknown() -> None:
    bands = FeatureBands(amount=(100.0,), days_in_stage=(1.0, 2.0), response_hours=(5.0,))
    levels = bands.levels(OpportunityFeatures(stage="s", amount=100, days_in_stage=1.5))
    assert levels == ("s", "unknown", "unknown", ">=100", "1-2", "unknown", "unknown",
                      "unknown")


@pytest.mark.parametrize(("build", "field"), [
    (lambda: WinProbabilitySettings(prior=1.0), "prior"),
    (lambda: WinProbabilitySettings(min_closed=-1), "min_closed"),
    (lambda: WinProbabilitySettings(l2=0.0), "l2"),
    (lambda: FeatureBands(amount=(10.0, 5.0)), "amount"),
    (lambda: OpportunityFeatures(stage=""), "stage"),
    (lambda: OpportunityFeatures(stage="s", amount=-1), "amount"),
    (lambda: OpportunityFeatures(stage="s", response_hours=math.nan), "response_hours"),
    (lambda: ClosedOpportunity("x", OpportunityFeatures(stage="s"), 1,  # type: ignore[arg-type]
                               date(2025, 1, 1)), "won"),
    (lambda: WinProbabilityModel.fit(["nope"]), "closed[0]"),  # type: ignore[list-item]
])
def test_m1_bad_input_names_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_m1_update_leaves_the_original_model_untouched() -> None:
    model = WinProbabilityModel.fit(BOOK[:300])
    before = model.predict(BOOK[0].features)
    model.update(BOOK[300:])
    assert model.closed == 300
    assert model.predict(BOOK[0].features) == before
    assert logit(0.5) == 0.0


def test_m1_settings_come_from_the_configuration_table() -> None:
    table = Options({"prior": 0.35, "min_closed": 20, "amount_bands": [500, 5000]},
                    "sales.win_probability")
    settings = WinProbabilitySettings.from_options(table)
    assert (settings.prior, settings.min_closed, settings.min_each) == (0.35, 20, 10)
    assert settings.bands.amount == (500.0, 5000.0)
    assert settings.bands.days_in_stage == FeatureBands().days_in_stage


@pytest.mark.parametrize(("values", "message"), [
    ({"priors": 0.3}, "sales.win_probability.priors: is not a known option"),
    ({"prior": 1.5}, "sales.win_probability.prior: 1.5 is not a probability"),
    ({"min_each": "ten"}, "sales.win_probability.min_each"),
    ({"amount_bands": ["a"]}, "win_probability.amount_bands: ['a'] is not a list of numbers"),
    ({"amount_bands": [5, 1]}, "win_probability.amount_bands: [5, 1] is not a non-empty"),
    ({"response_hours_bands": 4}, "win_probability.response_hours_bands: 4 is not a list"),
])
def test_m1_bad_settings_name_the_configuration_key(values: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        WinProbabilitySettings.from_options(Options(values, "sales.win_probability"))


def test_m1_a_stored_model_predicts_the_same_and_updates_like_the_original() -> None:
    model = WinProbabilityModel.fit(BOOK[:400], WinProbabilitySettings(prior=0.3))
    stored = json.loads(json.dumps(model.to_json()))
    again = WinProbabilityModel.from_json(stored)
    features = [o.features for o in BOOK[:50]]
    assert again.predict_many(features) == model.predict_many(features)
    assert again.settings == model.settings
    assert (again.update(BOOK[400:]).predict_many(features)
            == model.update(BOOK[400:]).predict_many(features))
    with pytest.raises(ValidationError, match="model: 'KeyError'"):
        WinProbabilityModel.from_json({"settings": {}})
