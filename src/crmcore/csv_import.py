"""Reading a host's own CSV exports into entities.

Column names and the date format are configurable (:class:`CsvLayout`), so an
ERP export can be loaded as it is. Every bad row raises
:class:`~crmcore.errors.ImportRowError` with its line number, column and
value; callers parse the whole file before storing anything, so a rejected
file leaves the database untouched.

Rows without an id column get a stable id derived from their content (and
their occurrence number, so two identical purchases on one day stay two), so
importing the same file twice stores nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from crmcore.errors import ImportRowError, ValidationError
from crmcore.model.activity import Transaction
from crmcore.model.customer import AttributeValue, Channel, ContactPreferences, Customer, PartyKind
from crmcore.validation import time_zone

Progress = Callable[[int], None]
"""Called with the number of rows read so far."""

CUSTOMER_FIELDS = ("name", "kind", "owner", "acquired_at", "language", "time_zone", "channels")
"""Customer CSV columns with a meaning; every other column becomes an attribute."""


@attrs.frozen
class CsvLayout:
    """Where things are in a CSV file.

    ``date_format`` is a :func:`datetime.strptime` format; without it dates
    are ISO 8601 (``2025-03-01`` or ``2025-03-01T10:00:00+08:00``). Times
    without an offset are taken in ``time_zone``.
    """

    customer_col: str = "customer_id"
    date_col: str = "date"
    amount_col: str = "amount"
    id_col: str = "id"
    quantity_col: str = "quantity"
    cost_col: str = "cost"
    name_col: str = "name"
    date_format: str | None = None
    time_zone: str = attrs.field(default="UTC", validator=time_zone)
    delimiter: str = ","
    decimal_comma: bool = False

    def amount(self, text: str) -> Decimal:
        """Parse an amount cell with this layout's decimal separator."""
        return parse_amount(text, self.decimal_comma)


def _rows(lines: Iterable[str], layout: CsvLayout, required: tuple[str, ...]
          ) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines, delimiter=layout.delimiter)
    header = reader.fieldnames or []
    for column in required:
        if column not in header:
            raise ImportRowError(1, column, None,
                                 f"is missing from the header (columns: {', '.join(header)})")
    for row in reader:
        if None in row:
            raise ImportRowError(reader.line_num, "(extra)", row[None],
                                 "are values beyond the header's columns")
        yield reader.line_num, {key: (value or "").strip() for key, value in row.items()}


def parse_timestamp(text: str, layout: CsvLayout) -> datetime:
    """Parse a date or date-time cell; naive values are placed in ``layout.time_zone``."""
    if layout.date_format:
        parsed = datetime.strptime(text, layout.date_format)
    else:
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(layout.time_zone))
    return parsed.astimezone(UTC)


