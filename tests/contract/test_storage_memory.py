"""The storage contract on the ``memory`` backend, and the kit's fixtures on top of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pluggy
import pytest

from crmcore import CRM, Customer, FixedClock, PluginHost, Transaction
from crmcore.testing import StorageContract, make_customer, make_transaction
from crmcore_plugins.storage_memory import MemoryStorage


class TestMemoryStorage(StorageContract):
    """:class:`~crmcore_plugins.storage_memory.MemoryStorage` meets the storage contract."""

    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        backend = MemoryStorage()
        yield backend
        backend.close()


def test_plugin_manager_fixture_has_the_builtin_backends(
    crmcore_plugin_manager: pluggy.PluginManager,
) -> None:
    backends = PluginHost(crmcore_plugin_manager).storage_backends().names()
    assert {"memory", "sqlite"} <= set(backends)


def test_clock_fixture_stands_at_the_reference_time(crmcore_clock: FixedClock) -> None:
    assert crmcore_clock() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert crmcore_clock() == crmcore_clock()


def test_memory_crm_fixture_records_with_the_fixed_clock(
    crmcore_memory_crm: CRM, crmcore_clock: FixedClock
) -> None:
    crmcore_memory_crm.record(make_customer())
    crmcore_clock.advance(timedelta(minutes=5))
    crmcore_memory_crm.record(make_transaction())
    assert crmcore_memory_crm.get(Customer, "C001") == make_customer()
    assert crmcore_memory_crm.find(Transaction, customer_id="C001") == [make_transaction()]
    times = [entry.event.occurred_at for entry in crmcore_memory_crm.events()]
    assert times == [datetime(2026, 1, 5, 9, 0, tzinfo=UTC), datetime(2026, 1, 5, 9, 5, tzinfo=UTC)]


def test_memory_crm_fixture_starts_empty(crmcore_memory_crm: CRM) -> None:
    assert crmcore_memory_crm.count(Customer) == 0
    assert crmcore_memory_crm.events() == []
