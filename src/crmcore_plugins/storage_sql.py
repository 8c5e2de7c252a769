"""SQL storage through SQLAlchemy Core: PostgreSQL, SQLite and other SQLAlchemy databases.

Registered as the storage backend ``sql`` with the options

``url`` (required)
    A SQLAlchemy URL: ``postgresql+psycopg://user@host/db``, ``sqlite:///crm.db``,
    ``sqlite://`` (in memory). A malformed URL, an unknown dialect or a missing
    driver raises :class:`~crmcore.errors.ConfigError` naming ``storage.url``.
``schema``
    The database schema holding crmcore's tables (PostgreSQL); created when
    missing. Default: the connection's search path.
``pool_size``
    Connections kept open (default 5).
``timeout``
    Seconds to wait for a pooled connection, a connection to the server or,
    on SQLite, a lock held by another process (default 30).

SQLAlchemy is imported only when the backend is opened, so crmcore works
without it; choosing ``sql`` without it raises :class:`~crmcore.errors.PluginError`
saying ``pip install 'crmcore[sql]'``.

Tables: ``crmcore_records``, ``crmcore_outbox``, ``crmcore_subscriptions``,
``crmcore_deliveries`` and ``crmcore_schema_version``. :data:`MIGRATIONS` are
applied automatically, in one transaction, when the storage is opened; a
database with a newer schema is refused. ``update`` is a compare-and-set on
the record's version (``UPDATE ... WHERE version = :expected``), so concurrent
writers in several processes are safe at the default READ COMMITTED
isolation: one wins, the others get :class:`~crmcore.errors.ConflictError`.
On PostgreSQL, writers appending to the outbox take a table lock until they
commit, so that events become visible in ``seq`` order and a notifier's
delivery watermark never passes an event still being committed.
The batch methods work in the database: :meth:`SqlSession.scan` reads
typed columns (PostgreSQL: ``#>>``/``#>`` projections and exact epoch
microseconds, streamed through a server-side cursor; SQLite: as the
``sqlite`` backend), ``get_many`` and ``delete_many`` take ids in batches (an
array parameter on PostgreSQL), ``insert_many`` writes with ``COPY`` (large
batches on PostgreSQL with psycopg) or ``executemany``, and ``update_many``
checks every version before one ``executemany``. :meth:`SqlStorage.bulk_insert`
loads many records, skipping those stored identically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crmcore.columns import (
    body_path,
    check_scan,
    decimal_json_text,
    records_as_columns,
    rows_as_columns,
)
from crmcore.errors import (
    ConfigError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    PluginError,
    StorageError,
)
from crmcore.events import DomainEvent, EncodedEvent
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import (
    DEFAULT_SCAN_BATCH,
    INDEX_COLUMNS,
    REDACTED_ERROR,
    Columns,
    ColumnType,
    OutboxEntry,
    PendingDelivery,
    StorageFactory,
    StoredRecord,
    check_versions,
    decoded_event,
    ids_by_kind,
    outbox_entry,
    rows_as_records,
)
from crmcore.serialization import dump_json, unstructure

if TYPE_CHECKING:
    import sqlalchemy as sa

INSTALL_HINT = "pip install 'crmcore[sql]'"
"""What to run when SQLAlchemy or a database driver is missing."""

RECORDS = "crmcore_records"
OUTBOX = "crmcore_outbox"
SUBSCRIPTIONS = "crmcore_subscriptions"
DELIVERIES = "crmcore_deliveries"
SCHEMA_VERSION_TABLE = "crmcore_schema_version"

IDS_PER_STATEMENT = 900
"""Ids per ``IN (...)`` list: below SQLite's cap on the parameters of a statement."""

PG_IDS_PER_STATEMENT = 10_000
"""Ids per array parameter on PostgreSQL (``id = ANY(:ids)``)."""

INSERT_BATCH = 5000
"""Records per look-up and write of :meth:`SqlSession.insert_many`."""

COPY_THRESHOLD = 100
"""Records from which a batch is written with ``COPY`` on PostgreSQL (psycopg)."""

def require_sqlalchemy() -> None:
    """Raise :class:`~crmcore.errors.PluginError` with the install hint if SQLAlchemy is absent."""
    try:
        import sqlalchemy  # noqa: F401
    except ImportError as error:
        raise PluginError(tr("the 'sql' storage backend needs SQLAlchemy: {hint} "
                             "({error})").format(hint=INSTALL_HINT, error=error)) from error


# -- column types and the migrations ---------------------------------------------------------


