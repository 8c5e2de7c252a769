"""SQLite storage: the embedded default (standard library ``sqlite3``, no server).

Registered as the storage backend ``sqlite`` with the options ``path`` (a file,
or ``":memory:"``; default ``crmcore.db``), ``timeout`` (seconds to wait for
a lock held by another process; default 30) and ``read_only`` (default false:
open an existing file for reading only; it is never created or upgraded, every
transaction is a read transaction, and a write is refused).

Reads never wait for a writer: file databases use write-ahead logging, and
:meth:`SqliteStorage.read_transaction` (what :class:`crmcore.CRM` reads
through) is a deferred transaction reading one consistent snapshot.

The schema is versioned with ``PRAGMA user_version`` and upgraded
automatically when a database is opened. Every write runs inside
``BEGIN IMMEDIATE ... COMMIT``; file databases use write-ahead logging, so a
process killed mid-way loses nothing that was committed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import attrs

from crmcore.columns import check_columns, check_scan, rows_as_columns
from crmcore.errors import ConflictError, DuplicateError, NotFoundError, StorageError
from crmcore.events import DomainEvent, EncodedEvent, event_json
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import (
    DEFAULT_SCAN_BATCH,
    INDEX_COLUMNS,
    RECORD_ROW_HEAD,
    REDACTED_ERROR,
    Columns,
    ColumnType,
    OutboxEntry,
    PendingDelivery,
    StorageFactory,
    StoredRecord,
    check_versions,
    ids_by_kind,
    outbox_entry,
    rows_as_records,
)
from crmcore.serialization import dump_json
from crmcore_plugins.sqlite_layout import (
    DEDICATED_KINDS,
    KIND_TABLES_DDL,
    PYTHON_FINISH,
    KindLayout,
    SharedLayout,
    create_dedicated,
    register_functions,
    stored_layouts,
    utc_text,
)

T = TypeVar("T")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE records (
            kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
            customer_id TEXT NOT NULL, at TEXT, body TEXT NOT NULL,
            PRIMARY KEY (kind, id)) WITHOUT ROWID""",
        "CREATE INDEX records_by_customer ON records (kind, customer_id, at)",
        "CREATE INDEX records_by_time ON records (kind, at)",
    ),
    (
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL, occurred_at TEXT NOT NULL, body TEXT NOT NULL)""",
        """CREATE TABLE subscriptions (
            notifier TEXT PRIMARY KEY, after_seq INTEGER NOT NULL)""",
        """CREATE TABLE deliveries (
            event_id TEXT NOT NULL, notifier TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, retry_at TEXT,
            delivered_at TEXT, PRIMARY KEY (event_id, notifier)) WITHOUT ROWID""",
    ),
    (KIND_TABLES_DDL,),
)
"""Schema steps; version N of a database means the first N steps are applied.

After step 3 the high-volume kinds get tables of their own and their rows move
out of ``records`` (:func:`~crmcore_plugins.sqlite_layout.create_dedicated`, ADR 0009).
"""

DEDICATED_TABLES_STEP = 3
"""The schema step after which kinds are moved to their own tables."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


_utc_text = utc_text


PAGE_CACHE_KIB = 32_768
"""The page cache of each connection, in KiB."""

SQL_VARIABLES_PER_STATEMENT = 900
"""Ids per ``IN (...)`` list: well below SQLite's limit on bound parameters."""


@attrs.frozen
class ColumnRead:
    """A columnar read of one kind's table in SQLite, ready to run on a connection.

    Built by :func:`column_read`; shared by this backend and the ``sql``
    backend on SQLite, whose ``records`` table has the same columns.
    """

    sql: str
    parameters: list[Any]
    names: list[str]
    finishing: list[tuple[int, Callable[[Any], Any]]]

    def chunks(self, connection: sqlite3.Connection, batch_size: int) -> Iterator[Columns]:
        """Run the read on ``connection`` and yield chunks of at most ``batch_size`` rows."""
        cursor = connection.cursor()
        cursor.row_factory = None
        cursor.execute(self.sql, self.parameters)
        while rows := cursor.fetchmany(batch_size):
            yield rows_as_columns(rows, self.names, self.finishing)


