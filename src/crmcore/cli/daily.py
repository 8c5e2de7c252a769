"""``crmcore run``: the day's work on a stored book in one command."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from crmcore.cli.common import (
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.i18n import tr
from crmcore.i18n_terms import term


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run``."""
    run = commands.add_parser(
        "run", help="the day's work: grade, lifecycle, escalate, problems, agenda, deliver",
        description="Grade with the configured scheme ([run] scheme, default pareto-abc), "
                    "advance the lifecycle, apply escalations, open problem records, store "
                    "each owner's agenda (read it with `crmcore agenda --owner NAME`) and "
                    "deliver the events. Idempotent per --as-of: a second run for the same "
                    "time stores and sends nothing; a run killed half-way resumes with the "
                    "first unfinished step.")
    add_storage_arguments(run)
    run.add_argument("--as-of", metavar="TIME",
                     help="a date (midnight UTC) or ISO date-time (default: now)")
    add_format_argument(run, "table", "json")
    run.set_defaults(run=run_daily_command)


class _StepProgress:
    """Prints each step as it starts and ends, on stderr when it is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, step: str, position: int, total: int, outcome: object) -> None:
        if not self.enabled:
            return
        if outcome is None:
            self.stream.write(f"[{position}/{total}] {term(step)} ...")
        else:
            self.stream.write(tr(" done ({seconds:.1f} s)").format(
                seconds=getattr(outcome, "seconds", 0.0)) + "\n")
        self.stream.flush()


def run_daily_command(arguments: argparse.Namespace) -> int:
    """Run the day's steps and print the summary."""
    from crmcore.daily import run_daily

    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        report = run_daily(crm, as_of, listener=_StepProgress(sys.stderr))
    if arguments.format == "json":
        print_json(report.as_dict())
        return 0
    state = tr("already done: nothing to do") if report.already_done else tr(
        "ran {steps}").format(steps=", ".join(map(term, report.ran)))
    print(tr("daily run as of {as_of}: {state}").format(as_of=as_of.isoformat(), state=state))
    rows = [(term(outcome.name), tr("now") if outcome.name in report.ran else tr("earlier"),
             f"{outcome.seconds:.2f}",
             ", ".join(f"{term(key)} {term(value) if isinstance(value, str) else value}"
                       for key, value in outcome.summary.items()))
            for outcome in report.steps]
    if rows:
        print_table(rows, (tr("step"), tr("ran"), tr("seconds"), tr("what it did")))
    return 0
