"""Receivables from a CSV export or from an ERP's rows (M4).

:func:`receivable_batches` reads an invoices file with the CSV machinery of
:mod:`crmcore.csv_import` (the same header checks, amount and date parsing,
and :class:`~crmcore.errors.ImportRowError` naming the line and column), in
batches for :meth:`crmcore.CRM.import_records`; :func:`import_receivables`
stores a whole file in one transaction (all rows or none) and names the
customer column when a row's customer is unknown.

:func:`receivables_from_rows` is the seam for an ERP: rows as a database
cursor gives them (mappings of column to value) and which column holds
each field. An ERP mapping (:mod:`crmcore_plugins.erp`) can hand its
receivables table's rows to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs

from crmcore import batch_import
from crmcore.batch_import import (
    DEFAULT_BATCH_SIZE,
    RecordBatch,
    UnknownCustomerError,
    entity_batches,
)
from crmcore.csv_import import CsvLayout, _cell, _cells, _entity, _Header, _records
from crmcore.errors import ImportRowError, ValidationError
from crmcore.i18n import tr
from crmcore.sales.receivables import Receivable

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = [
    "RECEIVABLE_FIELDS",
    "ReceivableLayout",
    "import_receivables",
    "parse_day",
    "receivable_batches",
    "receivables_from_rows",
]

RECEIVABLE_FIELDS = ("id", "customer_id", "amount", "currency", "issued_on", "due_on",
                     "paid_on", "paid_amount", "products")
"""The :class:`~crmcore.sales.receivables.Receivable` fields a file or ERP row fills."""

_REQUIRED = ("id", "customer_id", "amount", "currency", "issued_on", "due_on")


@attrs.frozen
class ReceivableLayout:
    """Which column holds each invoice field; dates, amounts and separators follow ``csv``.

    ``currency``, when given, is the currency of a file without a currency
    column (stated, never guessed). ``products`` cells list product names
    separated by ``|``.
    """

    columns: Mapping[str, str] = attrs.field(
        factory=lambda: {field: field for field in RECEIVABLE_FIELDS})
    csv: CsvLayout = attrs.field(factory=CsvLayout)
    currency: str | None = None

    def __attrs_post_init__(self) -> None:
        for field in self.columns:
            if field not in RECEIVABLE_FIELDS:
                raise ValidationError(f"columns.{field}", self.columns[field],
                                      tr("names no invoice field (known: {known})").format(
                                          known=", ".join(RECEIVABLE_FIELDS)))

    def column(self, field: str) -> str:
        """The column of ``field`` (its own name unless renamed)."""
        return self.columns.get(field, field)


def parse_day(text: str, layout: CsvLayout) -> date:
    """A date cell in the layout's format (ISO ``2026-03-01`` by default; a date-time's date)."""
    if layout.date_format:
        return datetime.strptime(text, layout.date_format).date()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()


def _parsed(line: int, columns: Mapping[str, str], text: Mapping[str, str], field: str,
            parse: Any, reason: str) -> Any:
    """A row's cell of ``field`` parsed (None when empty); ImportRowError names its column."""
    value = text[field]
    return _cell(line, columns[field], value, parse, reason) if value else None


def _located(lines: Iterable[str], layout: ReceivableLayout) -> Iterator[tuple[int, Receivable]]:
    reader, names = _records(lines, layout.csv)
    required = [field for field in _REQUIRED
                if not (field == "currency" and layout.currency is not None)]
    header = _Header(names, layout.csv, {field: layout.column(field) for field in required})
    at = {field: header.get(layout.column(field)) for field in RECEIVABLE_FIELDS}
    columns = {field: layout.column(field) for field in RECEIVABLE_FIELDS}
    date_reason = f"is not a date in the format {layout.csv.date_format or 'ISO 8601'}"
    day = partial(parse_day, layout=layout.csv)
    for line, cells in _cells(reader, len(names)):
        text = {field: "" if position is None else cells[position].strip()
                for field, position in at.items()}
        cell = partial(_parsed, line, columns, text)
        values = {
            "id": text["id"], "customer_id": text["customer_id"],
            "amount": cell("amount", layout.csv.amount, "is not an amount"),
            "currency": text["currency"] or layout.currency,
            "issued_on": cell("issued_on", day, date_reason),
            "due_on": cell("due_on", day, date_reason),
            "paid_on": cell("paid_on", day, date_reason),
            "paid_amount": cell("paid_amount", layout.csv.amount, "is not an amount")
            or Decimal(0),
            "products": [name.strip() for name in text["products"].split("|") if name.strip()],
        }
        for field in ("amount", "issued_on", "due_on"):
            if values[field] is None:
                raise ImportRowError(line, columns[field], "", "is empty")
        yield line, _entity(line, columns, partial(Receivable, **values))


def receivable_batches(lines: Iterable[str], layout: ReceivableLayout = ReceivableLayout(),
                       *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RecordBatch]:
    """An invoices file as batches of stored records (for :meth:`crmcore.CRM.import_records`)."""
    return entity_batches(_located(lines, layout), batch_size)


def import_receivables(crm: CRM, lines: Iterable[str],
                       layout: ReceivableLayout = ReceivableLayout(), *,
                       source: str = "receivables") -> batch_import.ImportReport:
    """Store an invoices file in one transaction: all rows or none.

    A row naming a customer that is not stored raises
    :class:`~crmcore.errors.ImportRowError` with its line and the customer column.
    """
    try:
        return crm.import_records(receivable_batches(lines, layout), source=source)
    except UnknownCustomerError as error:
        raise ImportRowError(error.line, layout.column("customer_id"), error.entity_id,
                             "is not a stored customer") from None


def _row_value(field: str, value: Any) -> Any:
    """A host row's value as the field takes it (text dates and amounts are parsed)."""
    if value is None:
        return None
    if field in ("amount", "paid_amount") and not isinstance(value, Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(field, value, "is not an amount") from None
    if field in ("issued_on", "due_on", "paid_on"):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return parse_day(value.strip(), CsvLayout())
            except ValueError:
                raise ValidationError(field, value, "is not a date (YYYY-MM-DD)") from None
    if field == "products" and isinstance(value, str):
        return [name.strip() for name in value.split("|") if name.strip()]
    return str(value).strip() if field in ("id", "customer_id", "currency") else value


def receivables_from_rows(rows: Iterable[Mapping[str, Any]],
                          columns: Mapping[str, str]) -> Iterator[Receivable]:
    """Invoices from an ERP's rows; ``columns`` maps a field to the row key holding it.

    Every field in ``_REQUIRED`` (id, customer_id, amount, currency, issued_on,
    due_on) must be mapped. A bad value raises
    :class:`~crmcore.errors.ValidationError` naming ``rows[i].<column>``.
    """
    missing = [field for field in _REQUIRED if field not in columns]
    if missing:
        raise ValidationError("columns", sorted(columns), tr("do not map {fields}").format(
            fields=", ".join(missing)))
    ReceivableLayout(columns)  # unknown fields are refused
    for index, row in enumerate(rows):
        values: dict[str, Any] = {}
        try:
            for field, key in columns.items():
                value = _row_value(field, row.get(key))
                if value is not None or field not in ("paid_amount", "products"):
                    values[field] = value
            yield Receivable(**values)
        except ValidationError as error:
            key = columns.get(error.field.split(".")[0].split("[")[0], error.field)
            raise ValidationError(f"rows[{index}].{key}", error.value, error.reason) from None
