"""Refusals of the command line and the configuration reader in zh_CN (issue 13).

What is checked comes from the extractor of ``tools/check_catalogues.py``: every
catalogue template a ``CommandError``, ``ConfigError`` or ``ArgumentTypeError`` of
``src/crmcore/cli`` and ``src/crmcore/config.py`` is made of has a Chinese translation
with no English sentence left in it; the check refuses such an error written as an
f-string; and a representative set of refusals, provoked for real, prints one Chinese
line per error that is one of those templates (matched through the catalogue) with no
English sentence or template fragment in it, touching every module that raises them.
"""

from __future__ import annotations

import contextlib
import io
import re
import string
from pathlib import Path

import pytest
from tests.i18n.test_catalogues import ROOT, tool

from crmcore import i18n
from crmcore.cli import main

CODE = (r"'[^']*'", r"--[\w-]+", r"\[[\w.\[\]]+\]", r"\S*[./=_\\]\S*", r"\b[A-Z][A-Z0-9-]+\b",
        r"\bcrmcore\b", r"\bpip install\b",
        r"\b(?:tab|numpy|scipy|lang|gbk|gb2312|gb18030|utf-(?:8|16)(?:-sig)?)\b")
"""What may stay ASCII in a Chinese error: quoted values, options, [tables], paths, keys,
codes and acronyms, and names a user types (tab, numpy, gbk, pip install...)."""


def english_sentence(text: str) -> str | None:
    """Two or more English words in a row left in ``text`` (once its code is removed)."""
    for pattern in CODE:
        text = re.sub(pattern, " ", text)
    found = re.search(r"[A-Za-z]{2,}(?: [A-Za-z]{2,})+", text)  # a list "a, b" is data
    return found.group(0) if found else None


def _templates() -> dict[str, set[str]]:
    """Every template of the errors the check guards, with the files raising it."""
    found: dict[str, set[str]] = {}
    for path in tool.message_files(ROOT):
        for template, _ in tool.error_messages(path.read_text(encoding="utf-8"))[0]:
            found.setdefault(template, set()).add(_module(path))
    return found


def _module(path: Path) -> str:
    """``path`` from ``src/crmcore`` (``config.py``), or from ``src`` for the plugins."""
    crmcore = ROOT / "src" / "crmcore"
    return (path.relative_to(crmcore) if path.is_relative_to(crmcore)
            else path.relative_to(ROOT / "src")).as_posix()


TEMPLATES = _templates()
CATALOGUE = i18n.translation("zh_CN")


def test_the_extractor_finds_the_templates_of_every_module_that_refuses() -> None:
    assert len(TEMPLATES) > 60
    assert {"config.py", "cli/common.py", "cli/grading.py", "cli/importing.py",
            "cli/agenda.py", "cli/clv.py"} <= set().union(*TEMPLATES.values())


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_reads_as_chinese(template: str) -> None:
    chinese = CATALOGUE.gettext(template)
    assert chinese != template or english_sentence(template) is None
    filled = string.Formatter().vformat(chinese, (), _Blank())
    assert english_sentence(filled) is None, chinese


class _Value:
    """A placeholder's value that fills any format spec (``{tolerance:g}`` too)."""

    def __format__(self, spec: str) -> str:
        return "值"

    def __repr__(self) -> str:
        return "'值'"


class _Blank(dict[str, _Value]):
    def __missing__(self, key: str) -> _Value:
        return _Value()


