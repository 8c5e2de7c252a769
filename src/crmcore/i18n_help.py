"""The command line's help in the run's language, translated only when it is printed.

Help texts stay plain English literals in :mod:`crmcore.cli` (``help=``,
``description=``, ``epilog=``, the command table); ``tools/check_catalogues.py``
extracts them into the catalogues. A help text with values written in is a
:class:`HelpText` (made by :func:`help_text`), translated before its values are
filled. :class:`HelpParser` prints every help with :class:`HelpFormatter`, which
looks each text up in the catalogue of :func:`help_language` as it formats it,
wraps Chinese by display width, and words argparse's own headings (``usage:``,
``options``) too.

Start-up stays cheap: this module imports nothing beyond what argparse already
has, and English help (the usual environment) never loads :mod:`crmcore.i18n`
or a catalogue.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from contextlib import contextmanager
from contextvars import ContextVar

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any, NoReturn


def N_(message: str) -> str:  # noqa: N802 - the gettext convention (see crmcore.i18n.N_)
    """Mark ``message`` for the catalogues (this module cannot import :mod:`crmcore.i18n`)."""
    return message


ARGPARSE_TEXTS = (N_("usage: "), N_("options"), N_("positional arguments"),
                  N_("show this help message and exit"),
                  N_("show program's version number and exit"))
"""The texts argparse writes itself, translated like crmcore's own help."""

HEADING = N_("{heading}:")
"""A help section's heading line (argparse writes ``options:``); the catalogue chooses the
colon (the full-width ``：`` in Chinese, as ``用法：`` has it)."""


USAGE_ERRORS = (
    (r"the following arguments are required: (?P<names>.+)",
     N_("the following arguments are required: {names}")),
    (r"unrecognized arguments: (?P<words>.*)", N_("unrecognized arguments: {words}")),
    (r"argument (?P<argument>\S+): (?P<message>.+)", N_("argument {argument}: {message}")),
    (r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)",
     N_("invalid choice: {value} (choose from {choices})")),
    (r"invalid (?P<type>\w+) value: (?P<value>.+)", N_("invalid {type} value: {value}")),
    (r"expected one argument", N_("expected one argument")),
    (r"expected at most one argument", N_("expected at most one argument")),
    (r"expected at least one argument", N_("expected at least one argument")),
    (r"one of the arguments (?P<names>.+) is required",
     N_("one of the arguments {names} is required")),
    (r"not allowed with argument (?P<other>.+)", N_("not allowed with argument {other}")),
    (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)",
     N_("ambiguous option: {option} could match {matches}")),
)
"""argparse's usage errors (as it words them in English) and their catalogue messages;
the parts they name (``message``: an inner error) are filled in, translated in turn."""

USAGE_ERROR = N_("{prog}: error: {message}")
"""The line a usage error ends with (argparse's ``%(prog)s: error: %(message)s``)."""


class HelpText(str):
    """A help text with values written in: English as a string, with the ``template`` and
    ``values`` kept so the help can translate the template before filling it."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, values: dict[str, object]) -> HelpText:
        """The text of ``template`` filled with ``values`` (see :func:`help_text`)."""
        text = super().__new__(cls, template.format(**values))
        text.template = template
        text.values = values
        return text


def help_text(template: str, **values: object) -> HelpText:
    """A help text with ``{name}`` placeholders filled from ``values`` (a default, a list
    of choices), translated when printed: ``help_text("flows: {flows}", flows="a, b")``.
    A value argparse knows (the default, the choices) is better written ``%(default)s``."""
    return HelpText(template, values)


_choice: ContextVar[list[str | None] | None] = ContextVar("crmcore_help_language",
                                                           default=None)


@contextmanager
def help_language_of(option: str | None, words: Sequence[str]) -> Iterator[None]:
    """Print help inside the block in the language a run with ``--lang option`` and the
    command line ``words`` would use (``--lang``, then ``--config``'s ``lang``, then the
    environment), resolved only if help is printed."""
    token = _choice.set([option, _config_path(words), None])
    try:
        yield
    finally:
        _choice.reset(token)


def _config_path(words: Sequence[str]) -> str | None:
    """The ``--config FILE`` of ``words``, if any."""
    for index, word in enumerate(words):
        if word == "--":
            break
        if word.startswith("--config="):
            return word.partition("=")[2]
        if word == "--config" and index + 1 < len(words):
            return words[index + 1]
    return None


def help_language() -> str:
    """The language help is printed in: the one :func:`help_language_of` chose (an
    unavailable choice or an unreadable configuration means English here; the run
    reports it), else :mod:`crmcore.i18n`'s current language."""
    choice = _choice.get()
    if choice is None:
        i18n = sys.modules.get("crmcore.i18n")
        return str(i18n.current_language()) if i18n is not None else "en"
    if choice[2] is None:
        choice[2] = _resolve(choice[0], choice[1])
    return choice[2] or "en"


