"""The reference column reading of :mod:`crmcore.columns` and the helpers engines share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.columns import (
    decimal_json_text,
    records_as_columns,
    rows_as_columns,
    typed_json_text,
)
from crmcore.ports import StoredRecord
from crmcore.serialization import dump_json
from crmcore.testing.strategies import json_values

_AMOUNTS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str), st.text(max_size=8),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.none())


@given(value=_AMOUNTS)
def test_decimal_json_text_equals_decoding_then_reading(value: Any) -> None:
    """The shortcut for plain JSON strings gives what decoding the text gives."""
    text = None if value is None else dump_json(value)
    assert decimal_json_text(text) == typed_json_text(text, "decimal")


@given(value=json_values())
def test_text_column_reads_a_value_as_its_stored_json(value: Any) -> None:
    """A non-text value read as text is the compact JSON a backend stores."""
    record = StoredRecord("thing", "R1", 1, "C1", None, {"v": value})
    (chunk,) = records_as_columns([record], {"v": "text"}, 10)
    expected = value if isinstance(value, str) or value is None else dump_json(value)
    assert chunk == {"v": [expected]}
    if expected is not None and not isinstance(value, str):
        assert json.loads(expected) == value


def test_a_value_that_does_not_read_as_its_type_is_named() -> None:
    """The error names the column, the record and the value."""
    records = [StoredRecord("thing", "R7", 1, "C1", datetime(2026, 1, 5, tzinfo=UTC),
                            {"n": "twelve"})]
    with pytest.raises(ValueError, match=r"columns\['n'\]: thing 'R7' holds 'twelve'"):
        list(records_as_columns(records, {"n": "integer"}, 10))


def test_rows_as_columns_finishes_the_named_positions() -> None:
    """Rows become columns; finishing applies to its positions only; no rows, empty lists."""
    chunk = rows_as_columns([("a", "1"), ("b", "2")], ["id", "n"], [(1, int)])
    assert chunk == {"id": ["a", "b"], "n": [1, 2]}
    assert rows_as_columns([], ["id", "n"]) == {"id": [], "n": []}
    assert rows_as_columns([(None,)], []) == {}
