"""Diagrams are generated from the definition: every state and transition is drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from crmcore.i18n import language
from crmcore.lifecycle import FLOW_FILES, builtin_flow
from crmcore.transitions import to_dot, to_mermaid, to_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("name", list(FLOW_FILES))
def test_svg_is_well_formed_and_shows_every_state_and_event(name: str) -> None:
    flow = builtin_flow(name)
    root = ET.fromstring(to_svg(flow))
    texts = {element.text for element in root.iter(f"{SVG}text")}
    assert set(flow.state_names()) <= texts
    labels = " / ".join(t for t in texts if t)
    assert all(event in labels for event in flow.events())
    assert set(flow.phase_names()) <= texts
    finals = [s for s in flow.states if s.final]
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == len(flow.phase_names()) + len(flow.states) + len(finals)


def test_mermaid_and_dot_list_every_edge() -> None:
    flow = builtin_flow("customer")
    mermaid = to_mermaid(flow)
    assert mermaid.startswith("stateDiagram-v2\n")
    assert "[*] --> identified" in mermaid
    assert 'state "at-risk" as at_risk' in mermaid
    assert "churned --> won_back : win_back" in mermaid
    dot = to_dot(flow)
    assert '"churned" -> "won-back" [label="win_back"];' in dot
    assert dot.count(" -> ") == len(list(flow.edges())) + 1


def test_backward_transitions_of_forward_only_flows_are_dashed() -> None:
    flow = builtin_flow("consulting")
    assert '"solution-design" -> "investigation" [label="reinvestigate", style=dashed];' in \
        to_dot(flow)
    assert 'stroke-dasharray' in to_svg(flow)
    assert 'stroke-dasharray' not in to_svg(builtin_flow("customer"))


def test_svg_title_is_worded_in_the_current_language() -> None:
    """Issue 13: the drawing's default title comes from the catalogue."""
    flow = builtin_flow("customer")
    with language("zh_CN"):
        chinese = ET.fromstring(to_svg(flow)).find(f"{SVG}title")
    assert chinese is not None
    assert chinese.text == f"{flow.name}（第 {flow.version} 版）"
    english = ET.fromstring(to_svg(flow)).find(f"{SVG}title")
    assert english is not None
    assert english.text == f"{flow.name} (version {flow.version})"
