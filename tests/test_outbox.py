"""Transactional outbox: nothing lost when a notifier fails; retries with backoff."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import START, RecordingNotifier, RecordingPlugin, customer

from crmcore import CRM, FixedClock, RetryPolicy
from crmcore.plugins import PluginHost, make_plugin_manager


def _open(path: Path, notifier: RecordingNotifier, clock: FixedClock) -> CRM:
    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[RecordingPlugin(notifier)]))
    return CRM.open("sqlite", path=str(path), notifiers=["recording"], plugins=host,
                    clock=clock)


def test_a_failing_notifier_loses_nothing_and_delivery_completes_later(tmp_path: Path) -> None:
    clock = FixedClock(START)
    notifier = RecordingNotifier(failures=2)
    with _open(tmp_path / "crm.db", notifier, clock) as crm:
        crm.record(customer("C1"))  # first attempt fails inside record()
        assert crm.get(customer("C1").__class__, "C1") is not None
        assert notifier.events == []
        assert crm.deliver_events().delivered == 0  # not due yet: backoff
        clock.advance(timedelta(seconds=30))
        report = crm.deliver_events()  # second failure
        assert (report.delivered, report.failures[0].attempts) == (0, 2)
        assert "ConnectionError: receiver is down" in report.failures[0].error
        clock.advance(timedelta(seconds=59))
        assert crm.deliver_events().delivered == 0  # second backoff is 60 s
        clock.advance(timedelta(seconds=1))
        assert crm.deliver_events().delivered == 1
        assert [e.type for e in notifier.events] == ["customer.recorded"]
        assert crm.deliver_events().delivered == 0  # delivered once, not again
        assert len(crm.events()) == 1


def test_events_wait_in_the_outbox_across_restarts(tmp_path: Path) -> None:
    clock = FixedClock(START)
    down = RecordingNotifier(failures=10)
    with _open(tmp_path / "crm.db", down, clock) as crm:
        crm.record_many([customer("C1")])
        crm.record_many([customer("C2")])
    up = RecordingNotifier()
    clock.advance(timedelta(hours=1))
    with _open(tmp_path / "crm.db", up, clock) as crm:
        crm.deliver_events()
    assert [e.subject for e in up.events] == ["customer:C1", "customer:C2"]


def test_a_new_notifier_receives_events_from_when_it_was_configured(tmp_path: Path) -> None:
    clock = FixedClock(START)
    with CRM.open("sqlite", path=str(tmp_path / "crm.db"), clock=clock) as crm:
        crm.record(customer("C1"))
    late = RecordingNotifier()
    with _open(tmp_path / "crm.db", late, clock) as crm:
        crm.record(customer("C2"))
    assert [e.subject for e in late.events] == ["customer:C2"]


def test_retry_policy_doubles_up_to_the_maximum() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=50))
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 50, 50]
