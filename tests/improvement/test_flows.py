"""Loop definitions as data (P6): the PDCA and customer-knowledge loops, and a host's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.errors import ConfigError
from crmcore.improvement import (
    PDCA_EVENTS,
    ImprovementService,
    builtin_loop,
    improvement_checks,
    knowledge_flow,
    load_loop,
    loop_history,
    pdca_flow,
    require_events,
    start_loop,
    step_loop,
)
from crmcore.transitions import RefusedTransitionError, replay, to_mermaid

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_p1_p4_pdca_flow_is_plan_do_check_act_closed_and_forward_only() -> None:
    flow = pdca_flow()
    assert flow.state_names() == ("plan", "do", "check", "act", "closed", "abandoned")
    assert flow.forward_only
    assert set(flow.events()) == {*PDCA_EVENTS, "abandon"}
    moves = {(source, target) for source, target, _ in flow.edges() if source != target}
    assert moves == {("plan", "do"), ("do", "check"), ("check", "act"), ("act", "closed"),
                     *((phase, "abandoned") for phase in ("plan", "do", "check", "act"))}
    assert "plan" in to_mermaid(flow)
    assert [v.name for t in flow.transitions for v in t.validators] == [
        "plan_complete", "all_countermeasures_settled", "every_target_checked",
        "unsolved_carried_over", "reason_given"]
    assert [s.name for s in flow.states if s.final] == ["closed", "abandoned"]


def test_p6_knowledge_loop_turns_and_informs_the_next_turn() -> None:
    flow = knowledge_flow()
    crm = CRM.open("memory")
    start_loop(crm, flow, "K1", actor="ann", at=T0)
    steps = [("focus", {"topic": "why key accounts order less"}),
             ("elicit", {"sources": ["visits", "complaints"]}),
             ("edit", {"summary": "lead times matter more than price"}),
             ("share", {"audience": "sales team"}),
             ("apply", {"applied_to": "quarterly plans"}),
             ("next_turn", {"learned": "ask about lead times on every visit"})]
    for day, (event, fields) in enumerate(steps, start=1):
        step_loop(crm, flow, "K1", event, actor="ann", at=T0 + timedelta(days=day),
                  fields=fields)
    history = loop_history(crm, flow, "K1")
    assert [e.to_state for e in history] == ["plan", "focus", "elicit", "edit", "share",
                                             "apply", "plan"]
    assert history[-1].fields == {"learned": "ask about lead times on every visit"}
    assert replay(flow, history) is not None
    with pytest.raises(RefusedTransitionError, match="not allowed in this state"):
        step_loop(crm, flow, "K1", "share", actor="ann", at=T0 + timedelta(days=9),
                  fields={"audience": "x"})
    with pytest.raises(RefusedTransitionError, match="topic required"):
        step_loop(crm, flow, "K1", "focus", actor="ann", at=T0 + timedelta(days=9))


def test_p6_a_host_defines_its_own_loop(tmp_path: Path) -> None:
    path = tmp_path / "review.toml"
    path.write_text('''
name = "service-review"
version = 1
initial = "collect"
forward_only = true
[[states]]
name = "collect"
phase = "review"
[[states]]
name = "decide"
phase = "review"
[[states]]
name = "done"
phase = "done"
final = true
[[transitions]]
event = "decide"
from = "collect"
to = "decide"
[[transitions]]
event = "finish"
from = "decide"
to = "done"
validators = ["reason_given"]
''', encoding="utf-8")
    flow = load_loop(path)
    crm = CRM.open("memory")
    start_loop(crm, flow, "R1", actor="ann", at=T0)
    step_loop(crm, flow, "R1", "decide", actor="ann", at=T0)
    with pytest.raises(RefusedTransitionError, match="reason"):
        step_loop(crm, flow, "R1", "finish", actor="ann", at=T0)
    step_loop(crm, flow, "R1", "finish", actor="ann", at=T0, reason="agreed")
    with pytest.raises(ConfigError, match="cannot run a PDCA cycle"):
        require_events(flow)
    with pytest.raises(ConfigError, match="cannot run a PDCA cycle"):
        ImprovementService(crm, flow=flow)


def test_p6_loop_names_and_checks() -> None:
    assert builtin_loop("knowledge").name == "customer-knowledge"
    with pytest.raises(ConfigError, match="not a shipped loop"):
        builtin_loop("kaizen")
    assert {"plan_complete", "all_countermeasures_settled", "every_target_checked",
            "unsolved_carried_over", "reason_given"} <= set(
        improvement_checks().validator_names())
