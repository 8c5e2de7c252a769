"""The catalogue check CI runs (tools/check_catalogues.py): every message marked in the
sources is in the .pot, and every .pot message has a zh_CN (and en) translation with the
same placeholders. Also: the compiled .mo and the .po read without Babel agree."""

from __future__ import annotations

import gettext
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from crmcore import i18n

pytest.importorskip("babel", reason="Babel (the test and docs extras) manages the catalogues")

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_catalogues",
                                                  ROOT / "tools" / "check_catalogues.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()


@pytest.fixture
def locale_copy(tmp_path: Path) -> Path:
    """A copy of the shipped catalogues to break."""
    return Path(shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale"))


def _replace_in_zh(locale: Path, old: str, new: str) -> None:
    path = tool.po_path("zh_CN", locale)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_catalogues_are_complete_and_extraction_is_up_to_date() -> None:
    assert tool.problems(fresh=tool.extract()) == []


def test_a_missing_translation_fails_the_check(locale_copy: Path) -> None:
    _replace_in_zh(locale_copy, 'msgstr "客户生命周期"', 'msgstr ""')
    assert tool.problems(locale_copy) == ["zh_CN: no translation of 'Lifecycle'"]


def test_a_changed_placeholder_fails_the_check(locale_copy: Path) -> None:
    _replace_in_zh(locale_copy, "调查答卷 {count}", "调查答卷 {n}")
    [problem] = tool.problems(locale_copy)
    assert problem.startswith("zh_CN: placeholders of 'survey responses {count}' differ")


def test_a_message_marked_but_not_extracted_fails_the_check() -> None:
    fresh = tool.extract()
    fresh.add("a brand new message {x}")
    assert tool.problems(fresh=fresh) == [
        "crmcore.pot lacks 'a brand new message {x}' (run tools/check_catalogues.py update)"]


def test_a_help_translation_losing_its_argparse_field_fails_the_check(locale_copy: Path
                                                                      ) -> None:
    _replace_in_zh(locale_copy, "输出格式（默认：%(default)s）", "输出格式（默认）")
    [problem] = tool.problems(locale_copy)
    assert problem.startswith("zh_CN: placeholders of 'output format (default: %(default)s)'")


def test_help_texts_are_extracted_from_literals_without_marks() -> None:
    source = ('p.add_argument("--x", help="the x" if a else "an x")\n'
              'p.add_parser("y", help=f"not {literal}", description="Why y.")\n'
              'Command("crmcore.cli.z", "the z command")\n'
              'p.add_subparsers(title="z commands")\n')
    assert [text for text, _ in tool.help_texts(source)] == [
        "the x", "an x", "Why y.", "the z command", "z commands"]


def test_placeholders_compare_names_conversions_and_formats() -> None:
    assert tool.placeholders("{a:>6} {b!r}") == tool.placeholders("{b!r}，{a:>6}")
    assert tool.placeholders("{a:>6}") != tool.placeholders("{a}")


def test_the_po_reader_agrees_with_the_compiled_catalogue(tmp_path: Path) -> None:
    """What an editable install reads (.po, no Babel) equals what a wheel reads (.mo)."""
    locale = Path(shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale"))
    [_, compiled] = tool.compile_catalogues(locale)
    with compiled.open("rb") as file:
        mo = gettext.GNUTranslations(file)
    from_po = i18n.read_po(tool.po_path("zh_CN", locale))
    assert len(from_po) > 200
    assert all(mo.gettext(message) == text for message, text in from_po.items())
