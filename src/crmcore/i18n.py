"""Languages: every text people read goes through the gettext catalogues here.

crmcore writes its messages in English and marks them with :func:`tr` (or
:func:`N_` where a text is only named, translated later). The catalogues under
``crmcore/locale/<language>/LC_MESSAGES/crmcore.po`` are managed with Babel
(``babel.cfg``, ``crmcore.pot``; see ``tools/check_catalogues.py``) and shipped
for :data:`LANGUAGES`.

Reading a catalogue: the compiled ``crmcore.mo`` when present (a wheel has
it: the build compiles every ``.po``), else the ``.po`` itself, read by a small
reader of the standard library here (an editable install or a source tree).
Neither Babel nor anything else is needed at run time.

The language of a run: :func:`resolve_language` takes an explicit choice (the
``--lang`` option), then the configuration file's ``lang``, then the
environment (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), then English. An explicit
or configured language that is not shipped is an error listing the available
ones; an environment naming an unshipped language means English.

A library caller chooses with :func:`set_language` or, for a block,
``with language("zh_CN"): ...``; the default is English. Grading explanations
stay data (a code and parameters) until :func:`render` words them in the
language asked for. Texts built while a language is active (agenda reasons,
lifecycle move reasons, compliance evidence, errors) are worded in that
language; what is stored keeps the words it was stored with: a lifecycle move's
reason, the daily run's agenda snapshot, a PDCA cycle's texts. Stored codes
(stages, grades, kinds) are shown through :func:`crmcore.i18n_terms.term`.

Adding a message: write it in English inside ``tr("...")`` with named
placeholders, run ``python tools/check_catalogues.py update`` and translate the
new ``zh_CN`` entries in ``crmcore/locale/zh_CN/LC_MESSAGES/crmcore.po``; CI's
``tools/check_catalogues.py`` fails until every message has its translation.
The command line's help texts are extracted without marks (plain ``help=``
literals) and translated when printed: see :mod:`crmcore.i18n_help`.
"""

from __future__ import annotations

import gettext as _gettext
import os
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from crmcore.errors import ConfigError

DOMAIN = "crmcore"
"""The gettext domain of crmcore's catalogues."""

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
"""Where the catalogues are: ``LOCALE_DIR/<language>/LC_MESSAGES/crmcore.po`` (and ``.mo``)."""

SOURCE_LANGUAGE = "en"
"""The language the messages are written in."""

LANGUAGES = ("en", "zh_CN")
"""The languages shipped, each with a complete catalogue."""

_ALIASES = {"c": "en", "posix": "en", "zh": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN",
            "zh_sg": "zh_CN"}

_current: ContextVar[str] = ContextVar("crmcore_language", default=SOURCE_LANGUAGE)


def available_languages() -> tuple[str, ...]:
    """The languages a run may choose (:data:`LANGUAGES`)."""
    return LANGUAGES


def match_language(text: str) -> str | None:
    """The shipped language ``text`` names, or None.

    Accepts locale names as the environment writes them: ``zh_CN.UTF-8``,
    ``zh-CN``, ``zh``, ``en_US.UTF-8``, ``C``; case does not matter.
    """
    name = text.split(".", 1)[0].split("@", 1)[0].strip().replace("-", "_")
    if not name:
        return None
    folded = name.casefold()
    if folded in _ALIASES:
        return _ALIASES[folded]
    for language in LANGUAGES:
        if folded == language.casefold():
            return language
    base = folded.split("_", 1)[0]
    return SOURCE_LANGUAGE if base == SOURCE_LANGUAGE else None


def check_language(text: str, *, option: str = "--lang") -> str:
    """The shipped language ``text`` names; a :class:`~crmcore.errors.ConfigError`
    naming ``option`` and listing :data:`LANGUAGES` if there is none."""
    found = match_language(text) if isinstance(text, str) else None
    if found is None:
        raise ConfigError(tr("{option}: {value!r} is not an available language "
                             "(available: {languages})").format(
            option=option, value=text, languages=", ".join(LANGUAGES)))
    return found


