"""The daily run (``crmcore run``): idempotent per as-of, resumable after SIGKILL."""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import RecordingNotifier, RecordingPlugin

from crmcore import CRM, FixedClock
from crmcore.cli import main
from crmcore.cli.common import print_table
from crmcore.daily import STEP_NAMES, RunSettings, run_daily, stored_agenda
from crmcore.daily.run import STEPS, RunContext, StepRunner
from crmcore.demo.generator import generate_book
from crmcore.errors import ConfigError
from crmcore.i18n_terms import term
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.policies import PolicyService, PolicySet

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
RUN_KINDS = ("daily_run",)


@pytest.fixture(scope="module")
def book_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stored demo book of 60 customers (copied by each test that writes)."""
    path = tmp_path_factory.mktemp("daily") / "book.db"
    with CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF)) as crm:
        crm.import_entities(generate_book(60, seed=11).all(), source="demo")
    return path


def _copy(book_db: Path, tmp_path: Path, name: str = "crm.db") -> Path:
    target = tmp_path / name
    shutil.copy(book_db, target)
    return target


def _open(path: Path, notifier: RecordingNotifier) -> CRM:
    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[RecordingPlugin(notifier)]))
    return CRM.open("sqlite", path=str(path), notifiers=["recording"], plugins=host,
                    clock=FixedClock(AS_OF))


def _stored_state(path: Path) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    """Every stored record but the run's own progress, and the outbox by event content."""
    with sqlite3.connect(path) as db:
        records = sorted(db.execute(
            "SELECT kind, id, body FROM all_records WHERE kind NOT IN (?) ORDER BY kind, id",
            RUN_KINDS))
        events: Counter[str] = Counter()
        for (body,) in db.execute("SELECT body FROM outbox"):
            event = json.loads(body)
            event.pop("id")
            events[json.dumps(event, sort_keys=True)] += 1
    return records, events


def test_second_run_with_the_same_as_of_stores_and_sends_nothing(
        book_db: Path, tmp_path: Path) -> None:
    path = _copy(book_db, tmp_path)
    notifier = RecordingNotifier()
    with _open(path, notifier) as crm:
        first = run_daily(crm, AS_OF)
    assert first.ran == STEP_NAMES
    assert [step.name for step in first.steps] == list(STEP_NAMES)
    sent = len(notifier.events)
    assert sent > 0  # grading, the lifecycle and escalations announced something
    before = _stored_state(path)
    with _open(path, notifier) as crm:
        second = run_daily(crm, AS_OF)
    assert second.already_done
    assert second.steps == first.steps
    assert _stored_state(path) == before
    assert len(notifier.events) == sent


def test_the_run_stores_each_owners_agenda_as_the_policies_compute_it(
        book_db: Path, tmp_path: Path) -> None:
    path = _copy(book_db, tmp_path)
    with _open(path, RecordingNotifier()) as crm:
        run_daily(crm, AS_OF)
        computed = PolicyService(crm, PolicySet(), scheme="pareto-abc").agenda(AS_OF)
        owners = sorted({item.owner for item in computed})
        assert owners
        for owner in owners:
            stored = stored_agenda(crm, owner)
            assert stored is not None
            assert stored[0] == AS_OF
            assert stored[1] == [item.as_dict() for item in computed if item.owner == owner]
        assert stored_agenda(crm, "nobody") is None