_PLAIN_AMOUNT = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$")
_COMMA_AMOUNT = re.compile(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$")


def parse_amount(text: str, decimal_comma: bool = False) -> Decimal:
    """Parse an amount exactly: ``1234.50`` or ``1,234.50`` (``1.234,50`` with
    ``decimal_comma``). Anything else, such as ``1.250,00`` read without
    ``decimal_comma``, is rejected rather than guessed."""
    pattern, thousands, point = ((_COMMA_AMOUNT, ".", ",") if decimal_comma
                                 else (_PLAIN_AMOUNT, ",", "."))
    if not pattern.match(text):
        raise InvalidOperation(text)
    return Decimal(text.replace(thousands, "").replace(point, "."))


def _cell(line: int, column: str, text: str, parse: Callable[[str], Any], reason: str) -> Any:
    try:
        return parse(text)
    except (ValueError, InvalidOperation, ArithmeticError):
        raise ImportRowError(line, column, text, reason) from None


def _entity(line: int, columns: Mapping[str, str], build: Callable[[], Any]) -> Any:
    try:
        return build()
    except ValidationError as error:
        column = columns.get(error.field.split(".")[0], error.field)
        raise ImportRowError(line, column, error.value, error.reason) from None


def content_id(prefix: str, *parts: str) -> str:
    """A stable id from row content: ``prefix`` plus 20 hex digits of SHA-256."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{prefix}{digest}"


def read_transactions(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None,
) -> Iterator[Transaction]:
    """Read transactions; the columns are named by ``layout``."""
    required = (layout.customer_col, layout.date_col, layout.amount_col)
    seen: Counter[tuple[str, ...]] = Counter()
    for count, (line, row) in enumerate(_rows(lines, layout, required), start=1):
        occurred_at = _cell(line, layout.date_col, row[layout.date_col],
                            lambda text: parse_timestamp(text, layout),
                            f"is not a date in the format {layout.date_format or 'ISO 8601'}")
        amount = _cell(line, layout.amount_col, row[layout.amount_col], layout.amount,
                       "is not an amount")
        quantity_text = row.get(layout.quantity_col) or "1"
        quantity = _cell(line, layout.quantity_col, quantity_text, int, "is not a whole number")
        cost_text = row.get(layout.cost_col) or ""
        cost = _cell(line, layout.cost_col, cost_text, layout.amount, "is not an amount") \
            if cost_text else None
        customer_id = row[layout.customer_col]
        transaction_id = row.get(layout.id_col) or ""
        if not transaction_id:
            key = (customer_id, occurred_at.isoformat(), str(amount), str(quantity), cost_text)
            seen[key] += 1
            transaction_id = content_id("t-", *key, str(seen[key]))
        columns = {"id": layout.id_col, "customer_id": layout.customer_col,
                   "occurred_at": layout.date_col, "amount": layout.amount_col,
                   "quantity": layout.quantity_col, "cost": layout.cost_col}
        yield _entity(line, columns, partial(
            Transaction, id=transaction_id, customer_id=customer_id, occurred_at=occurred_at,
            amount=amount, quantity=quantity, cost=cost,
        ))
        if progress is not None:
            progress(count)


def _attribute(text: str) -> AttributeValue:
    for parse in (int, float):
        try:
            value = parse(text)
        except ValueError:
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    return text


def read_customers(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None,
) -> Iterator[Customer]:
    """Read customers. Known columns: the id (``layout.id_col``, or else
    ``layout.customer_col``), name,
    kind, owner, acquired_at, language, time_zone and channels (``|``-separated,
    in order of preference); every other non-empty cell becomes a custom
    attribute (numbers are read as numbers) for threshold grading rules.
    """
    lines = iter(lines)
    header = next(lines, "")
    id_col = layout.id_col if layout.id_col in next(csv.reader([header],
                                                              delimiter=layout.delimiter), []) \
        else layout.customer_col
    required = (id_col, layout.name_col)
    meaning = {id_col, layout.name_col, *CUSTOMER_FIELDS}
    rows = _rows(itertools.chain([header], lines), layout, required)
    for count, (line, row) in enumerate(rows, start=1):
        acquired_text = row.get("acquired_at", "")
        acquired = _cell(line, "acquired_at", acquired_text,
                         lambda text: parse_timestamp(text, layout),
                         f"is not a date in the format {layout.date_format or 'ISO 8601'}") \
            if acquired_text else None
        kind = _cell(line, "kind", row.get("kind") or "organisation", PartyKind,
                     "is not a party kind (person or organisation)")
        channels = [
            _cell(line, "channels", text, Channel,
                  f"is not a channel (known: {', '.join(c.value for c in Channel)})")
            for text in (row.get("channels") or "").split("|") if text.strip()
        ]
        attributes = {key: _attribute(value) for key, value in row.items()
                      if key not in meaning and value}
        columns = {"id": id_col, "name": layout.name_col,
                   "preferences": "preferences"}
        preferences = _entity(line, columns, partial(
            ContactPreferences, channels=channels, language=row.get("language") or None,
            time_zone=row.get("time_zone") or None,
        ))
        yield _entity(line, columns, partial(
            Customer, id=row[id_col], name=row[layout.name_col], kind=kind,
            owner=row.get("owner") or None, acquired_at=acquired, attributes=attributes,
            preferences=preferences,
        ))
        if progress is not None:
            progress(count)