def language_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of ``LC_ALL``, then ``LC_MESSAGES``, then ``LANG`` (the first set);
    None when none is set or the one set is not shipped."""
    environ = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:
            return match_language(value)
    return None


def resolve_language(option: str | None = None, configured: str | None = None,
                     environ: Mapping[str, str] | None = None) -> str:
    """The language of a run: ``option`` (``--lang``), then ``configured`` (the
    configuration's ``lang``), then the environment, then English."""
    if option is not None:
        return check_language(option, option="--lang")
    if configured is not None:
        return check_language(configured, option="lang")
    return language_from_environment(environ) or SOURCE_LANGUAGE


def current_language() -> str:
    """The language texts are worded in now."""
    return _current.get()


def set_language(name: str) -> None:
    """Word every later text in ``name`` (checked: see :func:`check_language`)."""
    _current.set(check_language(name))


@contextmanager
def language(name: str) -> Iterator[str]:
    """Word texts in ``name`` inside the ``with`` block; yields the language chosen."""
    token = _current.set(check_language(name))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def read_po(path: Path) -> dict[str, str]:
    """The translations of a ``.po`` file: msgid to msgstr, without the header, fuzzy or
    untranslated entries (what compiling it to ``.mo`` would keep)."""
    catalogue: dict[str, str] = {}
    entry: dict[str, str] = {}
    field = ""
    fuzzy = next_fuzzy = False

    def finish() -> None:
        text = entry.get("msgstr") or entry.get("msgstr[0]")
        if entry.get("msgid") and text and not fuzzy:
            catalogue[entry["msgid"]] = text
            if entry.get("msgid_plural"):
                catalogue[entry["msgid_plural"]] = entry.get("msgstr[1]") or text

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            next_fuzzy = next_fuzzy or (line.startswith("#,") and "fuzzy" in line)
            continue
        if line.startswith('"'):
            entry[field] += _unquote(line)
            continue
        keyword, _, quoted = line.partition(" ")
        if keyword == "msgid":
            finish()
            entry, fuzzy, next_fuzzy = {}, next_fuzzy, False
        field = keyword
        entry[field] = _unquote(quoted)
    finish()
    return catalogue


def _unquote(quoted: str) -> str:
    """The text of a ``.po`` string literal (``"..."``); escapes are read as Python's."""
    if "\\" not in quoted:  # most lines: no escapes, no need for the parser
        return quoted[1:-1]
    import ast

    return str(ast.literal_eval(quoted))


class _PoTranslations(_gettext.NullTranslations):
    """A catalogue read from a ``.po`` file (when no ``.mo`` was compiled)."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


@cache
def translation(name: str) -> _gettext.NullTranslations:
    """The catalogue of language ``name`` (compiled ``.mo`` first, else the ``.po``)."""
    name = check_language(name)
    folder = LOCALE_DIR / name / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    if compiled.is_file():
        with compiled.open("rb") as file:
            return _gettext.GNUTranslations(file)
    source = folder / f"{DOMAIN}.po"
    if source.is_file():
        return _PoTranslations(read_po(source))
    return _gettext.NullTranslations()


def tr(message: str) -> str:
    """``message`` in the current language (itself in English or when untranslated).

    Messages with values use named placeholders, filled after translation:
    ``tr("rank {rank} of {population}").format(rank=3, population=10)``.
    """
    if _current.get() == SOURCE_LANGUAGE:
        return message
    return translation(_current.get()).gettext(message)


def ntr(singular: str, plural: str, count: int) -> str:
    """:func:`tr` of ``singular`` or ``plural`` as ``count`` asks."""
    if _current.get() == SOURCE_LANGUAGE:
        return singular if count == 1 else plural
    return translation(_current.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for the catalogues without translating it (translate it later
    with :func:`tr`)."""
    return message


def render(code: str, params: Mapping[str, Any], *, lang: str | None = None) -> str:
    """The sentence of a structured explanation (a grading ``Explanation``'s ``code`` and
    ``params``) in ``lang`` (default: the current language)."""
    from crmcore.grading.explain import render as render_explanation

    if lang is None:
        return render_explanation(code, params)
    with language(lang):
        return render_explanation(code, params)


FILE_PROBLEMS = ((FileNotFoundError, N_("no such file or folder")),
                 (IsADirectoryError, N_("is a folder, not a file")),
                 (NotADirectoryError, N_("a part of the path is not a folder")),
                 (PermissionError, N_("permission denied")))
"""The file problems :func:`file_problem` words itself (others keep the system's words)."""


def file_problem(error: OSError) -> str:
    """What went wrong with a file, in the current language: the common problems of
    :data:`FILE_PROBLEMS` from the catalogue, else the system's own text (``strerror``)."""
    for kind, message in FILE_PROBLEMS:
        if isinstance(error, kind):
            return tr(message)
    return error.strerror or str(error)


def display_width(text: str) -> int:
    """How many terminal columns ``text`` takes (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
