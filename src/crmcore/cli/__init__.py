"""The ``crmcore`` command line: a thin layer over :class:`crmcore.CRM`.

Commands are registered lazily: the top-level parser lists them from
:data:`COMMANDS` without importing anything, and only the chosen command's
module is imported (to add its arguments and run it). ``crmcore --version``
and ``crmcore --help`` therefore start as fast as argparse itself, and
``crmcore grade --help`` imports grading, not the lifecycle or the policies.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence

from crmcore._version import __version__
from crmcore.i18n_help import HelpParser, help_language_of, help_text, translate_help

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    _SubParsers = argparse._SubParsersAction


class Command:
    """Where a subcommand lives: the module whose ``add_commands`` registers it.

    ``module`` is imported only when the command is chosen; ``help`` is the line
    ``crmcore --help`` shows (equal to the module's own); ``extra`` names the
    optional extra (``pip install 'crmcore[EXTRA]'``) the command needs, if any.
    """

    __slots__ = ("extra", "help", "module")

    def __init__(self, module: str, help: str, extra: str | None = None) -> None:
        self.module = module
        self.help = help
        self.extra = extra

    def __repr__(self) -> str:
        return f"Command({self.module!r}, {self.help!r}, extra={self.extra!r})"


COMMANDS: dict[str, Command] = {
    "demo": Command("crmcore.cli.demo", "store a generated book of business and report"),
    "import": Command("crmcore.cli.importing",
                      "load a CSV export of customers or transactions (all rows or none)"),
    "grade": Command("crmcore.cli.grading", "grade customers from a CSV export of transactions"),
    "lifecycle": Command("crmcore.cli.lifecycle", "advance and inspect the customer lifecycle"),
    "agenda": Command("crmcore.cli.agenda",
                      "each owner's due actions, most urgent first, with why"),
    "escalate": Command("crmcore.cli.agenda",
                        "apply the escalation steps overdue tasks reached, once each"),
    "problems": Command("crmcore.cli.agenda",
                        "open a problem record for each new cluster of recurring complaints"),
    "compliance": Command("crmcore.cli.agenda",
                          "per customer: each CCPR promise kept or broken, with evidence"),
    "ticket": Command("crmcore.cli.tickets", "change a ticket's status through the flow (S4, S7)"),
    "pipeline": Command("crmcore.cli.pipeline",
                        "opportunities by stage, owner and territory, with win probability "
                        "(M1, M2)"),
    "forecast": Command("crmcore.cli.forecast",
                        "expected revenue per month, owner or territory, with an interval (M3)"),
    "run": Command("crmcore.cli.daily",
                   "the day's work: grade, lifecycle, escalate, problems, agenda, deliver"),
    "pdca": Command("crmcore.cli.improvement", "run PDCA improvement cycles (P1-P4)"),
    "measures": Command("crmcore.cli.improvement", "satisfaction measures with sample sizes (P5)"),
    "clv": Command("crmcore.cli.clv",
                   "fit BG/NBD + Gamma-Gamma to purchases and predict value per customer",
                   extra="clv"),
    "schedule": Command("crmcore.cli.schedule",
                        "the team's appointments for a period, overlaps flagged (K3)"),
    "survey": Command("crmcore.cli.survey",
                      "the service-quality survey and its importance/performance ranking (P5)"),
    "erase": Command("crmcore.cli.erase",
                     "erase a customer's personal data everywhere, keeping a tombstone (K2)"),
    "stale": Command("crmcore.cli.stale",
                     "customers whose data was not verified for DAYS days (K2)"),
    "receivables": Command("crmcore.cli.receivables",
                           "invoices, open balances, days overdue and credit limits (M4)"),
    "report": Command("crmcore.cli.reports",
                      "G9 differentiation reports from the stored book (table, JSON or CSV)"),
    "plugins": Command("crmcore.cli.basics", "list plugins and what they register"),
    "deliver": Command("crmcore.cli.basics", "deliver pending events to the notifiers"),
    "events": Command("crmcore.cli.events",
                      "the catalogue of event types, their data and JSON Schemas"),
}
"""Every subcommand, in help order. A module registering a command must be listed here."""


class _LazyCommands(_SubParsers):
    """Subcommands listed up front whose parsers are built when one is chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict[str, str] = {}
        self._placeholder: argparse.ArgumentParser | None = None

    def add_lazy(self, name: str, command: Command) -> None:
        """List ``name`` with its help; its module is imported only when it is chosen.

        Until then ``name`` maps to one shared empty parser, so listing every command
        builds one parser, not one each (argparse only checks that the name is known)."""
        if self._placeholder is None:
            self._placeholder = argparse.ArgumentParser(add_help=False)
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), command.help))
        self._name_parser_map[name] = self._placeholder
        self._pending[name] = command.module

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Add a command's parser, replacing its placeholder (the listing keeps its help)."""
        if name in self._pending:
            del self._name_parser_map[name]
            del self._pending[name]
            kwargs.pop("help", None)
        parser = super().add_parser(name, **kwargs)
        add_lang_argument(parser)
        return parser

    def load(self, name: str) -> None:
        """Import the module of command ``name`` and let it add its parsers."""
        if name not in self._pending:
            return
        module_name = self._pending[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise argparse.ArgumentError(self, _unavailable(name, error)) from None
        module.add_commands(self)
        if name in self._pending:
            raise argparse.ArgumentError(self, f"{module_name} does not register {name!r}")

    def load_all(self) -> None:
        """Build every command's parser (for documentation and tests)."""
        for name in list(self._pending):
            self.load(name)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


def add_lang_argument(parser: argparse.ArgumentParser) -> None:
    """``--lang``: the language of the output (every command has it; see crmcore.i18n)."""
    parser.add_argument("--lang", default=argparse.SUPPRESS, metavar="LANG",
                        help="language of the output: en or zh_CN (default: the configuration "
                             "file's lang, then LC_ALL/LC_MESSAGES/LANG, then en)")


def take_lang(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without its ``--lang LANG`` (or ``--lang=LANG``), and ``LANG``: the option
    may stand anywhere, after nested actions too (``crmcore lifecycle stages --lang zh_CN``).
    A ``--lang`` without a value stays, for argparse to report."""
    words: list[str] = []
    lang = None
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            words.extend(argv[index:])
            break
        if word.startswith("--lang="):
            lang = word.partition("=")[2]
        elif word == "--lang" and index + 1 < len(argv):
            lang = argv[index + 1]
            index += 1
        else:
            words.append(word)
        index += 1
    return words, lang


def _choose_language(arguments: argparse.Namespace) -> str:
    """The run's language: ``--lang``, the ``--config`` file's ``lang``, the environment."""
    from crmcore import i18n

    configured = None
    if getattr(arguments, "config", None) and getattr(arguments, "lang", None) is None:
        from crmcore.config import load_config

        configured = load_config(arguments.config).lang
    return i18n.resolve_language(getattr(arguments, "lang", None), configured)


def _unavailable(name: str, error: ImportError) -> str:
    """Why command ``name`` cannot start, in the help's language (it is a usage error)."""
    extra = COMMANDS[name].extra
    if extra:
        install = "pip install 'crmcore[" + extra + "]'"
        return translate_help(help_text("command {name!r} cannot start: {error} ({install})",
                                        name=name, error=error, install=install))
    return translate_help(help_text("command {name!r} cannot start: {error} (reinstall "
                                    "crmcore or the missing package)", name=name, error=error))


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    With ``lazy=True`` the subcommands are only listed; a command's module is
    imported when the command is parsed (what :func:`main` uses).
    """
    parser = HelpParser(
        prog="crmcore",
        description="Customer-relationship rules as code: grading, lifecycle, CCPR service "
                    "policies and PDCA loops.",
        epilog="Installed plugins may add commands (run them as crmcore NAME): "
               "crmcore plugins lists them.",
    )
    parser.add_argument("--version", action="version", version=f"crmcore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log events and details")
    add_lang_argument(parser)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", action=_LazyCommands)
    assert isinstance(commands, _LazyCommands)
    for name, command in COMMANDS.items():
        commands.add_lazy(name, command)
    if not lazy:
        commands.load_all()
    return parser


def _command_word(words: Sequence[str]) -> str | None:
    """The command named in ``words`` (the first one not an option), if any."""
    for word in words:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def _add_plugin_commands(parser: argparse.ArgumentParser) -> int:
    """Add the commands of installed plugins (loading their entry points); return 0, or
    the exit status after printing the error of a plugin that failed to load."""
    from crmcore.cli.plugin_commands import add_plugin_commands
    from crmcore.errors import CrmError, exit_status
    from crmcore.i18n import tr

    commands = next(action for action in parser._actions
                    if isinstance(action, _LazyCommands))
    try:
        add_plugin_commands(commands, builtins=frozenset(COMMANDS))
    except CrmError as error:
        print(tr("crmcore: error: {error}").format(error=error), file=sys.stderr)
        return exit_status(error)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see :func:`crmcore.errors.exit_status`)."""
    parser = build_parser(lazy=True)
    words, lang = take_lang(sys.argv[1:] if argv is None else list(argv))
    name = _command_word(words)
    if name is not None and name not in COMMANDS:
        failed = _add_plugin_commands(parser)
        if failed:
            return failed
    with help_language_of(lang, words):  # --help prints in the run's language
        arguments = parser.parse_args(words)
    if lang is not None:
        arguments.lang = lang
    import logging

    from crmcore.errors import CrmError

    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(arguments, "run"):
        with help_language_of(lang, words):
            parser.print_help()
        return 2
    from crmcore.i18n import language, resolve_language, tr

    with contextlib.ExitStack() as stack:  # the language is the run's, restored after it
        try:
            # --lang or the environment first: the configuration's own errors are worded in it
            stack.enter_context(language(resolve_language(getattr(arguments, "lang", None))))
            stack.enter_context(language(_choose_language(arguments)))
            status: int = arguments.run(arguments)
            sys.stdout.flush()  # a closed pipe (| head) surfaces here, not at exit
        except CrmError as error:  # CommandError included
            print(tr("crmcore: error: {error}").format(error=error), file=sys.stderr)
            from crmcore.errors import exit_status

            return exit_status(error)
        except Exception as error:  # a file, a closed pipe, a bug: one line, no traceback
            from crmcore.cli.common import command_failed

            return command_failed(error, verbose=arguments.verbose)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
