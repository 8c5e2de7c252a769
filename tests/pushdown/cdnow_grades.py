"""The embedded grades of the whole CDNOW history, and the comparisons every engine test makes.

Each engine test (MariaDB, Spark...) loads the CDNOW purchases into its
engine and checks, for every customer: the metrics computed in the engine
(:func:`~crmcore_plugins.pushdown.grading.pushdown_metrics`) equal the
embedded ones to the bit; every shipped scheme grades them alike; the value
ranks and RFM scores computed in the engine equal the embedded ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

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
