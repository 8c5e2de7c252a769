"""The ``crmcore`` command line: a thin layer over :class:`crmcore.CRM`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from crmcore import __version__
from crmcore.cli import agenda, basics, clv, demo, grading, importing, improvement, lifecycle
from crmcore.cli.common import CommandError
from crmcore.errors import CrmError

COMMAND_MODULES = (demo, importing, grading, lifecycle, agenda, improvement, clv, basics)
"""Modules whose ``add_commands`` registers subcommands, in help order."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="crmcore",
        description="Customer-relationship rules as code: grading, lifecycle, CCPR service "
                    "policies and PDCA loops.",
    )
    parser.add_argument("--version", action="version", version=f"crmcore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log events and details")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed work, 2 bad input)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(arguments, "run"):
        parser.print_help()
        return 2
    try:
        status: int = arguments.run(arguments)
    except (CommandError, CrmError) as error:
        print(f"crmcore: error: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
