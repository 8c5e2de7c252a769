"""L3: churn details checked once per distinct field values answer as the taxonomy does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.lifecycle import ChurnDetails, ChurnTaxonomy
from crmcore.lifecycle.taxonomy import remembered_details

TAXONOMY = ChurnTaxonomy()
TEXTS = st.sampled_from(["natural", "negligence", "unknown", "value", "system", "自然流失",
                         "bored", "", " other "])
CODES = st.sampled_from([*TAXONOMY.codes(), "aliens", "价格太高", "", 3])
REASONS = st.lists(CODES, max_size=3) | st.tuples(CODES) | st.just("other") | st.none()
NOTES = st.sampled_from(["", "company closed", "  ", None, 4])


@st.composite
def churn_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Churn fields with valid and invalid values, some absent."""
    fields: dict[str, Any] = {}
    for name, values in (("churn_type", TEXTS | st.none()), ("churn_cause", TEXTS | st.none()),
                         ("churn_reasons", REASONS), ("churn_note", NOTES)):
        if draw(st.booleans()):
            fields[name] = draw(values)
    return fields


def _answer(check: Any, fields: dict[str, Any]) -> ChurnDetails | str:
    try:
        found: ChurnDetails = check(fields)
    except ValidationError as error:
        return f"refused: {error}"
    return found


@given(st.lists(churn_fields(), min_size=1, max_size=12), st.sampled_from([1, 2, 4096]))
def test_l3_remembered_details_answer_and_refuse_as_the_taxonomy(
        books: list[dict[str, Any]], size: int) -> None:
    """Each field set asked twice (the second from memory) gives the plain answer or refusal."""
    details = remembered_details(TAXONOMY, size)
    for fields in [*books, *books]:
        assert _answer(details, fields) == _answer(TAXONOMY.details, fields)


def test_l3_a_remembered_answer_is_reused() -> None:
    """The same fields checked again are not checked again (the memory is consulted)."""
    calls: list[object] = []

    class Counting(ChurnTaxonomy):
        def details(self, fields: Any) -> ChurnDetails:
            calls.append(fields)
            return super().details(fields)

    details = remembered_details(Counting())
    fields = {"churn_type": "natural", "churn_cause": "value", "churn_reasons": ["other"],
              "churn_note": "moved away"}
    assert details(fields) == details(dict(fields)) == TAXONOMY.details(fields)
    assert len(calls) == 1
