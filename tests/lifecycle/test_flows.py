"""The shipped definitions: the customer lifecycle (L1), leads (L2), host flows (L6)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from crmcore.errors import ConfigError
from crmcore.lifecycle import builtin_flow, customer_flow, lifecycle_checks
from crmcore.transitions import load_flow


def test_l1_customer_lifecycle_courtship_marriage_divorce() -> None:
    flow = customer_flow()
    assert flow.initial == "identified"
    assert flow.phase_names() == ("courtship", "marriage", "divorce")
    phases = {state.name: state.phase for state in flow.states}
    assert phases == {"identified": "courtship", "selected": "courtship",
                      "developing": "courtship", "active": "marriage", "loyal": "marriage",
                      "at-risk": "marriage", "churned": "divorce", "won-back": "divorce"}
    path = ["select", "develop", "first_purchase", "become_loyal"]
    state = "identified"
    for event in path:
        step = flow.transition(event, state)
        assert step is not None
        state = step.target_from(state)
    assert state == "loyal"
    assert not flow.forward_only
    assert not any(s.final for s in flow.states)  # a churned customer can be won back


def test_l1_churn_and_win_back_edges() -> None:
    flow = customer_flow()
    assert {s for s, t, _ in flow.edges() if t == "churned" and s != t} == {
        "at-risk", "active", "loyal", "won-back"}
    assert flow.transition("explain_churn", "churned") is not None  # the answer (L3)
    assert flow.transition("win_back", "churned") is not None
    assert flow.transition("settle", "won-back") is not None


def test_l2_lead_flow_ends_won_invoiced_or_lost_with_a_reason() -> None:
    flow = builtin_flow("lead")
    assert flow.forward_only
    assert {s.name for s in flow.states if s.final} == {"won", "lost"}
    win = flow.transition("win", "negotiation")
    lose = flow.transition("lose", "received")
    assert win is not None
    assert win.required_fields == ("invoice_id",)
    assert lose is not None
    assert lose.required_fields == ("lost_reason",)
    report = flow.transition("report_progress", "proposal")
    assert report is not None
    assert report.target is None


@pytest.mark.parametrize(("name", "states"), [
    ("consulting", ["engagement", "kick-off", "investigation", "solution-design",
                    "support-and-training"]),
    ("media-sales", ["land-listing", "land-deal", "developer-tracking", "service", "contract",
                     "after-sales"]),
])
def test_l6_host_flows_ship_as_toml(name: str, states: list[str]) -> None:
    flow = builtin_flow(name)
    assert list(flow.state_names()[: len(states)]) == states
    assert flow.forward_only
    for source, target in itertools.pairwise(states):
        assert any(s == source and t == target for s, t, _ in flow.edges())


def test_l6_a_host_defines_its_own_flow_in_a_file(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "src/crmcore/lifecycle/flows/consulting.toml"
    text = shipped.read_text(encoding="utf-8").replace('name = "consulting-engagement"',
                                                       'name = "my-engagement"')
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    assert load_flow(path, lifecycle_checks()).name == "my-engagement"


def test_unknown_shipped_flow() -> None:
    with pytest.raises(ConfigError, match="'pdca' is not a shipped flow"):
        builtin_flow("pdca")
