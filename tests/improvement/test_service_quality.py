"""P5: the service-quality survey template and the importance/performance ranking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM
from crmcore.cli import main
from crmcore.errors import ValidationError
from crmcore.improvement.service_quality import (
    SERVICE_QUALITY,
    Dimension,
    Quadrant,
    SurveyItem,
    SurveyTemplate,
    importance_performance,
)
from crmcore.model import Customer, SurveyResponse

AT = datetime(2026, 5, 4, tzinfo=UTC)
FOUR = SurveyTemplate("four", [SurveyItem(key, Dimension.RELIABILITY, key, key)
                               for key in ("a", "b", "c", "d")])


def _response(number: int, ratings: dict[str, tuple[int | None, int | None]],
              template: SurveyTemplate = FOUR) -> SurveyResponse:
    answers: dict[str, int | str] = {}
    for key, (importance, performance) in ratings.items():
        if importance is not None:
            answers[template.importance_key(key)] = importance
        if performance is not None:
            answers[template.performance_key(key)] = performance
    return SurveyResponse(id=f"R{number}", customer_id=f"C{number % 3}", survey=template.survey,
                          answered_at=AT + timedelta(hours=number), answers=answers)


def test_p5_template_covers_the_five_handbook_dimensions() -> None:
    assert SERVICE_QUALITY.dimensions() == tuple(Dimension)
    assert [d.label_zh for d in Dimension] == ["可靠性", "有形度", "响应度", "同理度", "专业度"]
    for dimension in Dimension:
        assert sum(i.dimension is dimension for i in SERVICE_QUALITY.items) >= 3
    form = SERVICE_QUALITY.as_dict()
    assert form["scale"] == [1, 5]
    keys = [k for i in form["items"] for k in (i["importance"], i["performance"])]
    assert len(set(keys)) == len(keys) == 2 * len(SERVICE_QUALITY.items)


def test_p5_a_template_with_a_repeated_item_or_a_bad_scale_is_refused() -> None:
    item = SurveyItem("a", Dimension.EMPATHY, "x", "x")
    with pytest.raises(ValidationError, match=r"items\[1\].key: 'a' is listed twice"):
        SurveyTemplate("s", [item, item])
    with pytest.raises(ValidationError, match="high: 3 must be above low"):
        SurveyTemplate("s", [item], low=3, high=3)
    with pytest.raises(ValidationError, match="items: .* is empty"):
        SurveyTemplate("s", [])


def test_p5_items_fall_in_the_four_quadrants_and_rank_for_action() -> None:
    # item: (importance, performance); means 4.5/2 (a), 4.5/4.5 (b), 2/2 (c), 2/4.5 (d)
    responses = [_response(1, {"a": (5, 2), "b": (4, 5), "c": (2, 2), "d": (2, 4)}),
                 _response(2, {"a": (4, 2), "b": (5, 4), "c": (2, 2), "d": (2, 5)}),
                 _response(3, {"a": (None, 3)}, template=SurveyTemplate("other", FOUR.items))]
    analysis = importance_performance(responses, FOUR)
    assert analysis.responses == 2
    assert analysis.crosshair == (3.25, 3.25)
    assert {s.item.key: s.quadrant for s in analysis.items} == {
        "a": Quadrant.CONCENTRATE_HERE, "b": Quadrant.KEEP_UP, "c": Quadrant.LOW_PRIORITY,
        "d": Quadrant.POSSIBLE_OVERKILL}
    assert [s.item.key for s in analysis.priorities] == ["a", "b", "c", "d"]
    by_key = {s.item.key: s for s in analysis.items}
    assert (by_key["a"].importance_rank, by_key["b"].importance_rank) == (1, 1)
    assert (by_key["c"].importance_rank, by_key["d"].importance_rank) == (3, 3)
    assert by_key["a"].gap == 2.5
    assert by_key["a"].small_sample
    assert analysis.dimensions[0].importance == 3.25


def test_p5_scale_crosshair_and_items_rated_on_one_side_only() -> None:
    responses = [_response(1, {"a": (4, 4), "b": (4, None), "c": (5, 5)})]
    analysis = importance_performance(responses, FOUR, crosshair="scale")
    assert analysis.crosshair == (3.0, 3.0)
    assert [s.item.key for s in analysis.items] == ["a", "c"]
    assert {s.quadrant for s in analysis.items} == {Quadrant.KEEP_UP}


def test_p5_a_rating_off_the_scale_is_refused_naming_response_and_answer() -> None:
    with pytest.raises(ValidationError, match=r"survey_response\['R7'\]\.answers\."
                                              r"performance_b: 6 is not a rating from 1 to 5"):
        importance_performance([_response(7, {"b": (3, 6)})], FOUR)
    with pytest.raises(ValidationError, match="rate no item of survey 'four'"):
        importance_performance([_response(1, {"a": (3, None)})], FOUR)
    with pytest.raises(ValidationError, match="crosshair"):
        importance_performance([], FOUR, crosshair="median")  # type: ignore[arg-type]


_RATING = st.none() | st.integers(1, 5)


@given(st.lists(st.dictionaries(st.sampled_from("abcd"), st.tuples(_RATING, _RATING)),
                min_size=1, max_size=12),
       st.sampled_from(["mean", "scale"]))
def test_p5_ranking_equals_a_plain_reference(
        rows: list[dict[str, tuple[int | None, int | None]]], crosshair: str) -> None:
    responses = [_response(i, row) for i, row in enumerate(rows)]
    means = {}
    for key in "abcd":
        imp = [row[key][0] for row in rows if key in row and row[key][0] is not None]
        perf = [row[key][1] for row in rows if key in row and row[key][1] is not None]
        if imp and perf:
            means[key] = (sum(imp) / len(imp), sum(perf) / len(perf))
    if not means:
        with pytest.raises(ValidationError):
            importance_performance(responses, FOUR)
        return
    analysis = importance_performance(responses, FOUR, crosshair=crosshair)  # type: ignore[arg-type]
    cross = ((sum(m[0] for m in means.values()) / len(means),
              sum(m[1] for m in means.values()) / len(means)) if crosshair == "mean"
             else (3.0, 3.0))
    assert analysis.crosshair == pytest.approx(cross)
    for score in analysis.items:
        imp, perf = means[score.item.key]
        assert (score.importance, score.performance) == pytest.approx((imp, perf))
        high_imp, high_perf = imp >= cross[0] - 1e-9, perf >= cross[1] - 1e-9
        expected = {(True, False): Quadrant.CONCENTRATE_HERE, (True, True): Quadrant.KEEP_UP,
                    (False, False): Quadrant.LOW_PRIORITY,
                    (False, True): Quadrant.POSSIBLE_OVERKILL}[(high_imp, high_perf)]
        if abs(imp - cross[0]) > 1e-9 and abs(perf - cross[1]) > 1e-9:
            assert score.quadrant is expected
        assert score.importance_rank == 1 + sum(m[0] > imp for m in means.values())
        assert score.performance_rank == 1 + sum(m[1] > perf for m in means.values())
    order = [s.quadrant for s in analysis.priorities]
    assert order == sorted(order, key=list(Quadrant).index)


def test_p5_survey_commands_print_the_form_and_the_ranking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survey", "template", "--format", "json"]) == 0
    form = json.loads(capsys.readouterr().out)
    assert {i["dimension_zh"] for i in form["items"]} == {"可靠性", "有形度", "响应度", "同理度",
                                                          "专业度"}
    db = tmp_path / "crm.db"
    late, good = SERVICE_QUALITY.items[0].key, SERVICE_QUALITY.items[3].key
    with CRM.open("sqlite", path=str(db)) as crm:
        crm.record_many([Customer(id=f"C{i}", name=f"c{i}") for i in range(3)])
        crm.record_many([_response(i, {late: (5, 2), good: (3, 5)}, SERVICE_QUALITY)
                         for i in range(6)])
    assert main(["survey", "ipa", "--db", str(db), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["responses"] == 6
    assert [(i["item"], i["quadrant"]) for i in shown["items"]] == [
        (late, "concentrate_here"), (good, "possible_overkill")]
    assert main(["survey", "ipa", "--db", str(db), "--from", "2026-06-01"]) == 1
    assert "rate no item" in capsys.readouterr().err
    assert main(["survey", "ipa", "--db", str(db)]) == 0
    assert "concentrate_here" in capsys.readouterr().out
