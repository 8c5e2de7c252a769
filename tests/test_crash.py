"""A process killed mid-way loses nothing committed and a re-run finishes the job.

Killed between the state change and delivery: the event is delivered next
time. Killed in the middle of ``crmcore lifecycle advance``: every customer is
before or after its moves, and running it again gives what an uninterrupted
run stores.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import START, RecordingNotifier, RecordingPlugin

from crmcore import CRM, Customer, FixedClock, Transaction
from crmcore.lifecycle import customer_flow
from crmcore.transitions import FlowState, HistoryEntry, replay

WRITER = textwrap.dedent("""
    import os, signal, sys
    from crmcore import CRM, Customer, hookimpl
    from crmcore.plugins import PluginHost, make_plugin_manager

    class Die:
        def notify(self, event):
            os.kill(os.getpid(), signal.SIGKILL)   # dies after the commit, mid-delivery

    class Plugin:
        @hookimpl
        def crmcore_register_notifiers(self, register):
            register("recording", lambda options: Die())

    host = PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[Plugin()]))
    crm = CRM.open("sqlite", path=sys.argv[1], notifiers=["recording"], plugins=host)
    crm.record_many([Customer(id="C1", name="Acme"), Customer(id="C2", name="Beta")])
    print("not reached")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_between_commit_and_delivery_then_delivered_on_next_run(tmp_path: Path) -> None:
    database = tmp_path / "crm.db"
    result = subprocess.run([sys.executable, "-c", WRITER, str(database)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "CRMCORE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "not reached" not in result.stdout

    notifier = RecordingNotifier()
    from crmcore.plugins import PluginHost, make_plugin_manager
    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[RecordingPlugin(notifier)]))
    with CRM.open("sqlite", path=str(database), notifiers=["recording"], plugins=host,
                  clock=FixedClock(START)) as crm:
        assert {c.id for c in crm.find(Customer)} == {"C1", "C2"}
        assert [e.event.type for e in crm.events()] == ["customer.recorded"] * 2
        report = crm.deliver_events()
    assert report.delivered == 2
    assert sorted(e.subject for e in notifier.events) == ["customer:C1", "customer:C2"]


ADVANCE = textwrap.dedent("""
    import os, signal, sqlite3, sys, threading, time
    from crmcore.cli import main

    path, as_of, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def kill_when_states_are_stored():
        watcher = sqlite3.connect(path, timeout=30)
        while True:
            stored = watcher.execute(
                "SELECT COUNT(*) FROM all_records WHERE kind = 'flow_state'").fetchone()[0]
            if stored >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)  # wherever the advance is now
            time.sleep(0.001)

    if kill_after:
        threading.Thread(target=kill_when_states_are_stored, daemon=True).start()
    sys.exit(main(["lifecycle", "advance", "--db", path, "--as-of", as_of,
                   "--batch-size", "40", "--format", "json"]))
""")
AS_OF = "2026-06-30"


def _advance(database: Path, kill_after: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ADVANCE, str(database), AS_OF, str(kill_after)],
                          capture_output=True, text=True, timeout=300)


def _lifecycle_book(database: Path, customers: int) -> None:
    """Customers with purchase rhythms from weekly to yearly, some long silent."""
    with CRM.open("sqlite", path=str(database)) as crm:
        crm.import_entities([Customer(id=f"C{n:04d}", name=f"Customer {n}")
                             for n in range(customers)], source="test")
        crm.import_entities(
            (Transaction(id=f"C{n:04d}-{k}", customer_id=f"C{n:04d}",
                         occurred_at=START - timedelta(days=600 - n % 97 - k * (7 + n % 53)),
                         amount=Decimal(10 + k))
             for n in range(customers) for k in range(n % 9)), source="test")


def _stored(database: Path) -> tuple[dict[str, FlowState], dict[str, list[HistoryEntry]]]:
    with CRM.open("sqlite", path=str(database)) as crm:
        states = {state.subject_id: state for state in crm.find(FlowState)}
        histories: dict[str, list[HistoryEntry]] = {}
        for entry in sorted(crm.find(HistoryEntry), key=lambda e: (e.subject_id, e.sequence)):
            histories.setdefault(entry.subject_id, []).append(entry)
        return states, histories


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("kill_after", [1, 200])
def test_advance_killed_mid_way_then_rerun_equals_an_uninterrupted_run(
        tmp_path: Path, kill_after: int) -> None:
    book = tmp_path / "book.db"
    _lifecycle_book(book, 400)  # ten batches of 40 customers
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    shutil.copy(book, whole)
    shutil.copy(book, killed)
    assert _advance(whole).returncode == 0
    expected_states, expected_histories = _stored(whole)
    assert len(expected_states) == 400
    assert sum(len(entries) for entries in expected_histories.values()) > 1000

    crashed = _advance(killed, kill_after)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    states, histories = _stored(killed)
    assert kill_after <= len(states) < 400  # killed mid-way
    for subject_id, state in states.items():  # each customer before or after its moves
        assert state == expected_states[subject_id]
        assert histories[subject_id] == expected_histories[subject_id]
        assert replay(customer_flow(), histories[subject_id]) == state
    assert set(histories) == set(states)

    assert _advance(killed).returncode == 0
    assert _stored(killed) == (expected_states, expected_histories)
