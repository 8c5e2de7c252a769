"""Commands that installed plugins add through ``crmcore_register_commands``.

They are looked up only when ``crmcore`` is given a command name that is not built
in (:data:`crmcore.cli.COMMANDS`): loading entry points imports every installed
plugin, which the built-in commands and ``crmcore --help`` never pay for.
"""

from __future__ import annotations

import argparse
import inspect

from crmcore.errors import PluginError
from crmcore.hookspecs import CommandFactory
from crmcore.i18n import tr
from crmcore.plugins import PluginHost


def help_line(factory: CommandFactory) -> str:
    """The first line of the factory's docstring, the command's line in help listings."""
    return (inspect.getdoc(factory) or "").strip().partition("\n")[0]


def add_plugin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                        host: PluginHost | None = None, *,
                        builtins: frozenset[str] = frozenset()) -> list[str]:
    """Add every plugin command of ``host`` (entry points included by default) to
    ``commands``; return their names. A name in ``builtins`` raises PluginError."""
    registry = (host or PluginHost()).commands()
    for registration in registry:
        if registration.name in builtins:
            raise PluginError(tr("{plugin} registers the command {name!r}, which is a "
                                 "built-in command").format(plugin=registration.plugin,
                                                            name=registration.name))
        parser = commands.add_parser(
            registration.name, help=help_line(registration.factory),
            description=inspect.getdoc(registration.factory),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        run = registration.factory(parser)
        if not callable(run):
            raise PluginError(tr("{plugin}: the factory of command {name!r} returned "
                                 "{value!r}, not a function that runs it").format(
                                     plugin=registration.plugin, name=registration.name,
                                     value=run))
        parser.set_defaults(run=run)
    return registry.names()
