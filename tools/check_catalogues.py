"""The message catalogues of crmcore: extract, update, compile and check them (needs Babel).

    python tools/check_catalogues.py           # check (what CI runs; exit 1 on a problem)
    python tools/check_catalogues.py update    # re-extract the .pot, merge it into each .po
    python tools/check_catalogues.py compile   # compile each .po to its .mo (packaging)

The messages are those marked in the sources (``tr``, ``ntr``, ``N_``,
``help_text``; see ``babel.cfg``) and the command line's help texts, which stay
plain literals: every string ``help=``, ``description=`` or ``epilog=`` of a call
in ``src/crmcore/cli`` (both strings of ``"a" if x else "b"``), the title of an
argument group or subcommand list, each :data:`crmcore.cli.COMMANDS` line and the
text of :data:`HELP_ARGUMENTS` calls (see :mod:`crmcore.i18n_help`); and the
literal reasons of :class:`crmcore.errors.ValidationError` and the other errors of
:data:`REASON_ARGUMENTS` anywhere in ``src/crmcore``, which those errors translate.

The check also fails when a :data:`MESSAGE_ERRORS` error of the command line or the
configuration reader is raised with its message written in (an f-string or a literal)
instead of a catalogue template: such a message would stay English.

The check fails when a message of the sources is missing from the committed
``crmcore.pot``, or when a message of the ``.pot`` has no translation in a shipped
language, a fuzzy one, or one whose ``{placeholders}`` or ``%(fields)s`` differ from
the message's. Messages of the ``.pot`` no longer in the sources are noted, not
failed (they are never shown; ``update`` drops them).
"""

from __future__ import annotations

import ast
import configparser
import copy
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "crmcore" / "locale"
POT = LOCALE / "crmcore.pot"
CONFIG = ROOT / "babel.cfg"
LANGUAGES = ("en", "zh_CN")
KEYWORDS = {"tr": None, "ntr": (1, 2), "N_": None, "help_text": None}
"""The marking functions of :mod:`crmcore.i18n` (and :func:`crmcore.i18n_help.help_text`)
and the arguments that are messages."""
CLI = ROOT / "src" / "crmcore" / "cli"
HELP_KEYWORDS = ("help", "description", "epilog")
"""The keyword arguments of argparse calls whose string literals are help texts."""
TITLED_CALLS = ("add_subparsers", "add_argument_group")
"""argparse calls whose ``title`` (keyword or first argument) is a heading of the help."""
HELP_ARGUMENTS = {"Command": 1, "recording_parser": 2, "_recording": 2}
"""Calls of crmcore.cli whose positional argument (by index) is a help text."""
REASON_ARGUMENTS = {"ValidationError": 2, "NoTerritoryError": 2, "UnauthorisedOwnerError": 2,
                    "ImportRowError": 3}
"""Errors whose positional argument (by index) or ``reason=`` is a reason they translate."""
MESSAGE_ERRORS = ("CommandError", "ConfigError", "ArgumentTypeError", "CrmError", "StorageError",
                  "PluginError", "DeliveryError", "SignatureError", "__init__")
"""Errors whose message is printed as it is given (and ``super().__init__(message)`` of an
error class words its own): in :data:`MESSAGE_SOURCES` it must be a catalogue template
(``tr("... {name} ...").format(name=...)``, or ``translate_help(help_text(...))`` while
arguments are parsed), never an f-string or a bare literal, which would stay English."""
MESSAGE_SOURCES = ("src/crmcore", "src/crmcore_plugins")
"""Every module of crmcore and its plugins: :func:`written_in_messages` checks their errors
(issue 13: every user-facing text translatable)."""
TEMPLATE_CALLS = ("tr", "ntr", "N_", "help_text")
"""The calls whose first argument is a catalogue template."""


def po_path(language: str, locale_dir: Path = LOCALE) -> Path:
    """The ``.po`` file of ``language``."""
    return locale_dir / language / "LC_MESSAGES" / "crmcore.po"


def _method_map() -> list[tuple[str, str]]:
    parser = configparser.RawConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return [(section.split(":", 1)[1].strip(), section.split(":", 1)[0].strip())
            for section in parser.sections() if ":" in section]