def _key_type() -> sa.types.TypeEngine[str]:
    """Text keys compared byte by byte (collation "C" on PostgreSQL): Python's order."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    return sa.String(255).with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def _seq_type() -> sa.types.TypeEngine[int]:
    """A 64-bit sequence number; SQLite needs INTEGER for its rowid alias."""
    import sqlalchemy as sa

    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create_records(connection: sa.Connection, schema: str | None) -> None:
    import sqlalchemy as sa

    metadata = sa.MetaData(schema=schema)
    sa.Table(
        RECORDS, metadata,
        sa.Column("kind", _key_type(), primary_key=True),
        sa.Column("id", _key_type(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", _key_type(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Index("crmcore_records_by_customer", "kind", "customer_id", "at"),
        sa.Index("crmcore_records_by_time", "kind", "at"),
    )
    metadata.create_all(connection)


def _create_outbox(connection: sa.Connection, schema: str | None) -> None:
    import sqlalchemy as sa

    metadata = sa.MetaData(schema=schema)
    sa.Table(
        OUTBOX, metadata,
        sa.Column("seq", _seq_type(), primary_key=True, autoincrement=True),
        sa.Column("event_id", _key_type(), nullable=False, unique=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    sa.Table(
        SUBSCRIPTIONS, metadata,
        sa.Column("notifier", _key_type(), primary_key=True),
        sa.Column("after_seq", sa.BigInteger(), nullable=False),
    )
    sa.Table(
        DELIVERIES, metadata,
        sa.Column("event_id", _key_type(), primary_key=True),
        sa.Column("notifier", _key_type(), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    metadata.create_all(connection)


Migration = Callable[["sa.Connection", "str | None"], None]
"""One schema step: ``step(connection, schema)`` inside the migration transaction."""

MIGRATIONS: tuple[Migration, ...] = (_create_records, _create_outbox)
"""Schema steps, frozen once released; version N means the first N steps are applied."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


def _version_table(schema: str | None) -> sa.Table:
    import sqlalchemy as sa

    return sa.Table(SCHEMA_VERSION_TABLE, sa.MetaData(schema=schema),
                    sa.Column("version", sa.Integer(), nullable=False))


def read_schema_version(connection: sa.Connection, schema: str | None = None) -> int:
    """The crmcore schema version stored in the database ``connection`` is on (0 if none)."""
    import sqlalchemy as sa

    if not sa.inspect(connection).has_table(SCHEMA_VERSION_TABLE, schema=schema):
        return 0
    table = _version_table(schema)
    found = connection.execute(sa.select(sa.func.max(table.c.version))).scalar()
    return int(found or 0)


def migrate(connection: sa.Connection, schema: str | None = None) -> int:
    """Bring the crmcore tables up to :data:`SCHEMA_VERSION` inside the caller's transaction.

    Returns the version found before. Raises :class:`~crmcore.errors.StorageError`
    (changing nothing) when the database's schema is newer than this code.
    On PostgreSQL a transaction-scoped advisory lock keeps two processes
    from migrating at once.
    """
    import sqlalchemy as sa

    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtext(f"crmcore schema {schema or ''}"))))
        if schema is not None:
            connection.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
    current = read_schema_version(connection, schema)
    if current > SCHEMA_VERSION:
        raise StorageError(
            tr("the database has crmcore schema version {current}, newer than this crmcore "
               "understands ({expected}); upgrade crmcore").format(current=current,
                                                                   expected=SCHEMA_VERSION)
        )
    if current == SCHEMA_VERSION:
        return current
    for step in MIGRATIONS[current:]:
        step(connection, schema)
    table = _version_table(schema)
    table.create(connection, checkfirst=True)
    connection.execute(sa.delete(table))
    connection.execute(sa.insert(table).values(version=SCHEMA_VERSION))
    return current


# -- engines ------------------------------------------------------------------------------------


def _is_sqlite_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_events(engine: sa.Engine, *, wal: bool) -> None:
    """SQLite: let SQLAlchemy's transactions be real ones, taking the write lock first."""
    from sqlalchemy import event

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB: index updates of big loads
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    def on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def create_sql_engine(
    url: str | sa.URL,
    *,
    pool_size: int = 5,
    timeout: float = 30.0,
    key: str = "storage.url",
    sqlite_write_lock: bool = True,
) -> sa.Engine:
    """Build a SQLAlchemy engine set up for crmcore, or raise ConfigError naming ``key``.

    SQLite engines begin every transaction with ``BEGIN IMMEDIATE`` (writers
    queue instead of failing; ``sqlite_write_lock=False`` for read-only use),
    use write-ahead logging for files, and share one connection for an
    in-memory database. PostgreSQL engines check pooled connections before use.
    """
    require_sqlalchemy()
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigError(tr("{key}: {value!r} is not a SQLAlchemy URL (e.g. "
                             "postgresql+psycopg://user@host/db): {error}").format(
                                 key=key, value=str(url), error=error)) from None
    shown = parsed.render_as_string(hide_password=True)
    options: dict[str, Any] = {"json_serializer": dump_json, "pool_timeout": timeout}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        options["connect_args"] = {"timeout": timeout, "check_same_thread": False}
        if _is_sqlite_memory(parsed):
            options["poolclass"] = StaticPool
            del options["pool_timeout"]
        else:
            options["pool_size"] = pool_size
    else:
        options["pool_size"] = pool_size
        options["pool_pre_ping"] = True
        if backend == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2"):
            options["connect_args"] = {"connect_timeout": max(1, round(timeout))}
    try:
        engine = sa.create_engine(parsed, **options)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise ConfigError(tr("{key}: cannot use {value!r}: {error} (a missing driver? "
                             "{hint})").format(key=key, value=shown, error=error,
                                               hint=INSTALL_HINT)) from None
    if backend == "sqlite" and sqlite_write_lock:
        _sqlite_events(engine, wal=not _is_sqlite_memory(parsed))
    return engine


# -- the tables as seen by queries -------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime | None:
    """An aware datetime in UTC for binding (SQLite then stores UTC wall time)."""
    return None if moment is None else moment.astimezone(UTC)


