"""Where the SQLite backend keeps each kind of record, and how a record becomes a row.

Most kinds share the ``records`` table (``kind, id, version, customer_id,
at, body``). The high-volume kinds each have a table of their own
(ADR 0009): no ``kind`` column, a unique index on ``id`` (not a clustered
key), an index on ``(customer_id, at)``, and the body split in two:

- **hot fields**, top-level body fields stored in native columns
  (``f_<name>``) when their JSON value is a string or a 64-bit integer;
  the columns have no declared type, so SQLite keeps each value exactly as
  given (``"01234"`` stays text);
- ``rest``: the JSON text of every other field, including hot fields whose
  value is null, a float, a boolean, a list or an object.

A body's ``id`` and ``customer_id`` equal to the record's own are not
repeated in ``rest``; the ``mirrors`` bit set says so. Reading a row puts
the body back together exactly: equal as JSON to the body that was written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import attrs

from crmcore.columns import body_path, decimal_json_text, instant_micros, typed_json_text
from crmcore.ports import INDEX_COLUMNS, ColumnType, StoredRecord
from crmcore.serialization import dump_json

SHARED_TABLE = "records"
"""The table of every kind without a table of its own."""

DEDICATED_KINDS: Mapping[str, tuple[str, ...]] = {
    "transaction": ("occurred_at", "amount", "quantity"),
    "interaction": ("occurred_at", "kind", "channel", "direction", "outcome", "owner"),
    "flow_state": ("flow", "subject_id", "state", "sequence", "entered_at"),
    "flow_history": ("flow", "subject_id", "sequence", "event", "from_state", "to_state",
                     "at", "actor"),
    "grade_result": ("scheme", "run", "as_of", "grade", "proposed", "previous"),
}
"""Kinds a new database keeps in tables of their own, with their hot fields.

