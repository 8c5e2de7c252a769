"""The exit statuses the docs list, in English and in the zh_CN edition, are those of
:mod:`crmcore.errors` (0 done, 1 refused input or failed work, 2 usage, 3 conflict,
4 storage, 5 file, 70 internal), each with its meaning."""

from __future__ import annotations

import re
from pathlib import Path

from crmcore import errors

DOCS = Path(__file__).resolve().parents[2] / "docs"

STATUSES = {errors.EXIT_OK: "done", errors.EXIT_REFUSED: "refused input",
            errors.EXIT_USAGE: "usage error", errors.EXIT_CONFLICT: "concurrent change",
            errors.EXIT_STORAGE: "store cannot be used", errors.EXIT_FILE: "file could not be",
            errors.EXIT_INTERNAL: "bug in crmcore"}
"""Each status and words its meaning must hold."""

CHINESE = {0: "完成", 1: "输入被拒绝", 2: "用法错误", 3: "并发修改", 4: "存储无法使用",
           5: "文件无法读取或写入", 70: "缺陷"}


def _squeezed(text: str) -> str:
    return " ".join(text.split()).lower()


def _section(text: str) -> str:
    """The getting-started section on exit statuses (up to the next section)."""
    return text.split("Exit statuses\n-------------", 1)[1].split("Errors you will see", 1)[0]


def _list_table(text: str) -> dict[int, str]:
    """The rows of the getting-started exit-status table: status to meaning."""
    section = _section(text)
    rows = re.findall(r"^   \* - (\d+)\n     - (.+?)(?=\n   \* - |\Z)", section, re.M | re.S)
    return {int(status): _squeezed(meaning) for status, meaning in rows}


def test_getting_started_lists_every_status_with_its_meaning() -> None:
    table = _list_table((DOCS / "getting-started.rst").read_text(encoding="utf-8"))
    assert set(table) == set(STATUSES)
    for status, words in STATUSES.items():
        assert words in table[status], (status, table[status])


def test_the_command_line_reference_and_production_chapter_agree() -> None:
    cli = (DOCS / "cli.rst").read_text(encoding="utf-8")
    block = cli.split("Exit status (defined once", 1)[1].split("\n\n", 2)[1]
    rows = dict(re.findall(r"^(\d+) +(.+?)(?=^\d+ |^=)", block, re.M | re.S))
    assert {int(status) for status in rows} == set(STATUSES)
    for status, words in STATUSES.items():
        assert words in _squeezed(rows[str(status)]), status
    production = _squeezed((DOCS / "production.rst").read_text(encoding="utf-8"))
    sentence = production.split("exit statuses ------------- ", 1)[1].split(". ", 1)[0]
    for status, words in STATUSES.items():
        assert re.search(rf"\b{status} [^;]*{words}", sentence), (status, sentence)


def test_the_zh_cn_edition_translates_every_meaning() -> None:
    from babel.messages.pofile import read_po

    text = (DOCS / "getting-started.rst").read_text(encoding="utf-8")
    section = _section(text)
    meanings = re.findall(r"^   \* - \d+\n     - (.+?)(?=\n   \* - |\Z)", section, re.M | re.S)
    with (DOCS / "locale/zh_CN/LC_MESSAGES/getting-started.po").open("rb") as file:
        catalogue = {m.id: m.string for m in read_po(file) if m.id}
    chinese = [catalogue.get(" ".join(meaning.split())) for meaning in meanings]
    assert all(chinese), "a meaning of the exit-status table has no zh_CN translation"
    for (status, words), text_zh in zip(CHINESE.items(), chinese, strict=True):
        assert words in str(text_zh), (status, text_zh)
    assert catalogue["Exit statuses"] == "退出状态"
