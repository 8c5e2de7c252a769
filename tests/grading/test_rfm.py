"""RFM scores by quintile with an order-free tie rule, and exclusive named segments."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.grading import MetricTable, grade_metrics, load_scheme, rfm_scores
from crmcore.grading.rfm import RfmRules

from .helpers import AS_OF

SEGMENTS = ("Champions", "Loyal", "Potential loyalists", "New", "Promising", "Need attention",
            "About to sleep", "At risk", "Can't lose", "Hibernating")


def metrics_of(recency: list[float], frequency: list[float], revenue: list[float],
               ids: list[str] | None = None) -> MetricTable:
    names = tuple(ids or [f"C{i}" for i in range(len(recency))])
    return MetricTable(names, {"recency_days": recency, "frequency": frequency,
                               "revenue": revenue}, AS_OF)


@pytest.mark.parametrize("fast", [False, True])
def test_rfm_scores_are_quintiles(fast: bool) -> None:
    n = 10
    metrics = metrics_of([float(d) for d in range(1, n + 1)], [float(n - i) for i in range(n)],
                         [float(100 * (i + 1)) for i in range(n)])
    scores = rfm_scores(metrics, fast=fast)
    assert [int(s) for s in scores.r] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert [int(s) for s in scores.f] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert [int(s) for s in scores.m] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rfm_never_bought_scores_lowest() -> None:
    metrics = metrics_of([math.nan, 3.0, 4.0, 5.0, 6.0], [0.0, 1.0, 2.0, 3.0, 4.0],
                         [0.0, 1.0, 2.0, 3.0, 4.0])
    scores = rfm_scores(metrics)
    assert (int(scores.r[0]), int(scores.f[0]), int(scores.m[0])) == (1, 1, 1)


@given(data=st.data(), n=st.integers(1, 60))
def test_rfm_tie_rule_ignores_input_order_and_ids(data: st.DataObject, n: int) -> None:
    values = st.lists(st.integers(0, 6).map(float), min_size=n, max_size=n)
    recency, frequency, revenue = data.draw(values), data.draw(values), data.draw(values)
    order = data.draw(st.permutations(range(n)))
    scheme = load_scheme("rfm")
    before = grade_metrics(scheme, metrics_of(recency, frequency, revenue))
    renamed = [f"X{order[i]:03d}" for i in range(n)]  # ids no longer follow the rows
    after = grade_metrics(scheme, metrics_of([recency[i] for i in order],
                                             [frequency[i] for i in order],
                                             [revenue[i] for i in order],
                                             [renamed[i] for i in order]))
    for position, i in enumerate(order):
        assert after.grade_list[position] == before.grade_list[i]
        assert after.explainer(position).scores == before.explainer(i).scores


def test_rfm_segments_are_named_reachable_exclusive_with_a_catch_all() -> None:
    scheme = load_scheme("rfm")
    assert set(scheme.grade_names) == set(SEGMENTS)
    rules = scheme.rules
    assert isinstance(rules, RfmRules)
    table = rules.segment_table()
    assert len(table) == 125  # every (r, f, m) lands in exactly one segment
    reached = {rules.segments[index].grade for index in table}
    assert reached == set(SEGMENTS)
    assert rules.segments[-1].grade == "Hibernating"
    assert rules.segments[-1].condition.describe() == "otherwise"


def test_rfm_explanation_shows_scores_ranks_and_rule() -> None:
    graded = grade_metrics(load_scheme("rfm"), metrics_of(
        [1.0, 50.0, 300.0, 20.0, 90.0], [9.0, 2.0, 1.0, 5.0, 1.0],
        [900.0, 80.0, 10.0, 500.0, 40.0]))
    assert graded.grade_of("C0") == "Champions"
    explanation = graded.explain("C0")
    assert explanation.scores == {"r": 5, "f": 5, "m": 5}
    assert "rank 1" in explanation.decided_by
    assert "rule 1 (Champions" in explanation.decided_by
    assert explanation.metrics == {"recency_days": 1.0, "frequency": 9.0, "revenue": 900.0}


def test_rfm_segments_may_read_only_scores() -> None:
    with pytest.raises(ConfigError, match=r"'revenue' is not one of r, f, m, fm"):
        load_scheme("rfm", overrides={"rules": {"segments": [
            {"grade": "Rich", "when": {"metric": "revenue", "op": ">", "value": 1}},
            {"grade": "Rest", "otherwise": True}]}})


@given(recency=st.lists(st.integers(0, 400).map(float) | st.just(math.nan), min_size=1,
                        max_size=80), data=st.data())
def test_fast_rfm_equals_the_reference(recency: list[float], data: st.DataObject) -> None:
    n = len(recency)
    numbers = st.lists(st.integers(0, 9).map(float), min_size=n, max_size=n)
    metrics = metrics_of(recency, data.draw(numbers), data.draw(numbers))
    fast = grade_metrics(load_scheme("rfm"), metrics, fast=True)
    plain = grade_metrics(load_scheme("rfm"), metrics, fast=False)
    assert fast.grade_list == plain.grade_list
