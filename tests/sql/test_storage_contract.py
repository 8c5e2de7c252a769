"""The storage contract on the ``sql`` backend: PostgreSQL and SQLite through one adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcore.testing import StorageContract
from crmcore_plugins.storage_sql import SqlStorage


class TestSqlStorageOnPostgres(StorageContract):
    """:class:`SqlStorage` on the test session's PostgreSQL server, in a fresh schema."""

    @pytest.fixture
    def storage(self, postgres_url: str, pg_schema: str) -> Iterator[SqlStorage]:
        backend = SqlStorage(postgres_url, schema=pg_schema, pool_size=2)
        yield backend
        backend.close()


class TestSqlStorageOnSqlite(StorageContract):
    """:class:`SqlStorage` on a SQLite file and on an in-memory SQLite database."""

    @pytest.fixture(params=["file", "memory"])
    def storage(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
        url = f"sqlite:///{tmp_path / 'crm.db'}" if request.param == "file" else "sqlite://"
        backend = SqlStorage(url)
        yield backend
        backend.close()
