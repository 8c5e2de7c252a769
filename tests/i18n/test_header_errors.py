"""A file's header that does not fit its column options, refused in zh_CN (issue 13)."""

from __future__ import annotations

import io

import pytest
from tests.i18n.test_command_errors import CATALOGUE, english_sentence

from crmcore import i18n
from crmcore.csv_import import CsvLayout, HeaderError, read_transactions
from crmcore.errors import ImportRowError


@pytest.mark.parametrize(("text", "layout", "template", "values"), [
    ("customer_id,date,amount,amount\nC1,2026-01-02,5,6\n", CsvLayout(),
     "line 1: the header names two columns {column!r} (columns {first} and {second}); "
     "rename one", {"column": "amount", "first": 3, "second": 4}),
    ("customer_id,day,amount\nC1,2026-01-02,5\n", CsvLayout(),
     "line 1: the column {column!r} is missing from the header (columns: {columns})",
     {"column": "date", "columns": "customer_id, day, amount"}),
])
def test_a_header_refusal_is_its_chinese_template(text: str, layout: CsvLayout, template: str,
                                                 values: dict[str, object]) -> None:
    with i18n.language("zh_CN"), pytest.raises(HeaderError) as raised:
        list(read_transactions(io.StringIO(text), layout))
    assert str(raised.value) == CATALOGUE.gettext(template).format(**values)
    assert english_sentence(str(raised.value)) is None


def test_a_bad_amount_shows_the_cell_as_written_not_a_decimal_repr() -> None:
    with pytest.raises(ImportRowError) as raised:
        list(read_transactions(io.StringIO("customer_id,date,amount\nC1,2026-01-02,-10.50\n")))
    assert str(raised.value) == "line 2, column 'amount': '-10.50' must not be negative"


@pytest.mark.parametrize(("text", "column", "value", "reason", "reason_values"), [
    ("customer_id,date,amount\nC1,2026/01/02,5\n", "date", "2026/01/02",
     "is not a date in the format {format}", {"format": "ISO 8601"}),
    ("customer_id,date,amount\nC1,2026-01-02,12 euros\n", "amount", "12 euros",
     "is not an amount in the {form} form ({description})",
     {"form": "plain", "description": "1234.50 or 1,234.50"}),
])
def test_a_bad_cell_is_refused_in_chinese(text: str, column: str, value: str, reason: str,
                                         reason_values: dict[str, str]) -> None:
    filled = {name: CATALOGUE.gettext(part) for name, part in reason_values.items()}
    expected = CATALOGUE.gettext("line {line}, column {column!r}: {value!r} {reason}").format(
        line=2, column=column, value=value, reason=CATALOGUE.gettext(reason).format(**filled))
    with i18n.language("zh_CN"), pytest.raises(ImportRowError) as raised:
        list(read_transactions(io.StringIO(text)))
    assert str(raised.value) == expected
    assert english_sentence(str(raised.value)) is None
