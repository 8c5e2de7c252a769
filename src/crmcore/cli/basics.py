"""``crmcore plugins`` and ``crmcore deliver``."""

from __future__ import annotations

import argparse
import math
import signal
import threading

import attrs

from crmcore.cli.common import (
    add_format_argument,
    add_storage_arguments,
    open_crm,
    print_json,
    print_table,
)
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.outbox import DeliveryReport
from crmcore.plugins import PluginHost


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    plugins = commands.add_parser("plugins", help="list plugins and what they register")
    add_format_argument(plugins, "table", "json")
    plugins.set_defaults(run=run_plugins)

    deliver = commands.add_parser("deliver", help="deliver pending events to the notifiers")
    add_storage_arguments(deliver)
    deliver.add_argument("--watch", action="store_true",
                         help="keep delivering until stopped (SIGTERM or Ctrl-C), a run "
                              "every --interval seconds")
    deliver.add_argument("--interval", type=_seconds, default=5.0, metavar="SECONDS",
                         help="with --watch: seconds between runs (default: 5)")
    deliver.set_defaults(run=run_deliver)


PLUGIN_CATEGORIES = (N_("calendars"), N_("notifiers"), N_("scoring"), N_("storage"))
"""What a plugin may register, shown as words by ``crmcore plugins``."""


def run_plugins(arguments: argparse.Namespace) -> int:
    """Print every plugin, its distribution and the names it registers."""
    infos = PluginHost().describe()
    if arguments.format == "json":
        print_json([attrs.asdict(info) for info in infos])
        return 0
    rows = [
        (info.name, f"{info.distribution} {info.version}" if info.distribution
         else tr("built-in"),
         "; ".join(f"{term(category)}: {', '.join(names)}"
                   for category, names in info.registers.items()) or ", ".join(info.hooks))
        for info in infos
    ]
    print_table(rows, (tr("plugin"), tr("distribution"), tr("registers")))
    return 0


def _seconds(text: str) -> float:
    """``--interval``: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(tr("{value!r} is not a number of seconds").format(
            value=text)) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(tr("{value!r} must be a finite number of seconds "
                                            "above 0").format(value=text))
    return value


def run_deliver(arguments: argparse.Namespace) -> int:
    """Deliver due events; exit 1 if any delivery failed or events still wait for a retry."""
    if arguments.watch:
        return _watch(arguments)
    with open_crm(arguments) as crm:
        report = crm.deliver_events()
    print(_delivered(report))
    for name in report.busy:
        print(tr("  {notifier}: skipped, another deliverer holds its lease").format(
            notifier=name))
    for failure in report.failures:
        print(tr("  {notifier}: event {id} ({type}), attempt {attempt}: {error}").format(
            notifier=failure.notifier, id=failure.event_id, type=failure.event_type,
            attempt=failure.attempts, error=failure.error))
    return 1 if report.failed or (report.waiting and not report.busy) else 0


def _delivered(report: DeliveryReport) -> str:
    """The one-line count of a delivery run."""
    return tr("delivered {delivered}, failed {failed}, waiting {waiting}").format(
        delivered=report.delivered, failed=report.failed, waiting=report.waiting)


def _watch(arguments: argparse.Namespace) -> int:
    """Deliver every ``--interval`` seconds until SIGTERM or Ctrl-C; then stop after a last run."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_crm(arguments) as crm:
        print(tr("delivering every {seconds} s; stop with Ctrl-C or SIGTERM").format(
            seconds=f"{arguments.interval:g}"), flush=True)
        try:
            while not stop.is_set():
                report = crm.deliver_events()
                if report.delivered or report.failed:
                    print(_delivered(report), flush=True)
                stop.wait(arguments.interval)
        except KeyboardInterrupt:
            pass
    return 0
