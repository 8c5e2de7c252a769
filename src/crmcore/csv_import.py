"""Reading a host's own CSV exports into entities, or straight into stored records.

Column names and the date format are configurable (:class:`CsvLayout`), so an
ERP export can be loaded as it is. Every bad row raises
:class:`~crmcore.errors.ImportRowError` with its line number, column and
value. The header is checked first: a column the layout names must be there
(:class:`HeaderError`), and no header name may appear twice.

Rows without an id column get a stable id derived from their *parsed* content
(see :func:`transaction_key`) and their occurrence number, so two identical
purchases in one file stay two, and the same purchases saved again by a
spreadsheet (``1200`` as ``1200.00``, another date format) are not new.

:func:`transaction_batches` and :func:`customer_batches` read a file in
batches of stored records for :meth:`crmcore.CRM.import_records`; memory stays
flat whatever the file size.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import attrs

from crmcore.amounts import AmountFormat, amount_format
from crmcore.batch_import import (
    DEFAULT_BATCH_SIZE,
    RecordBatch,
    collector_paused,
    entity_batches,
)
from crmcore.errors import ImportRowError, ValidationError
from crmcore.i18n import N_, tr
from crmcore.model.activity import Transaction
from crmcore.model.customer import AttributeValue, Channel, ContactPreferences, Customer, PartyKind
from crmcore.occurrences import OccurrenceCounter
from crmcore.ports import StoredRecord
from crmcore.validation import time_zone
from crmcore.vocabulary import known_terms, term_of

Progress = Callable[[int], None]
"""Called with the number of rows read so far (after each batch)."""

CUSTOMER_FIELDS = ("name", "kind", "owner", "acquired_at", "language", "time_zone", "channels")
"""Customer CSV columns with a meaning; every other column becomes an attribute."""

OPTIONAL_COLUMNS = ("id_col", "quantity_col", "cost_col")
"""Layout fields naming columns a file may lack (rows then get content ids, quantity 1,
no cost), unless the column was declared (see :meth:`CsvLayout.must_have`)."""


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class CsvLayout:
    """Where things are in a CSV file.

    ``date_format`` is a :func:`datetime.strptime` format; without it dates
    are ISO 8601 (``2025-03-01`` or ``2025-03-01T10:00:00+08:00``). Times
    without an offset are taken in ``time_zone``. ``declared`` names the
    optional column fields (``id_col``, ``quantity_col``, ``cost_col``) the
    caller gave explicitly, which the header must then have.
    ``numeric_columns`` and ``text_columns`` name customer attribute columns
    read as numbers or kept as text whatever they look like.
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
    amount_format: str = "plain"
    declared: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    numeric_columns: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    text_columns: frozenset[str] = attrs.field(default=frozenset(), converter=_names)

    def __attrs_post_init__(self) -> None:
        amount_format(self.amount_format, self.decimal_comma)  # refuses unknown forms

    @property
    def amounts(self) -> AmountFormat:
        """The written form of amounts (:mod:`crmcore.amounts`): ``amount_format``, with
        ``decimal_comma`` turning ``plain`` into ``comma``."""
        return amount_format(self.amount_format, self.decimal_comma)

    @property
    def comma_point(self) -> bool:
        """Whether amounts are written with a decimal comma (``1200,50``)."""
        return self.amounts.point == ","

    def amount(self, text: str) -> Decimal:
        """Parse an amount cell in this layout's form of amounts."""
        return self.amounts.parse(text)

    def must_have(self, field: str) -> bool:
        """Whether the header must have the optional column of ``field`` (e.g. ``"id_col"``):
        it was declared, or renamed from its default."""
        default = getattr(attrs.fields(CsvLayout), field).default
        return field in self.declared or getattr(self, field) != default


