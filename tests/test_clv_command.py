"""``crmcore clv`` and the ``clv`` scoring strategy (the lifetime-value adapter)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore import ConfigError, Transaction
from crmcore.cli import main
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager

pytest.importorskip("scipy")

CDNOW = Path(__file__).resolve().parents[2] / "shared" / "data" / "CDNOW_sample.txt"


def _read_cdnow_as_csv(target: Path) -> Path:
    lines = ["customer_id,date,amount"]
    for line in CDNOW.read_text().splitlines():
        _, sample_id, day, _, dollars = line.split()
        lines.append(f"{sample_id},{day[:4]}-{day[4:6]}-{day[6:]},{dollars}")
    target.write_text("\n".join(lines) + "\n")
    return target


@pytest.fixture
def cdnow() -> Path:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW} (../shared/data is absent)")
    return CDNOW


def test_clv_command_reproduces_the_published_cdnow_fit(
    cdnow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = _read_cdnow_as_csv(tmp_path / "cdnow.csv")
    assert main(["clv", str(csv_file), "--calibration-end", "1997-09-30", "--horizon", "273",
                 "--format", "json"]) == 0
    output = json.loads(capsys.readouterr().out)
    fit = output["model"]["bgnbd"]
    assert (round(fit["r"], 3), round(fit["alpha"], 3), round(fit["a"], 3),
            round(fit["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit["log_likelihood"], 1) == -9582.4
    spend = output["model"]["gamma_gamma"]
    assert (round(spend["p"], 2), round(spend["q"], 2), round(spend["gamma"], 2)) == \
        (6.25, 3.74, 15.44)
    assert spend["repeat_buyers"] == 946
    customers = {c["customer_id"]: c for c in output["customers"]}
    assert len(customers) == 2357
    first = customers["0001"]  # 2 repeat purchases, recency 30.43, T 38.86 weeks
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == \
        (2, 30.43, 38.86)
    assert 0 < first["probability_alive"] <= 1
    assert first["clv"] > 0


def test_clv_command_table_reads_the_cdnow_format(cdnow: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clv", str(cdnow), "--cdnow", "--calibration-end", "1997-09-30",
                 "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "'log_likelihood': -9582.4" in out
    assert len([line for line in out.splitlines() if line[:1].isdigit()]) == 3


def test_clv_command_rejects_a_bad_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    (tmp_path / "bad.csv").write_text("customer_id,date,amount\nC1,2025-01-01,x\n")
    assert main(["clv", str(tmp_path / "bad.csv")]) == 1
    assert "line 2, column 'amount': 'x' is not an amount" in capsys.readouterr().err


def _rhythmic_purchases(customers: int = 60) -> list[Transaction]:
    made = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(customers):
        gap = 7 + number % 20
        stop = 500 if number % 3 else 200  # a third of them stop buying early
        for index, day in enumerate(range(number % 10, stop, gap)):
            made.append(Transaction(id=f"T{number}-{index}", customer_id=f"C{number:03d}",
                                    occurred_at=start + timedelta(days=day),
                                    amount=Decimal(20 + number % 7 * 10)))
    return made


def test_clv_scoring_strategy_scores_every_buyer_by_name() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    factory = host.scoring_strategies().get("clv")
    alive = factory(Options({"measure": "probability_alive"}, "scoring"))
    as_of = datetime(2025, 6, 1, tzinfo=UTC)
    scores = alive.score(_rhythmic_purchases(), as_of=as_of)
    assert len(scores) == 60
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    stopped = [scores[f"C{n:03d}"] for n in range(60) if n % 3 == 0]
    buying = [scores[f"C{n:03d}"] for n in range(60) if n % 3]
    assert sum(stopped) / len(stopped) < sum(buying) / len(buying)
    assert date(2025, 6, 1) == as_of.date()


def test_clv_scoring_strategy_options_are_checked() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    with pytest.raises(ConfigError, match="scoring.measure: 'value' is not one of"):
        host.scoring_strategies().get("clv")(Options({"measure": "value"}, "scoring"))


def test_clv_command_table_speaks_chinese(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13: the model lines and the customer table's headers come from the catalogue."""
    rows = ["customer_id,date,amount"] + [
        f"{t.customer_id},{t.occurred_at.date().isoformat()},{t.amount}"
        for t in _rhythmic_purchases(12)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    assert main(["clv", str(tmp_path / "p.csv"), "--limit", "2", "--lang", "zh_CN"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("校准截止日")
    assert any(line.startswith("BG/NBD 模型（购买次数）  {'r': ") for line in lines)
    header = next(line for line in lines if "购买频次" in line)
    assert header.split() == ["客户", "购买频次", "最近购买时点", "T", "存活概率", "预期",
                              "客户终身价值"]
    assert "calibration_end" not in "\n".join(lines)
