"""Shared fixtures of crmcore's own test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings

from crmcore import CRM, Customer, DomainEvent, FixedClock, Transaction, hookimpl
from crmcore.plugins import PluginHost, make_plugin_manager

# CI explores the same examples on every run (a red build is then reproducible
# and never a coin toss); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class RecordingNotifier:
    """Keeps every event it is given; fails while ``failures_left`` > 0."""

    def __init__(self, failures: int = 0) -> None:
        self.events: list[DomainEvent] = []
        self.failures_left = failures

    def notify(self, event: DomainEvent) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("receiver is down")
        self.events.append(event)


class RecordingPlugin:
    """A plugin object that registers the ``recording`` notifier."""

    def __init__(self, notifier: RecordingNotifier) -> None:
        self.notifier = notifier

    @hookimpl
    def crmcore_register_notifiers(self, register):  # type: ignore[no-untyped-def]
        register("recording", lambda options: self.notifier)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def recorder() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def host(recorder: RecordingNotifier) -> PluginHost:
    return PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[RecordingPlugin(recorder)]))


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path, host: PluginHost,
        clock: FixedClock) -> Iterator[CRM]:
    """A CRM with the recording notifier, on each storage backend."""
    options = {"path": str(tmp_path / "crm.db")} if request.param == "sqlite" else {}
    with CRM.open(request.param, notifiers=["recording"], plugins=host, clock=clock,
                  **options) as opened:
        yield opened


def customer(customer_id: str = "C1", **overrides: object) -> Customer:
    return Customer(id=customer_id, name=f"Customer {customer_id}", **overrides)  # type: ignore[arg-type]


def purchase(transaction_id: str, customer_id: str = "C1", amount: str = "100.00",
             day: int = 1) -> Transaction:
    return Transaction(id=transaction_id, customer_id=customer_id,
                       occurred_at=datetime(2025, 1, day, 10, tzinfo=UTC),
                       amount=Decimal(amount))