An existing database keeps the layout it was written with (the
``kind_tables`` table lists it), so changing this mapping needs a migration.
"""

KIND_TABLES_DDL = """CREATE TABLE kind_tables (
    kind TEXT PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, hot TEXT NOT NULL)"""
"""The catalogue of dedicated tables: kind, table name and hot fields (JSON list)."""

_INT64 = (-(2**63), 2**63 - 1)
_MIRROR_ID = 1
_MIRROR_CUSTOMER = 2
_REST_CACHE_SIZE = 4096


_UTC_TEXTS: dict[datetime, str] = {}
_UTC_TEXTS_SIZE = 65_536


def utc_text(moment: datetime | None) -> str | None:
    """A fixed-width UTC ISO text, so that text order is time order.

    Equal instants have equal texts whatever their offset, so recent ones are
    remembered (a book's rows share few distinct dates).
    """
    if moment is None:
        return None
    text = _UTC_TEXTS.get(moment)
    if text is None:
        if len(_UTC_TEXTS) >= _UTC_TEXTS_SIZE:
            _UTC_TEXTS.clear()
        text = _UTC_TEXTS[moment] = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text


def parse_utc(text: str | None) -> datetime | None:
    """The instant of a :func:`utc_text`."""
    return None if text is None else datetime.fromisoformat(text)


def quoted(name: str) -> str:
    """``name`` as an SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


_AT_MICROS = "(unixepoch(substr(at, 1, 19)) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER))"
# ``at`` is fixed-width UTC text ("2026-01-05T09:00:00.000000+00:00", or with a space
# as SQLAlchemy writes it): whole seconds from SQLite, microseconds from the text.
# ``unixepoch`` (SQLite 3.38, as ``->>``) gives the integer that
# ``CAST(strftime('%s', ...) AS INTEGER)`` gives, in two thirds of the time.

_INDEX_EXPRESSIONS: dict[str, str] = {
    "id": "id", "customer_id": "customer_id", "version": "version", "at": _AT_MICROS}

JSON_TEXT_FUNCTION = "crm_json_text"
"""The SQL function (:func:`register_functions`) that decodes a JSON string holding a NUL:
SQLite's ``->>`` ends such a string at the NUL (``'a\\u0000b'`` reads as ``'a'``), so the
text expression sends the few strings that hold one through Python's JSON decoder."""


def register_functions(connection: sqlite3.Connection) -> None:
    """Give ``connection`` the SQL functions the column expressions of this module call."""
    connection.create_function(JSON_TEXT_FUNCTION, 1, json.loads, deterministic=True)


_DOCUMENT_EXPRESSIONS: dict[ColumnType, str] = {
    "text": "CASE json_type({d}, {p}) WHEN 'text' THEN CASE WHEN instr({d} -> {p}, '\\u0000')"
            f" THEN {JSON_TEXT_FUNCTION}({{d}} -> {{p}}) ELSE {{d}} ->> {{p}} END"
            " WHEN 'null' THEN NULL ELSE {d} -> {p} END",
    "integer": "CAST({d} ->> {p} AS INTEGER)",
    "real": "CAST({d} ->> {p} AS REAL)",
    "decimal": "{d} -> {p}",
    "instant": "{d} ->> {p}",
    "json": "{d} -> {p}",
}
"""Reading a field at JSON path ``{p}`` of the JSON document ``{d}`` as each column type."""

_HOT_EXPRESSIONS: dict[ColumnType, str] = {
    "text": "CASE WHEN {h} IS NULL THEN ({rest}) WHEN typeof({h}) = 'text' THEN {h}"
            " ELSE CAST({h} AS TEXT) END",
    "integer": "CAST(COALESCE({h}, {rest}) AS INTEGER)",
    "real": "CAST(COALESCE({h}, {rest}) AS REAL)",
    "decimal": "CASE WHEN {h} IS NULL THEN ({rest}) WHEN typeof({h}) = 'text'"
               " THEN json_quote({h}) ELSE CAST({h} AS TEXT) END",
    "instant": "COALESCE({h}, {rest})",
    "json": "CASE WHEN {h} IS NULL THEN ({rest}) WHEN typeof({h}) = 'text'"
            " THEN json_quote({h}) ELSE CAST({h} AS TEXT) END",
}
"""Reading a hot column ``{h}``, falling back to ``{rest}`` (the field read from ``rest``)
when the value was not native: the same value the document expression gives."""

_REST_FALLBACK: dict[ColumnType, ColumnType] = {
    "text": "text", "integer": "instant", "real": "instant", "decimal": "json",
    "instant": "instant", "json": "json"}
"""Which document expression reads the ``rest`` fallback of a hot column (``->>`` or
``->``) before the hot expression casts it."""

PYTHON_FINISH: dict[ColumnType, Callable[[Any], Any]] = {
    "instant": instant_micros,
    "decimal": decimal_json_text,
    "json": partial(typed_json_text, column_type="json"),
}
"""Column types that SQLite hands over as text and Python finishes.

SQLite's ``CAST(... AS TEXT)`` writes ``1e-07`` as ``1.0e-07``, so a decimal
column reads the value's JSON text and formats it as the reference does.
"""


def _json_path(name: str) -> str:
    return "$." + ".".join(f'"{part}"' for part in body_path(name))


class KindLayout(Protocol):
    """How one kind's records are stored: the table, the columns and the row codec."""

    @property
    def kind(self) -> str:
        """The kind of record."""

    @property
    def source(self) -> str:
        """``table WHERE condition``: the rows of this kind (extend with ``AND ...``)."""

    @property
    def source_parameters(self) -> tuple[Any, ...]:
        """The parameters of :attr:`source`."""

    @property
    def selected(self) -> str:
        """The column list :meth:`record` reads."""

    @property
    def insert_sql(self) -> str:
        """``INSERT`` taking the parameters of :meth:`row`."""

    @property
    def update_sql(self) -> str:
        """``UPDATE`` taking :meth:`row`'s parameters without the id, then id and version."""

    def row(self, record: StoredRecord) -> tuple[Any, ...]:
        """The parameters of :attr:`insert_sql` for ``record``."""

    def record(self, row: Sequence[Any]) -> StoredRecord:
        """The record of a row read with :attr:`selected`."""

    def row_encoder(self, fields: tuple[str, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """A function giving :meth:`row` of a row of ``StorageSession.insert_rows`` with
        these body ``fields`` (``(id, version, customer_id, at, *values)``)."""

    def column_sql(self, name: str, column_type: ColumnType, parameters: list[Any]) -> str:
        """The expression reading column ``name`` as ``column_type`` (parameters appended)."""


@attrs.frozen
class SharedLayout:
    """A kind kept in the shared ``records`` table, its body one JSON document."""

    kind: str
    table: str = SHARED_TABLE

    @property
    def source(self) -> str:
        return f"{self.table} WHERE kind = ?"

    @property
    def source_parameters(self) -> tuple[Any, ...]:
        return (self.kind,)

    selected = "id, version, customer_id, at, body"

    @property
    def insert_sql(self) -> str:
        return (f"INSERT INTO {self.table} (version, customer_id, at, body, kind, id) "
                "VALUES (?, ?, ?, ?, ?, ?)")

    @property
    def update_sql(self) -> str:
        return (f"UPDATE {self.table} SET version = ?, customer_id = ?, at = ?, body = ? "
                "WHERE kind = ? AND id = ? AND version = ?")

    def row(self, record: StoredRecord) -> tuple[Any, ...]:
        return (record.version, record.customer_id, utc_text(record.at),
                dump_json(record.body), record.kind, record.id)

    def record(self, row: Sequence[Any]) -> StoredRecord:
        return StoredRecord(self.kind, row[0], row[1], row[2], parse_utc(row[3]),
                            json.loads(row[4]))

    def row_encoder(self, fields: tuple[str, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        def encode(values: Sequence[Any]) -> tuple[Any, ...]:
            return (values[1], values[2], utc_text(values[3]),
                    dump_json(dict(zip(fields, values[4:], strict=True))), self.kind, values[0])
        return encode

    def column_sql(self, name: str, column_type: ColumnType,
                   parameters: list[Any]) -> str:
        if name in INDEX_COLUMNS:
            return _INDEX_EXPRESSIONS[name]
        template = _DOCUMENT_EXPRESSIONS[column_type]
        parameters.extend([_json_path(name)] * template.count("{p}"))
        return template.format(d="body", p="?")


@attrs.define
class DedicatedLayout:
    """A kind in a table of its own: hot fields in native columns, the rest as JSON."""

    kind: str
    table: str
    hot: tuple[str, ...]
    _rest_texts: dict[tuple[tuple[str, Any], ...], str] = attrs.field(factory=dict, repr=False)
    _rest_bodies: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    _encode: Callable[[StoredRecord], tuple[Any, ...]] = attrs.field(
        init=False, repr=False, eq=False,
        default=attrs.Factory(lambda self: _row_encoder(self), takes_self=True))
    _values_encoders: dict[tuple[str, ...], Callable[[Sequence[Any]], tuple[Any, ...]]] = \
        attrs.field(init=False, repr=False, eq=False, factory=dict)

    @classmethod
    def for_kind(cls, kind: str, hot: Sequence[str]) -> DedicatedLayout:
        """The layout of a new dedicated table for ``kind``."""
        return cls(kind, "kind." + kind, tuple(hot))

    @property
    def hot_columns(self) -> list[str]:
        """The quoted names of the hot columns, in :attr:`hot` order."""
        return [quoted("f_" + name) for name in self.hot]

    def create_statements(self) -> list[str]:
        """The DDL of the table and its indexes."""
        table = quoted(self.table)
        hot = "".join(f", {column}" for column in self.hot_columns)
        return [
            f"CREATE TABLE {table} (id TEXT NOT NULL, version INTEGER NOT NULL, "
            f"customer_id TEXT NOT NULL, at TEXT, mirrors INTEGER NOT NULL{hot}, "
            "rest TEXT NOT NULL)",
            f"CREATE UNIQUE INDEX {quoted(self.table + '.id')} ON {table} (id)",
            f"CREATE INDEX {quoted(self.table + '.customer')} ON {table} (customer_id, at)",
        ]

    @property
    def source(self) -> str:
        return f"{quoted(self.table)} WHERE 1"

    @property
    def source_parameters(self) -> tuple[Any, ...]:
        return ()

    @property
    def selected(self) -> str:
        return ", ".join(["id, version, customer_id, at, mirrors", *self.hot_columns, "rest"])

    @property
    def insert_sql(self) -> str:
        names = ", ".join(["version, customer_id, at, mirrors", *self.hot_columns, "rest, id"])
        marks = ", ".join("?" * (len(self.hot) + 6))
        return f"INSERT INTO {quoted(self.table)} ({names}) VALUES ({marks})"

    @property
    def update_sql(self) -> str:
        names = ["version", "customer_id", "at", "mirrors", *self.hot_columns, "rest"]
        assignments = ", ".join(f"{name} = ?" for name in names)
        return f"UPDATE {quoted(self.table)} SET {assignments} WHERE id = ? AND version = ?"

    def row(self, record: StoredRecord) -> tuple[Any, ...]:
        return self._encode(record)

    def row_encoder(self, fields: tuple[str, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        encoder = self._values_encoders.get(fields)
        if encoder is None:
            encoder = self._values_encoders[fields] = _values_encoder(self, fields)
        return encoder

    def row_reference(self, record: StoredRecord) -> tuple[Any, ...]:
        """:meth:`row` the plain way, a loop over the hot fields (the generated encoder
        :meth:`row` runs must give the same parameters)."""
        rest = dict(record.body)
        hot: list[Any] = []
        for name in self.hot:
            value = rest.get(name)
            if _native(value):
                del rest[name]
                hot.append(value)
            else:
                hot.append(None)
        mirrors = 0
        if rest.get("id", rest) == record.id:
            del rest["id"]
            mirrors |= _MIRROR_ID
        if rest.get("customer_id", rest) == record.customer_id:
            del rest["customer_id"]
            mirrors |= _MIRROR_CUSTOMER
        return (record.version, record.customer_id, utc_text(record.at), mirrors, *hot,
                self._rest_text(rest), record.id)

    def _rest_text(self, rest: dict[str, Any]) -> str:
        """``rest`` as JSON; remembered when it holds only texts and nulls (no 1 == True).

        Looked up before the values are checked: a remembered key holds only texts
        and nulls, and only a text equals a text, only None equals None.
        """
        key = tuple(rest.items())
        try:
            text = self._rest_texts.get(key)
        except TypeError:  # a list or object inside: not remembered
            return dump_json(rest)
        if text is not None:
            return text
        if not all(value is None or type(value) is str for value in rest.values()):
            return dump_json(rest)
        if len(self._rest_texts) >= _REST_CACHE_SIZE:
            self._rest_texts.clear()
        text = self._rest_texts[key] = dump_json(rest)
        return text

    def record(self, row: Sequence[Any]) -> StoredRecord:
        entity_id, version, customer_id, at, mirrors = row[:5]
        body = self._rest_body(row[-1])
        for name, value in zip(self.hot, row[5:-1], strict=True):
            if value is not None:
                body[name] = value
        if mirrors & _MIRROR_ID:
            body["id"] = entity_id
        if mirrors & _MIRROR_CUSTOMER:
            body["customer_id"] = customer_id
        return StoredRecord(self.kind, entity_id, version, customer_id, parse_utc(at), body)

    def _rest_body(self, text: str) -> dict[str, Any]:
        """A fresh dict of ``rest``; flat ones (no list or object inside) are remembered."""
        cached = self._rest_bodies.get(text)
        if cached is None:
            body: dict[str, Any] = json.loads(text)
            if len(text) > 256 or any(type(value) in (dict, list) for value in body.values()):
                return body
            if len(self._rest_bodies) >= _REST_CACHE_SIZE:
                self._rest_bodies.clear()
            cached = self._rest_bodies[text] = body
        return dict(cached)

    def column_sql(self, name: str, column_type: ColumnType,
                   parameters: list[Any]) -> str:
        if name in INDEX_COLUMNS:
            return _INDEX_EXPRESSIONS[name]
        path = _json_path(name)
        if name not in self.hot:
            template = _DOCUMENT_EXPRESSIONS[column_type]
            parameters.extend([path] * template.count("{p}"))
            return template.format(d="rest", p="?")
        column = quoted("f_" + name)
        fallback = _DOCUMENT_EXPRESSIONS[_REST_FALLBACK[column_type]].format(d="rest", p="?")
        template = _HOT_EXPRESSIONS[column_type]
        parameters.extend([path] * (template.count("{rest}") * fallback.count("?")))
        return template.format(h=column, rest=fallback)


def _native(value: Any) -> bool:
    """Whether a hot field's value goes in its column: a text or a 64-bit integer."""
    kind = type(value)
    return kind is str or (kind is int and _INT64[0] <= value <= _INT64[1])


def _row_encoder(layout: DedicatedLayout) -> Callable[[StoredRecord], tuple[Any, ...]]:
    """:meth:`DedicatedLayout.row_reference` generated for ``layout``'s hot fields: one
    unrolled step per field instead of a loop (what an advance spends per history entry
    and state it writes). The field names are passed as constants, never spliced."""
    namespace: dict[str, Any] = {"utc_text": utc_text, "rest_text": layout._rest_text,
                                 "ABSENT": _ABSENT, "LOW": _INT64[0], "HIGH": _INT64[1]}
    lines = ["def row(record):", "    rest = dict(record.body)", "    pop = rest.pop"]
    for position, name in enumerate(layout.hot):
        namespace[f"name_{position}"] = name
        value = f"v{position}"
        lines += [f"    {value} = pop(name_{position}, ABSENT)",
                  f"    if {value}.__class__ is not str and ({value}.__class__ is not int"
                  f" or not LOW <= {value} <= HIGH):",
                  f"        if {value} is not ABSENT:",
                  f"            rest[name_{position}] = {value}",
                  f"        {value} = None"]
    values = "".join(f"v{position}, " for position in range(len(layout.hot)))
    lines += ["    mirrors = 0",
              "    if rest.get('id', rest) == record.id:",
              "        del rest['id']",
              f"        mirrors = {_MIRROR_ID}",
              "    if rest.get('customer_id', rest) == record.customer_id:",
              "        del rest['customer_id']",
              f"        mirrors |= {_MIRROR_CUSTOMER}",
              "    return (record.version, record.customer_id, utc_text(record.at), mirrors, "
              f"{values}rest_text(rest), record.id)"]
    exec("\n".join(lines), namespace)  # names are bound as constants, not spliced in
    return namespace["row"]  # type: ignore[no-any-return]


_ABSENT = object()


def _values_encoder(layout: DedicatedLayout, fields: tuple[str, ...]
                    ) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """:meth:`DedicatedLayout.row` of a row ``(id, version, customer_id, at, *values)`` whose
    body is ``dict(zip(fields, values))``, generated for these ``fields``: each value goes
    straight to its hot column or to ``rest``, with no record or body dict built first.
    Field names are passed as constants, never spliced into the code."""
    if len(set(fields)) != len(fields):
        raise ValueError(f"insert_rows: the fields {list(fields)!r} name a field twice")
    namespace: dict[str, Any] = {"utc_text": utc_text, "rest_text": layout._rest_text,
                                 "LOW": _INT64[0], "HIGH": _INT64[1]}
    head = len(("id", "version", "customer_id", "at"))
    position = {name: head + index for index, name in enumerate(fields)}
    lines = ["def row(r):", "    rest = {}", "    mirrors = 0"]
    hot_values = []
    for index, name in enumerate(layout.hot):
        namespace[f"hot_{index}"] = name
        if name not in position:
            hot_values.append("None")
            continue
        value = f"v{index}"
        lines += [f"    {value} = r[{position[name]}]",
                  f"    if {value}.__class__ is not str and ({value}.__class__ is not int"
                  f" or not LOW <= {value} <= HIGH):",
                  f"        rest[hot_{index}] = {value}",
                  f"        {value} = None"]
        hot_values.append(value)
    for index, name in enumerate(fields):
        if name in layout.hot:
            continue
        namespace[f"name_{index}"] = name
        value = f"r[{position[name]}]"
        mirror = {"id": ("r[0]", _MIRROR_ID), "customer_id": ("r[2]", _MIRROR_CUSTOMER)}.get(name)
        if mirror is None:
            lines.append(f"    rest[name_{index}] = {value}")
        else:
            lines += [f"    if {value} == {mirror[0]}:",
                      f"        mirrors |= {mirror[1]}",
                      "    else:",
                      f"        rest[name_{index}] = {value}"]
    values = "".join(f"{value}, " for value in hot_values)
    lines.append(f"    return (r[1], r[2], utc_text(r[3]), mirrors, {values}rest_text(rest), r[0])")
    exec("\n".join(lines), namespace)  # names are bound as constants, not spliced in
    return namespace["row"]  # type: ignore[no-any-return]


ALL_RECORDS_VIEW = "all_records"
"""A read-only view of every record as the shared table shows it, for people reading the file
with SQL: ``kind, id, version, customer_id, at, body`` (the body put back together as JSON)."""


_NO_FIELD = "'$.\"__crmcore_no_field__\"'"
"""The scratch path the view writes an absent hot field to, then removes."""


def _body_sql(layout: DedicatedLayout) -> str:
    """SQL putting a dedicated row's body back together: ``rest`` plus hot fields and mirrors.

    One flat ``json_set`` (nested expressions overflow SQLite's parser): a field
    without a value is written to a scratch key that is removed at the end.
    """
    pairs = [(f"mirrors & {_MIRROR_ID}", "'$.id'", "id"),
             (f"mirrors & {_MIRROR_CUSTOMER}", "'$.customer_id'", "customer_id")]
    for name, column in zip(layout.hot, layout.hot_columns, strict=True):
        pairs.append((f"{column} IS NOT NULL", "'" + _json_path(name).replace("'", "''") + "'",
                      column))
    arguments = ", ".join(f"CASE WHEN {condition} THEN {path} ELSE {_NO_FIELD} END, {value}"
                          for condition, path, value in pairs)
    return f"json_remove(json_set(rest, {arguments}), {_NO_FIELD})"


def create_all_records_view(connection: sqlite3.Connection) -> None:
    """(Re)create :data:`ALL_RECORDS_VIEW` over the shared table and every dedicated one."""
    parts = [f"SELECT kind, id, version, customer_id, at, body FROM {SHARED_TABLE}"]
    for layout in stored_layouts(connection).values():
        kind = "'" + layout.kind.replace("'", "''") + "'"
        parts.append(f"SELECT {kind}, id, version, customer_id, at, {_body_sql(layout)} "
                     f"FROM {quoted(layout.table)}")
    connection.execute(f"DROP VIEW IF EXISTS {ALL_RECORDS_VIEW}")
    connection.execute(f"CREATE VIEW {ALL_RECORDS_VIEW} (kind, id, version, customer_id, at, "
                       f"body) AS {' UNION ALL '.join(parts)}")


def stored_layouts(connection: sqlite3.Connection) -> dict[str, DedicatedLayout]:
    """The dedicated tables a database has, by kind (from ``kind_tables``)."""
    return {kind: DedicatedLayout(kind, table, tuple(json.loads(hot)))
            for kind, table, hot in connection.execute(
                "SELECT kind, table_name, hot FROM kind_tables")}


def create_dedicated(connection: sqlite3.Connection, kinds: Mapping[str, Sequence[str]]
                     ) -> None:
    """Create a table for each of ``kinds`` and move their rows out of ``records``."""
    for kind, hot in kinds.items():
        layout = DedicatedLayout.for_kind(kind, hot)
        for statement in layout.create_statements():
            connection.execute(statement)
        connection.execute("INSERT INTO kind_tables (kind, table_name, hot) VALUES (?, ?, ?)",
                           (kind, layout.table, json.dumps(list(layout.hot))))
        shared = SharedLayout(kind)
        cursor = connection.execute(
            f"SELECT {shared.selected} FROM {shared.source}", shared.source_parameters)
        while rows := cursor.fetchmany(20_000):
            connection.executemany(layout.insert_sql,
                                   [layout.row(shared.record(row)) for row in rows])
        connection.execute(f"DELETE FROM {shared.source}", shared.source_parameters)
    create_all_records_view(connection)