def _from_db(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns naive UTC wall time)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Tables:
    """Lightweight table clauses with the column types that bind and load values."""

    def __init__(self, schema: str | None) -> None:
        import sqlalchemy as sa

        def time(name: str) -> sa.ColumnClause[datetime]:
            return sa.column(name, sa.DateTime(timezone=True))

        def text(name: str) -> sa.ColumnClause[str]:
            return sa.column(name, sa.String())

        def number(name: str) -> sa.ColumnClause[int]:
            return sa.column(name, sa.Integer())

        self.records = sa.table(
            RECORDS, text("kind"), text("id"), number("version"), text("customer_id"),
            time("at"), sa.column("body", sa.JSON()), schema=schema)
        self.outbox = sa.table(
            OUTBOX, number("seq"), text("event_id"), text("type"), time("occurred_at"),
            sa.column("body", sa.JSON()), schema=schema)
        self.subscriptions = sa.table(
            SUBSCRIPTIONS, text("notifier"), number("after_seq"), schema=schema)
        self.deliveries = sa.table(
            DELIVERIES, text("event_id"), text("notifier"), number("attempts"),
            text("last_error"), time("retry_at"), time("delivered_at"), schema=schema)


def _record(row: sa.Row[Any]) -> StoredRecord:
    return StoredRecord(kind=row.kind, id=row.id, version=row.version,
                        customer_id=row.customer_id, at=_from_db(row.at), body=row.body)


def _raced(batch: Sequence[StoredRecord], error: object) -> DuplicateError:
    """The error for a batch that clashed with a record another writer committed meanwhile."""
    first = batch[0]
    return DuplicateError(first.kind, f"one of {len(batch)} ids from {first.id!r} ({error})")


def _postgres_micros(timestamp: str) -> str:
    """Exact microseconds since the epoch of a ``timestamptz``, in integer arithmetic.

    Whole seconds and the microseconds of the second are read from the UTC
    wall time, so neither float rounding nor the session's time zone enters.
    """
    utc = f"({timestamp} AT TIME ZONE 'UTC')"
    return (f"(CAST(extract(epoch FROM date_trunc('second', {utc})) AS bigint) * 1000000"
            f" + CAST(extract(microseconds FROM {utc}) AS bigint) % 1000000)")


_POSTGRES_INDEX: dict[str, str] = {
    "id": "id", "customer_id": "customer_id", "version": "version",
    "at": _postgres_micros("at"),
}

_POSTGRES_BODY: dict[ColumnType, str] = {
    "text": "body #>> {p}",
    "integer": "CAST(trunc(CAST(body #>> {p} AS numeric)) AS bigint)",
    "real": "CAST(body #>> {p} AS double precision)",
    "decimal": "CAST(body #> {p} AS text)",
    "instant": _postgres_micros("CAST(body #>> {p} AS timestamptz)"),
    "json": "body #> {p}",
}

_POSTGRES_FINISH: dict[ColumnType, Callable[[Any], Any]] = {
    "decimal": decimal_json_text,
}
"""Body column types that PostgreSQL hands over as JSON text and Python finishes
(``numeric`` has no negative zero, and would rewrite ``"1E+3"``)."""


def _postgres_column(name: str, column_type: ColumnType) -> str:
    """The PostgreSQL expression reading column ``name`` (checked) as ``column_type``."""
    if name in INDEX_COLUMNS:
        return _POSTGRES_INDEX[name]
    path = "'{" + ",".join(body_path(name)) + "}'"  # identifiers: nothing to escape
    return _POSTGRES_BODY[column_type].format(p=path)


