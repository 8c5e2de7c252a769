"""Records read as columns: the reference implementation of :meth:`StorageSession.scan`.

Backends with an engine (SQLite, SQL databases) read columns in the engine
(ADR 0007); the memory backend and backends written for crmcore 0.1 decode
each record and use :func:`records_as_columns`, which also defines what each
:data:`~crmcore.ports.ColumnType` means, so the contract suite can compare
every backend with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crmcore.ports import INDEX_COLUMNS, Columns, ColumnType, StoredRecord

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    if column_type == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if column_type == "integer":
        return int(value)
    if column_type == "real":
        return float(value)
    if column_type == "decimal":
        return _decimal_text(value)
    if column_type == "instant":
        return instant_micros(value)
    return value  # json: already decoded


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
    if batch_size < 1:
        raise ValueError(f"batch_size: {batch_size!r} must be at least 1")
    names = list(columns)
    chunk: Columns = {name: [] for name in names}
    size = 0
    for record in records:
        for name in names:
            chunk[name].append(_typed(record_value(record, name), columns[name]))
        size += 1
        if size == batch_size:
            yield chunk
            chunk, size = {name: [] for name in names}, 0
    if size:
        yield chunk
