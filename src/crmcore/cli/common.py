"""What every command shares: opening the CRM, printing tables, progress."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import attrs

from crmcore.app import CRM
from crmcore.errors import CrmError
from crmcore.i18n import display_width, file_problem, tr
from crmcore.i18n_help import help_text, translate_help


class CommandError(CrmError):
    """A value of the command line or its input refused, reported in one line (exit 1)."""


def add_storage_arguments(parser: argparse.ArgumentParser, *, default_db: str | None = None
                          ) -> None:
    """``--db PATH`` (SQLite) or ``--config FILE`` (TOML), and ``--read-only``."""
    group = parser.add_mutually_exclusive_group(required=default_db is None)
    group.add_argument("--db", default=default_db, metavar="PATH",
                       help=("SQLite database file (default: %(default)s)" if default_db
                             else "SQLite database file"))
    group.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--read-only", action="store_true",
                        help="open the SQLite database for reading only (never created, "
                             "upgraded or written; reading commands always do)")


READING_COMMANDS = frozenset({
    "crmcore.cli.agenda:run_agenda",
    "crmcore.cli.agenda:run_compliance",
    "crmcore.cli.improvement:run_show",
    "crmcore.cli.improvement:run_list",
    "crmcore.cli.improvement:run_measures",
    "crmcore.cli.improvement_loops:run_knowledge_show",
    "crmcore.cli.improvement_loops:run_knowledge_list",
    "crmcore.cli.lifecycle:run_stages",
    "crmcore.cli.lifecycle:run_show",
    "crmcore.cli.lifecycle:run_measures",
    "crmcore.cli.pipeline:run_list",
    "crmcore.cli.receivables:run_list",
    "crmcore.cli.receivables:run_over_limit",
    "crmcore.cli.reports:run_differentiation",
    "crmcore.cli.schedule:run",
    "crmcore.cli.stale:run",
    "crmcore.cli.survey:run_ipa",
})
"""The commands (``module:function``) that only read the store: they open it read-only,
so they never wait for a writer, work on a read-only file, and refuse a ``--db`` that
does not exist instead of creating an empty database."""


def reads_only(arguments: argparse.Namespace) -> bool:
    """Whether the chosen command only reads the store (or ``--read-only`` was given)."""
    run = getattr(arguments, "run", None)
    name = f"{getattr(run, '__module__', '')}:{getattr(run, '__qualname__', '')}"
    return bool(getattr(arguments, "read_only", False)) or name in READING_COMMANDS


def open_crm(arguments: argparse.Namespace) -> CRM:
    """The CRM chosen by ``--config`` or ``--db``, read-only for reading commands."""
    read_only = reads_only(arguments)
    if getattr(arguments, "config", None):
        if not read_only:
            return CRM.from_file(arguments.config)
        from crmcore.config import load_config

        config = load_config(arguments.config)
        if config.storage.use == "sqlite":
            config = attrs.evolve(config, storage=attrs.evolve(
                config.storage, options={**config.storage.options, "read_only": True}))
        return CRM.from_config(config)
    if read_only and not os.path.isfile(arguments.db):
        raise CommandError(tr("--db: {path!r} does not exist (a reading command does not "
                              "create a database)").format(path=arguments.db))
    return CRM.open("sqlite", path=arguments.db, read_only=read_only)


def command_failed(error: Exception, *, verbose: bool = False) -> int:
    """Report an error that is not a :class:`~crmcore.errors.CrmError` in one line; its status.

    A closed standard output (``crmcore ... | head``) ends quietly with 0; a
    file problem names the file (exit 5, :data:`~crmcore.errors.EXIT_FILE`); input a
    library refused (undecodable text, malformed CSV) exits 1; anything else is a
    crmcore bug (exit 70), whose traceback ``-v`` prints.
    """
    from crmcore.errors import EXIT_REFUSED, exit_status

    if isinstance(error, BrokenPipeError):
        devnull = os.open(os.devnull, os.O_WRONLY)  # no second error when Python flushes
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    kind = None if isinstance(error, OSError) else _input_error_kind(error)
    if isinstance(error, OSError):
        problem = file_problem(error)
        text = tr("{path}: {error}").format(path=error.filename, error=problem) \
            if error.filename else problem
    elif kind is not None:
        text = tr("{kind}: {error}").format(kind=kind, error=error)
    else:
        text = tr("internal error ({kind}: {error}); run with -v for details and please "
                  "report it").format(kind=type(error).__name__, error=error)
    print(tr("crmcore: error: {error}").format(error=text), file=sys.stderr)
    if kind is not None:
        return EXIT_REFUSED
    if verbose and not isinstance(error, OSError):
        import traceback

        traceback.print_exception(error)
    return exit_status(error)


def _input_error_kind(error: Exception) -> str | None:
    """What kind of refused input a library error means, or None for a bug."""
    if isinstance(error, UnicodeDecodeError):
        return tr("a file is not UTF-8 text (give --encoding if the command has it, or save "
                  "as UTF-8)")
    if isinstance(error, csv.Error):
        return tr("malformed CSV")
    if isinstance(error, OverflowError):
        return tr("a number or date is out of range")
    return None


def add_format_argument(parser: argparse.ArgumentParser, *choices: str) -> None:
    """``--format`` with ``choices`` (the first is the default)."""
    parser.add_argument("--format", choices=choices, default=choices[0],
                        help="output format (default: %(default)s)")


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of``: a date (midnight UTC) or an ISO date-time with offset."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(tr("--as-of: {value!r} is not a date (YYYY-MM-DD) or ISO date-time")
                           .format(value=text)) from None
    if not AS_OF_YEARS[0] <= parsed.year <= AS_OF_YEARS[1]:
        raise CommandError(tr("--as-of: {value!r} is out of range (years {first} to {last})")
                           .format(value=text, first=AS_OF_YEARS[0], last=AS_OF_YEARS[1]))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


AS_OF_YEARS = (1900, 2999)
"""The years ``--as-of`` accepts: periods reach back and forward from it without overflowing."""


def delimiter(text: str) -> str:
    """``--delimiter``: one character; ``\\t`` or ``tab`` mean a tab (what shells hand over)."""
    named = {"\\t": "\t", "tab": "\t", "\\x09": "\t"}.get(text.lower(), text)
    if len(named) != 1 or named in "\r\n\"":
        raise argparse.ArgumentTypeError(translate_help(help_text(  # parsing: help's language
            "{value!r} is not one character (write \\t or tab for a tab)", value=text)))
    return named


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str],
                out: TextIO | None = None) -> None:
    """Print an aligned text table (to standard output unless ``out`` is given)."""
    out = out or sys.stdout
    texts = [[str(cell) for cell in row] for row in rows]
    widths = [max([_width(h), *(_width(row[i]) for row in texts)])
              for i, h in enumerate(headers)]
    lines = ["  ".join(map(_pad, headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines.extend("  ".join(map(_pad, row, widths)).rstrip() for row in texts)
    out.write("\n".join(lines) + "\n")  # one write: a million rows print in a second


def _width(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two (ASCII: its length)."""
    return len(text) if text.isascii() else display_width(text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def print_json(value: Any, out: TextIO | None = None) -> None:
    """Print ``value`` as indented JSON (to standard output unless ``out`` is given)."""
    (out or sys.stdout).write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


class Progress:
    """Counts rows on stderr when it is a terminal; silent otherwise."""

    def __init__(self, label: str, *, stream: TextIO | None = None, every: int = 10_000,
                 enabled: bool | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.count = 0

    def __call__(self, count: int) -> None:
        self.count = count
        if self.enabled and count % self.every == 0:
            self.stream.write("\r" + self._text(count))
            self.stream.flush()

    def _text(self, count: int) -> str:
        return tr("{label}: {count:,} rows").format(label=self.label, count=count)

    def done(self) -> None:
        """End the progress line."""
        if self.enabled and self.count >= self.every:
            self.stream.write("\r" + self._text(self.count) + "\n")
