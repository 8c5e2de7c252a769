"""``crmcore events list`` / ``show`` in Chinese: every event type's summary, the entity
kinds of the entity events and the data fields' types are worded in zh_CN."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import run

import crmcore
from crmcore.event_catalogue import catalogue, event_type
from crmcore.i18n import language
from crmcore.i18n_terms import term

SOURCES = Path(crmcore.__file__).parent

LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")


def test_every_summary_has_a_chinese_text_and_an_english_one() -> None:
    entries = catalogue()
    assert len(entries) > 60
    with language("zh_CN"):
        for entry in entries:
            text = entry.summary_text()
            assert text != entry.summary
            assert not LATIN_WORD.search(text), f"{entry.name}: English left in {text!r}"
    assert [e.summary_text() for e in entries] == [e.summary for e in entries]


def test_every_entity_kind_crmcore_registers_has_a_chinese_word() -> None:
    """Every kind a module of crmcore registers (read from the sources: importing them
    all needs every extra), whether or not a test imported its module yet."""
    texts = [path.read_text("utf-8") for path in SOURCES.rglob("*.py")]
    constants = dict(match for text in texts
                     for match in re.findall(r'^([A-Z_]+) = "([a-z_]+)"$', text, re.MULTILINE))
    kinds = {constants.get(kind, kind) for text in texts
             for kind in re.findall(r'EntityType\(\s*"?([A-Za-z_]+)"?,', text)}
    assert {entry.kind for entry in catalogue()} - {None} <= kinds
    with language("zh_CN"):
        assert [kind for kind in sorted(kinds) if term(kind) == kind] == []


def test_an_entity_event_names_its_kind_in_the_language() -> None:
    entry = event_type("transaction.imported")
    assert entry.summary == "A file of transaction rows was imported."
    with language("zh_CN"):
        assert entry.summary_text() == "导入了一个交易数据文件。"


@pytest.mark.parametrize("form", ["table", "json"])
def test_events_list_prints_chinese_summaries(form: str) -> None:
    status, out, err = run("events", "list", "--format", form, "--lang", "zh_CN")
    assert status == 0, err
    with language("zh_CN"):
        expected = {entry.name: entry.summary_text() for entry in catalogue()}
    if form == "json":
        listed = {item["type"]: item["summary"] for item in json.loads(out)["types"]}
        assert listed == expected
    else:
        for name, summary in expected.items():
            assert re.search(rf"^{re.escape(name)} +{re.escape(summary)}$", out, re.M)


def test_events_show_prints_the_summary_and_field_types_in_chinese() -> None:
    status, out, err = run("events", "show", "grade.changed", "--lang", "zh_CN")
    assert status == 0, err
    assert out.startswith("grade.changed: 客户在某一分级方案下的等级上升或下降（G1-G8）。\n")
    assert "direction    取值之一：'up', 'down'" in out
    status, out, _ = run("events", "show", "lead.assigned", "--format", "json",
                         "--lang", "zh_CN")
    assert json.loads(out)["summary"] == "线索已分配负责人，并附报告表及其期限（L2）。"
