"""Refusals of the library and its plugins in zh_CN (issue 13).

Each module of ``MESSAGE_SOURCES`` beyond the command line words its errors from the
catalogue: one representative refusal of each is provoked for real through the public
API under ``zh_CN`` and must be exactly the Chinese translation of its template, filled
with the values as given (``{value!r}`` stays the repr), with no English sentence left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.i18n.test_command_errors import CATALOGUE, english_sentence

from crmcore import i18n
from crmcore.errors import CrmError
from crmcore.options import Options


def _options_choice() -> None:
    Options({"mode": "loud"}, "notify").choice("mode", ("quiet", "normal"))


def _options_minimum() -> None:
    Options({"retries": 0}, "delivery").integer("retries", minimum=1)


def _options_unknown() -> None:
    Options({"colour": "red"}, "report").refuse_unknown(("lang", "width"))


CASES: dict[str, tuple[Callable[[], Any], str, dict[str, Any]]] = {
    "options choice": (_options_choice, "{key}: {value!r} is not one of {choices}",
                       {"key": "notify.mode", "value": "loud", "choices": "quiet, normal"}),
    "options minimum": (_options_minimum, "{key}: {value!r} must be at least {minimum}",
                        {"key": "delivery.retries", "value": 0, "minimum": 1}),
    "options unknown": (_options_unknown, "{key}: is not a known option (known: {known})",
                        {"key": "report.colour", "known": "lang, width"}),
}
"""Refusals to provoke: a function raising it, its template and the values it fills in."""


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_library_refusal_is_its_chinese_template(name: str) -> None:
    provoke, template, values = CASES[name]
    chinese = CATALOGUE.gettext(template)
    assert chinese != template
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        provoke()
    assert str(raised.value) == chinese.format(**values)
    assert english_sentence(str(raised.value)) is None


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_english_refusal_keeps_its_wording(name: str) -> None:
    provoke, template, values = CASES[name]
    with pytest.raises(CrmError) as raised:
        provoke()
    assert str(raised.value) == template.format(**values)
