"""Building the plugin manager and the typed facade over its hooks.

:func:`make_plugin_manager` is the only place plugins are loaded: the
built-in adapters of :mod:`crmcore_plugins` first, then every entry point of
the ``crmcore`` group (unless ``CRMCORE_DISABLE_PLUGIN_AUTOLOAD`` is set),
then ``extra_plugins``. Core code never calls ``pm.hook`` directly; it goes
through :class:`PluginHost`.

A :class:`PluginHost` made without a manager builds its own when first used,
and opening a built-in storage backend (:data:`BUILTIN_STORAGE`) does not use
it: a command that only reads a SQLite file loads no other plugin, while the
first write, notifier, calendar or scoring strategy loads them all.
"""

from __future__ import annotations

import importlib
import logging
import os
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from crmcore.errors import PluginError
from crmcore.i18n import N_, tr

if TYPE_CHECKING:
    from importlib import metadata

    import pluggy
    from pluggy import HookImpl

    from crmcore import hookspecs
    from crmcore.events import DomainEvent, EncodedEvent
    from crmcore.ports import CalendarFactory, NotifierFactory, ScoringFactory, StorageFactory

ENTRY_POINT_GROUP = "crmcore"
"""The entry-point group third-party plugins are published under."""

DISABLE_AUTOLOAD_ENV = "CRMCORE_DISABLE_PLUGIN_AUTOLOAD"
"""Set this environment variable (to anything but ``""`` or ``"0"``) to skip entry points."""

BUILTIN_PLUGINS: tuple[str, ...] = (
    "crmcore_plugins.storage_memory",
    "crmcore_plugins.storage_sqlite",
    "crmcore_plugins.storage_sql",
    "crmcore_plugins.notify_log",
    "crmcore_plugins.notify_smtp",
    "crmcore_plugins.notify_webhook",
    "crmcore_plugins.notify_apprise",
    "crmcore_plugins.scoring_clv",
    "crmcore_plugins.scoring_rfm",
    "crmcore_plugins.calendar_toml",
    "crmcore_plugins.calendar_holidays",
)
"""Modules registered in every plugin manager, through the same hooks as others."""

BUILTIN_STORAGE: dict[str, str] = {
    "memory": "crmcore_plugins.storage_memory",
    "sqlite": "crmcore_plugins.storage_sqlite",
    "sql": "crmcore_plugins.storage_sql",
}
"""The storage backends of :data:`BUILTIN_PLUGINS`, each with the module that registers
it: :meth:`PluginHost.storage_backend` opens them without loading every plugin."""

_log = logging.getLogger(__name__)
_DISTRIBUTIONS: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, metadata.Distribution]]
_DISTRIBUTIONS = weakref.WeakKeyDictionary()
F = TypeVar("F")


def autoload_disabled() -> bool:
    """Whether :data:`DISABLE_AUTOLOAD_ENV` asks to skip entry-point plugins."""
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "") not in ("", "0")


