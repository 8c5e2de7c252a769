"""The same grade for every CDNOW customer inside MariaDB (ERPNext's engine) as embedded.

The tests start their own MariaDB server (Debian's ``mariadb-server``,
installed by ``.ci/mariadb.sh``) and load the whole CDNOW history into it;
the grading metrics and ranks run in MariaDB through Ibis's mysql backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from crmcore.testing.servers import MariaDbServer, find_mariadb, mariadb_server

from .cdnow_grades import AS_OF, assert_same_grades, assert_same_ranks_in_engine, cdnow_arrow
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


def test_cdnow_is_stored_whole(purchases: Any, cdnow: Purchases) -> None:
    counted = purchases.aggregate(rows=purchases.count(),
                                  cents=purchases["amount_cents"].sum()).to_pyarrow()
    assert counted.to_pylist() == [{"rows": len(cdnow.at), "cents": sum(cdnow.cents())}]


@pytest.mark.parametrize("as_of", AS_OF, ids=lambda moment: f"{moment:%Y-%m-%d}")
def test_every_cdnow_customer_gets_the_embedded_grade(
    purchases: Any, cdnow: Purchases, as_of: datetime
) -> None:
    """G1/G2/G5/RFM: every metric to the bit and every shipped scheme's grade."""
    assert_same_grades(cdnow, purchases, as_of)


def test_value_ranks_and_rfm_scores_in_the_engine(purchases: Any, cdnow: Purchases) -> None:
    """G1 tie rule and RFM quintiles computed in the engine, on the whole history."""
    assert_same_ranks_in_engine(cdnow, purchases, AS_OF[-1])
