"""The plugin shell: hooks, registration by name, entry points (datasette-style checks)."""

from __future__ import annotations

import inspect
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import START, RecordingNotifier

from crmcore import PluginError, hookimpl, hookspecs
from crmcore.errors import ConfigError
from crmcore.options import Options
from crmcore.plugins import (
    BUILTIN_PLUGINS,
    BUILTIN_STORAGE,
    DISABLE_AUTOLOAD_ENV,
    PluginHost,
    builtin_storage,
    make_plugin_manager,
)

HOOK_NAMES = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                    if name.startswith("crmcore_"))


def test_there_are_hooks() -> None:
    assert len(HOOK_NAMES) >= 5


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_is_documented(name: str) -> None:
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert len(doc.split()) >= 20, f"{name} needs a docstring that says when it is called"
    assert "Called" in doc, f"{name}: say when the hook is called"
    assert "firstresult" in doc, f"{name}: say whether the hook is firstresult"
    assert all(p.annotation is not inspect.Parameter.empty
               for p in inspect.signature(spec).parameters.values())


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_has_a_test_of_its_own(name: str) -> None:
    tests = {n for n, _ in inspect.getmembers(sys.modules[__name__], inspect.isfunction)}
    assert f"test_hook_{name}" in tests, f"write test_hook_{name} in {__file__}"


class ExamplePlugin:
    """Registers one component of every kind and observes events."""

    def __init__(self) -> None:
        self.observed: list[str] = []

    @hookimpl
    def crmcore_register_storage(self, register):  # type: ignore[no-untyped-def]
        register("example-store", lambda options: ("store", options.text("where", "here")))

    @hookimpl
    def crmcore_register_notifiers(self, register):  # type: ignore[no-untyped-def]
        register("example-notifier", lambda options: RecordingNotifier())

    @hookimpl
    def crmcore_register_scoring(self, register):  # type: ignore[no-untyped-def]
        register("example-score", lambda options: "scorer")

    @hookimpl
    def crmcore_register_calendars(self, register):  # type: ignore[no-untyped-def]
        register("example-calendar", lambda options: "calendar")

    @hookimpl
    def crmcore_register_commands(self, register):  # type: ignore[no-untyped-def]
        register("example-command", lambda parser: lambda arguments: 7)

    @hookimpl
    def crmcore_event_committed(self, event):  # type: ignore[no-untyped-def]
        self.observed.append(event.type)


@pytest.fixture
def example() -> ExamplePlugin:
    return ExamplePlugin()


@pytest.fixture
def example_host(example: ExamplePlugin) -> PluginHost:
    return PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[example]))


def test_hook_crmcore_register_storage(example_host: PluginHost) -> None:
    backends = example_host.storage_backends()
    assert {"memory", "sqlite", "example-store"} <= set(backends.names())
    factory = backends.get("example-store")
    assert factory(Options({"where": "there"}, "storage")) == ("store", "there")


def test_hook_crmcore_register_notifiers(example_host: PluginHost) -> None:
    notifiers = example_host.notifiers()
    assert {"log", "example-notifier"} <= set(notifiers.names())
    assert isinstance(notifiers.get("example-notifier")(Options({}, "n")), RecordingNotifier)


def test_hook_crmcore_register_scoring(example_host: PluginHost) -> None:
    assert example_host.scoring_strategies().get("example-score")(Options({}, "s")) == "scorer"


def test_hook_crmcore_register_calendars(example_host: PluginHost) -> None:
    assert example_host.calendars().get("example-calendar")(Options({}, "c")) == "calendar"


def test_hook_crmcore_register_commands(example_host: PluginHost) -> None:
    """The factory gets the command's parser and returns what runs it (CLI: tests/plugin_kit)."""
    import argparse

    run = example_host.commands().get("example-command")(argparse.ArgumentParser())
    assert run(argparse.Namespace()) == 7