def layout_read(layout: KindLayout, columns: Mapping[str, ColumnType],
                filters: Sequence[tuple[str, Any]]) -> ColumnRead:
    """The read of ``columns`` of the records stored as ``layout`` says.

    ``filters`` are ``(condition, value)`` pairs such as ``("at >= ?", text)``;
    a None value leaves its condition out. Raises ValueError for a column
    that cannot be read (see :func:`crmcore.columns.check_columns`).
    """
    check_columns(columns)
    names = list(columns)
    parameters: list[Any] = []
    selected = [layout.column_sql(name, columns[name], parameters) for name in names]
    sql = [f"SELECT {', '.join(selected) or 'NULL'} FROM {layout.source}"]
    parameters.extend(layout.source_parameters)
    for condition, value in filters:
        if value is not None:
            sql.append("AND " + condition)
            parameters.append(value)
    finishing = [(position, PYTHON_FINISH[columns[name]])
                 for position, name in enumerate(names)
                 if name not in INDEX_COLUMNS and columns[name] in PYTHON_FINISH]
    return ColumnRead(" ".join(sql), parameters, names, finishing)


def column_read(table: str, kind: str, columns: Mapping[str, ColumnType],
                filters: Sequence[tuple[str, Any]]) -> ColumnRead:
    """:func:`layout_read` of ``kind`` in a shared records table named ``table`` (quoted)."""
    return layout_read(SharedLayout(kind, table), columns, filters)


