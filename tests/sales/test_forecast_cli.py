"""``crmcore forecast`` (M3) on a real SQLite file: the stored pipeline, probabilities, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Transaction
from crmcore.cli import main
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.territories import Territories

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = "2026-04-01"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path) as crm:
        crm.record_many([Customer(id="C1", name="Acme", owner="ann"),
                         Customer(id="C2", name="Beta")])
        pipeline = PipelineService(crm, territories=Territories())
        for number, (amount, currency, close, owner) in enumerate([
                ("1000", "EUR", date(2026, 4, 20), "ann"),
                ("3000", "EUR", date(2026, 5, 3), "bob"),
                ("8000", "CNY", None, "ann"),
                (None, None, date(2026, 4, 9), None)]):
            pipeline.add(f"O{number}", "C1", "deal", actor="t", created_at=T0,
                         amount=None if amount is None else Decimal(amount), currency=currency,
                         expected_close=close, owner=owner)
        yield path


def _run(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["forecast", "--db", db, "--as-of", AS_OF, *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_m3_forecast_command_uses_the_cold_start_prior_and_keeps_currencies_apart(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(db, capsys, "--format", "json")
    assert status == 0
    data = json.loads(out)
    rows = {(r["group"], r["currency"]): r for r in data["rows"]}
    assert set(rows) == {("2026-04", "EUR"), ("2026-05", "EUR"), ("unknown", "CNY")}
    assert rows[("2026-04", "EUR")]["expected"] == pytest.approx(1000 * 0.2)  # the prior
    assert data["unpriced"] == ["O3"]
    assert all("cold start" in line for line in data["why"])


def test_m3_forecast_command_converts_with_rates_and_groups_by_owner(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(db, capsys, "--format", "csv", "--by", "owner", "--currency", "EUR",
                          "--rate", "CNY=0.125")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["group"], r["currency"], r["expected"]) for r in rows] == [
        ("ann", "EUR", "400.0"), ("bob", "EUR", "600.0")]


def test_m3_forecast_command_refuses_a_missing_rate_naming_the_currency(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(db, capsys, "--currency", "EUR", "--rate", "USD=0.9")
    assert status == 1
    assert "'CNY' has no rate to EUR" in err
    status, _, err = _run(db, capsys, "--rate", "USD=0.9")
    assert status == 1
    assert "--currency and --rate go together" in err


def test_m3_forecast_command_table_and_chart(db: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    chart = tmp_path / "forecast.png"
    status, out, _ = _run(db, capsys, "--chart", str(chart), "--why")
    assert status == 0
    assert out.startswith("forecast by period as of 2026-04-01")
    assert "unknown" in out
    assert "not in the totals (no amount or currency): O3" in out
    assert "O0: 20% (cold start" in out
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_m3_forecast_command_adds_repeat_purchases_from_the_clv_model(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("scipy")
    with CRM.open("sqlite", path=db) as crm:
        crm.record_many([
            Transaction(id=f"T{c}{k}", customer_id=c,
                        occurred_at=T0 - timedelta(days=300) + timedelta(days=k * step),
                        amount=Decimal(50 + k))
            for c, step in (("C1", 20), ("C2", 35)) for k in range(8)])
    status, _, err = _run(db, capsys, "--format", "json", "--repeat-months", "2")
    assert status == 1
    assert "repeat_currency: None is required with repeat_months" in err
    status, out, err = _run(db, capsys, "--format", "json", "--repeat-months", "2",
                            "--repeat-currency", "EUR", "--by", "owner")
    assert status == 0, err
    rows = {(r["group"], r["currency"]): r for r in json.loads(out)["rows"]}
    assert rows[("ann", "EUR")]["repeat"] > 0  # C1's owner
    assert rows[("unknown", "EUR")]["repeat"] > 0  # C2 has no owner


def test_m1_m3_the_stated_prior_is_read_from_the_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "crm.toml"
    config.write_text('[storage]\npath = "crm.db"\n\n[sales.win_probability]\nprior = 0.35\n',
                      encoding="utf-8")
    with CRM.from_file(config) as crm:
        crm.record(Customer(id="C1", name="Acme"))
        PipelineService(crm).add("O1", "C1", "deal", actor="t", created_at=T0,
                                 amount=Decimal(1000), currency="EUR",
                                 expected_close=date(2026, 4, 20))
    status = main(["forecast", "--config", str(config), "--as-of", AS_OF, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["rows"][0]["expected"] == pytest.approx(350.0)
    assert "stated prior 35%" in data["why"][0]
