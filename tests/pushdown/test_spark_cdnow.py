"""The same grade for every CDNOW customer in Apache Spark (local mode) as embedded.

One local Spark session (``local[2]``, loopback only, no UI) serves the
module; the whole CDNOW history is one Spark table and the grading metrics
and ranks run in Spark through Ibis's pyspark backend. Needs the ``spark``
extra and Java 17+ (``.ci/spark.sh`` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from crmcore.testing.servers import find_java, spark_session

from .cdnow_grades import AS_OF, assert_same_grades, assert_same_ranks_in_engine, cdnow_arrow
from .conftest import Purchases

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark session for this module, stopped after it."""
    if find_java() is None:
        reason = "Spark needs Java 17 or newer (run .ci/spark.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark tests: {reason}")
        pytest.skip(reason)
    with spark_session() as session:
        yield session


@pytest.fixture(scope="module")
def purchases(spark: Any, cdnow: Purchases) -> Any:
    """The whole CDNOW history as a temporary Spark view, cached in memory for the module."""
    import ibis

    frame = spark.createDataFrame(cdnow_arrow(cdnow)).cache()
    frame.createOrReplaceTempView("cdnow_purchases")
    return ibis.pyspark.connect(spark).table("cdnow_purchases")


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
