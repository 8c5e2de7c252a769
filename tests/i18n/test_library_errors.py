"""Refusals of the library and its plugins in zh_CN (issue 13).

Each module of ``MESSAGE_SOURCES`` beyond the command line words its errors from the
catalogue: one representative refusal of each is provoked for real through the public
API under ``zh_CN`` and must be exactly the Chinese translation of its template, filled
with the values as given (``{value!r}`` stays the repr), with no English sentence left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.i18n.refusals import assert_chinese, assert_english
from tests.i18n.test_command_errors import CATALOGUE

from crmcore import i18n
from crmcore.config import parse_config
from crmcore.encodings import ENCODINGS, TextDecodeError, encoding_name, open_text
from crmcore.errors import CrmError
from crmcore.grading import builtin_schemes, load_scheme
from crmcore.options import Options
from crmcore.policies.configuration import policies_from_config
from crmcore.policies.sla import SlaTable
from crmcore.service import BusinessCalendar
from crmcore_plugins.erp.conditions import read_conditions
from crmcore_plugins.erp.mapping import mapping_from_dict
from crmcore_plugins.erp.purchases_mapping import purchases_from_dict
from crmcore_plugins.notify_smtp import TEMPLATE_FIELDS, check_template
from crmcore_plugins.notify_webhook import WebhookNotifier
from crmcore_plugins.storage_memory import MemoryStorage
from crmcore_plugins.storage_sqlite import SqliteStorage


def _options_choice() -> None:
    Options({"mode": "loud"}, "notify").choice("mode", ("quiet", "normal"))


def _options_minimum() -> None:
    Options({"retries": 0}, "delivery").integer("retries", minimum=1)


def _options_unknown() -> None:
    Options({"colour": "red"}, "report").refuse_unknown(("lang", "width"))


def _policies(text: str) -> Callable[[], Any]:
    return lambda: policies_from_config(parse_config(text))


def _closed_memory_storage() -> None:
    storage = MemoryStorage()
    storage.close()
    with storage.transaction():
        pass


CASES: dict[str, tuple[Callable[[], Any], str, dict[str, Any]]] = {
    "options choice": (_options_choice, "{key}: {value!r} is not one of {choices}",
                       {"key": "notify.mode", "value": "loud", "choices": "quiet, normal"}),
    "options minimum": (_options_minimum, "{key}: {value!r} must be at least {minimum}",
                        {"key": "delivery.retries", "value": 0, "minimum": 1}),
    "options unknown": (_options_unknown, "{key}: is not a known option (known: {known})",
                        {"key": "report.colour", "known": "lang, width"}),
    "policies chain": (_policies("[[policies.chain]]\nrole = 'lead'\nafter_hours = 4\n"
                                 "[[policies.chain]]\nrole = 'boss'\nafter_hours = 2\n"),
                       "{key}: {value!r} is earlier than the step before it ({before!r})",
                       {"key": "policies.chain[1].after_hours", "value": 2.0, "before": 4.0}),
    "policies key grades": (_policies("[policies.care]\nkey_grades = ['A', '']\n"),
                            "{key}: {value!r} is not a {what} (a non-empty text)",
                            {"key": "policies.care.key_grades[1]", "value": "",
                             "what": "grade"}),
    "scheme unknown": (lambda: load_scheme("no-such-scheme"),
                       "scheme: {value!r} is neither a built-in scheme ({schemes}) nor a file",
                       {"value": "no-such-scheme", "schemes": ", ".join(builtin_schemes())}),
    "scheme grade": (lambda: load_scheme("pareto-abc").grade("Z"),
                     "grade: {name!r} is not a grade of {scheme} ({grades})",
                     {"name": "Z", "scheme": "pareto-abc", "grades": "A, B, C"}),
    "calendar time zone": (_policies("[policies]\ncalendar = 'CN'\n"),
                           "{key}: is required with calendar = {code!r} (the company's time "
                           "zone, e.g. \"Asia/Shanghai\")",
                           {"key": "policies.time_zone", "code": "CN"}),
    "sla hours": (lambda: SlaTable.from_hours({"A": {"urgent": (1, -4)}}),
                  "{key}: {value!r} is not a positive number of hours",
                  {"key": "sla.A.urgent.resolution_hours", "value": -4}),
    "encoding": (lambda: encoding_name("big5"),
                 "{option}: {value!r} is not a supported encoding (available: {encodings}; "
                 "gbk and gb2312 read as gb18030)",
                 {"option": "--encoding", "value": "big5", "encodings": ", ".join(ENCODINGS)}),
    "business calendar": (lambda: BusinessCalendar("c", "UTC", {"monday": "09:00-18:00"}),
                          "{field}: {value!r} {reason}",
                          {"field": "week.monday", "value": "09:00-18:00",
                           "reason": "is not a list of time ranges HH:MM-HH:MM"}),
    "erp condition": (lambda: read_conditions([{"column": "state", "op": "is null",
                                                 "value": 1}], "where"),
                      "{key}: {op!r} takes no value", {"key": "where[0].value", "op": "is null"}),
    "erp mapping": (lambda: mapping_from_dict({"time_zone": "Mars/Base"}),
                    "{key}: {value!r} is not a time zone (e.g. 'Europe/Berlin')",
                    {"key": "time_zone", "value": "Mars/Base"}),
    "erp purchases": (lambda: purchases_from_dict({}),
                      "{key}.orders: is required (at least one [[{key}.orders]] table)",
                      {"key": "purchases"}),
    "smtp template": (lambda: check_template("{nope}", "subject"),
                      "{key}: {value!r} uses {field}; known fields: {known}",
                      {"key": "subject", "value": "{nope}", "field": "{nope}",
                       "known": ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)}),
    "webhook url": (lambda: WebhookNotifier("ftp://example.com/hook", "s3cret"),
                    "{key}: {value!r} is not an http:// or https:// URL",
                    {"key": "url", "value": "ftp://example.com"}),  # the path is redacted
    "memory storage closed": (_closed_memory_storage, "the memory storage is closed", {}),
}
"""Refusals to provoke: a function raising it, its template and the values it fills in."""


def _translated(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the words of the catalogue (``what``, ``reason``) in Chinese."""
    if "reason" in values:  # "is not a list of {what}" filled with its "what"
        what = values["reason"].removeprefix("is not a list of ")
        values = {**values, "reason": CATALOGUE.gettext("is not a list of {what}").format(
            what=CATALOGUE.gettext(what))}
    return {name: CATALOGUE.gettext(value) if name == "what" else value
            for name, value in values.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_library_refusal_is_its_chinese_template(name: str) -> None:
    assert_chinese(CASES[name], _translated)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_english_refusal_keeps_its_wording(name: str) -> None:
    assert_english(CASES[name])


def test_a_file_that_does_not_decode_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("customer_id\n客户\n".encode("gbk"))
    template = ("{path}: line {line}, byte offset {offset}: bytes {bytes} do not decode as "
                "{encoding} (the given encoding)")
    with i18n.language("zh_CN"), pytest.raises(TextDecodeError) as raised:
        open_text(path, "utf-8")
    assert str(raised.value) == CATALOGUE.gettext(template).format(
        path=path, line=2, offset=12, bytes="bf", encoding="utf-8")


def test_a_pushdown_refusal_is_its_chinese_template() -> None:
    """The pushdown plugin needs the ``pushdown`` extra (Ibis)."""
    metrics = pytest.importorskip("crmcore_plugins.pushdown.metrics")
    template = "metric: {value!r} is not a metric (known: {known})"
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        metrics.needed_aggregates(["loyalty"])
    assert str(raised.value) == CATALOGUE.gettext(template).format(
        value="loyalty", known=", ".join(metrics.AGGREGATES))


def test_a_read_only_sqlite_database_that_does_not_exist_is_refused_in_chinese(
        tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    template = "storage.path: {path!r} does not exist (a read-only database is never created)"
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        SqliteStorage(path, read_only=True)
    assert str(raised.value) == CATALOGUE.gettext(template).format(path=str(path))
    assert not path.exists()
