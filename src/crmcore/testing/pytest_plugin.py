"""crmcore's pytest plugin: fixtures for plugin authors and hosts.

Loaded automatically (entry point ``pytest11``) wherever crmcore is installed;
with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set, load it with
``-p crmcore.testing.pytest_plugin``. Importing it is cheap: it needs only
pytest and the ``crmcore`` package; the fixtures import what they use, and
hypothesis is never imported.

Fixtures:

``crmcore_plugin_manager``
    A fresh plugin manager with the built-in plugins only (no entry points).
``crmcore_clock``
    A :class:`~crmcore.clock.FixedClock` at 2026-01-05T09:00:00+00:00
    (:data:`crmcore.testing.factories.NOW`); advance it to move time.
``crmcore_memory_crm``
    A :class:`~crmcore.CRM` on in-memory storage with that clock and plugin
    manager, closed after the test.

Marker ``crmcore_contract``: carried by every test of the contract suites, so
``pytest -m crmcore_contract`` runs only those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pluggy

    from crmcore.app import CRM
    from crmcore.clock import FixedClock

CONTRACT_MARKER = "crmcore_contract"
"""Name of the marker carried by the tests of the contract suites."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the :data:`CONTRACT_MARKER` marker."""
    config.addinivalue_line(
        "markers", f"{CONTRACT_MARKER}: a test of crmcore's storage or notifier contract suites"
    )


@pytest.fixture
def crmcore_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with crmcore's built-in plugins and no entry points."""
    from crmcore.plugins import make_plugin_manager

    return make_plugin_manager(load_entry_points=False)


@pytest.fixture
def crmcore_clock() -> FixedClock:
    """A clock standing at 2026-01-05T09:00:00+00:00 until advanced."""
    from crmcore.clock import FixedClock
    from crmcore.testing.factories import NOW

    return FixedClock(NOW)


@pytest.fixture
def crmcore_memory_crm(
    crmcore_clock: FixedClock, crmcore_plugin_manager: pluggy.PluginManager
) -> Iterator[CRM]:
    """A :class:`~crmcore.CRM` on ``memory`` storage with ``crmcore_clock``; closed afterwards."""
    from crmcore.app import CRM

    with CRM.open("memory", plugins=crmcore_plugin_manager, clock=crmcore_clock) as crm:
        yield crm
