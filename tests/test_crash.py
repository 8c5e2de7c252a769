"""A process killed between the state change and delivery loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import START, RecordingNotifier, RecordingPlugin

from crmcore import CRM, Customer, FixedClock

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