class HeaderError(ImportRowError):
    """The header does not fit the layout: a named column is missing, or a name repeats.

    ``field`` is the :class:`CsvLayout` field that named the missing column
    (None for a repeated name); ``columns`` is the header as read; ``repeated``
    the two (1-based) positions of a name the header gives twice, else None.
    """

    def __init__(self, column: str, *, field: str | None, columns: Sequence[str],
                 repeated: tuple[int, int] | None = None) -> None:
        self.field = field
        self.columns = tuple(columns)
        self.repeated = repeated
        super().__init__(1, column, None, N_("names two columns") if repeated
                         else N_("is missing from the header"))

    def _message(self) -> str:
        if self.repeated is not None:
            first, second = self.repeated
            return tr("line 1: the header names two columns {column!r} (columns {first} and "
                      "{second}); rename one").format(column=self.column, first=first,
                                                      second=second)
        return tr("line 1: the column {column!r} is missing from the header (columns: "
                  "{columns})").format(column=self.column, columns=", ".join(self.columns))


class _Header:
    """Column positions of a checked header."""

    def __init__(self, names: list[str], layout: CsvLayout, required: Mapping[str, str],
                 optional: Iterable[str] = ()) -> None:
        self.names = names
        self.positions: dict[str, int] = {}
        for position, name in enumerate(names):
            first = self.positions.setdefault(name, position)
            if name and first != position:
                raise HeaderError(name, field=None, columns=names,
                                  repeated=(first + 1, position + 1))
        for field, column in required.items():
            self.require(column, field)
        for field in optional:
            if layout.must_have(field):
                self.require(getattr(layout, field), field)

    def require(self, column: str, field: str) -> None:
        """Fail unless ``column`` (named by layout ``field``) is in the header."""
        if column not in self.positions:
            raise HeaderError(column, field=field, columns=self.names)

    def get(self, column: str) -> int | None:
        """The position of ``column``, or None."""
        return self.positions.get(column)


def transaction_header(names: list[str], layout: CsvLayout) -> _Header:
    """The column positions of a transactions file's header ``names``.

    Raises :class:`HeaderError` when a column the layout names (the customer,
    date and amount columns, and an optional one declared or renamed) is
    missing, or when two columns share a name.
    """
    return _Header(names, layout, {"customer_col": layout.customer_col,
                                   "date_col": layout.date_col,
                                   "amount_col": layout.amount_col}, OPTIONAL_COLUMNS)


def _records(lines: Iterable[str], layout: CsvLayout) -> tuple[Any, list[str]]:
    reader = csv.reader(lines, delimiter=layout.delimiter)
    header = [name.strip() for name in next(reader, [])]
    return reader, header


def _cells(reader: Any, width: int) -> Iterator[tuple[int, list[str]]]:
    """Rows padded to the header's width; blank lines skipped, extra values refused."""
    for row in reader:
        if len(row) != width:
            if not row:
                continue
            row = _fitted(reader.line_num, row, width)
        yield reader.line_num, row


def _fitted(line: int, row: list[str], width: int) -> list[str]:
    """A short row padded to ``width`` cells; values beyond it are refused."""
    if len(row) > width:
        raise ImportRowError(line, "(extra)", row[width:],
                             "are values beyond the header's columns")
    return row + [""] * (width - len(row))


def date_reason(layout: CsvLayout) -> str:
    """Why a date cell is refused, in the run's language: the format ``layout`` expects."""
    return tr("is not a date in the format {format}").format(
        format=layout.date_format or "ISO 8601")


def parse_timestamp(text: str, layout: CsvLayout) -> datetime:
    """Parse a date or date-time cell; naive values are placed in ``layout.time_zone``."""
    if layout.date_format:
        parsed = datetime.strptime(text, layout.date_format)
    else:
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(layout.time_zone))
    return parsed.astimezone(UTC)


def parse_amount(text: str, decimal_comma: bool = False) -> Decimal:
    """Parse an amount exactly: ``1234.50`` or ``1,234.50`` (``1.234,50`` with
    ``decimal_comma``). Anything else, such as ``1.250,00`` read without
    ``decimal_comma``, is rejected (:class:`ValueError`) rather than guessed; other
    forms (currency signs) are in :mod:`crmcore.amounts`."""
    return amount_format("plain", decimal_comma).parse(text)


def amount_key(amount: Decimal) -> str:
    """An amount's canonical text for identities: ``1200``, ``1200.0`` and ``1200.00``
    all give ``"1200.00"``; more places are kept without trailing zeros (``"0.125"``)."""
    normal = amount.normalize()
    if normal.is_zero():
        normal = abs(normal)
    exponent = normal.as_tuple().exponent
    return f"{normal:.2f}" if isinstance(exponent, int) and exponent >= -2 else f"{normal:f}"


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
    return prefix + _digest("\x1f".join(parts))[:_ID_BYTES].hex()


