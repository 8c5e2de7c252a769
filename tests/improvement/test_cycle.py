"""The records of a PDCA cycle (P1-P4) and the pure changes to them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crmcore.errors import ValidationError
from crmcore.improvement import (
    Cause,
    CheckResult,
    Countermeasure,
    CountermeasureStatus,
    Cycle,
    KeyFactor,
    MeasureValue,
    Problem,
    Target,
    Verdict,
    carry_over,
    judge,
    parse_period,
    record_act,
    record_results,
    revise_plan,
    settle,
)
from crmcore.improvement.measures import mean, proportion

T0 = datetime(2026, 4, 1, tzinfo=UTC)
Q1 = parse_period("2026-Q1")
Q2 = parse_period("2026-Q2")


def _rate(successes: int, n: int, period: str = "2026-Q1") -> MeasureValue:
    return proportion("complaint_rate", parse_period(period), successes, n)


def _cycle() -> Cycle:
    cycle = Cycle(id="PDCA-001", title="complaints", opened_at=T0, opened_by="ann",
                  baseline_period=Q1)
    return revise_plan(
        cycle, problems=[Problem("complaints", "too many complaints"),
                         Problem("csat", "satisfaction low")],
        baselines=[_rate(30, 100), mean("csat", Q1, [3, 4] * 20)],
        causes=[Cause("late", "late delivery", 18, "complaints")],
        key_factors=[KeyFactor("late")],
        countermeasures=[Countermeasure("cm-1", "call ahead", "li", date(2026, 5, 1), "late")],
        targets=[Target("complaint_rate", 0.15, "complaints"), Target("csat", 4.0, "csat")])


def test_p1_plan_lists_what_it_lacks_before_do() -> None:
    empty = Cycle(id="X", title="t", opened_at=T0, opened_by="ann", baseline_period=Q1)
    assert "a problem (none yet)" in empty.plan.missing()
    assert _cycle().plan.missing() == []
    partial = revise_plan(empty, problems=[Problem("p", "a problem")],
                          targets=[Target("nps", 30, "p")])
    assert "a baseline of 'nps'" in partial.plan.missing()


def test_p1_plan_references_must_resolve() -> None:
    cycle = _cycle()
    with pytest.raises(ValidationError, match="is not one of the causes"):
        revise_plan(cycle, key_factors=[KeyFactor("unknown")])
    with pytest.raises(ValidationError, match="is not one of the key factors"):
        revise_plan(cycle, countermeasures=[Countermeasure("cm-2", "x", "li", date(2026, 5, 1),
                                                           "unknown")])
    with pytest.raises(ValidationError, match="is not one of the problems"):
        revise_plan(cycle, targets=[Target("nps", 30, "nobody")])
    with pytest.raises(ValidationError, match="is not a measure"):
        Target("happiness", 1.0, "complaints")


def test_p1_revising_replaces_items_with_the_same_key() -> None:
    cycle = revise_plan(_cycle(), targets=[Target("complaint_rate", 0.2, "complaints")],
                        causes=[Cause("late", "late deliveries", 19)])
    assert [t.goal for t in cycle.plan.targets if t.measure == "complaint_rate"] == [0.2]
    assert [c.count for c in cycle.plan.causes] == [19]


def test_p2_a_countermeasure_is_settled_when_done_or_dropped_with_a_reason() -> None:
    cycle = _cycle()
    assert [c.key for c in cycle.unsettled()] == ["cm-1"]
    with pytest.raises(ValidationError, match="reason for dropping"):
        settle(cycle, "cm-1", CountermeasureStatus.DROPPED, at=T0)
    dropped = settle(cycle, "cm-1", CountermeasureStatus.DROPPED, at=T0, note="no budget")
    assert dropped.unsettled() == ()
    assert dropped.plan.countermeasures[0].settled_at == T0
    with pytest.raises(ValidationError, match="is not in the plan"):
        settle(cycle, "cm-9", CountermeasureStatus.DONE, at=T0)


def test_p3_verdicts_say_whether_a_change_is_real_or_noise() -> None:
    target = Target("complaint_rate", 0.15, "complaints")
    baseline = _rate(30, 100)
    real = judge(target, baseline, _rate(10, 100, "2026-Q2"))
    assert real.verdict is Verdict.ACHIEVED
    assert real.test is not None
    assert real.test.p_value < 0.05
    noise = judge(target, _rate(4, 20), _rate(2, 20, "2026-Q2"))
    assert noise.verdict is Verdict.NOT_PROVEN
    assert judge(target, baseline, _rate(20, 100, "2026-Q2")).verdict is Verdict.MISSED
    assert judge(target, baseline, _rate(0, 0, "2026-Q2")).verdict is Verdict.NO_DATA
    held = judge(target, _rate(10, 100), _rate(11, 100, "2026-Q2"))
    assert held.verdict is Verdict.ACHIEVED  # the baseline already met the target
    worse_but_met = judge(Target("csat", 3.0, "csat"), mean("csat", Q1, [2, 3] * 20),
                          mean("csat", Q2, [3, 4] * 20))
    assert worse_but_met.verdict is Verdict.ACHIEVED


def test_p3_results_must_belong_to_a_target_of_the_plan() -> None:
    with pytest.raises(ValidationError, match="not a target of the plan"):
        record_results(_cycle(), [CheckResult(Target("nps", 3, "csat"),
                                              proportion("nps", Q2, 0, 0), Verdict.NO_DATA)])


def test_p4_act_carries_every_unsolved_problem_into_a_linked_cycle() -> None:
    cycle = _cycle()
    results = [judge(t, cycle.plan.baseline(t.measure), value) for t, value in zip(
        cycle.plan.targets, (_rate(10, 100, "2026-Q2"), mean("csat", Q2, [3, 4] * 20)),
        strict=True)]
    checked = record_results(cycle, results)
    assert [p.key for p in checked.unsolved()] == ["csat"]
    with pytest.raises(ValidationError, match="must be given"):
        record_act(checked, standardised=["call ahead"])
    acted = record_act(checked, standardised=["call ahead"], next_cycle="PDCA-002")
    assert acted.act is not None
    assert acted.act.carried_over == ("csat",)
    following = carry_over(acted, "PDCA-002", at=T0, actor="ann")
    assert following.parent_id == "PDCA-001"
    assert [(p.key, p.carried_from) for p in following.plan.problems] == [("csat", "PDCA-001")]
    assert following.plan.baselines == (results[1].result,)
    assert following.baseline_period == Q2
    assert [t.measure for t in following.plan.targets] == ["csat"]


def test_p4_a_fully_solved_cycle_carries_nothing() -> None:
    cycle = _cycle()
    results = [judge(t, cycle.plan.baseline(t.measure), value) for t, value in zip(
        cycle.plan.targets, (_rate(10, 100, "2026-Q2"), mean("csat", Q2, [4, 5] * 20)),
        strict=True)]
    acted = record_act(record_results(cycle, results), next_cycle="ignored")
    assert acted.act is not None
    assert acted.act.carried_over == ()
    assert acted.act.next_cycle is None


def test_p1_p4_cycle_records_survive_a_cattrs_round_trip() -> None:
    from crmcore.serialization import structure, unstructure

    cycle = _cycle()
    results = [judge(t, cycle.plan.baseline(t.measure), value) for t, value in zip(
        cycle.plan.targets, (_rate(10, 100, "2026-Q2"), mean("csat", Q2, [3, 4] * 20)),
        strict=True)]
    acted = record_act(record_results(cycle, results), next_cycle="PDCA-002")
    assert structure(unstructure(acted), Cycle) == acted