def test_the_check_refuses_a_message_written_as_an_f_string() -> None:
    source = ('raise CommandError(f"--x: {value} is bad")\n'
              'raise ConfigError("plain " + name)\n'
              'raise CommandError(tr("--y: {value} is bad").format(value=v))\n'
              'raise CommandError(str(error))\n')
    templates, written_in = tool.error_messages(source)
    assert (templates, written_in) == ([("--y: {value} is bad", 3)], [1, 2])
    assert tool.written_in_messages(ROOT) == []


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A purchases CSV and configuration files with one mistake each."""
    folder = tmp_path_factory.mktemp("refusals")
    (folder / "t.csv").write_text("customer_id,date,amount\nC1,2025-03-01,10\n",
                                  encoding="utf-8")
    configs = {"section": "[nonsense]\n", "zero": "[delivery]\nlease_seconds = 0\n",
               "langs": 'lang = "zh_CN"\n[locale]\nlang = "en"\n',
               "table": "storage = 3\n", "notifier": "[[notifiers]]\nuse = 7\n",
               "twice": '[[notifiers]]\nuse = "log"\n[[notifiers]]\nuse = "log"\n',
               "zone": '[import]\ntime_zone = "Mars/Base"\n'}
    for name, text in configs.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    (folder / "gbk.toml").write_bytes('lang = "中文"\n'.encode("gbk"))
    return folder


GRADE = ("grade", "{t.csv}", "--scheme", "pareto-abc", "--as-of", "2025-04-01")
IMPORT = ("import", "transactions", "{t.csv}", "--db", "{x.db}")
CASES = {
    "window": (*GRADE, "--window-months", "0"),
    "keep runs": (*GRADE, "--keep-runs", "0"),
    "set": (*GRADE, "--set", "oops"),
    "no file": ("grade", "--scheme", "pareto-abc"),
    "hysteresis": (*GRADE, "--downgrade-runs", "2"),
    "erp": (*GRADE, "--erp", "odoo"),
    "not graded": (*GRADE, "--customer", "C9"),
    "as-of range": ("grade", "{t.csv}", "--scheme", "pareto-abc", "--as-of", "1800-01-01"),
    "reading db": ("agenda", "--db", "{none.db}"),
    "missing file": ("import", "transactions", "{none.csv}", "--db", "{x.db}"),
    "encoding": (*IMPORT, "--encoding", "big5"),
    "time zone": (*IMPORT, "--time-zone", "Mars/Base"),
    "config file": ("agenda", "--config", "{none.toml}"),
    "config gbk": ("agenda", "--config", "{gbk.toml}"),
    **{f"config {name}": ("agenda", "--config", f"{{{name}.toml}}")
       for name in ("section", "zero", "langs", "table", "notifier", "twice")},
    "import zone": ("import", "transactions", "{t.csv}", "--config", "{zone.toml}"),
    "delimiter": (*IMPORT, "--delimiter", "ab"),
}
"""Refusals to provoke: one or more of each module that raises them."""


def _words(argv: tuple[str, ...], folder: Path) -> list[str]:
    return [str(folder / word[1:-1]) if word.startswith("{") else word for word in argv]


def _refused(argv: list[str]) -> tuple[int, str]:
    """``crmcore ARGV``'s exit status and standard error (a usage error exits 2)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as done:
            status = int(done.code or 0)
    return status, err.getvalue()


def _template_of(line: str) -> str | None:
    """The template (by its Chinese translation) that ``line`` is an instance of: of those
    matching, the one with the most words of its own (not ``{field}: {reason}``)."""
    best, best_size = None, 0
    for template in TEMPLATES:
        parts = re.split(r"\{[^{}]*\}", CATALOGUE.gettext(template))
        size = sum(map(len, parts))
        if size > best_size and re.search(".+".join(map(re.escape, parts)), line):
            best, best_size = template, size
    return best


def test_refusals_are_chinese_lines_of_the_catalogue(files: Path) -> None:
    modules = set()
    fragments = {part.strip() for template in TEMPLATES
                 for part in re.split(r"\{[^{}]*\}", template)
                 if english_sentence(part) is not None}
    for name, argv in CASES.items():
        status, err = _refused([*_words(argv, files), "--lang", "zh_CN"])
        assert status in (1, 2), (name, err)
        last = err.splitlines()[-1]
        assert re.match(r"crmcore( [a-z ]+)?：错误：", last), (name, err)
        assert english_sentence(last) is None, (name, last)
        assert not [part for part in fragments if part in last], (name, last)
        template = _template_of(last)
        assert template is not None, (name, last)
        modules |= TEMPLATES[template]
    assert {"config.py", "cli/common.py", "cli/grading.py", "cli/importing.py",
            "options.py"} <= modules


def test_a_configuration_that_cannot_be_read_is_refused_in_the_environments_language(
        files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own ``lang`` cannot be known, so the environment's language words the error."""
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    status, err = _refused(["agenda", "--config", str(files / "section.toml")])
    assert (status, err.split("（")[0]) == (1, "crmcore：错误：nonsense：不是已知的配置节")
    monkeypatch.setenv("LANG", "C")
    status, err = _refused(["agenda", "--config", str(files / "section.toml")])
    assert err.startswith("crmcore: error: nonsense: is not a known section (known: ")
