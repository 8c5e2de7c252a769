"""PDCA cycles through the application service, on memory and SQLite storage (P1-P5, P7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import RecordingNotifier

from crmcore import CRM
from crmcore.errors import ConfigError, ValidationError
from crmcore.improvement import (
    WARNING_EVENT,
    Comparison,
    Cycle,
    EarlyWarning,
    ImprovementService,
    Problem,
    Target,
    Verdict,
    WarningRule,
    rules_from_targets,
    rules_from_toml,
)
from crmcore.improvement.measures import proportion
from crmcore.transitions import FLOW_TRANSITIONED, FlowState, RefusedTransitionError, replay

from .helpers import Q2, Q3, planned_cycle, stocked


@pytest.fixture
def service(crm: CRM) -> ImprovementService:
    return ImprovementService(stocked(crm))


def _run_to_check(service: ImprovementService, cycle_id: str = "PDCA-001") -> None:
    service.start_do(cycle_id, actor="ann", at=Q2 + timedelta(days=1))
    service.track(cycle_id, "cm-1", "done", actor="li", at=Q2 + timedelta(days=20))
    service.track(cycle_id, "cm-2", "dropped", note="merged into cm-1", actor="li",
                  at=Q2 + timedelta(days=21))
    service.start_check(cycle_id, actor="ann", at=Q3)
    service.check(cycle_id, "2026-Q2", actor="ann", at=Q3)
    service.start_act(cycle_id, actor="ann", at=Q3)


def test_p1_open_a_cycle_from_a_measure_with_its_baseline(service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    cycle = service.cycle(cycle_id)
    baseline = cycle.plan.baseline("complaint_rate")
    assert baseline is not None
    assert (baseline.value, baseline.n) == (0.3, 100)
    assert [c.description for c in cycle.plan.causes] == ["late delivery", "billing", "price"]
    assert [f.cause for f in cycle.plan.key_factors] == ["late delivery", "billing"]
    assert service.state(cycle_id).state == "plan"
    assert cycle.plan.missing() == []


def test_p1_to_p4_a_whole_cycle_through_the_door(service: ImprovementService,
                                                  recorder: RecordingNotifier) -> None:
    cycle_id = planned_cycle(service)
    _run_to_check(service, cycle_id)
    checked = service.cycle(cycle_id)
    assert [r.verdict for r in checked.results] == [Verdict.ACHIEVED]
    result = checked.results[0]
    assert result.result.value == 0.1
    assert result.test is not None
    assert result.test.p_value < 0.001
    closed = service.act(cycle_id, standardised=["call before late deliveries"], actor="ann",
                         at=Q3)
    assert closed.act is not None
    assert closed.act.carried_over == ()
    assert service.state(cycle_id).state == "closed"
    history = service.history(cycle_id)
    assert [e.to_state for e in history if e.from_state != e.to_state] == [
        "plan", "do", "check", "act", "closed"]
    assert replay(service.flow, history) == service.state(cycle_id)
    moves = [e.data["to"] for e in recorder.events if e.type == FLOW_TRANSITIONED
             and e.data["from"] != e.data["to"]]
    assert moves == ["do", "check", "act", "closed"]


def test_p2_check_needs_every_countermeasure_settled(service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    with pytest.raises(RefusedTransitionError, match="not allowed in this state"):
        service.start_check(cycle_id, actor="ann", at=Q2)
    service.start_do(cycle_id, actor="ann", at=Q2)
    service.track(cycle_id, "cm-1", "done", actor="li", at=Q2)
    with pytest.raises(RefusedTransitionError, match=r"all_countermeasures_settled.*cm-2"):
        service.start_check(cycle_id, actor="ann", at=Q2)
    with pytest.raises(ValidationError, match="reason for dropping"):
        service.track(cycle_id, "cm-2", "dropped", actor="li", at=Q2)
    with pytest.raises(ValidationError, match="is not one of"):
        service.track(cycle_id, "cm-2", "maybe", actor="li", at=Q2)
    assert service.state(cycle_id).state == "do"


def test_p1_do_needs_a_complete_plan(service: ImprovementService) -> None:
    service.open_cycle(measure="csat", period="2026-Q1", problem="low satisfaction",
                       cycle_id="C-1", actor="ann", at=Q2)
    with pytest.raises(RefusedTransitionError, match=r"plan_complete.*a target for problem"):
        service.start_do("C-1", actor="ann", at=Q2)
    with pytest.raises(RefusedTransitionError, match="not allowed in this state"):
        service.check("C-1", "2026-Q2", actor="ann", at=Q2)


def test_p4_unsolved_problems_are_carried_into_a_linked_cycle(
        service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    service.revise_plan(cycle_id, problems=[Problem("return", "buyers do not come back")],
                        baselines=[service.measure("return_rate", "2026-Q1")],
                        targets=[Target("return_rate", 0.9, "return")], actor="ann", at=Q2)
    _run_to_check(service, cycle_id)
    acted = service.act(cycle_id, actor="ann", at=Q3)
    assert acted.act is not None
    assert acted.act.carried_over == ("return",)
    following = service.cycle(acted.act.next_cycle or "")
    assert following.parent_id == cycle_id
    assert [p.key for p in following.plan.problems] == ["return"]
    assert service.state(following.id).state == "plan"
    assert [c.id for c in service.chain(following.id)] == [cycle_id, following.id]
    assert [(r.id, r.phase) for r in service.cycles()] == [(cycle_id, "closed"),
                                                            (following.id, "plan")]


def test_p4_recording_the_act_again_keeps_the_carried_over_cycle(
        service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    service.revise_plan(cycle_id, problems=[Problem("return", "buyers do not come back")],
                        baselines=[service.measure("return_rate", "2026-Q1")],
                        targets=[Target("return_rate", 0.9, "return")], actor="ann", at=Q2)
    _run_to_check(service, cycle_id)
    first = service.act(cycle_id, close=False, actor="ann", at=Q3)
    again = service.act(cycle_id, standardised=["weekly review"], actor="ann", at=Q3)
    assert first.act is not None
    assert again.act is not None
    assert again.act.next_cycle == first.act.next_cycle
    assert len(service.cycles()) == 2
    assert service.state(cycle_id).state == "closed"


def test_p4_a_refused_close_writes_nothing(service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    _run_to_check(service, cycle_id)
    before = (service.crm.find(Cycle), service.crm.find(FlowState), service.crm.events())
    with pytest.raises(RefusedTransitionError, match="must be recorded before closing"):
        service.close(cycle_id, actor="ann", at=Q3)
    assert (service.crm.find(Cycle), service.crm.find(FlowState),
            service.crm.events()) == before
    service.act(cycle_id, actor="ann", at=Q3, close=False)
    assert service.state(cycle_id).state == "act"
    service.close(cycle_id, actor="ann", at=Q3)
    assert service.state(cycle_id).state == "closed"


def test_p3_check_with_values_measured_elsewhere(service: ImprovementService) -> None:
    cycle_id = planned_cycle(service)
    service.start_do(cycle_id, actor="ann", at=Q2)
    for key in ("cm-1", "cm-2"):
        service.track(cycle_id, key, "done", actor="li", at=Q2)
    service.start_check(cycle_id, actor="ann", at=Q2)
    survey = proportion("complaint_rate", service.cycle(cycle_id).baseline_period, 28, 100)
    checked = service.check(cycle_id, "2026-Q2", values={"complaint_rate": survey},
                            actor="ann", at=Q2)
    assert checked.results[0].verdict is Verdict.MISSED
    with pytest.raises(ValidationError, match="has no measured value"):
        service.check(cycle_id, "2026-Q2", values={}, actor="ann", at=Q2)


def test_p5_measures_and_series_from_storage(service: ImprovementService) -> None:
    values = service.measures("2026-Q1")
    assert values["complaint_rate"].value == 0.3
    series = service.series(["2026-Q1", "2026-Q2"])
    assert [v.value for v in series["complaint_rate"]] == [0.3, 0.1]
    assert service.complaint_pareto("2026-Q2").vital_few == ("late delivery",)
    assert service.churn_pareto("2026-Q2").rows == ()


def test_p7_warnings_reach_the_notifiers_once(service: ImprovementService,
                                               recorder: RecordingNotifier) -> None:
    rules = [WarningRule("complaints-high", "complaint_rate", Comparison.ABOVE, 0.05, 2),
             WarningRule("csat-low", "csat", Comparison.BELOW, 3.0, 1)]
    raised = service.raise_warnings(rules, ["2026-Q1", "2026-Q2"], at=Q3)
    assert [w.id for w in raised] == ["complaints-high@2026-Q2"]
    warning = raised[0]
    assert warning.values == (0.3, 0.1)
    assert warning.sample_sizes == (100, 100)
    events = [e for e in recorder.events if e.type == WARNING_EVENT]
    assert len(events) == 1
    assert events[0].data["periods"] == ["2026-Q1", "2026-Q2"]
    assert service.raise_warnings(rules, ["2026-Q1", "2026-Q2"], at=Q3) == []
    assert [w.id for w in service.warnings()] == ["complaints-high@2026-Q2"]
    assert service.crm.count(EarlyWarning) == 1


def test_p7_target_rules_warn_two_periods_in_a_row_outside_target(
        service: ImprovementService) -> None:
    cycle = service.cycle(planned_cycle(service))
    rules = rules_from_targets(cycle, consecutive=2)
    assert [r.describe() for r in rules] == ["complaint_rate above 0.15 for 2 periods"]
    assert service.raise_warnings(rules, ["2026-Q1", "2026-Q2"], at=Q3) == []
    assert service.raise_warnings(rules, ["2025-Q4", "2026-Q1"], at=Q3) == []
    one = service.raise_warnings(
        [WarningRule("q1", "complaint_rate", Comparison.ABOVE, 0.15)], ["2026-Q1"], at=Q3)
    assert [w.id for w in one] == ["q1@2026-Q1"]


def test_p7_rules_are_data() -> None:
    rules = rules_from_toml('''
[[warnings]]
name = "complaints-high"
measure = "complaint_rate"
when = "above"
threshold = 0.05
consecutive = 2
''')
    assert rules == (WarningRule("complaints-high", "complaint_rate", Comparison.ABOVE, 0.05,
                                 2),)
    with pytest.raises(ConfigError, match=r"warnings\[0\]\.when"):
        rules_from_toml('[[warnings]]\nname = "x"\nmeasure = "nps"\nwhen = "sideways"\n'
                        'threshold = 1\n')
    with pytest.raises(ConfigError, match="is not a measure"):
        rules_from_toml('[[warnings]]\nname = "x"\nmeasure = "mood"\nwhen = "above"\n'
                        'threshold = 1\n')
    with pytest.raises(ConfigError, match="declared twice"):
        rules_from_toml('[[warnings]]\nname = "x"\nmeasure = "nps"\nwhen = "above"\n'
                        'threshold = 1\n' * 1 + '[[warnings]]\nname = "x"\nmeasure = "nps"\n'
                        'when = "above"\nthreshold = 2\n')
