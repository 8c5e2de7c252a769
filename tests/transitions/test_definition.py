"""Flow definitions are checked when built or loaded, with clear messages."""

from __future__ import annotations

from typing import Any

import pytest

from crmcore.errors import ConfigError
from crmcore.lifecycle import FLOW_FILES, builtin_flow
from crmcore.transitions import (
    CheckRegistry,
    FlowDefinition,
    FlowDefinitionError,
    StateDefinition,
    TransitionDefinition,
    flow_from_mapping,
    flow_from_toml,
    load_flow,
)


def _flow(**overrides: Any) -> FlowDefinition:
    values: dict[str, Any] = {
        "name": "tiny", "version": 1, "initial": "a",
        "states": [StateDefinition("a", "p"), StateDefinition("b", "p"),
                   StateDefinition("c", "q", final=True)],
        "transitions": [TransitionDefinition("go", ["a"], "b"),
                        TransitionDefinition("end", ["b"], "c")],
    }
    values.update(overrides)
    return FlowDefinition(**values)


def test_a_valid_definition_answers_questions() -> None:
    flow = _flow()
    assert flow.state_names() == ("a", "b", "c")
    assert flow.phase_names() == ("p", "q")
    assert flow.transition("go", "a") is not None
    assert flow.transition("go", "b") is None
    assert flow.reachable() == {"a", "b", "c"}
    assert flow.events() == ("go", "end")


def test_unknown_states_are_named_with_the_known_ones() -> None:
    with pytest.raises(FlowDefinitionError) as raised:
        _flow(transitions=[TransitionDefinition("go", ["a"], "bee"),
                           TransitionDefinition("end", ["zed"], "c")])
    message = str(raised.value)
    assert "flow 'tiny' is not valid" in message
    assert "target 'bee' is not a state (known: a, b, c)" in message
    assert "source 'zed' is not a state" in message


def test_unknown_initial_state() -> None:
    with pytest.raises(FlowDefinitionError, match="initial: 'x' is not a state"):
        _flow(initial="x")


def test_unreachable_state_is_an_error() -> None:
    with pytest.raises(FlowDefinitionError,
                       match="state 'b' cannot be reached from the initial state 'a'"):
        _flow(transitions=[TransitionDefinition("end", ["a"], "c"),
                           TransitionDefinition("back", ["b"], "a")])


def test_a_dead_end_must_be_declared_final() -> None:
    with pytest.raises(FlowDefinitionError,
                       match="state 'c' has no way out: add a transition from it or declare"):
        _flow(states=[StateDefinition("a", "p"), StateDefinition("b", "p"),
                      StateDefinition("c", "q")])


def test_an_internal_event_is_no_way_out() -> None:
    with pytest.raises(FlowDefinitionError, match="state 'b' has no way out"):
        _flow(states=[StateDefinition("a", "p"), StateDefinition("b", "p")],
              transitions=[TransitionDefinition("go", ["a"], "b"),
                           TransitionDefinition("note", ["b"], None)])


def test_a_final_state_with_exits_is_an_error() -> None:
    with pytest.raises(FlowDefinitionError, match="state 'c' is final but has transitions out"):
        _flow(transitions=[TransitionDefinition("go", ["a"], "b"),
                           TransitionDefinition("end", ["b"], "c"),
                           TransitionDefinition("again", ["c"], "a")])


def test_an_ambiguous_event_is_an_error() -> None:
    with pytest.raises(FlowDefinitionError, match="already declared by transitions"):
        _flow(transitions=[TransitionDefinition("go", ["a"], "b"),
                           TransitionDefinition("go", ["a"], "c"),
                           TransitionDefinition("end", ["b"], "c")])


def test_duplicate_states_and_phases_outside_the_list() -> None:
    with pytest.raises(FlowDefinitionError) as raised:
        _flow(phases=["p"], states=[StateDefinition("a", "p"), StateDefinition("a", "p"),
                                    StateDefinition("b", "p"), StateDefinition("c", "q",
                                                                               final=True)])
    assert "'a' is declared twice" in str(raised.value)
    assert "'q' of state 'c' is not one of the phases (p)" in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FlowDefinitionError) as raised:
        _flow(name="", version=0, initial="x")
    assert len(raised.value.problems) == 3


TOML = """
name = "demo"
version = 2
initial = "open"
forward_only = true

[[states]]
name = "open"
phase = "work"

[[states]]
name = "done"
phase = "end"
final = true

[[transitions]]
event = "finish"
from = "open"
to = "done"
guards = ["always"]
validators = ["reason_given"]
required_fields = ["outcome"]
"""


def _checks() -> CheckRegistry:
    return CheckRegistry(guards={"always": lambda context: True})


def test_toml_loads_with_guards_and_validators_by_name() -> None:
    flow = flow_from_toml(TOML, _checks())
    transition = flow.transition("finish", "open")
    assert transition is not None
    assert [g.name for g in transition.guards] == ["always"]
    assert [v.name for v in transition.validators] == ["reason_given"]
    assert transition.required_fields == ("outcome",)
    assert flow.forward_only
    assert flow.version == 2


def test_unknown_guard_name_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"transitions\[0\].guards\[0\]: 'always' is not a "
                                          r"registered guard \(known: none\)"):
        flow_from_toml(TOML)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(colour="red"), "colour: is not a known key"),
    (lambda d: d.update(version="2"), "version: '2' is not a whole number"),
    (lambda d: d.update(forward_only=1), "forward_only: 1 is not true or false"),
    (lambda d: d["states"][0].update(final="no"), r"states\[0\].final: 'no' is not true"),
    (lambda d: d["transitions"][0].pop("from"), r"transitions\[0\].from: is required"),
    (lambda d: d["transitions"][0].update(to=3), r"transitions\[0\].to: 3 is not a state name"),
    (lambda d: d.pop("initial"), "initial: is required"),
    (lambda d: d.update(states={}), "states: {} is not an array of tables"),
])
def test_loader_errors_name_source_and_key(mutate: Any, message: str) -> None:
    import tomllib

    data = tomllib.loads(TOML)
    mutate(data)
    with pytest.raises(ConfigError, match=message) as raised:
        flow_from_mapping(data, _checks(), source="flows/demo.toml")
    assert str(raised.value).startswith("flows/demo.toml")


def test_invalid_toml_and_missing_file() -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        flow_from_toml("name = ", source="x.toml")
    with pytest.raises(ConfigError, match="cannot read the flow definition"):
        load_flow("/nonexistent/flow.toml")


def test_definition_errors_from_a_file_name_the_file(tmp_path: Any) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TOML.replace('to = "done"', 'to = "dnoe"'), encoding="utf-8")
    with pytest.raises(FlowDefinitionError, match=r"flow 'demo \(.*bad.toml\)' is not valid"):
        load_flow(path, _checks())


@pytest.mark.parametrize("name", sorted(FLOW_FILES))
def test_transition_look_up_is_the_first_declared_match(name: str) -> None:
    flow = builtin_flow(name)
    for state in [*flow.state_names(), "no-such-state"]:
        for event in [*flow.events(), "no-such-event"]:
            expected = next((t for t in flow.transitions_from(state) if t.event == event), None)
            assert flow.transition(event, state) is expected
