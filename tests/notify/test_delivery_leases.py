"""Delivery off the write path and leases: no write waits, no event sent twice (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import CRM, Customer
from crmcore.cli import main
from crmcore.errors import EXIT_USAGE
from crmcore.outbox import LEASE_KIND, RetryPolicy, deliver_pending
from crmcore.ports import StoredRecord
from crmcore_plugins.notify_webhook import WebhookNotifier

from .conftest import SECRET, HookServer, Reply


def _config(tmp_path: Path, server: HookServer, *, auto: bool = False) -> Path:
    path = tmp_path / "crm.toml"
    path.write_text(f"""
[storage]
path = "crm.db"

[[notifiers]]
use = "webhook"
name = "hook"
url = "{server.url}"
secret = "{SECRET}"
timeout = 5
backoff_seconds = 0.01

[delivery]
auto = {str(auto).lower()}
""", encoding="utf-8")
    return path


def _customers(count: int) -> list[Customer]:
    return [Customer(id=f"C{i:03d}", name=f"Customer {i}") for i in range(count)]


def test_a_write_returns_while_the_webhook_is_still_answering(
        tmp_path: Path, http_server: HookServer) -> None:
    http_server.script(Reply(200, delay=60))  # held until release
    with CRM.from_file(_config(tmp_path, http_server, auto=True)) as crm:
        crm.start_delivery(interval=0.05)
        crm.record(Customer(id="C1", name="Acme"))
        # Had the write waited on delivery, the server would have answered by now.
        assert http_server.accepted == []
        http_server.release.set()
        crm.stop_delivery()
        assert [e.event.subject for e in crm.events()] == ["customer:C1"]
    assert len(http_server.accepted) == 1
    assert len(http_server.requests) == 1


def test_delivering_context_flushes_on_exit(tmp_path: Path, http_server: HookServer) -> None:
    with CRM.from_file(_config(tmp_path, http_server)) as crm, crm.delivering(interval=60):
        crm.record_many(_customers(5))
    assert len(http_server.accepted) == 5


def test_three_deliverer_processes_send_each_event_exactly_once(
        tmp_path: Path, http_server: HookServer) -> None:
    config = _config(tmp_path, http_server)
    with CRM.from_file(config) as crm:
        crm.record_many(_customers(60))
    http_server.script(*[Reply(200, delay=0.01)] * 60)
    command = [sys.executable, "-m", "crmcore.cli", "deliver", "--config", str(config)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ)) for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all("Traceback" not in err for _, err in outputs), outputs
    assert sorted(http_server.received) == sorted(set(http_server.received))
    assert len(http_server.received) == 60
    delivered = sum(int(out.split()[1].rstrip(",")) for out, _ in outputs)
    assert delivered == 60, outputs


def test_an_expired_lease_of_a_crashed_deliverer_is_taken_over(
        tmp_path: Path, http_server: HookServer) -> None:
    with CRM.from_file(_config(tmp_path, http_server)) as crm:
        crm.record_many(_customers(3))
        now = datetime.now(UTC)
        with crm.storage.transaction() as session:  # a deliverer on another host died
            session.insert(StoredRecord(LEASE_KIND, "hook", 1, "(delivery)", None, {
                "holder": "other-host:4242:abcd",
                "expires_at": (now + timedelta(seconds=120)).isoformat()}))
        notifiers = {"hook": WebhookNotifier(http_server.url, SECRET)}
        held = deliver_pending(crm.storage, notifiers, clock=crm.now, lease_clock=lambda: now)
        assert (held.delivered, held.busy, held.waiting) == (0, ("hook",), 3)
        assert http_server.requests == []
        later = now + timedelta(seconds=121)
        taken = deliver_pending(crm.storage, notifiers, clock=crm.now,
                                lease_clock=lambda: later)
        assert (taken.delivered, taken.busy, taken.waiting) == (3, (), 0)
    assert len(http_server.accepted) == 3


def test_a_failed_delivery_is_reported_as_waiting_and_deliver_exits_1(
        tmp_path: Path, http_server: HookServer) -> None:
    config = _config(tmp_path, http_server)
    with CRM.from_file(config) as crm:
        crm.record(Customer(id="C1", name="Acme"))
    http_server.script(500, 500, 500)
    command = [sys.executable, "-m", "crmcore.cli", "deliver", "--config", str(config)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert first.returncode == 1
    assert first.stdout.startswith("delivered 0, failed 1, waiting 1")
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert again.stdout.startswith("delivered 0, failed 0, waiting 1")  # due later
    assert again.returncode == 1


def test_lease_seconds_is_read_from_the_configuration(tmp_path: Path,
                                                      http_server: HookServer) -> None:
    config = _config(tmp_path, http_server)
    config.write_text(config.read_text(encoding="utf-8") + "lease_seconds = 7\n",
                      encoding="utf-8")
    with CRM.from_file(config) as crm:
        assert crm.retry == RetryPolicy(lease=timedelta(seconds=7))


def test_deliver_watch_keeps_delivering_until_sigterm(tmp_path: Path,
                                                      http_server: HookServer) -> None:
    config = _config(tmp_path, http_server)
    with CRM.from_file(config) as crm:
        crm.record(Customer(id="C0", name="before"))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "crmcore.cli", "deliver", "--config", str(config), "--watch",
         "--interval", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with CRM.from_file(config) as crm:
            crm.record_many(_customers(3))
        deadline = time.monotonic() + 60
        while len(http_server.accepted) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert "Traceback" not in err
    assert sorted(http_server.accepted) == sorted(set(http_server.accepted))
    assert len(http_server.accepted) == 4
    assert out.startswith("delivering every 0.1 s")


def test_watch_interval_must_be_finite_and_positive(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "nan", "inf", "soon"):
        with pytest.raises(SystemExit) as stop:
            main(["deliver", "--db", "x.db", "--watch", "--interval", bad])
        assert stop.value.code == EXIT_USAGE
        assert "--interval" in capsys.readouterr().err


def test_writes_from_many_threads_in_line_deliver_every_event_once(tmp_path: Path) -> None:
    """auto delivery with threads: a thread finding another delivering asks it to go again."""
    import threading

    from tests.conftest import RecordingNotifier, RecordingPlugin

    from crmcore.plugins import PluginHost, make_plugin_manager

    notifier = RecordingNotifier()
    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[RecordingPlugin(notifier)]))
    with CRM.open("sqlite", path=str(tmp_path / "crm.db"), notifiers=["recording"],
                  plugins=host) as crm:
        def write(start: int) -> None:
            for i in range(start, start + 10):
                crm.record(Customer(id=f"C{i:03d}", name=f"Customer {i}"))

        threads = [threading.Thread(target=write, args=(n * 10,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        subjects = [event.subject for event in notifier.events]
        assert sorted(subjects) == sorted(set(subjects))
        assert len(subjects) == 40
        assert crm.deliver_events().waiting == 0
