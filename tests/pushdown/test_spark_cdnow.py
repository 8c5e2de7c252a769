"""The same grade for every CDNOW customer in Apache Spark (local mode) as embedded.

One local Spark session (``local[2]``, loopback only, no UI) serves the
module; the whole CDNOW history is one Spark table and the grading metrics
and ranks run in Spark through Ibis's pyspark backend. Needs the ``spark``
extra and Java 17+ (``.ci/spark.sh`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .cdnow_grades import CdnowInEngine, cdnow_arrow
from .conftest import Purchases
from .engine_servers import running_spark

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark session for this module, stopped after it."""
    yield from running_spark()


@pytest.fixture(scope="module")
def purchases(spark: Any, cdnow: Purchases) -> Any:
    """The whole CDNOW history as a temporary Spark view, cached in memory for the module."""
    import ibis

    frame = spark.createDataFrame(cdnow_arrow(cdnow)).cache()
    frame.createOrReplaceTempView("cdnow_purchases")
    return ibis.pyspark.connect(spark).table("cdnow_purchases")


class TestSpark(CdnowInEngine):
    """The CDNOW history graded in Spark (local mode)."""
