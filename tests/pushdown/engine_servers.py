"""Throw-away engines for the pushdown tests: skipped where absent, required in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from crmcore.testing.servers import (
    MariaDbServer,
    find_java,
    find_mariadb,
    mariadb_server,
    spark_session,
)


def missing(engine: str, reason: str) -> NoReturn:
    """Skip (fail under CI, which must run every engine) because ``engine`` is absent."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the {engine} tests: {reason}")
    pytest.skip(reason)


def running_mariadb() -> Iterator[MariaDbServer]:
    """A private MariaDB server for as long as the generator runs (a fixture's body)."""
    if find_mariadb() is None:
        missing("MariaDB", "MariaDB server binaries are not installed (run .ci/mariadb.sh)")
    pytest.importorskip("MySQLdb", reason="the mariadb extra (mysqlclient) is not installed")
    with mariadb_server() as server:
        yield server


def running_spark() -> Iterator[Any]:
    """A local Spark session for as long as the generator runs (a fixture's body)."""
    pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
    if find_java() is None:
        missing("Spark", "Spark needs Java 17 or newer (run .ci/spark.sh)")
    with spark_session() as session:
        yield session
