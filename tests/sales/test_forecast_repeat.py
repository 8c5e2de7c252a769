"""M3 forecast: repeat purchases from the lifetime-value model, spread over the months."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crmcore.errors import ValidationError
from crmcore.sales.forecast import OpenOpportunity, forecast
from crmcore.sales.forecast_repeat import month_starts, repeat_purchases

pytest.importorskip("scipy")
clv = pytest.importorskip("crmcore_plugins.clv")

AS_OF = date(2026, 6, 20)


def _purchases() -> tuple[list[str], list[date], list[float]]:
    rng = random.Random(11)
    ids, dates, amounts = [], [], []
    for customer in range(150):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(400))
        rate = rng.choice((20, 45, 90))
        while day <= AS_OF:
            ids.append(f"c{customer:03d}")
            dates.append(day)
            amounts.append(round(rng.lognormvariate(4.0, 0.5), 2))
            day += timedelta(days=1 + int(rng.expovariate(1 / rate)))
            if rng.random() < 0.03:
                break
    return ids, dates, amounts


def test_m3_repeat_purchases_add_up_to_the_clv_prediction_over_the_horizon() -> None:
    ids, dates, amounts = _purchases()
    repeat = repeat_purchases(ids, dates, amounts, as_of=AS_OF, months=4, currency="EUR")
    assert repeat.periods == ("2026-06", "2026-07", "2026-08", "2026-09")
    horizon = (date(2026, 10, 1) - AS_OF).days
    analysis = clv.analyse_purchases(ids, dates, amounts, calibration_end=AS_OF,
                                     horizon_days=float(horizon))
    spend = analysis.spend.conditional_expected_average_profit(
        analysis.summary.frequency, analysis.summary.monetary_value)
    for i, customer in enumerate(repeat.customer_ids):
        assert customer == str(analysis.summary.customer_ids[i])
        assert sum(repeat.expected[i]) == pytest.approx(
            float(analysis.expected_purchases[i] * spend[i]), rel=1e-9)
        assert all(value >= 0 for value in repeat.expected[i])


def test_m3_forecast_adds_repeat_purchases_by_period_and_by_customer_owner() -> None:
    ids, dates, amounts = _purchases()
    repeat = repeat_purchases(ids, dates, amounts, as_of=AS_OF, months=2, currency="EUR")
    book = [OpenOpportunity("o1", Decimal("1000"), "EUR", 0.5, date(2026, 7, 2), "ann")]
    by_period = forecast(book, as_of=AS_OF, repeat=repeat)
    july = next(row for row in by_period.rows if row.key == "2026-07")
    assert july.pipeline == 500.0
    assert july.repeat == pytest.approx(repeat.totals("period", str)["2026-07"][0])
    assert "Poisson" in by_period.method
    owners = dict.fromkeys(repeat.customer_ids[:10], "ann")
    by_owner = forecast(book, as_of=AS_OF, by="owner", repeat=repeat, customer_groups=owners)
    assert [row.key for row in by_owner.rows] == ["ann", "unknown"]
    total = sum(row.repeat for row in by_owner.rows)
    assert total == pytest.approx(sum(row.repeat for row in by_period.rows))


def test_m3_repeat_purchases_refuse_a_bad_horizon() -> None:
    with pytest.raises(ValidationError) as caught:
        repeat_purchases(["a"], [AS_OF], [1.0], as_of=AS_OF, months=0, currency="EUR")
    assert caught.value.field == "months"
    assert [d.isoformat() for d in month_starts(date(2026, 12, 31), 1)] == [
        "2026-12-31", "2027-01-01"]


def test_m3_an_unusable_spend_model_is_an_error_saying_what_to_do() -> None:
    from dataclasses import replace

    from crmcore.sales.forecast_repeat import repeat_from_analysis

    ids, dates, amounts = _purchases()
    analysis = clv.analyse_purchases(ids, dates, amounts, calibration_end=AS_OF)
    unusable = replace(analysis, clv=None, clv_unavailable="q: 0.9 is <= 1")
    with pytest.raises(ValidationError) as caught:
        repeat_from_analysis(unusable, months=2, currency="EUR")
    assert caught.value.field == "repeat purchases"
    assert "q: 0.9 is <= 1" in str(caught.value)
    assert "forecast the pipeline alone" in str(caught.value)