def make_plugin_manager(
    load_entry_points: bool = True, extra_plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """Build a fresh plugin manager with the built-ins, entry points and extras.

    ``extra_plugins`` are modules or objects with ``@hookimpl`` functions.
    A plugin that fails to import raises :class:`~crmcore.errors.PluginError`
    naming the entry point and its distribution.
    """
    import pluggy

    from crmcore import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points and not autoload_disabled():
        _load_entry_points(manager)
    for plugin in extra_plugins:
        manager.register(plugin, name=_plugin_name(manager, plugin))
    return manager


def _plugin_name(manager: pluggy.PluginManager, plugin: object) -> str:
    """A readable, unique name: the module name, or module and class of an object."""
    base = getattr(plugin, "__name__", None)
    if not isinstance(base, str):
        base = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
    name, number = base, 1
    while manager.has_plugin(name):
        number += 1
        name = f"{base}#{number}"
    return name


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    from importlib import metadata

    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if manager.get_plugin(entry_point.name) is not None:
            continue
        try:
            plugin = entry_point.load()
        except Exception as error:
            dist = entry_point.dist.name if entry_point.dist else tr("unknown distribution")
            raise PluginError(tr("plugin {name!r} ({value}) from {dist} failed to load: {error}"
                                 ).format(name=entry_point.name, value=entry_point.value,
                                          dist=dist, error=error)) from error
        manager.register(plugin, name=entry_point.name)
        if entry_point.dist is not None:
            _DISTRIBUTIONS.setdefault(manager, {})[entry_point.name] = entry_point.dist


@attrs.frozen
class Registration(Generic[F]):
    """A component registered by a plugin: its name, factory and plugin."""

    name: str
    factory: F
    plugin: str


class Registry(Generic[F]):
    """The components of one kind (storage backends, notifiers...) by name.

    ``category`` names the kind in refusals; it is a word of the catalogue, worded in
    the current language when a refusal is raised.
    """

    def __init__(self, category: str, registrations: Iterable[Registration[F]]) -> None:
        self.category = category
        self._by_name: dict[str, Registration[F]] = {}
        for registration in registrations:
            earlier = self._by_name.get(registration.name)
            if earlier is not None:
                raise PluginError(tr("{category} {name!r} is registered twice: by {first} and "
                                     "by {second}").format(
                    category=tr(category), name=registration.name, first=earlier.plugin,
                    second=registration.plugin))
            self._by_name[registration.name] = registration

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._by_name)

    def __iter__(self) -> Iterator[Registration[F]]:
        return iter(self._by_name[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str, *, key: str | None = None) -> F:
        """The factory registered as ``name``.

        Raises :class:`~crmcore.errors.PluginError` listing the known names;
        ``key`` (a config key such as ``"storage.backend"``) prefixes it.
        """
        registration = self._by_name.get(name)
        if registration is None:
            known = ", ".join(self.names()) or tr("none")
            template = (tr("{key}: {name!r} is not a registered {category} (known: {known})")
                        if key else tr("{name!r} is not a registered {category} (known: {known})"))
            raise PluginError(template.format(key=key, name=name, category=tr(self.category),
                                              known=known))
        return registration.factory


@attrs.frozen
class PluginInfo:
    """What ``crmcore plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    registers: dict[str, tuple[str, ...]]


class PluginHost:
    """Typed access to the hooks of one plugin manager.

    Without ``manager``, the host builds one with :func:`make_plugin_manager` when
    first used (see :meth:`load`), not when made.
    """

    def __init__(self, manager: pluggy.PluginManager | None = None) -> None:
        self._manager = manager
        self._cache: dict[str, Registry[Any]] = {}

    @property
    def manager(self) -> pluggy.PluginManager:
        """The plugin manager, built (loading every plugin) on first use if none was given."""
        if self._manager is None:
            self._manager = make_plugin_manager()
        return self._manager

    def load(self) -> None:
        """Load the plugins now if they are not loaded yet: a plugin that fails to import
        raises :class:`~crmcore.errors.PluginError` here, before any write it should see."""
        self.manager  # noqa: B018 - built on first access

    def storage_backend(self, name: str, *, key: str | None = None) -> StorageFactory:
        """The storage factory registered as ``name``, as ``storage_backends().get``.

        While the host has not built its own manager yet, a built-in backend
        (:data:`BUILTIN_STORAGE`) comes from its module alone, loading no other plugin.
        """
        if self._manager is None and name in BUILTIN_STORAGE:
            return builtin_storage(name)
        return self.storage_backends().get(name, key=key)

    def _collect(self, hook_name: str, category: str) -> Registry[Any]:
        if hook_name not in self._cache:
            registrations: list[Registration[Any]] = []
            caller = getattr(self.manager.hook, hook_name)
            for implementation in caller.get_hookimpls():  # registration order
                def register(name: str, factory: Any, plugin: str = implementation.plugin_name
                             ) -> None:
                    if not isinstance(name, str) or not name:
                        raise PluginError(tr("{plugin} registered a {category} without a name"
                                             ).format(plugin=plugin, category=tr(category)))
                    registrations.append(Registration(name, factory, plugin))

                _call(implementation, register=register)
            self._cache[hook_name] = Registry(category, registrations)
        return self._cache[hook_name]

    def storage_backends(self) -> Registry[StorageFactory]:
        """Storage backends registered through ``crmcore_register_storage``."""
        return self._collect("crmcore_register_storage", N_("storage backend"))

    def notifiers(self) -> Registry[NotifierFactory]:
        """Notifiers registered through ``crmcore_register_notifiers``."""
        return self._collect("crmcore_register_notifiers", N_("notifier"))

    def scoring_strategies(self) -> Registry[ScoringFactory]:
        """Scoring strategies registered through ``crmcore_register_scoring``."""
        return self._collect("crmcore_register_scoring", N_("scoring strategy"))

    def calendars(self) -> Registry[CalendarFactory]:
        """Business calendars registered through ``crmcore_register_calendars``."""
        return self._collect("crmcore_register_calendars", N_("calendar"))

    def commands(self) -> Registry[hookspecs.CommandFactory]:
        """Command-line commands registered through ``crmcore_register_commands``."""
        return self._collect("crmcore_register_commands", N_("command"))

    def registries(self) -> dict[str, Registry[Any]]:
        """Every provider registry by category name."""
        return {
            "storage": self.storage_backends(),
            "notifiers": self.notifiers(),
            "scoring": self.scoring_strategies(),
            "calendars": self.calendars(),
            "commands": self.commands(),
        }

    def event_committed(self, event: DomainEvent | EncodedEvent) -> None:
        """Tell every observer about ``event``; an observer's error is logged only.

        An encoded event (:class:`~crmcore.events.EncodedEvent`) is decoded only
        when some plugin observes.
        """
        implementations = self.manager.hook.crmcore_event_committed.get_hookimpls()
        if not implementations:
            return
        from crmcore.events import EncodedEvent  # imported when used: the CLI starts faster
        from crmcore.ports import decoded_event

        if isinstance(event, EncodedEvent):
            event = decoded_event(event)
        for implementation in implementations:
            _call_observer(implementation, event)

    def describe(self) -> list[PluginInfo]:
        """Every plugin with its distribution, hooks and registered names."""
        distributions = _DISTRIBUTIONS.get(self.manager, {})
        registries = self.registries()
        infos: list[PluginInfo] = []
        for name, plugin in sorted(self.manager.list_name_plugin()):
            dist = distributions.get(name)
            hooks = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin)
                                 or ()))
            registers = {
                category: tuple(r.name for r in registry if r.plugin == name)
                for category, registry in registries.items()
            }
            infos.append(PluginInfo(
                name=name,
                distribution=dist.name if dist is not None else None,
                version=dist.version if dist is not None else None,
                hooks=hooks,
                registers={k: v for k, v in registers.items() if v},
            ))
        return infos


def builtin_storage(name: str) -> StorageFactory:
    """The factory the built-in module of :data:`BUILTIN_STORAGE` registers as ``name``
    (through its own ``crmcore_register_storage`` hook)."""
    module = importlib.import_module(BUILTIN_STORAGE[name])
    registered: dict[str, StorageFactory] = {}
    module.crmcore_register_storage(register=registered.__setitem__)
    return registered[name]


def _call(implementation: HookImpl, **arguments: Any) -> Any:
    """Call one hook implementation with the arguments it declares (as pluggy does)."""
    return implementation.function(
        **{name: arguments[name] for name in implementation.argnames}
    )


def _call_observer(implementation: HookImpl, event: DomainEvent) -> None:
    try:
        _call(implementation, event=event)
    except Exception:
        _log.exception("observer %s failed on event %s (%s)",
                       implementation.plugin_name, event.id, event.type)
