"""``crmcore plugins`` and ``crmcore deliver``."""

from __future__ import annotations

import argparse

import attrs

from crmcore.cli.common import (
    add_format_argument,
    add_storage_arguments,
    open_crm,
    print_json,
    print_table,
)
from crmcore.plugins import PluginHost


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    plugins = commands.add_parser("plugins", help="list plugins and what they register")
    add_format_argument(plugins, "table", "json")
    plugins.set_defaults(run=run_plugins)

    deliver = commands.add_parser("deliver", help="deliver pending events to the notifiers")
    add_storage_arguments(deliver)
    deliver.set_defaults(run=run_deliver)


def run_plugins(arguments: argparse.Namespace) -> int:
    """Print every plugin, its distribution and the names it registers."""
    infos = PluginHost().describe()
    if arguments.format == "json":
        print_json([attrs.asdict(info) for info in infos])
        return 0
    rows = [
        (info.name, f"{info.distribution} {info.version}" if info.distribution else "built-in",
         "; ".join(f"{category}: {', '.join(names)}"
                   for category, names in info.registers.items()) or ", ".join(info.hooks))
        for info in infos
    ]
    print_table(rows, ("plugin", "distribution", "registers"))
    return 0


def run_deliver(arguments: argparse.Namespace) -> int:
    """Deliver due events; exit 1 if any delivery failed or events still wait for a retry."""
    with open_crm(arguments) as crm:
        report = crm.deliver_events()
    print(f"delivered {report.delivered}, failed {report.failed}, waiting {report.waiting}")
    for name in report.busy:
        print(f"  {name}: skipped, another deliverer holds its lease")
    for failure in report.failures:
        print(f"  {failure.notifier}: event {failure.event_id} ({failure.event_type}), "
              f"attempt {failure.attempts}: {failure.error}")
    return 1 if report.failed or (report.waiting and not report.busy) else 0
