"""Choosing the language (--lang, configuration, environment) and rendering structured
explanations in a host's language (crmcore.i18n)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore import i18n
from crmcore.config import parse_config
from crmcore.errors import ConfigError
from crmcore.grading.explain import render as render_in_current_language


@pytest.mark.parametrize(("text", "expected"), [
    ("zh_CN", "zh_CN"), ("zh_CN.UTF-8", "zh_CN"), ("zh-cn", "zh_CN"), ("zh", "zh_CN"),
    ("en", "en"), ("en_US.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en"),
    ("fr_FR.UTF-8", None), ("", None),
])
def test_locale_names_match_a_shipped_language(text: str, expected: str | None) -> None:
    assert i18n.match_language(text) == expected


def test_lang_option_comes_before_configuration_before_environment() -> None:
    environ = {"LANG": "zh_CN.UTF-8"}
    assert i18n.resolve_language("en", "zh_CN", environ) == "en"
    assert i18n.resolve_language(None, "en", environ) == "en"
    assert i18n.resolve_language(None, None, environ) == "zh_CN"
    assert i18n.resolve_language(None, None, {}) == "en"


def test_environment_order_is_lc_all_lc_messages_lang() -> None:
    assert i18n.language_from_environment(
        {"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN", "LANG": "zh_CN"}) == "en"
    assert i18n.language_from_environment({"LC_MESSAGES": "zh_CN", "LANG": "C"}) == "zh_CN"
    assert i18n.language_from_environment({"LANG": "de_DE.UTF-8"}) is None  # then English


def test_an_unknown_language_names_the_option_and_lists_the_available() -> None:
    with pytest.raises(ConfigError, match=r"^--lang: 'xx' is not an available language "
                                          r"\(available: en, zh_CN\)$"):
        i18n.resolve_language("xx")
    with pytest.raises(ConfigError, match=r"^lang: 'de' is not an available language"):
        i18n.resolve_language(None, "de")


def test_configuration_lang_at_top_level_or_in_locale_table() -> None:
    assert parse_config('lang = "zh_CN"').lang == "zh_CN"
    assert parse_config('[locale]\nlang = "zh-CN"').lang == "zh_CN"
    assert parse_config("").lang is None
    with pytest.raises(ConfigError, match=r"^locale\.lang: 'klingon' is not an available"):
        parse_config('[locale]\nlang = "klingon"')
    with pytest.raises(ConfigError, match="both at the top level and in"):
        parse_config('lang = "en"\n[locale]\nlang = "zh_CN"')


def test_cli_takes_the_language_from_the_config_file(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from crmcore.cli import main

    config = tmp_path / "crm.toml"
    config.write_text(f'lang = "zh_CN"\n[storage]\npath = "{tmp_path / "c.db"}"\n',
                      encoding="utf-8")
    assert main(["agenda", "--config", str(config)]) != 0  # no such database
    assert capsys.readouterr().err.startswith("crmcore：错误：")
    assert main(["agenda", "--config", str(config), "--lang", "en"]) != 0
    assert capsys.readouterr().err.startswith("crmcore: error: ")


def test_a_bad_as_of_is_reported_in_the_language(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from crmcore.cli import main

    database = str(tmp_path / "unused.db")
    assert main(["demo", "--db", database, "--as-of", "soon", "--lang", "zh_CN"]) != 0
    assert capsys.readouterr().err == (
        "crmcore：错误：--as-of：'soon' 不是日期（YYYY-MM-DD）或 ISO 日期时间\n")


def test_language_block_restores_the_previous_language() -> None:
    assert i18n.current_language() == "en"
    with i18n.language("zh_CN"):
        assert i18n.tr("Lifecycle") == "客户生命周期"
        with i18n.language("en"):
            assert i18n.tr("Lifecycle") == "Lifecycle"
        assert i18n.current_language() == "zh_CN"
    assert i18n.tr("Lifecycle") == "Lifecycle"
    assert i18n.tr("a text nobody translated") == "a text nobody translated"


def test_render_words_a_grading_explanation_in_the_host_language() -> None:
    params = {"rank": 3, "population": 1000, "by": "revenue", "value": 12345.6, "grade": "A",
              "low": 1, "high": 50, "top": 5}
    english = i18n.render("rank.count", params, lang="en")
    chinese = i18n.render("rank.count", params, lang="zh_CN")
    assert english == render_in_current_language("rank.count", params)
    assert english.startswith("rank 3 of 1,000 by revenue = 12,345.60; A: ranks 1-50 (top 5%")
    assert chinese.startswith("第 3 名，共 1,000 位，按销售收入 = 12,345.60；A：第 1-50 名")
    assert i18n.current_language() == "en"


def test_display_width_counts_wide_characters_twice() -> None:
    assert i18n.display_width("客户 A") == 6


def test_validation_errors_are_worded_in_the_language_of_the_moment() -> None:
    from crmcore.errors import ValidationError
    from crmcore.model import ContactPreferences

    with i18n.language("zh_CN"), pytest.raises(ValidationError) as chinese:
        ContactPreferences(time_zone="Mars/Base")
    assert str(chinese.value) == "time_zone：'Mars/Base' 不是时区"
    assert chinese.value.reason == "is not a time zone"  # the data stays the code
    with pytest.raises(ValidationError) as english:
        ContactPreferences(time_zone="Mars/Base")
    assert str(english.value) == "time_zone: 'Mars/Base' is not a time zone"


def test_chinese_output_shows_words_that_input_accepts() -> None:
    """A code shown in zh_CN is one of the Chinese terms crmcore accepts for it (issue 13
    item 2), so what a user reads they can type back."""
    from crmcore.grading import load_scheme
    from crmcore.i18n_terms import term
    from crmcore.vocabulary import TERMS

    pyramid = load_scheme("pyramid")
    with i18n.language("zh_CN"):
        shown = {(enum, code): term(code) for enum, codes in TERMS.items() for code in codes}
        grades = {grade.name: term(grade.name) for grade in pyramid.grades}
    translated = {key: word for key, word in shown.items() if word != key[1]}
    assert len(translated) > 20
    assert [key for key, word in translated.items() if word not in TERMS[key[0]][key[1]]] == []
    assert all(word in pyramid.grade(name).aliases for name, word in grades.items())


def test_matrix_explanation_words_quadrant_and_label_in_chinese() -> None:
    params = {"axes": [["contribution", "revenue", 100.0, 50.0, "median"],
                       ["potential", "potential", 1.0, 5.0, "median"]],
              "grade": "B", "meaning": "low potential, high contribution: control the time "
                                       "invested"}
    english = i18n.render("matrix", params, lang="en")
    assert english.endswith("B = low potential, high contribution: control the time invested")
    assert i18n.render("matrix", params, lang="zh_CN").endswith(
        "B = 低潜力、高贡献: 控制投入时间")


@pytest.mark.parametrize(("argv", "words", "lang"), [
    (["lifecycle", "stages", "--lang", "zh_CN", "--db", "x"],
     ["lifecycle", "stages", "--db", "x"], "zh_CN"),
    (["--lang=en", "demo"], ["demo"], "en"),
    (["demo", "--", "--lang", "zh_CN"], ["demo", "--", "--lang", "zh_CN"], None),
    (["demo", "--lang"], ["demo", "--lang"], None),  # no value: argparse reports it
])
def test_lang_is_taken_wherever_it_stands(argv: list[str], words: list[str],
                                          lang: str | None) -> None:
    from crmcore.cli import take_lang

    assert take_lang(argv) == (words, lang)


def test_tables_align_chinese_cells_by_their_display_width() -> None:
    import io

    from crmcore.cli.common import print_table

    out = io.StringIO()
    print_table([("客户生命周期", "x"), ("C1", "y")], ("名称", "v"), out)
    lines = out.getvalue().splitlines()
    starts = {i18n.display_width(line[:-1]) for line in (lines[0], lines[2], lines[3])}
    assert starts == {14}  # 12 columns of Chinese, then two spaces, on every line
