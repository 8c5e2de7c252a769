"""The embedded grades of the whole CDNOW history, and the comparisons every engine test makes.

Each engine's test class (MariaDB, Spark...) subclasses :class:`CdnowInEngine`
with a ``purchases`` fixture: the CDNOW purchases loaded into its engine. The
tests check, for every customer: the metrics computed in the engine
(:func:`~crmcore_plugins.pushdown.grading.pushdown_metrics`) equal the
embedded ones to the bit; every shipped scheme grades them alike; the value
ranks and RFM scores computed in the engine equal the embedded ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from crmcore.grading import (
    MetricTable,
    RankedRules,
    TransactionColumns,
    compute_metrics,
    grade_metrics,
    load_scheme,
    rfm_scores,
)
from crmcore.grading.columns import to_micros
from crmcore_plugins.pushdown.grading import fetch_metrics, pushdown_metrics
from crmcore_plugins.pushdown.metrics import grading_metrics, rfm_codes, value_ranks

from .conftest import Purchases
from .engines import purchase_table

SCHEMES = ("pareto-abc", "pareto-abc-value-share", "pyramid", "rfm", "thresholds")
"""Every shipped scheme kind that grades transaction metrics."""

AS_OF = (datetime(1997, 10, 1, tzinfo=UTC), datetime(1998, 7, 1, tzinfo=UTC))
"""Mid-history (the literature's calibration end) and just after the last purchase."""


def cdnow_arrow(cdnow: Purchases) -> Any:
    """The CDNOW purchases as an Arrow table in the pushdown's purchases shape."""
    return purchase_table(cdnow.customer_id, cdnow.at, cdnow.cents())


def embedded_metrics(cdnow: Purchases, as_of: datetime) -> MetricTable:
    """The metrics of every buyer before ``as_of`` by the embedded path, ids sorted."""
    kept = [index for index, at in enumerate(cdnow.at) if at < as_of]
    buyers = sorted({cdnow.customer_id[index] for index in kept})
    position = {customer_id: index for index, customer_id in enumerate(buyers)}
    cents = cdnow.cents()
    columns = TransactionColumns(
        tuple(buyers), [position[cdnow.customer_id[index]] for index in kept],
        [to_micros(cdnow.at[index]) for index in kept], [cents[index] for index in kept])
    return compute_metrics(columns, as_of)


def _same_floats(expected: Any, found: Any) -> bool:
    return bool(np.array_equal(np.asarray(expected, dtype=np.float64),
                               np.asarray(found, dtype=np.float64), equal_nan=True))


def assert_same_grades(cdnow: Purchases, purchases: Any, as_of: datetime) -> None:
    """Metrics to the bit, then every scheme's grade, for every CDNOW buyer before ``as_of``."""
    expected = embedded_metrics(cdnow, as_of)
    found = pushdown_metrics(purchases, as_of=as_of)
    assert len(expected.ids) > 1000
    assert found.ids == expected.ids
    for name, column in expected.columns.items():
        assert _same_floats(column, found.columns[name]), name
    for scheme_name in SCHEMES:
        scheme = load_scheme(scheme_name)
        want = grade_metrics(scheme, expected).grade_list
        got = grade_metrics(scheme, found).grade_list
        different = [(c, w, g) for c, w, g in zip(expected.ids, want, got, strict=True)
                     if w != g]
        assert not different, f"{scheme_name}: {len(different)} graded differently, " \
                              f"e.g. {different[:5]}"


def assert_same_ranks_in_engine(cdnow: Purchases, purchases: Any, as_of: datetime) -> None:
    """G1 value ranks (pareto-abc's cut) and RFM scores computed in the engine match."""
    expected = embedded_metrics(cdnow, as_of)
    scheme = load_scheme("pareto-abc")
    assert isinstance(scheme.rules, RankedRules)
    metrics = grading_metrics(purchases, as_of=as_of)
    ranked = value_ranks(metrics, "revenue_cents", scheme.rules.cut)
    codes = {row["customer_id"]: row["code"]
             for row in ranked.select("customer_id", "code").to_pyarrow().to_pylist()}
    want = grade_metrics(scheme, expected).codes
    assert [codes[c] for c in expected.ids] == np.asarray(want).tolist()
    scores = rfm_scores(fetch_metrics(metrics, as_of=as_of))
    scored = {row["customer_id"]: row for row in
              rfm_codes(metrics).select("customer_id", "r", "f", "m").to_pyarrow().to_pylist()}
    for axis in ("r", "f", "m"):
        assert [scored[c][axis] for c in expected.ids] == \
            np.asarray(getattr(scores, axis)).tolist(), axis


class CdnowInEngine:
    """The CDNOW tests of one engine: subclass it with a ``purchases`` fixture."""

    def test_cdnow_is_stored_whole(self, purchases: Any, cdnow: Purchases) -> None:
        counted = purchases.aggregate(rows=purchases.count(),
                                      cents=purchases["amount_cents"].sum()).to_pyarrow()
        assert counted.to_pylist() == [{"rows": len(cdnow.at), "cents": sum(cdnow.cents())}]

    @pytest.mark.parametrize("as_of", AS_OF, ids=lambda moment: f"{moment:%Y-%m-%d}")
    def test_every_cdnow_customer_gets_the_embedded_grade(
        self, purchases: Any, cdnow: Purchases, as_of: datetime
    ) -> None:
        """G1/G2/G5/RFM: every metric to the bit and every shipped scheme's grade."""
        assert_same_grades(cdnow, purchases, as_of)

    def test_value_ranks_and_rfm_scores_in_the_engine(
        self, purchases: Any, cdnow: Purchases
    ) -> None:
        """G1 tie rule and RFM quintiles computed in the engine, on the whole history."""
        assert_same_ranks_in_engine(cdnow, purchases, AS_OF[-1])
