"""Schema migrations of the ``sql`` backend, its options and its lazy SQLAlchemy import."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from crmcore import CRM, ConfigError, Customer, PluginError, StorageError
from crmcore.ports import StoredRecord
from crmcore.testing import make_domain_event
from crmcore_plugins.storage_sql import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SCHEMA_VERSION_TABLE,
    SqlStorage,
    read_schema_version,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _qualified(engine: sa.Engine, schema: str | None, table: str) -> str:
    quote = engine.dialect.identifier_preparer.quote
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def _make_version_1(url: str, schema: str | None) -> None:
    """A database as crmcore left it at schema version 1, holding one record."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if schema is not None:
            connection.execute(sa.schema.CreateSchema(schema))
        MIGRATIONS[0](connection, schema)
        version = _qualified(engine, schema, SCHEMA_VERSION_TABLE)
        connection.execute(sa.text(f"CREATE TABLE {version} (version INTEGER NOT NULL)"))
        connection.execute(sa.text(f"INSERT INTO {version} (version) VALUES (1)"))
        records = _qualified(engine, schema, "crmcore_records")
        connection.execute(sa.text(
            f"INSERT INTO {records} (kind, id, version, customer_id, at, body) "
            "VALUES ('thing', 'R1', 1, 'C1', :at, :body)"
        ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)),
                     sa.bindparam("body", type_=sa.JSON())),
            {"at": AT, "body": {"id": "R1", "n": [1, 2.5]}})
    engine.dispose()


def _version_in(url: str, schema: str | None) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return read_schema_version(connection, schema)
    finally:
        engine.dispose()


def test_fresh_database_gets_the_current_schema(sql_target: tuple[str, str | None]) -> None:
    url, schema = sql_target
    storage = SqlStorage(url, schema=schema)
    try:
        assert storage.schema_version() == SCHEMA_VERSION
        tables = set(sa.inspect(storage.engine).get_table_names(schema=schema))
        assert {"crmcore_records", "crmcore_outbox", "crmcore_subscriptions",
                "crmcore_deliveries", "crmcore_schema_version"} <= tables
    finally:
        storage.close()
    reopened = SqlStorage(url, schema=schema)  # opening again changes nothing
    reopened.close()
    assert _version_in(url, schema) == SCHEMA_VERSION


def test_version_1_is_upgraded_and_keeps_its_data(sql_target: tuple[str, str | None]) -> None:
    url, schema = sql_target
    _make_version_1(url, schema)
    assert _version_in(url, schema) == 1
    storage = SqlStorage(url, schema=schema)
    try:
        assert storage.schema_version() == SCHEMA_VERSION
        event = make_domain_event()
        with storage.transaction() as session:
            assert session.get("thing", "R1") == StoredRecord(
                "thing", "R1", 1, "C1", AT, {"id": "R1", "n": [1, 2.5]})
            session.subscribe("log")
            session.append_events([event])
        with storage.transaction() as session:
            assert [entry.event for entry in session.events()] == [event]
    finally:
        storage.close()


def test_newer_schema_is_refused_and_left_alone(sql_target: tuple[str, str | None]) -> None:
    url, schema = sql_target
    _make_version_1(url, schema)
    newer = SCHEMA_VERSION + 1
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            f"UPDATE {_qualified(engine, schema, SCHEMA_VERSION_TABLE)} SET version = {newer}"))
    with pytest.raises(StorageError, match=f"schema version {newer}, newer than"):
        SqlStorage(engine, schema=schema)
    assert "crmcore_outbox" not in sa.inspect(engine).get_table_names(schema=schema)
    engine.dispose()
    assert _version_in(url, schema) == newer


def test_processes_opening_a_fresh_database_together_migrate_once(
    postgres_url: str, pg_schema: str
) -> None:
    """Eight threads open one fresh PostgreSQL schema at once; the advisory lock orders them."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_once() -> None:
        try:
            start.wait()
            SqlStorage(postgres_url, schema=pg_schema, pool_size=1).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _version_in(postgres_url, pg_schema) == SCHEMA_VERSION


def test_crm_opens_the_sql_backend_by_name(sql_target: tuple[str, str | None]) -> None:
    url, schema = sql_target
    options: dict[str, Any] = {"url": url} if schema is None else {"url": url, "schema": schema}
    with CRM.open("sql", **options) as crm:
        crm.record(Customer(id="C1", name="Ada"))
    with CRM.open("sql", **options) as crm:
        assert crm.require(Customer, "C1").name == "Ada"
        assert crm.version(Customer, "C1") == 1


@pytest.mark.parametrize(("options", "message"), [
    ({}, "storage.url: is required"),
    ({"url": "not a url"}, "storage.url: 'not a url' is not a SQLAlchemy URL"),
    ({"url": "nosuchdb://x/y"}, "storage.url: cannot use 'nosuchdb://x/y'"),
    ({"url": "postgresql+nosuchdriver://x/y"}, "storage.url: cannot use"),
    ({"url": 5}, "storage.url: 5 is not a text"),
    ({"url": "sqlite://", "pool_size": 0}, "storage.pool_size: 0 must be at least 1"),
    ({"url": "sqlite://", "schema": "crm"}, "storage.schema: 'crm': SQLite has no schemas"),
    ({"url": "sqlite://", "pool": 3}, "storage.pool: is not a known option"),
])
def test_bad_options_name_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        CRM.open("sql", **options)
    assert message in str(raised.value)


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(StorageError) as raised:
        SqlStorage("postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm", timeout=2)
    assert "s3cret" not in str(raised.value)
    assert "***" in str(raised.value)


def test_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open the SQL storage"):
        CRM.open("sql", url="postgresql+psycopg://crm@127.0.0.1:1/crm", timeout=2)


def test_without_sqlalchemy_choosing_sql_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(PluginError, match=r"pip install 'crmcore\[sql\]'"):
        CRM.open("sql", url="sqlite://")


def test_loading_the_plugins_does_not_import_sqlalchemy() -> None:
    code = ("import sys; from crmcore.plugins import PluginHost, make_plugin_manager; "
            "host = PluginHost(make_plugin_manager(load_entry_points=False)); "
            "assert 'sql' in host.storage_backends().names(); "
            "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