def test_escalate_problems_and_agenda_read_each_part_of_the_book_once(
        book_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: the steps share one read of the book (the tasks are read again only after
    a step stored escalations or problems)."""
    from crmcore.policies import service as policy_service

    path = _copy(book_db, tmp_path)
    with _open(path, RecordingNotifier()) as crm:
        run_daily(crm, AS_OF, settings=RunSettings(steps=("grade", "lifecycle")))
        before = PolicyService(crm, PolicySet(), scheme="pareto-abc")
        assert before.apply_escalations(AS_OF).applied  # the demo book has overdue tasks
        before.record_problems(AS_OF)
    reads: Counter[str] = Counter()
    for name in ("read_tasks", "read_people"):
        def counted(*args: object, _real: object = getattr(policy_service, name),
                    _name: str = name) -> object:
            reads[_name] += 1
            return _real(*args)  # type: ignore[operator]
        monkeypatch.setattr(policy_service, name, counted)
    with _open(path, RecordingNotifier()) as crm:
        report = run_daily(crm, AS_OF)
    assert report.ran == ("escalate", "problems", "agenda", "deliver")
    done = {step.name: step.summary for step in report.steps}
    assert (done["escalate"]["applied"], done["problems"]["opened"]) == (0, 0)
    assert reads == {"read_people": 1, "read_tasks": 1}


def test_bulk_steps_run_with_the_cycle_collector_paused_and_restore_it(
        book_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: the collector is off while grade, escalate, problems and agenda run
    (observed from inside each step), and on again after the run."""
    seen: dict[str, bool] = {}

    def observing(name: str, real: StepRunner) -> StepRunner:
        def observed(context: RunContext) -> Mapping[str, Any]:
            seen[name] = gc.isenabled()
            return real(context)
        return observed

    for name in STEP_NAMES:
        monkeypatch.setitem(STEPS, name, observing(name, STEPS[name]))
    with _open(_copy(book_db, tmp_path), RecordingNotifier()) as crm:
        run_daily(crm, AS_OF)
    assert seen == {"grade": False, "lifecycle": True, "escalate": False, "problems": False,
                    "agenda": False, "deliver": True}
    assert gc.isenabled()


def test_agenda_command_reads_the_stored_agenda_of_one_owner(
        book_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _copy(book_db, tmp_path)
    assert main(["run", "--db", str(path), "--as-of", AS_OF.isoformat()]) == 0
    assert "ran grade, lifecycle, escalate, problems, agenda, deliver" in capsys.readouterr().out
    with CRM.open("sqlite", path=str(path)) as crm:
        owner = next(item.owner for item in PolicyService(crm, scheme="pareto-abc").agenda(AS_OF))
        expected = stored_agenda(crm, owner)
    assert expected is not None
    assert main(["agenda", "--db", str(path), "--owner", owner, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected[1]
    assert main(["agenda", "--db", str(path), "--owner", owner]) == 0
    printed = capsys.readouterr().out
    assert "stored by the daily run of 2026-06-30" in printed
    table = io.StringIO()  # each row's words and due time as the items say (not cached away)
    print_table([(row["owner"], term(row["kind"]), term(row["grade"] or "-"),
                  row["customer_id"], row["subject"],
                  datetime.fromisoformat(row["due_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                  row["why"] if len(row["why"]) <= 110 else row["why"][:107] + "...")
                 for row in expected[1]],
                ("owner", "action", "grade", "customer", "subject", "due (UTC)", "why"), table)
    assert printed.splitlines()[1:] == table.getvalue().splitlines()


def test_run_json_summary_says_what_each_step_did(
        book_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _copy(book_db, tmp_path)
    assert main(["run", "--db", str(path), "--as-of", "2026-06-30", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ran"] == list(STEP_NAMES)
    grade = summary["steps"][0]
    assert (grade["step"], grade["scheme"], grade["customers"]) == ("grade", "pareto-abc", 60)
    assert main(["run", "--db", str(path), "--as-of", "2026-06-30", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["already_done"] is True
    assert again["ran"] == []


def test_run_settings_name_an_unknown_step_clearly(tmp_path: Path) -> None:
    config = tmp_path / "crm.toml"
    config.write_text(f'[storage]\nbackend = "sqlite"\npath = "{tmp_path / "x.db"}"\n'
                      '[run]\nsteps = ["grade", "sleep"]\n', encoding="utf-8")
    with CRM.from_file(config) as crm, pytest.raises(ConfigError, match=r"run\.steps: 'sleep'"):
        RunSettings.from_crm(crm)


def test_a_naive_as_of_is_refused(tmp_path: Path) -> None:
    with CRM.open("sqlite", path=str(tmp_path / "x.db")) as crm, \
            pytest.raises(ConfigError, match="naive"):
        run_daily(crm, datetime(2026, 6, 30))


KILLER = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime
    from crmcore import CRM, FixedClock
    from crmcore.daily import run_daily

    path, as_of, kill_at = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
    crm = CRM.open("sqlite", path=path, clock=FixedClock(as_of))
    storage = crm.storage
    opened = storage.transaction
    count = 0

    def transaction():
        global count
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)   # a real kill, before this commit's work
        return opened()

    storage.transaction = transaction
    run_daily(crm, as_of)
    print("finished")
""")


def _run_killer(path: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", KILLER, str(path), AS_OF.isoformat(),
                           str(kill_at)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CRMCORE_DISABLE_PLUGIN_AUTOLOAD": "1"})


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("kill_at", [2, 4, 7, 12, 20])
def test_a_run_killed_anywhere_converges_to_the_uninterrupted_state(
        book_db: Path, tmp_path: Path, kill_at: int) -> None:
    whole = _copy(book_db, tmp_path, "whole.db")
    assert "finished" in _run_killer(whole, 0).stdout
    killed = _copy(book_db, tmp_path, "killed.db")
    result = _run_killer(killed, kill_at)
    assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr
    assert "finished" in _run_killer(killed, 0).stdout  # the re-run resumes
    assert _stored_state(killed) == _stored_state(whole)
