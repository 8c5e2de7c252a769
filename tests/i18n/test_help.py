"""``crmcore --help`` and every command's help in Chinese (crmcore.i18n_help): every help
text a parser holds is printed translated, for every command of the command table and
every nested action, and English help never loads a catalogue."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest
from tests.test_cli_startup import modules_after

from crmcore import i18n
from crmcore.cli import COMMANDS, build_parser, main
from crmcore.i18n_help import HelpText, help_language_of, translate_help, wrap


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """``parser`` and every parser of its subcommands, each with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def _help_texts(parser: argparse.ArgumentParser) -> list[str]:
    """Every text the help of ``parser`` prints that crmcore wrote (not metavars)."""
    texts = [parser.description, parser.epilog]
    texts += [group.title for group in parser._action_groups if group._group_actions]
    for action in parser._actions:
        texts.append(action.help)
        if isinstance(action, argparse._SubParsersAction):
            texts += [choice.help for choice in action._choices_actions]
    return [text for text in texts if text and text != argparse.SUPPRESS]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


ALL = list(_parsers(build_parser()))
PATHS = [path for path, _ in ALL]


def test_the_walk_reaches_every_command_of_the_table_and_nested_actions() -> None:
    assert {path[0] for path in PATHS if path} == set(COMMANDS)
    assert ("lifecycle", "stages") in PATHS
    assert ("pdca", "knowledge", "step") in PATHS


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) or "crmcore" for p in PATHS])
def test_every_help_text_is_printed_in_chinese(path: tuple[str, ...],
                                               parser: argparse.ArgumentParser,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help", "--lang", "zh_CN"])
    assert done.value.code == 0
    printed = _squeezed(capsys.readouterr().out)
    assert printed.startswith("用法：")
    catalogue = i18n.translation("zh_CN")
    for text in _help_texts(parser):
        message = text.template if isinstance(text, HelpText) else text
        assert catalogue.gettext(message) != message, f"no zh_CN translation of {message!r}"
        with help_language_of("zh_CN", []):
            chinese = translate_help(text) % {**vars(_action_of(parser, text)),
                                               "prog": parser.prog}
        assert _squeezed(chinese) in printed
        if not text.isascii() or len(text.split()) < 2:
            continue  # one word ("options") may well stand inside a Chinese sentence
        assert _squeezed(str(text)) not in printed, f"{text!r} printed in English"


def _action_of(parser: argparse.ArgumentParser, text: str) -> argparse.Action | argparse.Namespace:
    """The action whose help is ``text`` (for its %(default)s), else an empty namespace."""
    return next((a for a in parser._actions if a.help is text), argparse.Namespace())


def test_help_follows_lang_then_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    with pytest.raises(SystemExit):
        main(["agenda", "--help"])
    assert "只看此负责人的行动" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "每位负责人的到期行动，最紧急的在前，附原因" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help", "--lang", "en"])
    assert "each owner's due actions" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help", "--lang", "xx"])  # the run would refuse it; help stays English
    assert "show this help message" in capsys.readouterr().out


def test_help_takes_the_language_of_the_config_file(tmp_path: pytest.TempPathFactory,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANG", "C")
    config = tmp_path / "crm.toml"  # type: ignore[operator]
    config.write_text('lang = "zh_CN"\n', encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["agenda", "--config", str(config), "--help"])
    assert "只看此负责人的行动" in capsys.readouterr().out


def test_the_library_prints_help_in_its_current_language() -> None:
    parser = build_parser(lazy=True)
    assert "show this help message" in parser.format_help()
    with i18n.language("zh_CN"):
        assert "显示此帮助信息并退出" in parser.format_help()


def test_english_help_loads_no_catalogue() -> None:
    loaded = modules_after("import os; os.environ['LANG'] = 'en_US.UTF-8'\n    "
                           "from crmcore.cli import main; main(['--help'])")
    assert "crmcore.i18n" not in loaded


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("客户编号列（默认：customer_id）", 12, ["客户编号列（", "默认：", "customer_id）"]),
    ("a b c", 3, ["a b", "c"]),
    ("以只读方式打开。", 14, ["以只读方式打开。"]),  # the full stop stays on its line
])
def test_chinese_wraps_by_display_width(text: str, width: int, lines: list[str]) -> None:
    assert wrap(text, width) == lines


@pytest.mark.parametrize(("argv", "chinese", "english"), [
    (["grade", "t.csv"], "crmcore grade：错误：缺少以下必需参数：--scheme",
     "crmcore grade: error: the following arguments are required: --scheme"),
    (["demo", "--customers", "many"], "crmcore demo：错误：参数 --customers：无效的 int 值：'many'",
     "crmcore demo: error: argument --customers: invalid int value: 'many'"),
    (["events", "list", "--format", "xml"],
     "crmcore events list：错误：参数 --format：无效的选择：'xml'（可选：'table', 'json'）",
     "crmcore events list: error: argument --format: invalid choice: 'xml' (choose from "
     "'table', 'json')"),
    (["agenda", "--db", "a.db", "--config", "c.toml"],
     "crmcore agenda：错误：参数 --config：不能与参数 --db 同时使用",
     "crmcore agenda: error: argument --config: not allowed with argument --db"),
])
def test_usage_errors_are_worded_in_the_language(argv: list[str], chinese: str, english: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for lang, expected, usage in (("zh_CN", chinese, "用法："), ("en", english, "usage: ")):
        with pytest.raises(SystemExit) as done:
            main([*argv, "--lang", lang])
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(usage)
        assert err.endswith(f"\n{expected}\n")


def test_help_headings_end_with_the_languages_colon(capsys: pytest.CaptureFixture[str]) -> None:
    """Chinese headings end with the full-width colon, as ``用法：`` does; English keeps
    argparse's ``options:``."""
    headings = {"zh_CN": ("位置参数：", "选项："), "en": ("positional arguments:", "options:")}
    for lang, (positional, options) in headings.items():
        with pytest.raises(SystemExit):
            main(["grade", "--help", "--lang", lang])
        lines = capsys.readouterr().out.splitlines()
        assert positional in lines
        assert options in lines
    with pytest.raises(SystemExit):
        main(["grade", "--help", "--lang", "zh_CN"])
    assert not [line for line in capsys.readouterr().out.splitlines()
                if line.endswith(":") and not line.isascii()]