def _by_kind(items: Sequence[T], key: Callable[[T], str] = attrgetter("kind")
             ) -> Iterator[tuple[str, list[T]]]:
    """``items`` grouped by kind, in order of first appearance (one group per kind)."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return iter(groups.items())


def _chunks(values: Sequence[Any], size: int = SQL_VARIABLES_PER_STATEMENT
            ) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _entry(row: sqlite3.Row) -> OutboxEntry:
    return outbox_entry(row["seq"], json.loads(row["body"]))


class _SqliteSession:
    def __init__(self, connection: sqlite3.Connection, layouts: Callable[[str], KindLayout]
                 ) -> None:
        self._db = connection
        self._layout = layouts

    def _select(self, layout: KindLayout, condition: str, parameters: Sequence[Any],
                selected: str | None = None) -> sqlite3.Cursor:
        """``SELECT`` the rows of ``layout`` matching ``AND condition``."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        return cursor.execute(
            f"SELECT {selected or layout.selected} FROM {layout.source} {condition}",
            (*layout.source_parameters, *parameters))

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:
        layout = self._layout(kind)
        row = self._select(layout, "AND id = ?", (entity_id,)).fetchone()
        return None if row is None else layout.record(row)

    def insert(self, record: StoredRecord) -> None:
        layout = self._layout(record.kind)
        try:
            self._db.execute(layout.insert_sql, layout.row(record))
        except sqlite3.IntegrityError:
            raise DuplicateError(record.kind, record.id) from None

    def update(self, record: StoredRecord, expected_version: int) -> None:
        layout = self._layout(record.kind)
        changed = self._db.execute(layout.update_sql,
                                   (*layout.row(record), expected_version)).rowcount
        if changed == 0:
            current = self.get(record.kind, record.id)
            if current is None:
                raise NotFoundError(record.kind, record.id)
            raise ConflictError(record.kind, record.id, expected_version, current.version)

    def query(
        self,
        kind: str,
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredRecord]:
        layout = self._layout(kind)
        sql: list[str] = []
        parameters: list[Any] = []
        for condition, value in (("AND customer_id = ?", customer_id),
                                 ("AND at >= ?", _utc_text(since)),
                                 ("AND at < ?", _utc_text(until))):
            if value is not None:
                sql.append(condition)
                parameters.append(value)
        sql.append("ORDER BY at IS NOT NULL, at, id")
        return map(layout.record, self._select(layout, " ".join(sql), parameters))

    def count(self, kind: str) -> int:
        return int(self._select(self._layout(kind), "", (), "COUNT(*)").fetchone()[0])

    def scan(
        self,
        kind: str,
        columns: Mapping[str, ColumnType],
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = DEFAULT_SCAN_BATCH,
    ) -> Iterator[Columns]:
        check_scan(columns, batch_size)
        read = layout_read(self._layout(kind), columns, (
            ("customer_id = ?", customer_id), ("at >= ?", _utc_text(since)),
            ("at < ?", _utc_text(until))))
        return read.chunks(self._db, batch_size)

    def _rows_with_ids(self, layout: KindLayout, ids: Sequence[str],
                       selected: str | None = None) -> Iterator[Sequence[Any]]:
        """``SELECT selected`` of the records of ``layout`` among ``ids``: one statement
        whatever their number, the ids bound as one JSON array (SQLite looks them up in
        order, one index probe each; a list of 900 ``?`` per statement cost a third more)."""
        return self._select(layout, "AND id IN (SELECT value FROM json_each(?))",
                            (json.dumps(list(ids)),), selected)

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        layout = self._layout(kind)
        return {row[0]: layout.record(row) for row in self._rows_with_ids(layout, ids)}

    def stored_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        return {row[0] for row in self._rows_with_ids(self._layout(kind), ids, "id")}

    def insert_many(self, records: Sequence[StoredRecord]) -> None:
        # A savepoint undoes the rows written before a clash, so that the search
        # for the first duplicate sees only what was stored before this call.
        self._db.execute("SAVEPOINT insert_many")
        try:
            for kind, group in _by_kind(records):
                layout = self._layout(kind)
                self._db.executemany(layout.insert_sql, map(layout.row, group))
        except sqlite3.IntegrityError:
            self._db.execute("ROLLBACK TO insert_many")
            raise self._first_duplicate(records) from None
        finally:
            self._db.execute("RELEASE insert_many")

    def insert_rows(self, kind: str, fields: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """:meth:`insert_many` of the rows' records, each row encoded straight to its
        table's parameters (one ``executemany``; no record or body dict per row)."""
        layout = self._layout(kind)
        width = len(RECORD_ROW_HEAD) + len(fields)
        if any(len(row) != width for row in rows):
            rows_as_records(kind, fields, rows)  # raises, naming the row
        encode = layout.row_encoder(tuple(fields))
        self._db.execute("SAVEPOINT insert_rows")
        try:
            self._db.executemany(layout.insert_sql, map(encode, rows))
        except sqlite3.IntegrityError:
            self._db.execute("ROLLBACK TO insert_rows")
            raise self._first_duplicate(rows_as_records(kind, fields, rows)) from None
        finally:
            self._db.execute("RELEASE insert_rows")

    def _first_duplicate(self, records: Sequence[StoredRecord]) -> DuplicateError:
        seen: set[tuple[str, str]] = set()
        for record in records:
            key = (record.kind, record.id)
            if key in seen or self.get(*key) is not None:
                return DuplicateError(*key)
            seen.add(key)
        return DuplicateError(records[0].kind if records else "?", "?")

    def update_many(self, changes: Sequence[tuple[StoredRecord, int]]) -> None:
        stored: dict[tuple[str, str], int] = {}
        for kind, ids in ids_by_kind(record for record, _ in changes).items():
            stored.update(((kind, row[0]), row[1]) for row in self._rows_with_ids(
                self._layout(kind), ids, "id, version"))
        check_versions(changes, stored)  # the write lock is held: nothing changes meanwhile
        for kind, group in _by_kind(changes, key=lambda change: change[0].kind):
            layout = self._layout(kind)
            self._db.executemany(layout.update_sql, (
                (*layout.row(record), expected) for record, expected in group))

    def delete_many(self, kind: str, ids: Sequence[str]) -> int:
        layout = self._layout(kind)
        return int(self._db.executemany(
            f"DELETE FROM {layout.source} AND id = ?",
            ((*layout.source_parameters, entity_id) for entity_id in dict.fromkeys(ids)),
        ).rowcount)

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        self._append_outbox([(e.id, e.type, _utc_text(e.occurred_at), event_json(e))
                             for e in events])

    def append_encoded_events(self, events: Sequence[EncodedEvent]) -> None:
        self._append_outbox([(e.id, e.type, _utc_text(e.occurred_at), e.body) for e in events])

    def _append_outbox(self, rows: Sequence[tuple[str, str, str | None, str]]) -> None:
        """Insert outbox rows ``(event_id, type, occurred_at, body)``; a repeated or already
        stored id raises :class:`~crmcore.errors.DuplicateError` naming it."""
        try:
            self._db.executemany(
                "INSERT INTO outbox (event_id, type, occurred_at, body) VALUES (?, ?, ?, ?)",
                rows)
        except sqlite3.IntegrityError:
            ids = [row[0] for row in rows]
            duplicate = next((i for i in ids if ids.count(i) > 1 or self._has_event(i)), "?")
            raise DuplicateError("event", duplicate) from None

    def redact_events(self, customer_id: str, data: Mapping[str, Any]) -> int:
        redacted = [row[0] for row in self._db.execute(
            "UPDATE outbox SET body = json_set(body, '$.data', json(?)) "
            "WHERE body ->> '$.customer_id' = ? RETURNING event_id",
            (dump_json(dict(data)), customer_id))]
        for chunk in _chunks(redacted):
            self._db.execute(
                f"UPDATE deliveries SET last_error = ? WHERE last_error IS NOT NULL "
                f"AND event_id IN ({', '.join('?' * len(chunk))})", (REDACTED_ERROR, *chunk))
        return len(redacted)

    def _has_event(self, event_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM outbox WHERE event_id = ?", (event_id,)).fetchone()
        return row is not None

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        rows = self._db.execute(
            "SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, -1 if limit is None else limit),
        )
        return [_entry(row) for row in rows]

    def subscribe(self, notifier: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO subscriptions (notifier, after_seq) "
            "SELECT ?, COALESCE(MAX(seq), 0) FROM outbox",
            (notifier,),
        )

    def _advance_watermark(self, notifier: str) -> None:
        """Move the subscription past events all delivered, and forget their rows."""
        self._db.execute(
            """UPDATE subscriptions SET after_seq = COALESCE(
                 (SELECT MIN(o.seq) - 1 FROM outbox o
                  LEFT JOIN deliveries d ON d.event_id = o.event_id AND d.notifier = ?
                  WHERE o.seq > subscriptions.after_seq AND d.delivered_at IS NULL),
                 (SELECT MAX(seq) FROM outbox), after_seq)
               WHERE notifier = ?""",
            (notifier, notifier),
        )
        self._db.execute(
            """DELETE FROM deliveries WHERE notifier = ? AND event_id IN (
                 SELECT o.event_id FROM outbox o, subscriptions s
                 WHERE s.notifier = ? AND o.seq <= s.after_seq)""",
            (notifier, notifier),
        )

    def pending_deliveries(
        self, notifier: str, *, now: datetime, limit: int
    ) -> list[PendingDelivery]:
        self._advance_watermark(notifier)
        rows = self._db.execute(
            """SELECT o.seq, o.body, COALESCE(d.attempts, 0) AS attempts, d.last_error
               FROM outbox o JOIN subscriptions s ON s.notifier = ? AND o.seq > s.after_seq
               LEFT JOIN deliveries d ON d.event_id = o.event_id AND d.notifier = s.notifier
               WHERE d.delivered_at IS NULL AND (d.retry_at IS NULL OR d.retry_at <= ?)
               ORDER BY o.seq LIMIT ?""",
            (notifier, _utc_text(now), limit),
        )
        return [
            PendingDelivery(_entry(row), notifier, row["attempts"], row["last_error"])
            for row in rows
        ]

    def _require_event(self, event_id: str) -> None:
        if not self._has_event(event_id):
            raise NotFoundError("event", event_id)

    def mark_delivered(self, event_id: str, notifier: str, at: datetime) -> None:
        self._require_event(event_id)
        self._db.execute(
            """INSERT INTO deliveries (event_id, notifier, delivered_at) VALUES (?, ?, ?)
               ON CONFLICT (event_id, notifier)
               DO UPDATE SET delivered_at = excluded.delivered_at""",
            (event_id, notifier, _utc_text(at)),
        )

    def record_failure(
        self, event_id: str, notifier: str, error: str, retry_at: datetime
    ) -> None:
        self._require_event(event_id)
        self._db.execute(
            """INSERT INTO deliveries (event_id, notifier, attempts, last_error, retry_at)
               VALUES (?, ?, 1, ?, ?)
               ON CONFLICT (event_id, notifier) DO UPDATE SET attempts = attempts + 1,
                 last_error = excluded.last_error, retry_at = excluded.retry_at""",
            (event_id, notifier, error, _utc_text(retry_at)),
        )


class SqliteStorage:
    """Storage in one SQLite database file (or ``":memory:"``)."""

    def __init__(self, path: str | Path = "crmcore.db", *, timeout: float = 30.0,
                 read_only: bool = False,
                 dedicated_kinds: Mapping[str, Sequence[str]] = DEDICATED_KINDS) -> None:
        self.path = path
        self.read_only = read_only
        self.dedicated_kinds = dedicated_kinds
        self._layouts: dict[str, KindLayout] = {}
        self._lock = threading.RLock()
        self._closed = True
        if read_only and (str(path) == ":memory:" or not Path(path).is_file()):
            raise StorageError(tr("storage.path: {path!r} does not exist (a read-only database "
                                  "is never created)").format(path=str(path)))
        try:
            target = f"{Path(path).resolve().as_uri()}?mode=ro" if read_only else str(path)
            self._db = sqlite3.connect(target, timeout=timeout, isolation_level=None,
                                       check_same_thread=False, uri=read_only)
        except sqlite3.Error as error:
            raise StorageError(tr("storage.path: cannot open SQLite database {path!r}: "
                                  "{error}").format(path=str(path), error=error)) from error
        try:
            self._set_up()
        except sqlite3.OperationalError as error:  # locked, busy, read-only directory...
            self._db.close()
            raise StorageError(tr("storage.path: cannot open SQLite database {path!r}: "
                                  "{error}").format(path=str(path), error=error)) from None
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StorageError(tr("storage.path: {path!r} is not a usable SQLite database: "
                                  "{error}").format(path=str(path), error=error)) from None

    def _set_up(self) -> None:
        self._db.row_factory = sqlite3.Row
        register_functions(self._db)
        self._closed = False  # before _migrate, which reads the schema version
        if str(self.path) != ":memory:" and not self.read_only:
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        # Deleted and rewritten rows are overwritten with zeros, so an erased
        # person's data does not linger in free pages of the file (K2).
        self._db.execute("PRAGMA secure_delete = ON")
        # A 32 MiB page cache (SQLite's default is 2 MiB): batched writes of a
        # large book touch index pages all over the file, and spilling them
        # mid-transaction cost imports half their time with the layout of
        # ADR 0007. Since ADR 0009 the indexes are smaller: 32 MiB imports 1M
        # purchases as fast as 64 MiB did, in 30 MiB less memory (issue 10).
        self._db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        self._migrate()
        self._layouts = dict(stored_layouts(self._db))

    def _layout(self, kind: str) -> KindLayout:
        """Where ``kind`` is stored: its own table, or the shared one."""
        layout = self._layouts.get(kind)
        if layout is None:
            layout = self._layouts[kind] = SharedLayout(kind)
        return layout

    def schema_version(self) -> int:
        """The database's ``PRAGMA user_version``."""
        if self._closed:
            raise StorageError(tr("the SQLite storage {path!r} is closed").format(
                path=str(self.path)))
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.read_only:
            current = self.schema_version()
            if current != SCHEMA_VERSION:
                raise StorageError(tr(
                    "storage.path: {path!r} has schema version {current}, not {expected}; "
                    "open it once without read-only to upgrade it").format(
                        path=str(self.path), current=current, expected=SCHEMA_VERSION))
            return
        if self.schema_version() == SCHEMA_VERSION:
            return  # up to date: no write lock needed (a writer may hold it for minutes)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self.schema_version()
                if current > SCHEMA_VERSION:
                    raise StorageError(tr(
                        "database {path!r} has schema version {current}, newer than this "
                        "crmcore understands ({expected}); upgrade crmcore").format(
                            path=str(self.path), current=current, expected=SCHEMA_VERSION))
                for step, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                    for statement in statements:
                        self._db.execute(statement)
                    if step == DEDICATED_TABLES_STEP:
                        create_dedicated(self._db, self.dedicated_kinds)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def transaction(self) -> Iterator[_SqliteSession]:
        """Open a write transaction (``BEGIN IMMEDIATE``); commit or roll back.

        On a read-only storage this is a read transaction, and a write in it
        raises :class:`~crmcore.errors.StorageError`.
        """
        with self._begin("DEFERRED" if self.read_only else "IMMEDIATE") as session:
            yield session

    @contextmanager
    def read_transaction(self) -> Iterator[_SqliteSession]:
        """Open a read transaction (``BEGIN DEFERRED``): one snapshot, never waits on a writer.

        Use it for reading only: with write-ahead logging, a writer in another
        process holding its lock for minutes does not delay it.
        """
        with self._begin("DEFERRED") as session:
            yield session

    @contextmanager
    def _begin(self, mode: str) -> Iterator[_SqliteSession]:
        with self._lock:
            if self._closed:
                raise StorageError(tr("the SQLite storage {path!r} is closed").format(
                path=str(self.path)))
            if self._db.in_transaction:
                raise StorageError(tr("a transaction is already open on this storage"))
            try:
                self._db.execute(f"BEGIN {mode}")
            except sqlite3.OperationalError as error:
                raise StorageError(tr("cannot start a transaction on {path!r}: {error}").format(
                    path=str(self.path), error=error)) from error
            try:
                yield _SqliteSession(self._db, self._layout)
            except sqlite3.OperationalError as error:
                self._db.execute("ROLLBACK")
                if self.read_only and "readonly" in str(error):
                    raise StorageError(tr("{path!r} is open read-only; this operation "
                                          "writes").format(path=str(self.path))) from None
                raise
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and empty the log.

        After an erasure the log still holds earlier page images with the
        erased data; this removes them. Returns False when a reader of another
        connection kept the log from being emptied (try again later).
        """
        with self._lock:
            if self._closed:
                raise StorageError(tr("the SQLite storage {path!r} is closed").format(
                path=str(self.path)))
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return not busy

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()


def open_sqlite_storage(options: Options) -> SqliteStorage:
    """Factory for the ``sqlite`` backend: options ``path``, ``timeout`` and ``read_only``."""
    return SqliteStorage(
        options.path("path", "crmcore.db"), timeout=options.number("timeout", 30.0),
        read_only=options.flag("read_only", False),
    )


@hookimpl
def crmcore_register_storage(register: Callable[[str, StorageFactory], None]) -> None:
    """Register the ``sqlite`` storage backend."""
    register("sqlite", open_sqlite_storage)
