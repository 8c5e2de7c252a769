"""Pareto analysis of causes (P1): the vital few, the tie rule, the two sources."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.improvement import churn_reasons, complaint_categories, pareto, parse_period
from crmcore.model import Ticket
from crmcore.transitions import HistoryEntry

from .helpers import book


def test_p1_vital_few_reach_eighty_percent() -> None:
    table = pareto({"late delivery": 18, "billing": 8, "price": 4})
    assert table.vital_few == ("late delivery", "billing")
    assert [round(row.cumulative, 3) for row in table.rows] == [0.6, 0.867, 1.0]
    assert table.total == 30


def test_p1_equal_counts_are_never_split() -> None:
    # a reaches 50%, b 75%, c 100%: the line falls at c, so d (tied with c) is vital too.
    table = pareto({"a": 4, "b": 2, "c": 1, "d": 1}, threshold=0.8)
    assert table.vital_few == ("a", "b", "c", "d")
    assert pareto({"x": 5, "y": 5, "z": 5}).vital_few == ("x", "y", "z")
    assert pareto({"b": 1, "a": 1}).rows[0].category == "a"


def test_p1_zero_counts_are_left_out_and_bad_counts_refused() -> None:
    assert pareto({"a": 3, "b": 0}).counts() == {"a": 3}
    assert pareto({}).vital_few == ()
    with pytest.raises(ValidationError):
        pareto({"a": -1})
    with pytest.raises(ValidationError):
        pareto({"a": 1}, threshold=0)


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 50), max_size=12),
       st.floats(0.05, 1.0))
def test_p1_vital_few_is_the_shortest_prefix_without_splitting_ties(
        counts: dict[str, int], threshold: float) -> None:
    table = pareto(counts, threshold)
    vital = [row for row in table.rows if row.vital]
    if not table.rows:
        return
    assert vital == list(table.rows[: len(vital)])
    assert vital[-1].cumulative >= threshold - 1e-12
    without_ties = [row for row in vital if row.count != vital[-1].count]
    assert not without_ties or without_ties[-1].cumulative < threshold
    rest = table.rows[len(vital):]
    assert not rest or rest[0].count < vital[-1].count


def test_p1_complaint_categories_count_complaints_only_within_the_period() -> None:
    tickets = [e for e in book() if isinstance(e, Ticket)]
    assert complaint_categories(tickets, parse_period("2026-Q1")) == {
        "late delivery": 18, "billing": 8, "price": 4}
    assert complaint_categories(tickets)["late delivery"] == 28


def _churn(subject: str, sequence: int, reasons: list[str], month: int) -> HistoryEntry:
    return HistoryEntry(id=f"h{subject}{sequence}", flow="customer-lifecycle", flow_version=1,
                        subject_id=subject, customer_id=subject, sequence=sequence,
                        event="churn", from_state="at-risk", to_state="churned",
                        at=datetime(2026, month, 3, tzinfo=UTC), actor="t",
                        fields={"churn_type": "competitive", "churn_cause": "value",
                                "churn_reasons": reasons})


def test_p1_l3_churn_reasons_feed_the_pareto_analysis() -> None:
    entries = [_churn("C1", 4, ["price-too-high", "poor-service"], 2),
               _churn("C2", 5, ["price-too-high"], 3), _churn("C3", 5, ["poor-service"], 8)]
    counted = churn_reasons(entries, parse_period("2026-Q1"))
    assert counted == {"price-too-high": 2, "poor-service": 1}
    assert pareto(churn_reasons(entries)).vital_few == ("poor-service", "price-too-high")
