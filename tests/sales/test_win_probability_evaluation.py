"""M1 win probability measured honestly: scores, the naive Bayes baseline, a known truth."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.sales.evaluation import auc, brier_score, calibration_error, reliability_curve
from crmcore.sales.evaluation_book import compare_on_book, generate_book
from crmcore.sales.naive_bayes_baseline import SMOOTHING, NaiveBayesBaseline
from crmcore.sales.probability_features import ClosedOpportunity, OpportunityFeatures


def _reference_auc(probabilities: list[float], outcomes: list[bool]) -> float:
    """Every (won, lost) pair: 1 when the won one is ranked higher, 1/2 on a tie."""
    won = [p for p, y in zip(probabilities, outcomes, strict=True) if y]
    lost = [p for p, y in zip(probabilities, outcomes, strict=True) if not y]
    pairs = sum(1.0 if w > v else 0.5 if w == v else 0.0 for w in won for v in lost)
    return pairs / (len(won) * len(lost))


scores = st.lists(st.tuples(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
                            | st.floats(min_value=0, max_value=1), st.booleans()),
                  min_size=2, max_size=60).filter(
    lambda rows: 0 < sum(y for _, y in rows) < len(rows))


@given(scores)
def test_m1_auc_equals_the_pairwise_reference(rows: list[tuple[float, bool]]) -> None:
    probabilities = [p for p, _ in rows]
    outcomes = [y for _, y in rows]
    assert auc(probabilities, outcomes) == pytest.approx(
        _reference_auc(probabilities, outcomes), abs=1e-12)


@given(scores, st.integers(min_value=1, max_value=12))
def test_m1_reliability_bins_hold_every_prediction_once(rows: list[tuple[float, bool]],
                                                        bins: int) -> None:
    probabilities = [p for p, _ in rows]
    outcomes = [y for _, y in rows]
    curve = reliability_curve(probabilities, outcomes, bins)
    assert sum(b.count for b in curve) == len(rows)
    for b in curve:
        assert b.low <= b.mean_predicted <= b.high
    overall = sum(b.count * (b.mean_predicted - b.observed) for b in curve) / len(rows)
    mean_gap = (sum(probabilities) - sum(outcomes)) / len(rows)
    assert overall == pytest.approx(mean_gap, abs=1e-9)
    assert calibration_error(probabilities, outcomes, bins) >= abs(mean_gap) - 1e-9


def test_m1_brier_score_is_the_mean_squared_error() -> None:
    assert brier_score([1.0, 0.0, 0.5], [True, True, False]) == pytest.approx(
        (0 + 1 + 0.25) / 3)


def test_m1_scores_refuse_bad_input_naming_it() -> None:
    with pytest.raises(ValidationError, match="probabilities\\[1\\]"):
        brier_score([0.5, 1.5], [True, False])
    with pytest.raises(ValidationError, match="at least one win and one loss"):
        auc([0.2, 0.3], [True, True])
    with pytest.raises(ValidationError, match="outcomes"):
        brier_score([0.5], [True, False])


def test_m1_naive_bayes_baseline_is_odoos_frequency_product() -> None:
    def closed(i: int, stage: str, source: str | None, won: bool) -> ClosedOpportunity:
        return ClosedOpportunity(str(i), OpportunityFeatures(stage=stage, source=source), won,
                                 date(2025, 1, 1))

    history = [closed(0, "a", "web", True), closed(1, "a", "fair", False),
               closed(2, "b", "web", False), closed(3, "b", None, False)]
    baseline = NaiveBayesBaseline.fit(history)
    won = 1 * ((1 + SMOOTHING) / 1) * ((1 + SMOOTHING) / 1)  # stage a, source web
    lost = 3 * ((1 + SMOOTHING) / 3) * ((1 + SMOOTHING) / 3)
    # the other features are all "unknown" or banded "unknown": left out, as in Odoo
    assert baseline.predict(OpportunityFeatures(stage="a", source="web")) == pytest.approx(
        won / (won + lost))
    unseen = baseline.predict(OpportunityFeatures(stage="zzz"))  # only the base rate is left
    assert unseen == pytest.approx(0.25)


def test_m1_on_a_known_truth_book_calibration_beats_the_naive_bayes_baseline() -> None:
    """Held-out later period of a generated book with a known true probability each."""
    comparison = compare_on_book(generate_book(2000, seed=15))
    model = comparison.score("win probability")
    naive = comparison.score("naive Bayes")
    truth = comparison.score("known truth")
    assert comparison.fitted_on + comparison.scored_on == 2000
    assert comparison.scored_on >= 400
    assert model.brier < naive.brier
    assert model.calibration_error < naive.calibration_error
    # the known truth is the floor: no model can be much better than it on Brier
    assert truth.brier <= model.brier + 0.01
    assert all(math.isfinite(s.auc) and 0.5 < s.auc < 1 for s in comparison.scores)


def test_m1_the_known_truth_book_is_reproducible_and_split_by_time() -> None:
    book = generate_book(300, seed=4)
    assert book == generate_book(300, seed=4)
    earlier, later = book.split()
    assert max(o.closed.closed_on for o in earlier) < book.cutoff
    assert min(o.closed.closed_on for o in later) >= book.cutoff


def test_m1_the_demo_book_gives_its_closed_opportunities_their_known_win_rates() -> None:
    from crmcore.demo.sales import WIN_RATES
    from crmcore.sales.evaluation_demo import demo_truth_book

    book = demo_truth_book(seed=7, customers=150)
    earlier, later = book.split()
    assert earlier
    assert later
    for item in book.opportunities:
        assert item.true_probability == WIN_RATES[item.closed.features.source or ""]
        assert item.closed.features.amount is None  # several currencies: left out
