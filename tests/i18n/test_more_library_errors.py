"""More refusals of the library in zh_CN (issue 13): the service calendars' documents, the
plugin registry, lifecycle, transitions and sales settings, the entity registry, workbooks,
the webhook signature check, how a file was read and the CLV plugin's input checks.

Like :mod:`tests.i18n.test_library_errors`: each refusal is provoked for real through the
public API and must be exactly the Chinese translation of its template, filled with the
values as given, and stay exactly the English template outside zh_CN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.i18n.refusals import assert_chinese, assert_english
from tests.i18n.test_command_errors import CATALOGUE, english_sentence

from crmcore import i18n
from crmcore.encodings import open_text
from crmcore.errors import CrmError
from crmcore.lifecycle.definitions import builtin_flow
from crmcore.lifecycle.evidence import Thresholds
from crmcore.lifecycle.leads import LeadPolicy
from crmcore.model.registry import entity_type
from crmcore.options import Options
from crmcore.plugins import Registration, Registry
from crmcore.sales.differentiation import REPORTS, differentiation_report, entity_inputs
from crmcore.sales.territories import Territories, TerritoryRule
from crmcore.service.calendar_data import calendar_from_mapping, calendar_from_toml
from crmcore.transitions import flow_from_toml, start_flow
from crmcore.xlsx import open_workbook_sheet
from crmcore_plugins.notify_webhook import verify_signature

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)

CASES: dict[str, tuple[Callable[[], Any], str, dict[str, Any]]] = {
    "calendar document table": (lambda: calendar_from_mapping(["name"]),  # type: ignore[arg-type]
                                "calendar document: {value!r} is not a table",
                                {"value": ["name"]}),
    "calendar document key": (lambda: calendar_from_toml('name = "x"\ncolour = "red"\n'),
                              "{key}: is not a known key (known: {known})",
                              {"key": "colour",
                               "known": "name, time_zone, week, holidays, extra_working_days"}),
    "plugin unknown": (lambda: Registry("notifier", [Registration("log", print, "a")]).get(
                           "pager", key="notifiers[0].use"),
                       "{key}: {name!r} is not a registered {category} (known: {known})",
                       {"key": "notifiers[0].use", "name": "pager", "category": "notifier",
                        "known": "log"}),
    "plugin twice": (lambda: Registry("storage backend", [Registration("x", print, "a"),
                                                         Registration("x", print, "b")]),
                     "{category} {name!r} is registered twice: by {first} and by {second}",
                     {"category": "storage backend", "name": "x", "first": "a", "second": "b"}),
    "lead policy": (lambda: LeadPolicy(answer_days=0), "{field}: {value!r} {reason}",
                    {"field": "lifecycle.lead_answer_days", "value": 0,
                     "reason": "must be more than 0"}),
    "lifecycle hours": (lambda: Thresholds.from_options(Options(
                            {"complaint_response_hours": {"urgent": "soon"}}, "lifecycle")),
                        "{key}: {value!r} must map priorities to hours",
                        {"key": "lifecycle.complaint_response_hours",
                         "value": {"urgent": "soon"}}),
    "flow start": (lambda: start_flow(builtin_flow("customer"), "c1", customer_id="c1",
                                      at=AS_OF, actor=" "),
                   "flow {flow!r}: {subject} {where}: event {event!r} refused: {reason}",
                   {"flow": "customer-lifecycle", "subject": "c1", "where": "before the start",
                    "event": "start", "reason": "an actor (who) must be named"}),
    "flow document": (lambda: flow_from_toml("name = 5\n", source="f.toml"),
                      "{key}: {value!r} is not {label}",
                      {"key": "f.toml: name", "value": 5, "label": "a text"}),
    "territory twice": (lambda: Territories((TerritoryRule("east", salespeople=["a"]),
                                             TerritoryRule("east", salespeople=["b"]))),
                        "{key}: {value!r} is defined twice",
                        {"key": "sales.territories", "value": "east"}),
    "differentiation report": (lambda: differentiation_report(
                                   entity_inputs(AS_OF, [], [], [], []), "biggest", as_of=AS_OF),
                               "{key}: {value!r} is not a differentiation report (known: {known})",
                               {"key": "report", "value": "biggest", "known": ", ".join(REPORTS)}),
    "webhook timestamp": (lambda: verify_signature("s3cret", 1000, b"{}", "00", now=5000.0,
                                                   tolerance_seconds=300),
                          "timestamp {value} is more than {tolerance:g} seconds from now "
                          "(a replayed or delayed request)",
                          {"value": "1000", "tolerance": 300}),
}
"""Refusals to provoke: a function raising it, its template and the values it fills in."""


WORDS = ("category", "reason", "where", "label")
"""The values that are words of the catalogue themselves."""


def _translated(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the words of the catalogue (``category``, ``reason``...) in Chinese."""
    return {name: CATALOGUE.gettext(value) if name in WORDS else value
            for name, value in values.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_refusal_is_its_chinese_template(name: str) -> None:
    assert_chinese(CASES[name], _translated)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_english_refusal_keeps_its_wording(name: str) -> None:
    assert_english(CASES[name])


def test_a_file_that_is_no_workbook_is_refused_in_chinese(tmp_path: Path) -> None:
    """The reader's own words (python-calamine's) follow the catalogue's."""
    pytest.importorskip("python_calamine")
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"not a workbook")
    template = "{path}: cannot be read as a workbook: {error}"
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        open_workbook_sheet(path)
    assert str(raised.value).startswith(
        CATALOGUE.gettext(template).format(path=path, error=""))


def test_an_unknown_entity_kind_is_refused_in_chinese() -> None:
    """The known kinds depend on the capabilities loaded so far: only the words are pinned."""
    template = "{value!r} is not an entity kind (known: {known})"
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        entity_type("nope")
    before, after = CATALOGUE.gettext(template).format(value="nope", known="|").split("|")
    assert str(raised.value).startswith(before)
    assert str(raised.value).endswith(after)
    assert "customer, " in str(raised.value)


def test_how_a_file_was_read_is_told_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("customer_id\n客户\n".encode("gbk"))
    with i18n.language("zh_CN"):
        assert open_text(path).describe() == CATALOGUE.gettext(
            "{encoding} (detected)").format(encoding="gb18030")
        assert open_text(path, "gbk").describe() == "gb18030（已指定）"
    assert open_text(path, "gbk").describe() == "gb18030 (given)"


def test_a_clv_input_refusal_is_in_chinese() -> None:
    """The CLV plugin's reasons are words of the catalogue (it needs the ``clv`` extra)."""
    summary = pytest.importorskip("crmcore_plugins.clv.summary")
    end = date(2024, 1, 1)
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        summary.summarize_purchases(["C1"], [date(2024, 2, 1)], [10.0], calibration_end=end,
                                    unit_days=7.0)
    assert str(raised.value) == CATALOGUE.gettext("{field}: {value!r} {reason}").format(
        field="calibration_end", value=end,
        reason=CATALOGUE.gettext("is before every purchase"))
    assert english_sentence(str(raised.value)) is None
