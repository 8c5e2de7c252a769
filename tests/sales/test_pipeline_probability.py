"""The pipeline's probability column (M1): history from the stored flow, predictions with why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import CRM, Customer
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.pipeline_probability import closed_history, pipeline_probabilities
from crmcore.sales.territories import Territories

pytest.importorskip("crmcore.sales.win_probability", reason="the win-probability model is "
                                                            "another module's; the seam is "
                                                            "tested in test_pipeline_cli")

T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[PipelineService]:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        crm.record(Customer(id="C1", name="Acme"))
        yield PipelineService(crm, territories=Territories())


def test_m1_closed_history_takes_the_last_open_stage_and_the_days_spent_there(
        pipeline: PipelineService) -> None:
    pipeline.add("O1", "C1", "x", amount=Decimal(500), currency="EUR", expected_close=None,
                 actor="a", created_at=T0, source="web")
    pipeline.move("O1", "proposal", actor="a", at=T0 + timedelta(days=2))
    pipeline.move("O1", "won", actor="a", at=T0 + timedelta(days=12))
    items = pipeline.opportunities()
    [closed] = closed_history(items, {"O1": pipeline.stays("O1")})
    assert (closed.won, closed.features.stage, closed.features.days_in_stage,
            closed.features.source, closed.closed_on) == (
        True, "proposal", 10.0, "web", (T0 + timedelta(days=12)).date())


def test_m1_win_probability_is_learned_from_the_stored_outcomes_and_explained(
        pipeline: PipelineService) -> None:
    """Referrals were won three times in four, web leads once in four: the model says so."""
    for number in range(80):
        source = "referral" if number % 2 else "web"
        won = number % 8 != 1 if source == "referral" else number % 8 == 0
        oid = f"H{number:03d}"
        created = T0 + timedelta(days=number)
        pipeline.add(oid, "C1", "past deal", amount=Decimal(900), currency="EUR",
                     expected_close=None, actor="a", created_at=created, source=source)
        pipeline.move(oid, "won" if won else "lost", actor="a",
                      at=created + timedelta(days=5), lost_reason=None if won else "price")
    for oid, source in (("N1", "referral"), ("N2", "web")):
        pipeline.add(oid, "C1", "new deal", amount=Decimal(900), currency="EUR",
                     expected_close=None, actor="a", created_at=T0 + timedelta(days=100),
                     source=source)
    predictions = pipeline_probabilities(pipeline, T0 + timedelta(days=101))
    assert set(predictions) == {"N1", "N2"}
    assert predictions["N1"].probability > 0.5 > predictions["N2"].probability
    assert "source=referral" in predictions["N1"].why
    assert any(feature == "source" and effect > 0
               for feature, _, effect in predictions["N1"].factors)
