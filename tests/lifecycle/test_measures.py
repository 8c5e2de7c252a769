"""Retention measures (L5) against hand-computed values; time in stage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmcore.errors import ValidationError
from crmcore.lifecycle import acquisition_cohorts, cohort_label, periods, retention
from crmcore.model import Customer
from crmcore.transitions import HistoryEntry, time_in_state


def at(month: int, day: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def history(customer_id: str, *steps: tuple[datetime, str]) -> list[HistoryEntry]:
    entries, previous = [], None
    for number, (moment, state) in enumerate(steps, start=1):
        seconds = 0.0 if previous is None else (moment - previous[0]).total_seconds()
        entries.append(HistoryEntry(
            id=f"h:{customer_id}:{number}", flow="customer-lifecycle", flow_version=1,
            subject_id=customer_id, customer_id=customer_id, sequence=number, event="e",
            from_state=None if previous is None else previous[1], to_state=state, at=moment,
            actor="t", seconds_in_previous=seconds))
        previous = (moment, state)
    return entries


HISTORIES: dict[str, Any] = {
    # customer at the start of Q2, churns in May, won back in June: churned AND retained
    "A": history("A", (at(1), "identified"), (at(1, 2), "active"), (at(5), "at-risk"),
                 (at(5, 20), "churned"), (at(6, 10), "won-back")),
    # customer all along
    "B": history("B", (at(1), "identified"), (at(2), "active"), (at(3), "loyal")),
    # churns in Q2 and stays away
    "C": history("C", (at(1), "identified"), (at(1, 5), "active"), (at(4, 15), "churned")),
    # becomes a customer during Q2: not in the base
    "D": history("D", (at(4, 1), "identified"), (at(5, 1), "active")),
    # never bought
    "E": history("E", (at(1), "identified")),
}


def test_l5_churn_retention_and_win_back_per_period_hand_computed() -> None:
    [q1, q2] = periods(at(1), at(7), "quarter")
    assert (q2.label, q2.start, q2.end) == ("2025-Q2", at(4), at(7))
    rows = retention(HISTORIES, [q1, q2])
    q1_row, q2_row = rows
    # Q1 starts 1 January: nobody is a customer yet
    assert (q1_row.customers_at_start, q1_row.churn_rate) == (0, None)
    # Q2: A, B, C at start; A and C churn; A (won back) and B retained; one win-back
    assert (q2_row.customers_at_start, q2_row.churned, q2_row.retained, q2_row.won_back) == (
        3, 2, 2, 1)
    assert q2_row.churn_rate == pytest.approx(2 / 3)
    assert q2_row.retention_rate == pytest.approx(2 / 3)


def test_l5_measures_per_acquisition_cohort() -> None:
    customers = [Customer(id=c, name=c, acquired_at=at(1 if c != "D" else 4))
                 for c in HISTORIES]
    cohorts = acquisition_cohorts(customers, "quarter")
    assert cohorts["D"] == "2025-Q2"
    assert cohorts["A"] == "2025-Q1"
    rows = retention(HISTORIES, periods(at(4), at(7), "quarter"), cohort_of=cohorts)
    by_cohort = {row.cohort: row for row in rows}
    assert by_cohort["2025-Q1"].customers_at_start == 3
    assert "2025-Q2" not in by_cohort  # no customer of that cohort at its start
    assert cohort_label(None) == "unknown"
    assert cohort_label(at(11), "month") == "2025-11"
    with pytest.raises(ValidationError, match="'week' is not one of month, quarter, year"):
        periods(at(1), at(2), "week")


def test_l5_months_and_years() -> None:
    assert [p.label for p in periods(at(1, 15), at(3, 2), "month")] == [
        "2025-01", "2025-02", "2025-03"]
    assert [p.label for p in periods(at(6), at(2, year=2026), "year")] == ["2025", "2026"]


def test_l5_time_in_stage_statistics() -> None:
    entries = [e for items in HISTORIES.values() for e in items]
    stays = time_in_state(entries)
    assert stays["at-risk"].stays == 1
    assert stays["at-risk"].mean_days == pytest.approx(19.0)
    assert stays["identified"].stays == 4
    # A 1 day, B 31, C 4, D 30
    assert stays["identified"].median_days == pytest.approx((4 + 30) / 2)
    assert stays["identified"].mean_days == pytest.approx(66 / 4)
    assert "won-back" not in stays