def extract(root: Path = ROOT) -> Catalog:
    """A fresh catalogue of every message marked in the sources."""
    catalog = Catalog(project="crmcore", domain="crmcore", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            root, _method_map(), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    cli = root / CLI.relative_to(ROOT)
    for path in sorted(cli.parent.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = reason_texts(source)
        if path.parent == cli:
            found += help_texts(source)
        for text, lineno in found:
            catalog.add(text, None, [(path.relative_to(root).as_posix(), lineno)])
    return catalog


def help_texts(source: str) -> list[tuple[str, int]]:
    """The help texts of a command-line module (see the module's docstring), with lines."""
    found = []
    for node, name in _calls(source):
        values = [k.value for k in node.keywords if k.arg in HELP_KEYWORDS]
        if name in TITLED_CALLS:
            values += [k.value for k in node.keywords if k.arg == "title"] + node.args[:1]
        if name in HELP_ARGUMENTS:
            values += node.args[HELP_ARGUMENTS[name]:HELP_ARGUMENTS[name] + 1]
        found += _literals(values)
    return found


def reason_texts(source: str) -> list[tuple[str, int]]:
    """The literal reasons of the errors of :data:`REASON_ARGUMENTS` raised in ``source``
    (their classes translate the reason when they word the error), with lines."""
    found = []
    for node, name in _calls(source):
        if name in REASON_ARGUMENTS:
            index = REASON_ARGUMENTS[name]
            found += _literals([*node.args[index:index + 1],
                                *(k.value for k in node.keywords if k.arg == "reason")])
    return found


def message_files(root: Path = ROOT) -> list[Path]:
    """The Python files of :data:`MESSAGE_SOURCES` under ``root``."""
    files: list[Path] = []
    for name in MESSAGE_SOURCES:
        path = root / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def error_messages(source: str) -> tuple[list[tuple[str, int]], list[int]]:
    """The errors of :data:`MESSAGE_ERRORS` raised in ``source``: the catalogue templates
    their messages are made of (with lines), and the lines of those whose message is
    written in (an f-string or a literal, perhaps joined with ``+``)."""
    templates: list[tuple[str, int]] = []
    written_in: list[int] = []
    for node, name in _calls(source):
        if name not in MESSAGE_ERRORS or not node.args:
            continue
        message = node.args[0]
        if _written_in(message):
            written_in.append(node.lineno)
        for inner, inner_name in _calls_in(message):
            if inner_name in TEMPLATE_CALLS:
                templates += _literals(inner.args[:1])
    return templates, written_in


def _written_in(message: ast.expr) -> bool:
    """Whether ``message`` is text written in the source (not a catalogue template)."""
    if isinstance(message, ast.BinOp):
        return _written_in(message.left) or _written_in(message.right)
    return isinstance(message, ast.JoinedStr) or (
        isinstance(message, ast.Constant) and isinstance(message.value, str))


def _calls_in(node: ast.AST) -> Iterator[tuple[ast.Call, str]]:
    """Every call inside ``node`` with the name it calls (``f`` of ``f(...)`` or ``x.f(...)``)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            yield inner, func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def written_in_messages(root: Path = ROOT) -> list[str]:
    """A problem for each error of :data:`MESSAGE_ERRORS` in :data:`MESSAGE_SOURCES` whose
    message is written in rather than a catalogue template (it would stay English)."""
    found = []
    for path in message_files(root):
        for line in error_messages(path.read_text(encoding="utf-8"))[1]:
            found.append(f"{path.relative_to(root).as_posix()}:{line}: the message is not a "
                         "catalogue template (write tr(\"... {name} ...\").format(name=...))")
    return found


def _calls(source: str) -> Iterator[tuple[ast.Call, str]]:
    """Every call of ``source`` with the name it calls (``f`` of ``f(...)`` or ``x.f(...)``)."""
    return _calls_in(ast.parse(source))


def _literals(values: list[ast.expr]) -> list[tuple[str, int]]:
    """The non-empty string literals among ``values`` (both of ``"a" if x else "b"``)."""
    while any(isinstance(v, ast.IfExp) for v in values):
        values = [part for v in values for part in (
            (v.body, v.orelse) if isinstance(v, ast.IfExp) else (v,))]
    return [(v.value, v.lineno) for v in values
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=96, sort_output=True, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def msgids(catalog: Iterable[Message]) -> set[str]:
    """The message ids of a catalogue (singular forms), without the header."""
    return {_singular(m.id) for m in catalog if m.id}


def _singular(message_id: str | Sequence[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


PERCENT_FIELD = re.compile(r"%\([a-z_]+\)[sdr]|%%")
"""A field of argparse's %-formatting in a help text (``%(default)s``) or an escaped ``%``."""


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields of ``text`` and its argparse ``%(name)s`` fields and ``%%``,
    sorted (conversion and format spec included)."""
    fields = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            fields.append(f"{name}!{conversion or ''}:{spec or ''}")
    fields += PERCENT_FIELD.findall(text)  # argparse help: %(default)s, %%
    return sorted(fields)


def problems(locale_dir: Path = LOCALE, fresh: Catalog | None = None) -> list[str]:
    """Everything wrong with the catalogues under ``locale_dir`` (empty when all is well):
    a message marked in ``fresh`` (the sources) missing from the ``.pot``, a message of the
    ``.pot`` without a translation, fuzzy, or with other placeholders. A ``.pot`` message
    no longer in the sources is only reported by :func:`obsolete` (harmless)."""
    found: list[str] = []
    template = _read(locale_dir / "crmcore.pot")
    if fresh is not None:
        marked, committed = msgids(fresh), msgids(template)
        found += [f"crmcore.pot lacks {m!r} (run tools/check_catalogues.py update)"
                  for m in sorted(marked - committed)]
    for language in LANGUAGES:
        path = po_path(language, locale_dir)
        if not path.is_file():
            found.append(f"{language}: no catalogue at {path}")
            continue
        translated = {_singular(m.id): m for m in _read(path, language) if m.id}
        for message in template:
            if not message.id:
                continue
            key = _singular(message.id)
            entry = translated.get(key)
            texts = ([] if entry is None else
                     [entry.string] if isinstance(entry.string, str) else list(entry.string or ()))
            if entry is None or not texts or not all(texts):
                found.append(f"{language}: no translation of {key!r}")
            elif entry.fuzzy:
                found.append(f"{language}: the translation of {key!r} is fuzzy")
            elif any(placeholders(text) != placeholders(key) for text in texts):
                found.append(f"{language}: placeholders of {key!r} differ in {texts[0]!r}")
    return found


def obsolete(fresh: Catalog, locale_dir: Path = LOCALE) -> list[str]:
    """The ``.pot`` messages no longer marked in the sources (``update`` drops them)."""
    return sorted(msgids(_read(locale_dir / "crmcore.pot")) - msgids(fresh))


def update() -> None:
    """Re-extract the ``.pot`` and merge it into every ``.po`` (English: each message is
    its own translation)."""
    template = extract()
    _write(POT, template)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = _read(path, language) if path.is_file() else Catalog(
            locale=language, domain="crmcore", project="crmcore")
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        if language == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        catalog.obsolete.clear()
        _write(path, catalog)


def compile_catalogues(locale_dir: Path = LOCALE) -> list[Path]:
    """Compile every shipped ``.po`` under ``locale_dir`` to its ``.mo``; the files written."""
    written = []
    for language in LANGUAGES:
        source = po_path(language, locale_dir)
        target = source.with_suffix(".mo")
        with target.open("wb") as file:
            write_mo(file, _read(source, language))
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Run the command ``argv[0]`` (``check`` by default)."""
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "compile":
        for path in compile_catalogues():
            print(path.relative_to(ROOT))
        return 0
    if command != "check":
        print(f"unknown command {command!r} (check, update, compile)", file=sys.stderr)
        return 2
    fresh = extract()
    for message in obsolete(fresh):
        print(f"note: crmcore.pot still has {message!r}, no longer in the sources",
              file=sys.stderr)
    found = problems(fresh=fresh) + written_in_messages()
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
