"""Records read as columns: the reference implementation of :meth:`StorageSession.scan`.

Backends with an engine (SQLite, SQL databases) read columns in the engine
(ADR 0007); the memory backend and backends written for crmcore 0.1 decode
each record and use :func:`records_as_columns`, which also defines what each
:data:`~crmcore.ports.ColumnType` means, so the contract suite can compare
every backend with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, get_args

from crmcore.ports import INDEX_COLUMNS, Columns, ColumnType, StoredRecord
from crmcore.serialization import dump_json

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INDEX_COLUMN_TYPES: Mapping[str, ColumnType] = {
    "id": "text", "customer_id": "text", "version": "integer", "at": "instant"}
"""The one type each of :data:`~crmcore.ports.INDEX_COLUMNS` is read as."""


def micros_of(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (exact)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant_micros(value: Any) -> int | None:
    """An instant (an aware datetime or its ISO text) as microseconds since the epoch."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return micros_of(moment)


def _decimal_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value) if isinstance(value, str | Decimal) else format(Decimal(str(value)), "f")


def _typed(value: Any, column_type: ColumnType) -> Any:
    """``value`` (a JSON value, or a record's field) as ``column_type``."""
    if value is None:
        return None
    if column_type == "text":  # a non-text value reads as its stored JSON text
        return value if isinstance(value, str) else dump_json(value)
    if column_type == "integer":
        return int(value)
    if column_type == "real":
        return float(value)
    if column_type == "decimal":
        return _decimal_text(value)
    if column_type == "instant":
        return instant_micros(value)
    return value  # json: already decoded


def typed_json_text(text: str | None, column_type: ColumnType) -> Any:
    """A value given as its JSON text (as an engine extracts it) read as ``column_type``."""
    return None if text is None else _typed(json.loads(text), column_type)


def decimal_json_text(text: str | None) -> str | None:
    """A decimal column's value from a field's JSON text (as an engine extracts it).

    The same as :func:`typed_json_text` with ``"decimal"``, without decoding
    plain JSON strings (amounts are stored as text).
    """
    if text is None or text == "null":
        return None
    if text.startswith('"') and "\\" not in text:
        return text[1:-1]
    return typed_json_text(text, "decimal")  # type: ignore[no-any-return]


def body_path(name: str) -> list[str]:
    """The field names of a body column's dotted ``name``; ValueError if it is not one."""
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        raise ValueError(f"columns[{name!r}]: not a field name or dotted path of field names")
    return parts


def check_columns(columns: Mapping[str, ColumnType]) -> None:
    """Raise ValueError naming the first column whose name or type cannot be read."""
    known = get_args(ColumnType)
    for name, column_type in columns.items():
        if column_type not in known:
            raise ValueError(f"columns[{name!r}]: {column_type!r} is not one of {known}")
        if name in INDEX_COLUMNS:
            if INDEX_COLUMN_TYPES[name] != column_type:
                raise ValueError(f"columns[{name!r}]: the record's {name} reads as "
                                 f"{INDEX_COLUMN_TYPES[name]}, not {column_type}")
        else:
            body_path(name)


def rows_as_columns(rows: Sequence[Sequence[Any]], names: Sequence[str],
                    finishing: Sequence[tuple[int, Callable[[Any], Any]]] = ()) -> Columns:
    """One chunk from rows whose values follow ``names``.

    ``finishing`` pairs a column's position with the function that turns what
    the engine returned into the column's value (e.g. :func:`instant_micros`).
    """
    if not names:  # the engine read a placeholder column
        return {}
    values = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in names]
    for position, finish in finishing:
        values[position] = [finish(value) for value in values[position]]
    return dict(zip(names, values, strict=True))


def body_value(body: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a JSON body, or None when absent."""
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def record_value(record: StoredRecord, name: str) -> Any:
    """A record's indexed field (``id``, ``customer_id``, ``at``, ``version``) or body path."""
    if name in INDEX_COLUMNS:
        return getattr(record, name)
    return body_value(record.body, name)


def records_as_columns(records: Iterable[StoredRecord], columns: Mapping[str, ColumnType],
                       batch_size: int) -> Iterator[Columns]:
    """Chunks of at most ``batch_size`` rows of ``columns`` read from ``records``."""
    check_scan(columns, batch_size)
    return _chunks(records, columns, batch_size)


def check_scan(columns: Mapping[str, ColumnType], batch_size: int) -> None:
    """Raise ValueError for a scan that no backend can do (checked before any reading)."""
    if batch_size < 1:
        raise ValueError(f"batch_size: {batch_size!r} must be at least 1")
    check_columns(columns)


def _chunks(records: Iterable[StoredRecord], columns: Mapping[str, ColumnType],
            batch_size: int) -> Iterator[Columns]:
    names = list(columns)
    chunk: Columns = {name: [] for name in names}
    size = 0
    for record in records:
        for name in names:
            value = record_value(record, name)
            try:
                chunk[name].append(_typed(value, columns[name]))
            except (ValueError, TypeError, ArithmeticError) as error:
                raise ValueError(f"columns[{name!r}]: {record.kind} {record.id!r} holds "
                                 f"{value!r}, which does not read as {columns[name]} "
                                 f"({error})") from error
        size += 1
        if size == batch_size:
            yield chunk
            chunk, size = {name: [] for name in names}, 0
    if size:
        yield chunk
