"""The two checks every table of provoked refusals runs (issue 13): under zh_CN the error is
exactly its template's Chinese translation, filled in, with no English sentence left; in
English it keeps its wording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.i18n.test_command_errors import CATALOGUE, english_sentence

from crmcore import i18n
from crmcore.errors import CrmError

Refusal = tuple[Callable[[], Any], str, dict[str, Any]]
"""A function raising the refusal, its template and the values it fills in."""


def assert_chinese(refusal: Refusal, translated: Callable[[dict[str, Any]], dict[str, Any]]
                   ) -> None:
    """``refusal`` raised under zh_CN reads as its template's translation, filled with
    ``translated(values)`` (the values that are catalogue words, in Chinese)."""
    provoke, template, values = refusal
    chinese = CATALOGUE.gettext(template)
    assert chinese != template
    with i18n.language("zh_CN"), pytest.raises(CrmError) as raised:
        provoke()
    assert str(raised.value) == chinese.format(**translated(values))
    assert english_sentence(str(raised.value)) is None


def assert_english(refusal: Refusal) -> None:
    """``refusal`` raised in English reads as its template filled in."""
    provoke, template, values = refusal
    with pytest.raises(CrmError) as raised:
        provoke()
    assert str(raised.value) == template.format(**values)