def _resolve(option: str | None, config: str | None) -> str:
    if option is None and config is None and _english_environment():
        return "en"
    from crmcore.errors import CrmError
    from crmcore.i18n import resolve_language

    try:
        configured = None
        if option is None and config is not None:
            from crmcore.config import load_config

            configured = load_config(config).lang
        return resolve_language(option, configured)
    except (CrmError, OSError):
        return "en"


def _english_environment() -> bool:
    """Whether the environment's language is surely English (no catalogue needed); when
    unsure, :func:`crmcore.i18n.language_from_environment` decides."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            name = value.split(".", 1)[0].casefold()
            return name in ("c", "posix") or name.startswith("en")
    return True


def translate_help(text: str) -> str:
    """``text`` (a help text, heading or :class:`HelpText`) in :func:`help_language`."""
    language = help_language()
    if language == "en":
        return str(text)
    from crmcore.i18n import translation

    catalogue = translation(language)
    if isinstance(text, HelpText):
        return catalogue.gettext(text.template).format(**text.values)
    return catalogue.gettext(text)


def _tokens(text: str) -> Iterator[str]:
    """The wrapping units of ``text`` (spaces already single): a space, one CJK character
    (from U+2E80), or a run of other characters (a word, an option, a number)."""
    word = ""
    for char in text:
        if char == " " or ord(char) >= 0x2E80:
            if word:
                yield word
                word = ""
            yield char
        else:
            word += char
    if word:
        yield word

_NO_LINE_START = frozenset("，。、；：？！）》」』”’")
"""Punctuation a line must not start with (it stays on the line before, a little over)."""


def wrap(text: str, width: int) -> list[str]:
    """``text``'s lines of at most ``width`` terminal columns (wide characters take two;
    Chinese breaks between characters, other text at spaces)."""
    from crmcore.i18n import display_width

    lines: list[str] = []
    line, used = "", 0
    for token in _tokens(" ".join(text.split())):
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        size = display_width(token)
        if line.strip() and used + size > width and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter printing every text through :func:`translate_help`."""

    class _Section(argparse.HelpFormatter._Section):
        """A section whose heading line ends as :data:`HEADING` has it."""

        def format_help(self) -> str:
            text: str = super().format_help()
            heading = self.heading
            if not heading or heading is argparse.SUPPRESS or help_language() == "en":
                return text
            return text.replace(f"{heading}:\n",
                                translate_help(HEADING).format(heading=heading) + "\n", 1)

    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        """The usage line, its ``usage:`` translated."""
        super().add_usage(usage, actions, groups,
                          translate_help("usage: ") if prefix is None else prefix)

    def start_section(self, heading: str | None) -> None:
        """A section (``options``, a group), its heading translated."""
        super().start_section(translate_help(heading) if heading else heading)

    def add_text(self, text: str | None) -> None:
        """A description or epilog, translated."""
        if text and text is not argparse.SUPPRESS:
            text = translate_help(text)
        super().add_text(text)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return translate_help(action.help) if action.help else action.help

    def _split_lines(self, text: str, width: int) -> list[str]:
        return super()._split_lines(text, width) if text.isascii() else wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.isascii():
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


def translate_usage_error(message: str) -> str:
    """An argparse usage error ``message`` in :func:`help_language` (as it is when it is
    not one of :data:`USAGE_ERRORS`: crmcore's own errors are translated already)."""
    if help_language() == "en":
        return message
    for pattern, template in USAGE_ERRORS:
        found = re.fullmatch(pattern, message, re.S)
        if found is not None:
            parts = found.groupdict()
            if "message" in parts:
                parts["message"] = translate_usage_error(parts["message"])
            return translate_help(template).format(**parts)
    return message


class HelpParser(argparse.ArgumentParser):
    """An argument parser whose help and usage errors are translated
    (:class:`HelpFormatter`, :func:`translate_usage_error`); the parsers of its
    subcommands are HelpParsers too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message`` in the help's language; exit with status 2."""
        if help_language() == "en":
            super().error(message)
        self.print_usage(sys.stderr)
        self.exit(2, translate_help(USAGE_ERROR).format(
            prog=self.prog, message=translate_usage_error(message)) + "\n")
