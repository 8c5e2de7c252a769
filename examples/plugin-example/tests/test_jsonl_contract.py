"""The ``jsonl`` notifier meets crmcore's notifier contract and is found by its entry point.

Run from the repository root, with the example installed next to crmcore::

    pip install ./examples/plugin-example
    python -m pytest examples/plugin-example/tests
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from crmcore_example_plugin import JsonLinesNotifier, open_jsonl_notifier

from crmcore import CRM, ComponentConfig, ConfigError, FixedClock, Options, make_plugin_manager
from crmcore.testing import NotifierContract, ReceivedIds, make_customer, make_domain_event


def jsonl_notifier(path: Path) -> JsonLinesNotifier:
    """Build the notifier the way crmcore does: the factory, given the component's options."""
    options = Options({"path": str(path)}, "notifiers[0]")
    notifier = open_jsonl_notifier(options)
    options.check_all_used()
    return notifier


def event_ids(path: Path) -> list[str]:
    """The ids of the events written to ``path``, in file order."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as file:
        return [json.loads(line)["id"] for line in file]


class TestJsonLinesNotifier(NotifierContract):
    """Every test of the contract, on a file in the test's own temporary folder."""

    @pytest.fixture
    def notifier(self, tmp_path: Path) -> JsonLinesNotifier:
        return jsonl_notifier(tmp_path / "events.jsonl")

    @pytest.fixture
    def received(self, tmp_path: Path) -> ReceivedIds:
        return lambda: event_ids(tmp_path / "events.jsonl")

    @pytest.fixture
    def failing_notifier(self, tmp_path: Path) -> JsonLinesNotifier:
        # A folder where the file should be: opening it for appending raises.
        return jsonl_notifier(tmp_path)


def test_path_is_required() -> None:
    with pytest.raises(ConfigError, match=r"notifiers\[0\]\.path: is required"):
        open_jsonl_notifier(Options({}, "notifiers[0]"))


def test_the_entry_point_is_found_and_chosen_by_name(
    tmp_path: Path, crmcore_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        metadata.distribution("crmcore-example-plugin")
    except metadata.PackageNotFoundError:
        pytest.skip("the example is not installed: pip install ./examples/plugin-example")
    monkeypatch.delenv("CRMCORE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    manager = make_plugin_manager(load_entry_points=True)
    events = tmp_path / "events.jsonl"
    jsonl = ComponentConfig("jsonl", {"path": str(events)})
    with CRM.open("memory", notifiers=[jsonl], plugins=manager, clock=crmcore_clock) as crm:
        crm.record(make_customer())
    (line,) = events.read_text(encoding="utf-8").splitlines()
    event = json.loads(line)
    assert (event["type"], event["subject"]) == ("customer.recorded", "customer:C001")
    assert event["occurred_at"] == crmcore_clock().isoformat()


def test_the_installed_plugin_adds_the_command_jsonl_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``crmcore jsonl-count FILE`` comes from the installed distribution's entry point."""
    try:
        metadata.distribution("crmcore-example-plugin")
    except metadata.PackageNotFoundError:
        pytest.skip("the example is not installed: pip install ./examples/plugin-example")
    monkeypatch.delenv("CRMCORE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    events = tmp_path / "events.jsonl"
    notifier = jsonl_notifier(events)
    recorded = make_domain_event(id="e1")
    for event in (recorded, recorded, make_domain_event(id="e2"),  # a repeat counts once
                  make_domain_event(id="e3", type="ticket.escalated")):
        notifier.notify(event)
    code = "import sys; from crmcore.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "jsonl-count", str(events)],
                          capture_output=True, text=True, check=False)
    assert (done.stdout, done.stderr, done.returncode) == (
        "2\tcustomer.recorded\n1\tticket.escalated\n", "", 0)
