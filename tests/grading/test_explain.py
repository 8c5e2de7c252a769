"""Explanations are data: bulk rendering equals rendering one customer at a time, and a
stored explanation (code and parameters) reads back to the same words."""

from __future__ import annotations

import math
from unittest import mock

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.grading import Explanation, grade_metrics, load_scheme, ranked
from crmcore.grading.conditions import float_text
from crmcore.grading.number_texts import float_texts
from crmcore.grading.ranked import RankExplainer
from crmcore.grading.results import SummaryColumns, explanation_data
from crmcore.i18n import language
from crmcore.serialization import dump_json, structure, unstructure

from .helpers import table

VALUES = st.lists(st.one_of(st.sampled_from([0.0, -3.0, math.nan, 12.5, 1e6]),
                            st.floats(-10, 1e7, allow_nan=False)), min_size=1, max_size=40)


@given(VALUES, st.sampled_from(["pareto-abc", "pareto-abc-value-share", "pyramid"]),
       st.booleans())
def test_bulk_texts_equal_one_by_one(values: list[float], name: str, fast: bool) -> None:
    graded = grade_metrics(load_scheme(name), table(values), fast=fast)
    explainer = graded.explainer
    positions = list(range(len(values)))
    one_by_one = [explainer.explain(p) for p in positions]
    assert list(explainer.texts(positions)) == [e.decided_by for e in one_by_one]
    for summary, e in zip(explainer.summaries(positions), one_by_one, strict=True):
        assert (summary.rank, summary.population, summary.cutoff, dict(summary.metrics),
                summary.text) == (e.rank, e.population, e.cutoff, e.metrics, e.decided_by)
    for e in one_by_one[:5]:
        assert structure(unstructure(e), Explanation).decided_by == e.decided_by


def test_explanations_are_codes_and_parameters() -> None:
    graded = grade_metrics(load_scheme("pareto-abc"), table([float(v) for v in range(1, 41)]))
    best = graded.explain("C39")
    assert best.code == "rank.count"
    assert best.params["rank"] == 1
    assert best.params["grade"] == "A"
    assert best.as_dict()["decided_by"] == best.decided_by
    assert best.decided_by.startswith("rank 1 of 40 by revenue = 40; A: ranks 1-2")


@given(VALUES.flatmap(lambda values: st.tuples(
    st.just(values), st.permutations(range(len(values))).flatmap(
        lambda order: st.lists(st.sampled_from(order), max_size=len(order) + 3)))),
       st.sampled_from(["pareto-abc", "pareto-abc-value-share", "pyramid"]), st.booleans())
def test_summary_columns_equal_the_summaries_one_by_one(
        chosen: tuple[list[float], list[int]], name: str, fast: bool) -> None:
    """The bulk columns (CSV output) equal :meth:`SummaryColumns.of` the per-customer summaries,
    for any positions in any order, repeated ones and non-finite metrics included."""
    values, positions = chosen
    explainer = grade_metrics(load_scheme(name), table(values), fast=fast).explainer
    assert explainer.summary_columns(positions) == SummaryColumns.of(
        explainer.summaries(positions))


@given(VALUES, st.sampled_from(["pareto-abc", "pareto-abc-value-share", "pyramid"]))
def test_explanation_data_is_the_stored_shape(values: list[float], name: str) -> None:
    """The fast explanation body of stored first grades equals ``attrs.asdict`` (as JSON, so
    NaN metrics compare)."""
    explainer = grade_metrics(load_scheme(name), table(values)).explainer
    for position in range(len(values)):
        explanation = explainer.explain(position)
        assert dump_json(explanation_data(explanation)) == dump_json(attrs.asdict(explanation))


@given(st.lists(st.one_of(st.floats(), st.sampled_from(
    [0.0, -0.0, 0.5, -0.99, 1.0, 999.999, -1234.5, 1e15, -1e15, 1e15 - 0.5, 2.0**53, 1e300])),
    max_size=30), st.sampled_from(["", " = ", "{x} "]))
def test_float_texts_equal_float_text_one_by_one(values: list[float], prefix: str) -> None:
    np = pytest.importorskip("numpy")
    assert float_texts(np.asarray(values, dtype=np.float64), prefix) == [
        prefix + float_text(v) for v in values]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@given(VALUES.flatmap(lambda values: st.tuples(st.just(values), st.lists(
    st.integers(0, len(values) - 1), max_size=len(values) + 3))),
       st.sampled_from(["pareto-abc", "pyramid"]))
def test_column_texts_equal_the_reference_loop(
        lang: str, chosen: tuple[list[float], list[int]], name: str) -> None:
    """numpy's column rendering of rank sentences equals the loop over customers (English
    f-string and translated template), in chunks of 3 customers."""
    values, positions = chosen
    explainer = grade_metrics(load_scheme(name), table(values), fast=True).explainer
    assert isinstance(explainer, RankExplainer)
    with language(lang), mock.patch.object(ranked, "TEXT_CHUNK", 3):
        assert list(explainer.texts(positions)) == list(explainer._texts_one_by_one(positions))
