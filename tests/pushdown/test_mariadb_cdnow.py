"""The same grade for every CDNOW customer inside MariaDB (ERPNext's engine) as embedded.

The tests start their own MariaDB server (Debian's ``mariadb-server``,
installed by ``.ci/mariadb.sh``) and load the whole CDNOW history into it;
the grading metrics and ranks run in MariaDB through Ibis's mysql backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmcore.testing.servers import MariaDbServer

from .cdnow_grades import CdnowInEngine, cdnow_arrow
from .conftest import Purchases
from .engine_servers import running_mariadb

pytest.importorskip("MySQLdb", reason="the mariadb extra (mysqlclient) is not installed")


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDbServer]:
    """A throw-away MariaDB server for this module."""
    yield from running_mariadb()


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
