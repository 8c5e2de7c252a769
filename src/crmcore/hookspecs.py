"""Every hook of crmcore, documented. Plugins implement them with :data:`hookimpl`.

Provider hooks receive a ``register`` callback and call it once per
component: ``register(name, factory)``. A factory takes the component's
configured :class:`~crmcore.options.Options` and returns the component.
Configuration then chooses components *by name*, never by load order, and
two plugins registering the same name is an error that names both.

Observer hooks receive domain events after they are committed.

Example plugin module::

    from crmcore import hookimpl

    @hookimpl
    def crmcore_register_notifiers(register):
        register("printer", lambda options: PrintNotifier())
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pluggy

from crmcore.events import DomainEvent
from crmcore.ports import CalendarFactory, NotifierFactory, ScoringFactory, StorageFactory

PROJECT_NAME = "crmcore"
"""The pluggy project name: hook functions must carry this project's markers."""

CommandRun = Callable[[argparse.Namespace], int]
"""Runs a plugin command with its parsed arguments and returns the exit status."""

CommandFactory = Callable[[argparse.ArgumentParser], CommandRun]
"""Adds a plugin command's arguments to its parser and returns what runs it."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a function in this module as a hook specification."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin function as the implementation of a crmcore hook."""


@hookspec
def crmcore_register_storage(register: Callable[[str, StorageFactory], None]) -> None:
    """Register storage backends by name.

    Called once per plugin manager, the first time storage backends are
    listed or one is chosen. Call ``register(name, factory)`` for each
    backend; ``factory(options)`` returns a
    :class:`~crmcore.ports.StorageBackend`. Returns nothing; not
    ``firstresult``: every plugin may register backends.
    """


@hookspec
def crmcore_register_notifiers(register: Callable[[str, NotifierFactory], None]) -> None:
    """Register notifiers by name.

    Called once per plugin manager, the first time notifiers are listed or
    one is configured. Call ``register(name, factory)``; ``factory(options)``
    returns a :class:`~crmcore.ports.Notifier`. Returns nothing; not
    ``firstresult``.
    """


@hookspec
def crmcore_register_scoring(register: Callable[[str, ScoringFactory], None]) -> None:
    """Register scoring strategies by name (RFM, lifetime value, your own).

    Called once per plugin manager, the first time strategies are listed or
    one is chosen (for example as the potential axis of value-matrix
    grading, rule G3). ``factory(options)`` returns a
    :class:`~crmcore.ports.ScoringStrategy`. Returns nothing; not
    ``firstresult``.
    """


@hookspec
def crmcore_register_calendars(register: Callable[[str, CalendarFactory], None]) -> None:
    """Register business calendars by name (working hours, holidays, make-up days).

    Called once per plugin manager, the first time calendars are listed or
    one is chosen by the service policies. ``factory(options)`` returns a
    business calendar. Returns nothing; not ``firstresult``.
    """


@hookspec
def crmcore_register_commands(register: Callable[[str, CommandFactory], None]) -> None:
    """Register command-line commands by name, run as ``crmcore NAME`` (as datasette's
    and llm's plugins add commands).

    Called only when ``crmcore`` is given a command name that is not built in (and by
    ``crmcore plugins``), so installed plugins never slow the built-in commands down.
    ``factory(parser)`` receives the command's :class:`argparse.ArgumentParser`, adds
    its arguments and returns ``run(arguments) -> int``, the exit status. The first line
    of the factory's docstring is the command's help line; the whole docstring is its
    description. A name already used by a built-in command is a
    :class:`~crmcore.errors.PluginError` naming the plugin. Returns nothing; not
    ``firstresult``.

    Example::

        def open_hello(parser):
            '''Greet someone.'''
            parser.add_argument("--name", default="world")
            return lambda arguments: print(f"hello {arguments.name}") or 0

        @hookimpl
        def crmcore_register_commands(register):
            register("hello", open_hello)
    """


@hookspec
def crmcore_event_committed(event: DomainEvent) -> None:
    """Observe a domain event right after the transaction that stored it committed.

    Called once per event per implementation, in the order the events were
    stored, in the process that committed them. The event is already safe in
    the outbox, so an exception here is logged and otherwise ignored:
    observers are for quick in-process reactions (caches, metrics). For
    reliable, retried delivery register a notifier instead. Returns nothing;
    not ``firstresult``.
    """