def test_hook_crmcore_event_committed(example_host: PluginHost, example: ExamplePlugin,
                                      tmp_path: Path) -> None:
    from tests.conftest import customer

    from crmcore import CRM, FixedClock

    with CRM.open("sqlite", path=str(tmp_path / "x.db"), plugins=example_host,
                  clock=FixedClock(START)) as crm:
        crm.record(customer("C1"))
    assert example.observed == ["customer.recorded"]


def test_a_failing_observer_does_not_undo_or_block_the_write(tmp_path: Path) -> None:
    from crmcore import CRM, Customer

    class Broken:
        @hookimpl
        def crmcore_event_committed(self, event):  # type: ignore[no-untyped-def]
            raise RuntimeError("observer bug")

    host = PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[Broken()]))
    with CRM.open("memory", plugins=host) as crm:
        assert crm.record(Customer(id="C1", name="Acme"))
        assert crm.get(Customer, "C1") is not None
        assert len(crm.events()) == 1


def test_unknown_name_lists_the_known_ones(example_host: PluginHost) -> None:
    with pytest.raises(PluginError, match=r"storage.backend: 'sqlit' is not a registered "
                                          r"storage backend \(known: example-store, memory, "
                                          r"(.+, )?sqlite\b"):
        example_host.storage_backends().get("sqlit", key="storage.backend")


def test_two_plugins_registering_one_name_is_an_error_naming_both() -> None:
    class Clash:
        @hookimpl
        def crmcore_register_storage(self, register):  # type: ignore[no-untyped-def]
            register("sqlite", lambda options: None)

    host = PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[Clash()]))
    with pytest.raises(PluginError, match="'sqlite' is registered twice: by "
                                          "crmcore_plugins.storage_sqlite and by "):
        host.storage_backends()


def test_builtins_register_through_the_same_hooks_without_entry_points() -> None:
    manager = make_plugin_manager(load_entry_points=False)
    assert [name for name, _ in manager.list_name_plugin()] == sorted(BUILTIN_PLUGINS) or \
        {name for name, _ in manager.list_name_plugin()} == set(BUILTIN_PLUGINS)
    described = {info.name: info for info in PluginHost(manager).describe()}
    assert described["crmcore_plugins.storage_sqlite"].registers == {"storage": ("sqlite",)}
    assert described["crmcore_plugins.notify_log"].registers == {"notifiers": ("log",)}


