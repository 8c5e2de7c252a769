"""The small Odoo and ERPNext books (:mod:`tests.pushdown.erp_books`) in real SQLite,
PostgreSQL and MariaDB databases: the ``books`` fixture the ERP-rule tests share."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from crmcore.testing.servers import MariaDbServer
from crmcore_plugins.pushdown.sources import connect

from .engine_servers import running_mariadb
from .erp_books import write_books

ENGINES = ("sqlite", "postgresql", "mariadb")


@attrs.frozen
class Books:
    """Where the books are: an Ibis backend and the schema holding the tables."""

    backend: Any
    schema: str | None
    url: str


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDbServer]:
    """A throw-away MariaDB server for this module."""
    yield from running_mariadb()


def _sqlite(tmp: Path) -> Books:
    path = tmp / "erp.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    write_books(engine)
    engine.dispose()
    return Books(connect(f"sqlite:///{path}"), None, f"sqlite:///{path}")


def _postgresql(request: pytest.FixtureRequest) -> Iterator[Books]:
    """The books in a database of their own on the session's PostgreSQL server."""
    server: str = request.getfixturevalue("postgres_url")
    name = f"erp_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    engine = sa.create_engine(url)
    write_books(engine)
    engine.dispose()
    backend = connect(url)
    yield Books(backend, None, url)
    backend.disconnect()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _mariadb(request: pytest.FixtureRequest) -> Iterator[Books]:
    server: MariaDbServer = request.getfixturevalue("mariadb")
    engine = sa.create_engine(server.sqlalchemy_url)
    write_books(engine)
    engine.dispose()
    backend = connect(server.ibis_url)
    yield Books(backend, None, server.sqlalchemy_url)
    backend.disconnect()


@pytest.fixture(scope="module", params=ENGINES)
def books(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Books]:
    """The Odoo and ERPNext books in each engine."""
    if request.param == "sqlite":
        yield _sqlite(tmp_path_factory.mktemp("erp"))
    elif request.param == "postgresql":
        yield from _postgresql(request)
    else:
        yield from _mariadb(request)
