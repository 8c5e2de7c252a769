"""M1 win probability sees the customer's grade and lifecycle stage as they were then."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.grading import load_scheme
from crmcore.grading.service import run_grading
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.pipeline_probability import closed_history, features_of
from crmcore.sales.probability_customers import (
    LIFECYCLE_FLOW,
    CustomerStanding,
    customer_standing,
    stored_standing,
)
from crmcore.sales.territories import Territories
from crmcore.transitions import HistoryEntry

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _move(number: int, customer: str, stage: str, at: datetime) -> HistoryEntry:
    return HistoryEntry(id=f"h{number}", flow=LIFECYCLE_FLOW, flow_version=1,
                        subject_id=customer, customer_id=customer, sequence=number,
                        event="advance", from_state=None, to_state=stage, at=at, actor="t")


def test_m1_standing_is_the_value_in_force_strictly_before_the_moment() -> None:
    standing = CustomerStanding({}, {})
    assert standing.at("C1", T0) == (None, None)
    with CRM.open("memory") as crm, crm.storage.transaction() as session:
        read = customer_standing(session, None, [
            _move(1, "C1", "identified", T0), _move(2, "C1", "active", T0 + timedelta(days=9)),
            _move(3, "C2", "lapsed", T0)])
    assert read.at("C1", T0) == (None, None)
    assert read.at("C1", T0 + timedelta(seconds=1)) == (None, "identified")
    assert read.at("C1", T0 + timedelta(days=9)) == (None, "identified")
    assert read.at("C1", T0 + timedelta(days=9), inclusive=True) == (None, "active")
    assert read.at("C1", T0 + timedelta(days=10)) == (None, "active")
    assert read.at("C2", T0 + timedelta(days=1)) == (None, "lapsed")


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[PipelineService]:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        crm.record_many([Customer(id="C1", name="Big"), Customer(id="C2", name="Small")])
        crm.record_many([
            Transaction(id=f"T{c}{k}", customer_id=c, occurred_at=T0 - timedelta(days=30 * k),
                        amount=Decimal(amount)) for c, amount in (("C1", 9000), ("C2", 10))
            for k in range(1, 4)])
        run_grading(crm, load_scheme("pareto-abc"), as_of=T0)
        yield PipelineService(crm, territories=Territories())


def test_m1_closed_history_and_open_opportunities_carry_the_grade_of_their_time(
        pipeline: PipelineService) -> None:
    for oid, customer in (("O1", "C1"), ("O2", "C2")):
        pipeline.add(oid, customer, "deal", amount=Decimal(100), currency="EUR",
                     expected_close=None, actor="t", created_at=T0 - timedelta(days=20))
    pipeline.move("O1", "won", actor="t", at=T0 - timedelta(days=1))  # before the grading
    pipeline.move("O2", "lost", actor="t", at=T0 + timedelta(days=1), lost_reason="price")
    items = pipeline.opportunities()
    entries = pipeline.crm.find(HistoryEntry)
    standing = stored_standing(pipeline.crm, entries, T0 + timedelta(days=2))
    history = closed_history(items, {i.id: pipeline.stays(i.id) for i in items},
                             standing=standing)
    grades = {c.id: c.features.grade for c in history}
    assert grades["O1"] is None  # closed before any grade was stored: unknown, not today's
    assert grades["O2"] is not None
    pipeline.add("O3", "C1", "deal", amount=None, currency=None, expected_close=None,
                 actor="t", created_at=T0 + timedelta(days=2))
    open_item = pipeline.get("O3")
    now = features_of(open_item, T0, standing=standing)  # graded at T0: in force at T0
    assert now.grade == standing.at("C1", T0, inclusive=True)[0]
    assert now.grade is not None
    assert now.grade != grades["O2"]  # the big buyer and the small one differ