_ID_BYTES = 10
"""Bytes of the digest in a content id (20 hex digits)."""


def _digest(text: str) -> bytes:
    """The SHA-256 digest of ``text`` in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def transaction_key(customer_id: str, occurred_at: datetime, amount: Decimal, quantity: int,
                    cost: Decimal | None) -> tuple[str, ...]:
    """What identifies a purchase without an id: its parsed values, in canonical text.

    The instant in UTC, the amount and cost by :func:`amount_key`; the
    occurrence number in the file is added to this to make the id.
    """
    return (customer_id, occurred_at.astimezone(UTC).isoformat(), amount_key(amount),
            str(quantity), "" if cost is None else amount_key(cost))


_TRANSACTION = attrs.fields_dict(Transaction)


def _validate(field: str, value: Any) -> None:
    """Run the :class:`~crmcore.model.Transaction` validator of ``field`` on ``value``."""
    attribute = _TRANSACTION[field]
    if attribute.validator is not None:
        attribute.validator(None, attribute, value)


class TransactionValues(NamedTuple):
    """A transaction row's values, parsed and validated as :class:`Transaction` would be."""

    line: int
    id: str
    customer_id: str
    occurred_at: datetime
    amount: Decimal
    quantity: int
    cost: Decimal | None

    def entity(self) -> Transaction:
        """The :class:`~crmcore.model.Transaction` of these values."""
        return Transaction(id=self.id, customer_id=self.customer_id,
                           occurred_at=self.occurred_at, amount=self.amount,
                           quantity=self.quantity, cost=self.cost)


def transaction_record(values: TransactionValues, occurred_text: str | None = None
                       ) -> StoredRecord:
    """The stored record of ``values.entity()``, built without the object (the fast path).

    ``occurred_text`` is ``values.occurred_at.isoformat()`` when the caller has it.
    """
    cost = values.cost
    return _stored(values.id, values.occurred_at, _body(
        values.customer_id, occurred_text or values.occurred_at.isoformat(),
        str(values.amount), values.quantity, None if cost is None else str(cost)))


def _body(customer_id: str, occurred_text: str, amount_text: str, quantity: int,
          cost_text: str | None) -> dict[str, Any]:
    """The stored body of a transaction, its id still to be set (``to_record`` equals it)."""
    return {"id": "", "customer_id": customer_id, "occurred_at": occurred_text,
            "amount": amount_text, "quantity": quantity, "cost": cost_text, "reference": None}


def _stored(transaction_id: str, occurred_at: datetime, body: dict[str, Any]) -> StoredRecord:
    """The stored record of a transaction :func:`_body` once its id is known."""
    body["id"] = transaction_id
    return StoredRecord("transaction", transaction_id, 1, body["customer_id"], occurred_at, body)


_CACHE_SIZE = 4096
"""Distinct date cells remembered (parsed, with their ISO text) before the cache restarts."""
_MONEY_CACHE_SIZE = 1 << 16
"""Distinct amount and cost cells remembered (parsed, validated) before the cache restarts."""
_CENTS = re.compile(r"(0|[1-9][0-9]*)\.[0-9][0-9]")
"""Amounts written as their own :func:`amount_key` and ``str(Decimal)`` (``1200.50``)."""

_Instant = tuple[datetime, str]
"""A date cell parsed: the instant in UTC and its ISO text."""
_Money = tuple[str, str]
"""An amount cell parsed and validated: its stored text (``str(Decimal)``) and
:func:`amount_key`."""


class _Rows(NamedTuple):
    """A batch of rows parsed, as parallel lists (no object per row for the collector)."""

    lines: list[int]
    bodies: list[dict[str, Any]]
    instants: list[datetime]
    ids: list[str]
    """The row's own id, or "" when it has none."""
    identities: list[str]
    """For a row without an id: :func:`transaction_key` joined by ``\\x1f``; else ""."""