class SqlSession:
    """One transaction on a :class:`SqlStorage` (see :class:`~crmcore.ports.StorageSession`)."""

    def __init__(self, connection: sa.Connection, tables: _Tables) -> None:
        self._db = connection
        self._t = tables
        self._dialect = connection.dialect.name
        self._outbox_locked = False

    # -- helpers --------------------------------------------------------------------------

    def _insert(self, table: sa.TableClause) -> Any:
        """An INSERT with ``on_conflict_*`` where the dialect has it (else a plain one)."""
        import sqlalchemy as sa

        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        if self._dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        return sa.insert(table)

    def _upsert(self, table: sa.TableClause, keys: dict[str, Any], new: dict[str, Any],
                changes: dict[str, Any]) -> None:
        """Insert ``keys | new``, or on a key clash apply ``changes`` to the existing row."""
        import sqlalchemy as sa

        statement = self._insert(table)
        if hasattr(statement, "on_conflict_do_update"):
            self._db.execute(statement.values(**keys, **new).on_conflict_do_update(
                index_elements=list(keys), set_=changes))
            return
        condition = sa.and_(*(table.c[name] == value for name, value in keys.items()))
        if self._db.execute(sa.update(table).where(condition).values(changes)).rowcount == 0:
            self._db.execute(sa.insert(table).values(**keys, **new))

    # -- records ----------------------------------------------------------------------------

    def get(self, kind: str, entity_id: str) -> StoredRecord | None:
        """The record of ``kind`` with ``entity_id``, or None."""
        import sqlalchemy as sa

        records = self._t.records
        row = self._db.execute(sa.select(records).where(
            records.c.kind == kind, records.c.id == entity_id)).one_or_none()
        return None if row is None else _record(row)

    def _values(self, record: StoredRecord) -> dict[str, Any]:
        return {"kind": record.kind, "id": record.id, "version": record.version,
                "customer_id": record.customer_id, "at": _utc(record.at), "body": record.body}

    def insert(self, record: StoredRecord) -> None:
        """Store a new record; raise DuplicateError if its kind and id exist."""
        import sqlalchemy as sa

        statement = self._insert(self._t.records).values(self._values(record))
        if hasattr(statement, "on_conflict_do_nothing"):
            inserted = self._db.execute(
                statement.on_conflict_do_nothing(index_elements=["kind", "id"]),
                execution_options={"preserve_rowcount": True}).rowcount
            if inserted == 0:
                raise DuplicateError(record.kind, record.id)
            return
        try:
            self._db.execute(statement)
        except sa.exc.IntegrityError:
            raise DuplicateError(record.kind, record.id) from None

    def insert_many(self, records: Sequence[StoredRecord]) -> None:
        """Store new records in batches: one look-up of stored ids and one write per batch.

        Raises :class:`~crmcore.errors.DuplicateError` naming the first record
        whose kind and id is stored already or repeated in ``records``; what
        earlier batches wrote is undone when the error ends the transaction.
        """
        listed = list(records)
        seen: set[tuple[str, str]] = set()
        for start in range(0, len(listed), INSERT_BATCH):
            batch = listed[start:start + INSERT_BATCH]
            stored = {(kind, entity_id) for kind, ids in ids_by_kind(batch).items()
                      for entity_id, in self._rows_with_ids(kind, ids, "id")}
            for record in batch:
                key = (record.kind, record.id)
                if key in seen or key in stored:
                    raise DuplicateError(*key)
                seen.add(key)
            self._write_records(batch)

    def load(self, records: Iterable[StoredRecord], *, batch_size: int = 5000) -> int:
        """Insert records in batches, skipping those stored already; return how many were new.

        As :meth:`crmcore.unit_of_work.Repository.add` does one by one, a record
        identical to the stored one is skipped and one with other content
        raises :class:`~crmcore.errors.DuplicateError` (ending the transaction),
        so loading the same data again adds nothing. Each batch costs one
        look-up of the ids already stored and one write.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size: {batch_size!r} must be at least 1")
        new = 0
        batch: dict[tuple[str, str], StoredRecord] = {}
        for record in records:
            key = (record.kind, record.id)
            earlier = batch.get(key)
            if earlier is not None and dict(earlier.body) != dict(record.body):
                raise DuplicateError(record.kind, record.id)
            batch[key] = record
            if len(batch) >= batch_size:
                new += self._load_batch(batch)
                batch = {}
        if batch:
            new += self._load_batch(batch)
        return new

    def _load_batch(self, batch: dict[tuple[str, str], StoredRecord]) -> int:
        for kind, ids in ids_by_kind(batch.values()).items():
            for entity_id, body in self._rows_with_ids(kind, ids, "id", "body"):
                if dict(batch.pop((kind, entity_id)).body) != body:
                    raise DuplicateError(kind, entity_id)
        if batch:
            self._write_records(list(batch.values()))
        return len(batch)

    def _id_conditions(self, ids: Sequence[str]) -> Iterator[sa.ColumnElement[bool]]:
        """``id`` among ``ids``, one condition per batch of distinct ids.

        An array parameter on PostgreSQL, an ``IN`` list of at most
        :data:`IDS_PER_STATEMENT` ids elsewhere (SQLite caps bound parameters).
        """
        import sqlalchemy as sa

        column = self._t.records.c.id
        unique = list(dict.fromkeys(ids))
        size = PG_IDS_PER_STATEMENT if self._dialect == "postgresql" else IDS_PER_STATEMENT
        for start in range(0, len(unique), size):
            chunk = unique[start:start + size]
            if self._dialect == "postgresql":  # one array parameter, not thousands
                from sqlalchemy.dialects.postgresql import ARRAY

                yield column == sa.any_(sa.bindparam("ids", chunk, ARRAY(sa.String())))
            else:
                yield column.in_(chunk)

    def _rows_with_ids(self, kind: str, ids: Sequence[str], *columns: str,
                       lock: bool = False) -> Iterator[Any]:
        """``columns`` (all when none are named) of the records of ``kind`` among ``ids``.

        With ``lock``, PostgreSQL locks the rows until commit (``FOR UPDATE``).
        """
        import sqlalchemy as sa

        records = self._t.records
        selected: list[Any] = [records.c[name] for name in columns] or [records]
        for listed in self._id_conditions(ids):
            statement = sa.select(*selected).where(records.c.kind == kind, listed)
            if lock and self._dialect == "postgresql":
                statement = statement.with_for_update()
            yield from self._db.execute(statement)

    def _write_records(self, batch: Sequence[StoredRecord]) -> None:
        """Insert ``batch`` (known to be new): COPY on PostgreSQL, else ``executemany``."""
        import sqlalchemy as sa

        try:
            if (self._dialect == "postgresql" and self._db.dialect.driver == "psycopg"
                    and len(batch) >= COPY_THRESHOLD):
                self._copy_records(batch)
            elif self._db.dialect.paramstyle == "qmark":  # SQLite: skip per-row compiling
                self._executemany_records(batch)
            else:
                self._db.execute(sa.insert(self._t.records), [self._values(r) for r in batch])
        except sa.exc.IntegrityError as error:  # another writer got there first
            raise _raced(batch, error.orig) from None

    def _records_name(self) -> str:
        preparer = self._db.dialect.identifier_preparer
        name = preparer.quote(RECORDS)
        if self._t.records.schema is not None:
            name = f"{preparer.quote_schema(self._t.records.schema)}.{name}"
        return name

    def _time_binder(self) -> Callable[[datetime | None], Any]:
        """How the driver binds a time of the ``at`` column (SQLite: UTC wall-time text)."""
        import sqlalchemy as sa

        process = sa.DateTime(timezone=True).bind_processor(self._db.dialect) or _utc
        return lambda moment: None if moment is None else process(moment.astimezone(UTC))

    def _executemany_records(self, batch: Sequence[StoredRecord]) -> None:
        """One driver-level ``executemany``, values converted as SQLAlchemy would."""
        bind_time = self._time_binder()
        self._db.exec_driver_sql(
            f"INSERT INTO {self._records_name()} (kind, id, version, customer_id, at, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(r.kind, r.id, r.version, r.customer_id, bind_time(r.at), dump_json(r.body))
             for r in batch],
        )

    def _copy_records(self, batch: Sequence[StoredRecord]) -> None:
        """PostgreSQL with psycopg: ``COPY ... FROM STDIN``, in this transaction."""
        import psycopg

        name = self._records_name()
        driver_connection: Any = self._db.connection.driver_connection
        try:
            with driver_connection.cursor() as cursor, cursor.copy(
                f"COPY {name} (kind, id, version, customer_id, at, body) FROM STDIN"
            ) as copy:
                for r in batch:
                    copy.write_row((r.kind, r.id, r.version, r.customer_id, _utc(r.at),
                                    dump_json(r.body)))
        except psycopg.errors.IntegrityError as error:
            raise _raced(batch, error) from None
        except psycopg.Error as error:
            raise StorageError(tr("bulk insert into {name} failed: {error}").format(
                name=name, error=error)) from error

    def update(self, record: StoredRecord, expected_version: int) -> None:
        """Compare-and-set: replace the record only if its stored version is the expected one."""
        import sqlalchemy as sa

        records = self._t.records
        values = self._values(record)
        del values["kind"], values["id"]
        changed = self._db.execute(sa.update(records).where(
            records.c.kind == record.kind, records.c.id == record.id,
            records.c.version == expected_version,
        ).values(values)).rowcount
        if changed == 0:
            current = self._db.execute(sa.select(records.c.version).where(
                records.c.kind == record.kind, records.c.id == record.id)).scalar()
            if current is None:
                raise NotFoundError(record.kind, record.id)
            raise ConflictError(record.kind, record.id, expected_version, int(current))

    def query(
        self,
        kind: str,
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredRecord]:
        """Records of ``kind`` with ``since <= at < until``; untimed first, then by time, id."""
        import sqlalchemy as sa

        records = self._t.records
        statement = sa.select(records).where(records.c.kind == kind)
        if customer_id is not None:
            statement = statement.where(records.c.customer_id == customer_id)
        if since is not None:
            statement = statement.where(records.c.at >= _utc(since))
        if until is not None:
            statement = statement.where(records.c.at < _utc(until))
        statement = statement.order_by(records.c.at.asc().nulls_first(), records.c.id)
        rows = self._db.execute(statement).all()
        return (_record(row) for row in rows)

    def count(self, kind: str) -> int:
        """How many records of ``kind`` are stored."""
        import sqlalchemy as sa

        records = self._t.records
        found = self._db.execute(
            sa.select(sa.func.count()).select_from(records).where(records.c.kind == kind)
        ).scalar()
        return int(found or 0)

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
        """Records of ``kind`` read as columns in the database, in chunks of ``batch_size``.

        PostgreSQL projects JSON fields with ``#>>``/``#>`` and streams the rows
        through a server-side cursor; SQLite reads as the ``sqlite`` backend
        does. Other databases decode each record (the reference way).
        """
        check_scan(columns, batch_size)
        if self._dialect == "sqlite":
            from crmcore_plugins.sqlite_layout import register_functions
            from crmcore_plugins.storage_sqlite import column_read

            bind_time = self._time_binder()
            read = column_read(self._records_name(), kind, columns, (
                ("customer_id = ?", customer_id), ("at >= ?", bind_time(since)),
                ("at < ?", bind_time(until))))
            driver_connection: Any = self._db.connection.driver_connection
            register_functions(driver_connection)  # the engine may be the host's own
            return read.chunks(driver_connection, batch_size)
        if self._dialect == "postgresql":
            return self._postgres_scan(kind, columns, customer_id, since, until, batch_size)
        found = self.query(kind, customer_id=customer_id, since=since, until=until)
        return records_as_columns(found, columns, batch_size)

    def _postgres_scan(self, kind: str, columns: Mapping[str, ColumnType],
                       customer_id: str | None, since: datetime | None,
                       until: datetime | None, batch_size: int) -> Iterator[Columns]:
        import sqlalchemy as sa

        names = list(columns)
        selected = ", ".join(_postgres_column(name, columns[name]) for name in names)
        sql = [f"SELECT {selected or 'NULL'} FROM {self._records_name()} WHERE kind = :kind"]
        parameters: dict[str, Any] = {"kind": kind}
        for condition, name, value in (("customer_id = :customer_id", "customer_id", customer_id),
                                       ("at >= :since", "since", _utc(since)),
                                       ("at < :until", "until", _utc(until))):
            if value is not None:
                sql.append("AND " + condition)
                parameters[name] = value
        finishing = [(position, _POSTGRES_FINISH[columns[name]])
                     for position, name in enumerate(names)
                     if name not in INDEX_COLUMNS and columns[name] in _POSTGRES_FINISH]
        statement = sa.text(" ".join(sql)).bindparams(
            *(sa.bindparam(name, type_=sa.DateTime(timezone=True))
              for name in ("since", "until") if name in parameters))
        try:
            result = self._db.execute(statement, parameters, execution_options={
                "stream_results": True, "yield_per": batch_size})
            for rows in result.partitions(batch_size):
                yield rows_as_columns(rows, names, finishing)
        except sa.exc.DataError as error:  # e.g. a text that is no number in an integer column
            typed = ", ".join(f"{name}: {columns[name]}" for name in names)
            raise StorageError(tr("scan of {kind} ({typed}): a stored value does not read as its "
                                  "column's type: {error}").format(kind=kind, typed=typed,
                                                                   error=error.orig)) from error

    def get_many(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        """The stored records of ``kind`` among ``ids``, by id (one statement per batch)."""
        return {row.id: _record(row) for row in self._rows_with_ids(kind, ids)}

    def stored_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` stored as ``kind`` (one statement per batch; no body read)."""
        return {entity_id for entity_id, in self._rows_with_ids(kind, ids, "id")}

    def update_many(self, changes: Sequence[tuple[StoredRecord, int]]) -> None:
        """Replace records, each paired with its expected stored version, all or none.

        The stored versions are read (and on PostgreSQL locked until commit)
        in batches and checked before anything is written, so a
        :class:`~crmcore.errors.ConflictError` or
        :class:`~crmcore.errors.NotFoundError` changes nothing; then one
        ``executemany`` compare-and-set writes them all.
        """
        import sqlalchemy as sa

        stored: dict[tuple[str, str], int] = {}
        for kind, ids in ids_by_kind(record for record, _ in changes).items():
            for entity_id, version in self._rows_with_ids(kind, ids, "id", "version",
                                                          lock=True):
                stored[(kind, entity_id)] = int(version)
        check_versions(changes, stored)
        if not changes:
            return
        records = self._t.records
        statement = sa.update(records).where(
            records.c.kind == sa.bindparam("b_kind"), records.c.id == sa.bindparam("b_id"),
            records.c.version == sa.bindparam("b_expected"),
        ).values(version=sa.bindparam("b_version", type_=sa.Integer()),
                 customer_id=sa.bindparam("b_customer_id", type_=sa.String()),
                 at=sa.bindparam("b_at", type_=sa.DateTime(timezone=True)),
                 body=sa.bindparam("b_body", type_=sa.JSON()))
        self._db.execute(statement, [
            {"b_kind": r.kind, "b_id": r.id, "b_expected": expected, "b_version": r.version,
             "b_customer_id": r.customer_id, "b_at": _utc(r.at), "b_body": r.body}
            for r, expected in changes])

    def delete_many(self, kind: str, ids: Sequence[str]) -> int:
        """Remove the records of ``kind`` with these ids; return how many were stored."""
        import sqlalchemy as sa

        records = self._t.records
        removed = 0
        for listed in self._id_conditions(ids):
            removed += self._db.execute(
                sa.delete(records).where(records.c.kind == kind, listed)).rowcount
        return removed

    # -- the outbox ---------------------------------------------------------------------------

    def _lock_outbox(self) -> None:
        """PostgreSQL: serialise appenders until commit, so ``seq`` order is commit order."""
        if self._dialect != "postgresql" or self._outbox_locked:
            return
        preparer = self._db.dialect.identifier_preparer
        name = preparer.quote(OUTBOX)
        if self._t.outbox.schema is not None:
            name = f"{preparer.quote_schema(self._t.outbox.schema)}.{name}"
        self._db.exec_driver_sql(f"LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE")
        self._outbox_locked = True

    def insert_rows(self, kind: str, fields: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """:meth:`insert_many` of the rows' records (:func:`~crmcore.ports.rows_as_records`)."""
        self.insert_many(rows_as_records(kind, fields, rows))

    def append_encoded_events(self, events: Sequence[EncodedEvent]) -> None:
        """:meth:`append_events` of the events decoded (:func:`~crmcore.ports.decoded_event`)."""
        self.append_events([decoded_event(event) for event in events])

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add events to the outbox, in order, in this transaction.

        An event id already stored, or given twice, raises
        :class:`~crmcore.errors.DuplicateError` before anything is written.
        """
        import sqlalchemy as sa

        if not events:
            return
        ids = [event.id for event in events]
        seen: set[str] = set()
        for event_id in ids:
            if event_id in seen:
                raise DuplicateError("event", event_id)
            seen.add(event_id)
        self._lock_outbox()
        outbox = self._t.outbox
        for start in range(0, len(ids), 1000):  # SQLite caps the parameters of a statement
            stored = self._db.execute(sa.select(outbox.c.event_id).where(
                outbox.c.event_id.in_(ids[start:start + 1000])).limit(1)).scalar()
            if stored is not None:
                raise DuplicateError("event", stored)
        try:
            self._db.execute(sa.insert(outbox), [
                {"event_id": e.id, "type": e.type, "occurred_at": _utc(e.occurred_at),
                 "body": unstructure(e)}
                for e in events
            ])
        except sa.exc.IntegrityError:  # appended meanwhile by a writer without the lock
            raise DuplicateError("event", f"one of {', '.join(ids)}") from None

    def redact_events(self, customer_id: str, data: Mapping[str, Any]) -> int:
        """Replace the ``data`` of every stored event about ``customer_id`` with ``data``.

        The events are found in the database by their body's ``customer_id``
        and rewritten with one ``executemany``; id, type, time and ``seq`` stay.
        The errors recorded for their failed deliveries become
        :data:`~crmcore.ports.REDACTED_ERROR`. Returns how many were rewritten.
        """
        import sqlalchemy as sa

        outbox, deliveries = self._t.outbox, self._t.deliveries
        about = self._db.execute(sa.select(outbox.c.seq, outbox.c.event_id, outbox.c.body).where(
            outbox.c.body["customer_id"].as_string() == customer_id)).all()
        if about:
            self._db.execute(
                sa.update(outbox).where(outbox.c.seq == sa.bindparam("b_seq")).values(
                    body=sa.bindparam("b_body", type_=sa.JSON())),
                [{"b_seq": seq, "b_body": {**body, "data": dict(data)}}
                 for seq, _, body in about])
            self._db.execute(sa.update(deliveries).where(
                deliveries.c.last_error.is_not(None),
                deliveries.c.event_id == sa.bindparam("b_event_id"),
            ).values(last_error=REDACTED_ERROR), [{"b_event_id": event_id}
                                                  for _, event_id, _ in about])
        return len(about)

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        """Stored events with ``seq > after_seq``, oldest first."""
        import sqlalchemy as sa

        outbox = self._t.outbox
        statement = sa.select(outbox.c.seq, outbox.c.body).where(
            outbox.c.seq > after_seq).order_by(outbox.c.seq)
        if limit is not None:
            statement = statement.limit(limit)
        return [outbox_entry(seq, body) for seq, body in self._db.execute(statement)]

    def subscribe(self, notifier: str) -> None:
        """Start delivering to ``notifier`` the events stored from now on (idempotent)."""
        import sqlalchemy as sa

        outbox, subscriptions = self._t.outbox, self._t.subscriptions
        if self._db.execute(sa.select(subscriptions.c.notifier).where(
                subscriptions.c.notifier == notifier)).first() is not None:
            return
        start = sa.select(sa.literal(notifier, sa.String()),
                          sa.func.coalesce(sa.func.max(outbox.c.seq), 0)
                          ).where(sa.true())  # SQLite: "WHERE" ends the SELECT before "ON CONFLICT"
        statement = self._insert(subscriptions).from_select(["notifier", "after_seq"], start)
        if hasattr(statement, "on_conflict_do_nothing"):
            statement = statement.on_conflict_do_nothing(index_elements=["notifier"])
        self._db.execute(statement)

    def _advance_watermark(self, notifier: str) -> None:
        """Move the subscription past events all delivered, and forget their rows."""
        import sqlalchemy as sa

        outbox, subscriptions, deliveries = self._t.outbox, self._t.subscriptions, \
            self._t.deliveries
        joined = outbox.outerjoin(deliveries, sa.and_(
            deliveries.c.event_id == outbox.c.event_id, deliveries.c.notifier == notifier))
        first_undelivered = sa.select(sa.func.min(outbox.c.seq) - 1).select_from(joined).where(
            outbox.c.seq > subscriptions.c.after_seq, deliveries.c.delivered_at.is_(None),
        ).scalar_subquery()
        last = sa.select(sa.func.max(outbox.c.seq)).scalar_subquery()
        self._db.execute(sa.update(subscriptions).where(
            subscriptions.c.notifier == notifier,
        ).values(after_seq=sa.func.coalesce(first_undelivered, last, subscriptions.c.after_seq)))
        passed = sa.select(outbox.c.event_id).where(outbox.c.seq <= sa.select(
            subscriptions.c.after_seq).where(subscriptions.c.notifier == notifier
                                             ).scalar_subquery())
        self._db.execute(sa.delete(deliveries).where(
            deliveries.c.notifier == notifier, deliveries.c.event_id.in_(passed)))

    def pending_deliveries(
        self, notifier: str, *, now: datetime, limit: int
    ) -> list[PendingDelivery]:
        """Events not yet delivered to ``notifier`` whose retry time has come, by ``seq``."""
        import sqlalchemy as sa

        self._advance_watermark(notifier)
        outbox, subscriptions, deliveries = self._t.outbox, self._t.subscriptions, \
            self._t.deliveries
        joined = outbox.join(subscriptions, sa.and_(
            subscriptions.c.notifier == notifier, outbox.c.seq > subscriptions.c.after_seq,
        )).outerjoin(deliveries, sa.and_(
            deliveries.c.event_id == outbox.c.event_id,
            deliveries.c.notifier == subscriptions.c.notifier,
        ))
        statement = sa.select(
            outbox.c.seq, outbox.c.body, sa.func.coalesce(deliveries.c.attempts, 0),
            deliveries.c.last_error,
        ).select_from(joined).where(
            deliveries.c.delivered_at.is_(None),
            sa.or_(deliveries.c.retry_at.is_(None), deliveries.c.retry_at <= _utc(now)),
        ).order_by(outbox.c.seq).limit(limit)
        return [
            PendingDelivery(outbox_entry(seq, body), notifier, int(attempts), last_error)
            for seq, body, attempts, last_error in self._db.execute(statement)
        ]

    def _require_event(self, event_id: str) -> None:
        import sqlalchemy as sa

        outbox = self._t.outbox
        if self._db.execute(sa.select(outbox.c.seq).where(
                outbox.c.event_id == event_id)).first() is None:
            raise NotFoundError("event", event_id)

    def mark_delivered(self, event_id: str, notifier: str, at: datetime) -> None:
        """Record that ``notifier`` accepted the event."""
        self._require_event(event_id)
        delivered = {"delivered_at": _utc(at)}
        self._upsert(self._t.deliveries, {"event_id": event_id, "notifier": notifier},
                     delivered, delivered)

    def record_failure(
        self, event_id: str, notifier: str, error: str, retry_at: datetime
    ) -> None:
        """Record a failed attempt and when to try again."""
        self._require_event(event_id)
        deliveries = self._t.deliveries
        failure = {"last_error": error, "retry_at": _utc(retry_at)}
        self._upsert(deliveries, {"event_id": event_id, "notifier": notifier},
                     {"attempts": 1, **failure},
                     {"attempts": deliveries.c.attempts + 1, **failure})


class SqlStorage:
    """Storage in a SQL database through SQLAlchemy Core.

    ``engine`` is a URL (an engine is made by :func:`create_sql_engine`) or a
    host's own :class:`sqlalchemy.Engine`, which :meth:`close` disposes of only
    when ``close_engine`` is true (default: only engines made here).
    The tables live in ``schema`` (created if missing) or the default one.
    Each thread may have one transaction open at a time; threads use
    separate pooled connections.
    """

    def __init__(
        self,
        engine: str | sa.URL | sa.Engine,
        *,
        schema: str | None = None,
        pool_size: int = 5,
        timeout: float = 30.0,
        close_engine: bool | None = None,
    ) -> None:
        require_sqlalchemy()
        import sqlalchemy as sa

        made_here = not isinstance(engine, sa.Engine)
        self._owns_engine = made_here if close_engine is None else close_engine
        self.engine: sa.Engine = create_sql_engine(
            engine, pool_size=pool_size, timeout=timeout, key="url"
        ) if not isinstance(engine, sa.Engine) else engine
        self.schema = schema
        self.url = self.engine.url.render_as_string(hide_password=True)
        if schema is not None and self.engine.dialect.name == "sqlite":
            self._dispose()
            raise ConfigError(tr("{key}: {value!r}: SQLite has no schemas").format(
                key="schema", value=schema))
        self._tables = _Tables(schema)
        self._local = threading.local()
        self._serial: AbstractContextManager[Any] = (
            threading.Lock() if _is_sqlite_memory(self.engine.url) else nullcontext()
        )
        self._closed = False
        try:
            with self.engine.begin() as connection:
                migrate(connection, schema)
        except sa.exc.DBAPIError as error:
            self._dispose()
            raise StorageError(tr("cannot open the SQL storage {url!r}: {error}").format(
                url=self.url, error=error.orig)) from error
        except BaseException:
            self._dispose()
            raise

    def _dispose(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(tr("the SQL storage {url!r} is closed").format(url=self.url))

    def schema_version(self) -> int:
        """The version stored in ``crmcore_schema_version``."""
        self._check_open()
        with self.engine.connect() as connection:
            return read_schema_version(connection, self.schema)

    @contextmanager
    def transaction(self) -> Iterator[SqlSession]:
        """Open a transaction on a pooled connection; commit, or roll back if the block raises.

        Database errors become :class:`~crmcore.errors.StorageError`.
        """
        import sqlalchemy as sa

        self._check_open()
        if getattr(self._local, "active", False):
            raise StorageError(tr("a transaction is already open on this storage in this thread"))
        self._local.active = True
        try:
            with self._serial, self.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    yield SqlSession(connection, self._tables)
                except BaseException:
                    transaction.rollback()
                    raise
                transaction.commit()
        except sa.exc.DBAPIError as error:
            raise StorageError(tr("SQL storage {url!r}: {error}").format(
                url=self.url, error=error.orig)) from error
        finally:
            self._local.active = False

    def bulk_insert(self, records: Iterable[StoredRecord], *, batch_size: int = 5000) -> int:
        """Insert many records in one transaction, in batches; return how many were new.

        The fast path for first loads: no events are written and, unlike
        :meth:`crmcore.CRM.import_entities`, nothing checks that a record's
        customer exists. See :meth:`SqlSession.load`.
        """
        with self.transaction() as session:
            return session.load(records, batch_size=batch_size)

    def close(self) -> None:
        """Close the pooled connections (of an engine this storage made); idempotent."""
        if not self._closed:
            self._closed = True
            self._dispose()


def open_sql_storage(options: Options) -> SqlStorage:
    """Factory for the ``sql`` backend: options ``url``, ``schema``, ``pool_size``, ``timeout``."""
    url = options.text("url")
    schema = options.text("schema", None)
    pool_size = options.integer("pool_size", 5, minimum=1)
    timeout = options.number("timeout", 30.0)
    engine = create_sql_engine(url, pool_size=pool_size, timeout=timeout, key=options.key("url"))
    if schema is not None and engine.dialect.name == "sqlite":
        engine.dispose()
        raise ConfigError(tr("{key}: {value!r}: SQLite has no schemas").format(
            key=options.key("schema"), value=schema))
    return SqlStorage(engine, schema=schema, close_engine=True)


@hookimpl
def crmcore_register_storage(register: Callable[[str, StorageFactory], None]) -> None:
    """Register the ``sql`` storage backend."""
    register("sql", open_sql_storage)
