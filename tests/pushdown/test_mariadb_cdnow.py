"""The same grade for every CDNOW customer inside MariaDB (ERPNext's engine) as embedded.

The tests start their own MariaDB server (Debian's ``mariadb-server``,
installed by ``.ci/mariadb.sh``) and load the whole CDNOW history into it;
the grading metrics and ranks run in MariaDB through Ibis's mysql backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from crmcore.testing.servers import MariaDbServer, find_mariadb, mariadb_server

from .cdnow_grades import CdnowInEngine, cdnow_arrow
from .conftest import Purchases

pytest.importorskip("MySQLdb", reason="the mariadb extra (mysqlclient) is not installed")


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the MariaDB tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDbServer]:
    """A throw-away MariaDB server for this module."""
    if find_mariadb() is None:
        _missing("MariaDB server binaries are not installed (run .ci/mariadb.sh)")
    with mariadb_server() as server:
        yield server


@pytest.fixture(scope="module")
def backend(mariadb: MariaDbServer) -> Iterator[Any]:
    """An Ibis connection to the server's database."""
    import ibis

    connection = ibis.connect(mariadb.ibis_url)
    yield connection
    connection.disconnect()


@pytest.fixture(scope="module")
def purchases(backend: Any, cdnow: Purchases) -> Any:
    """The whole CDNOW history as a MariaDB table."""
    return backend.create_table("cdnow_purchases", cdnow_arrow(cdnow))


class TestMariaDb(CdnowInEngine):
    """The CDNOW history graded in MariaDB."""