class _TransactionParser:
    """Parses the rows of one transactions file, remembering the cells it has seen.

    Files repeat their customers, dates and prices, so each distinct cell is
    parsed and validated once; caches are bounded (they restart when full).
    """

    def __init__(self, layout: CsvLayout, header: _Header) -> None:
        self.layout = layout
        self.width = len(header.names)
        self.who = header.positions[layout.customer_col]
        self.when = header.positions[layout.date_col]
        self.how_much = header.positions[layout.amount_col]
        self.which = header.get(layout.id_col)
        self.how_many = header.get(layout.quantity_col)
        self.cost_at = header.get(layout.cost_col)
        self.columns = {"id": layout.id_col, "customer_id": layout.customer_col,
                        "occurred_at": layout.date_col, "amount": layout.amount_col,
                        "quantity": layout.quantity_col, "cost": layout.cost_col}
        self.date_reason = date_reason(layout)
        form = layout.amounts
        self.form = form
        self.point_is_dot = form.point != ","
        self.amount_reason = tr("is not an amount in the {form} form ({description})").format(
            form=form.name, description=tr(form.description))
        self.dates: dict[str, _Instant] = {}
        self.money: dict[str, _Money] = {}
        self.customers: dict[str, str] = {}
        """Customer ids seen, each the one string all its rows share (memory: by customers)."""

    def read(self, reader: Any, count: int) -> _Rows:
        """Up to ``count`` rows of ``reader`` (a :func:`csv.reader`), parsed.

        Raises :class:`~crmcore.errors.ImportRowError` at the first bad cell.
        """
        rows = _Rows([], [], [], [], [])
        lines, bodies, instants = rows.lines.append, rows.bodies.append, rows.instants.append
        ids, identities = rows.ids.append, rows.identities.append
        width, who, when, how_much = self.width, self.who, self.when, self.how_much
        which, how_many, cost_at = self.which, self.how_many, self.cost_at
        customers, dates, money = self.customers, self.dates, self.money
        amount_col, cost_col = self.layout.amount_col, self.layout.cost_col
        join = "\x1f".join
        left = count
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                if not row:
                    continue
                row = _fitted(line, row, width)
            try:
                text = row[who].strip()
                customer_id = customers.get(text) or self._customer(text)
                text = row[when].strip()
                instant = dates.get(text) or self._date(line, text)
                text = row[how_much].strip()
                amount = money.get(text) or self._money(line, amount_col, text, "amount")
                quantity = 1
                if how_many is not None and (text := row[how_many].strip()):
                    quantity = self._quantity(line, text)
                cost = None
                if cost_at is not None and (text := row[cost_at].strip()):
                    cost = money.get(text) or self._money(line, cost_col, text, "cost")
                given = row[which].strip() if which is not None else ""
                if given:
                    _validate("id", given)
            except ValidationError as error:
                column = self.columns.get(error.field, error.field)
                raise ImportRowError(line, column, error.value, error.reason) from None
            lines(line)
            instants(instant[0])
            bodies(_body(customer_id, instant[1], amount[0], quantity,
                         None if cost is None else cost[0]))
            ids(given)
            identities("" if given else join((customer_id, instant[1], amount[1], str(quantity),
                                              "" if cost is None else cost[1])))
            left -= 1
            if not left:
                break
        return rows

    def _customer(self, text: str) -> str:
        _validate("customer_id", text)
        self.customers[text] = text
        return text

    def _date(self, line: int, text: str) -> _Instant:
        occurred_at: datetime = _cell(line, self.layout.date_col, text,
                                      partial(parse_timestamp, layout=self.layout),
                                      self.date_reason)
        if len(self.dates) >= _CACHE_SIZE:
            self.dates.clear()
        instant = self.dates[text] = (occurred_at, occurred_at.isoformat())
        return instant

    def _money(self, line: int, column: str, text: str, field: str) -> _Money:
        """An amount cell; plain ``1234.50`` skips the pattern (digits cannot be negative)."""
        if self.point_is_dot and text.isascii() and text.replace(".", "", 1).isdigit():
            if _CENTS.fullmatch(text):
                parsed = (text, text)
            else:
                amount = Decimal(text)
                parsed = (str(amount), amount_key(amount))
        else:
            amount = _cell(line, column, text, self.form.parse, self.amount_reason)
            _validate(field, amount)
            parsed = (str(amount), amount_key(amount))
        if len(self.money) >= _MONEY_CACHE_SIZE:
            self.money.clear()
        self.money[text] = parsed
        return parsed

    def _quantity(self, line: int, text: str) -> int:
        quantity: int = _cell(line, self.layout.quantity_col, text, int, "is not a whole number")
        if quantity < 0:
            _validate("quantity", quantity)
        return quantity