def test_plugin_manager_is_fresh_each_time() -> None:
    assert make_plugin_manager(load_entry_points=False) is not make_plugin_manager(
        load_entry_points=False)


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A plugin distribution installed on sys.path (metadata + module)."""
    (tmp_path / "fake_crm_plugin.py").write_text(textwrap.dedent("""
        from crmcore import hookimpl

        @hookimpl
        def crmcore_register_notifiers(register):
            register("fake", lambda options: None)
    """))
    info = tmp_path / "fake_crm_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-crm-plugin\n"
                                   "Version: 1.2.3\n")
    (info / "entry_points.txt").write_text("[crmcore]\nfake = fake_crm_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("fake_crm_plugin", None)


def test_entry_point_plugins_load_and_can_be_switched_off(
    fake_distribution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    described = {info.name: info for info in PluginHost(make_plugin_manager()).describe()}
    assert described["fake"].distribution == "fake-crm-plugin"
    assert described["fake"].version == "1.2.3"
    assert described["fake"].registers == {"notifiers": ("fake",)}
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "fake" not in PluginHost(make_plugin_manager()).notifiers()


def test_a_broken_entry_point_names_itself(fake_distribution: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    (fake_distribution / "fake_crm_plugin.py").write_text("raise ImportError('missing lib')\n")
    with pytest.raises(PluginError, match=r"plugin 'fake' \(fake_crm_plugin\) from "
                                          r"fake-crm-plugin failed to load: missing lib"):
        make_plugin_manager()


def test_the_builtin_storage_table_is_what_the_builtin_plugins_register() -> None:
    """The shortcut that opens a built-in store without the manager gives the same
    factory the full registry would, for every built-in storage name and no other."""
    registry = PluginHost(make_plugin_manager(load_entry_points=False)).storage_backends()
    builtin = {r.name: r.plugin for r in registry if r.plugin in BUILTIN_PLUGINS}
    assert builtin == BUILTIN_STORAGE
    for name in BUILTIN_STORAGE:
        assert builtin_storage(name) is registry.get(name)


def test_a_host_builds_its_manager_when_first_used_not_when_made(
    fake_distribution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    host = PluginHost()
    assert host.storage_backend("sqlite", key="storage.backend") is builtin_storage("sqlite")
    assert "fake_crm_plugin" not in sys.modules  # opening a built-in store loads no plugin
    assert "fake" in host.notifiers()
    assert "fake_crm_plugin" in sys.modules
    given = make_plugin_manager(load_entry_points=False)
    assert PluginHost(given).manager is given


def test_entry_point_plugins_still_supply_storage_and_notifiers_and_see_writes(
    fake_distribution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmcore import CRM, Customer
    from crmcore.config import ComponentConfig, CRMConfig

    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    (fake_distribution / "fake_crm_plugin.py").write_text(textwrap.dedent("""
        from crmcore import hookimpl
        from crmcore_plugins.storage_memory import open_memory_storage

        notified, observed = [], []

        class Notifier:
            def notify(self, event):
                notified.append(event.type)

        @hookimpl
        def crmcore_register_storage(register):
            register("fake-store", open_memory_storage)

        @hookimpl
        def crmcore_register_notifiers(register):
            register("fake", lambda options: Notifier())

        @hookimpl
        def crmcore_event_committed(event):
            observed.append(event.type)
    """))
    config = CRMConfig(storage=ComponentConfig("fake-store"),
                       notifiers=(ComponentConfig("fake"),))
    with CRM.from_config(config) as crm:
        assert crm.record(Customer(id="C1", name="Acme"))
    plugin = sys.modules["fake_crm_plugin"]
    assert plugin.observed == plugin.notified == ["customer.recorded"]
    with CRM.open("memory") as crm:  # built-in store: the plugin still observes writes
        assert crm.record(Customer(id="C2", name="Beta"))
    assert plugin.observed == ["customer.recorded"] * 2


def test_a_broken_entry_point_stops_a_write_before_it_is_stored(
    fake_distribution: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Reading a built-in store needs no plugin; the first write loads them all first."""
    from crmcore import CRM, Customer

    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database, plugins=make_plugin_manager(
            load_entry_points=False)) as crm:
        crm.record(Customer(id="C1", name="Acme"))
    (fake_distribution / "fake_crm_plugin.py").write_text("raise ImportError('missing lib')\n")
    with CRM.open("sqlite", path=database) as crm:
        assert crm.get(Customer, "C1") is not None
        with pytest.raises(PluginError, match="plugin 'fake' .* failed to load: missing lib"):
            crm.record(Customer(id="C2", name="Beta"))
        assert crm.get(Customer, "C2") is None
        assert len(crm.events()) == 1


def test_options_reject_wrong_types_and_unknown_keys() -> None:
    options = Options({"path": 5, "colour": "red"}, "storage")
    with pytest.raises(ConfigError, match="storage.path: 5 is not a file path"):
        options.path("path")
    with pytest.raises(ConfigError, match=r"storage.colour: is not a known option"):
        options.check_all_used()


def test_options_read_nested_tables_and_lists_of_tables_with_key_paths() -> None:
    options = Options({"chain": [{"role": "boss"}, "oops"], "sla": {"warn_at": 0.7}},
                      "policies")
    assert options.has("sla")
    assert not options.has("care")
    assert options.section("sla").number("warn_at") == 0.7
    assert options.section("care").has("anything") is False
    with pytest.raises(ConfigError, match=r"policies.chain\[1\]: 'oops' is not a table"):
        options.sections("chain")
    with pytest.raises(ConfigError, match=r"policies.sla: is not a known option \(known: chain\)"):
        options.refuse_unknown(("chain",))