def _number(rows: _Rows, occurrences: OccurrenceCounter) -> list[str]:
    """Each row's id: its own, or ``content_id("t-", *transaction_key(...), occurrence)``.

    One SHA-256 per row: the digest of a first occurrence is computed for
    every row without an id, its first 60 bits are the key the counter
    numbers and its first 10 bytes the id; only a repeat (occurrence 2 and
    up) needs a second digest.
    """
    ids, identities = rows.ids, rows.identities
    missing = None
    if "" in identities:  # some rows have their own id
        missing = [index for index, identity in enumerate(identities) if identity]
        if not missing:
            return ids
        identities = [identities[index] for index in missing]
    sha256 = hashlib.sha256
    digests = [sha256((identity + "\x1f1").encode()).digest() for identity in identities]
    from_bytes = int.from_bytes
    numbers = occurrences.number([from_bytes(digest[:8], "big", signed=True) >> 4
                                  for digest in digests])  # 60 bits: a 32-byte int, not 48
    made = ["t-" + digest[:_ID_BYTES].hex() for digest in digests]
    if numbers.count(1) != len(numbers):  # repeats: their own digest
        made = [made_id if number == 1 else content_id("t-", identity, str(number))
                for made_id, identity, number in zip(made, identities, numbers, strict=True)]
    if missing is None:
        ids[:] = made
    else:
        for index, made_id in zip(missing, made, strict=True):
            ids[index] = made_id
    return ids


_Batch = TypeVar("_Batch")


def _row_batches(lines: Iterable[str], layout: CsvLayout, progress: Progress | None,
                 batch_size: int, build: Callable[[_Rows], _Batch]) -> Iterator[_Batch]:
    """A transactions file in batches: ``build`` of the rows parsed, their ids set."""
    reader, names = _records(lines, layout)
    header = transaction_header(names, layout)
    parser = _TransactionParser(layout, header)
    count = 0
    with OccurrenceCounter() as occurrences:
        while True:
            with collector_paused():
                rows = parser.read(reader, batch_size)
                if not rows.lines:
                    break
                _number(rows, occurrences)
                batch = build(rows)
            count += len(rows.lines)
            yield batch
            if progress is not None:
                progress(count)


def _values(rows: _Rows) -> list[TransactionValues]:
    return [TransactionValues(line, transaction_id, body["customer_id"], instant,
                              Decimal(body["amount"]), body["quantity"],
                              None if body["cost"] is None else Decimal(body["cost"]))
            for line, transaction_id, instant, body
            in zip(rows.lines, rows.ids, rows.instants, rows.bodies, strict=True)]


def _record_batch(rows: _Rows) -> RecordBatch:
    return RecordBatch(list(map(_stored, rows.ids, rows.instants, rows.bodies)), rows.lines)


def parsed_transactions(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[list[TransactionValues]]:
    """Read a transactions file in batches of parsed, validated rows with their ids.

    Rows without an id get ``content_id("t-", *transaction_key(...), occurrence)``.
    """
    return _row_batches(lines, layout, progress, batch_size, _values)


def read_transactions(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None,
) -> Iterator[Transaction]:
    """Read transactions; the columns are named by ``layout``."""
    for batch in parsed_transactions(lines, layout, progress=progress):
        for row in batch:
            yield row.entity()


def transaction_batches(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[RecordBatch]:
    """Read transactions as batches of stored records, for :meth:`crmcore.CRM.import_records`.

    The records equal ``to_record(Transaction(...))`` of the same values
    (property tests hold this fast path to it) without building the objects.
    """
    return _row_batches(lines, layout, progress, batch_size, _record_batch)


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def attribute_value(text: str, *, numeric: bool | None = None) -> AttributeValue:
    """A customer attribute cell: a number when written as a plain one, else the text.

    ``1200``, ``-3`` and ``0.5`` are numbers; ``01234``, ``+8613800138000``,
    ``1e5`` and ``1_000`` keep their form as text. ``numeric=True`` reads any
    form Python's ``int`` or ``float`` accepts (and raises ``ValueError`` for
    others); ``numeric=False`` keeps the text.
    """
    if numeric is False or (numeric is None and not _NUMBER.fullmatch(text)):
        return text
    for parse in (int, float):
        try:
            value = parse(text)
        except ValueError:
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    raise ValueError(text)


def _customer_rows(lines: Iterable[str], layout: CsvLayout,
                   progress: Progress | None, batch_size: int
                   ) -> Iterator[tuple[int, Customer]]:
    reader, names = _records(lines, layout)
    id_col = layout.id_col if layout.id_col in names or layout.must_have("id_col") \
        else layout.customer_col
    header = _Header(names, layout, {"id_col" if id_col == layout.id_col else "customer_col":
                                     id_col, "name_col": layout.name_col})
    for column in sorted(layout.numeric_columns | layout.text_columns):
        header.require(column, "numeric_columns" if column in layout.numeric_columns
                       else "text_columns")
    meaning = {id_col, layout.name_col, *CUSTOMER_FIELDS}
    attribute_columns = [(name, position, True if name in layout.numeric_columns
                          else False if name in layout.text_columns else None)
                         for position, name in enumerate(names) if name and name not in meaning]
    known = {name: header.get(name) for name in CUSTOMER_FIELDS}
    columns = {"id": id_col, "name": layout.name_col, "preferences": "preferences"}
    count = 0
    for count, (line, cells) in enumerate(_cells(reader, len(names)), start=1):
        row = {name: "" if at is None else cells[at].strip() for name, at in known.items()}
        acquired_text = row["acquired_at"]
        acquired = _cell(line, "acquired_at", acquired_text,
                         lambda text: parse_timestamp(text, layout),
                         date_reason(layout)) \
            if acquired_text else None
        kind = _cell(line, "kind", row["kind"] or "organisation", term_of(PartyKind),
                     "is not a party kind (person or organisation; 个人 or 企业)")
        channels = [
            _cell(line, "channels", text, term_of(Channel),
                  tr("is not a channel (known: {codes}; {terms})").format(
                      codes=", ".join(c.value for c in Channel), terms=known_terms(Channel)))
            for text in row["channels"].split("|") if text.strip()
        ]
        attributes = {
            name: _cell(line, name, text, partial(attribute_value, numeric=numeric),
                        "is not a number")
            for name, position, numeric in attribute_columns if (text := cells[position].strip())
        }
        preferences = _entity(line, columns, partial(
            ContactPreferences, channels=channels, language=row["language"] or None,
            time_zone=row["time_zone"] or None,
        ))
        yield line, _entity(line, columns, partial(
            Customer, id=cells[header.positions[id_col]].strip(),
            name=cells[header.positions[layout.name_col]].strip(), kind=kind,
            owner=row["owner"] or None, acquired_at=acquired, attributes=attributes,
            preferences=preferences,
        ))
        if progress is not None and count % batch_size == 0:
            progress(count)
    if progress is not None and count % batch_size:
        progress(count)


def read_customers(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None,
) -> Iterator[Customer]:
    """Read customers. Known columns: the id (``layout.id_col``, or else
    ``layout.customer_col``), name,
    kind, owner, acquired_at, language, time_zone and channels (``|``-separated,
    in order of preference); every other non-empty cell becomes a custom
    attribute for threshold grading rules (see :func:`attribute_value` for
    which cells read as numbers).
    """
    for _line, customer in _customer_rows(lines, layout, progress, DEFAULT_BATCH_SIZE):
        yield customer


def customer_batches(
    lines: Iterable[str], layout: CsvLayout = CsvLayout(),
    *, progress: Progress | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[RecordBatch]:
    """Read customers as batches of stored records, for :meth:`crmcore.CRM.import_records`."""
    return entity_batches(_customer_rows(lines, layout, progress, batch_size), batch_size)
