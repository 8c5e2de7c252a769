"""M3 forecast: amount x probability x timing, currencies apart, an interval, exports."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.sales.forecast import OpenOpportunity, forecast
from crmcore.sales.forecast_export import (
    COLUMNS,
    DataFrameUnavailableError,
    forecast_chart,
    forecast_json,
    forecast_records,
    to_csv,
    to_dataframe,
)

AS_OF = date(2026, 6, 15)


def _open(number: int, amount: str | None, probability: float, close: date | None,
          currency: str | None = "EUR", owner: str | None = "ann",
          territory: str | None = "north") -> OpenOpportunity:
    return OpenOpportunity(f"o{number}", None if amount is None else Decimal(amount), currency,
                           probability, close, owner, territory)


def test_m3_expected_revenue_is_amount_times_probability_in_the_close_month() -> None:
    result = forecast([_open(1, "1000", 0.5, date(2026, 7, 3)),
                       _open(2, "3000", 0.1, date(2026, 7, 30)),
                       _open(3, "200", 0.9, date(2026, 9, 1))], as_of=AS_OF)
    assert [(r.key, r.opportunities) for r in result.rows] == [("2026-07", 2), ("2026-09", 1)]
    assert [r.expected for r in result.rows] == pytest.approx([800.0, 180.0])


def test_m3_missing_and_past_close_dates_are_reported_never_defaulted() -> None:
    result = forecast([_open(1, "100", 0.5, None), _open(2, "100", 0.5, date(2026, 6, 1)),
                       _open(3, "100", 0.5, AS_OF)], as_of=AS_OF)
    assert [row.key for row in result.rows] == ["2026-06", "overdue", "unknown"]


def test_m3_amounts_of_several_currencies_are_never_summed_together() -> None:
    book = [_open(1, "100", 1.0, AS_OF, "EUR"), _open(2, "700", 1.0, AS_OF, "CNY")]
    apart = forecast(book, as_of=AS_OF)
    assert [(r.currency, r.expected) for r in apart.rows] == [("CNY", 700.0), ("EUR", 100.0)]
    together = forecast(book, as_of=AS_OF, rates={"CNY": Decimal("0.125")}, currency="EUR")
    assert [(r.currency, r.expected) for r in together.rows] == [("EUR", 187.5)]
    with pytest.raises(ValidationError) as caught:
        forecast(book, as_of=AS_OF, rates={"USD": 1.1}, currency="EUR")
    assert caught.value.field == "rates"
    assert caught.value.value == "CNY"


def test_m3_opportunities_without_amount_or_currency_are_listed_not_counted() -> None:
    result = forecast([_open(1, None, 0.5, AS_OF), _open(2, "10", 0.5, AS_OF, None),
                       _open(3, "10", 0.5, AS_OF)], as_of=AS_OF)
    assert result.unpriced == ("o1", "o2")
    assert sum(row.opportunities for row in result.rows) == 1
    assert any("without an amount or currency" in note for note in result.notes)


def test_m3_the_interval_is_the_bernoulli_variance_under_a_normal_approximation() -> None:
    result = forecast([_open(1, "1000", 0.5, AS_OF), _open(2, "400", 0.2, AS_OF)],
                      as_of=AS_OF, level=0.95)
    (row,) = result.rows
    variance = 1000**2 * 0.25 + 400**2 * 0.16
    assert row.variance == pytest.approx(variance)
    assert row.high - row.expected == pytest.approx(1.959964 * math.sqrt(variance), rel=1e-6)
    assert row.low == 0.0  # cut at zero: 580 - 1.96 * 509 < 0
    assert "amount^2 p (1 - p)" in result.method


def test_m3_the_interval_covers_simulated_outcomes_at_about_its_level() -> None:
    rng = random.Random(5)
    book = [_open(i, str(rng.randrange(100, 5000)), rng.random(), AS_OF) for i in range(400)]
    (row,) = forecast(book, as_of=AS_OF, level=0.90).rows
    inside = 0
    for _ in range(2000):
        outcome = sum(float(o.amount or 0) for o in book if rng.random() < o.probability)
        inside += row.low <= outcome <= row.high
    assert 0.86 < inside / 2000 < 0.94


opportunities = st.lists(st.builds(
    OpenOpportunity,
    id=st.text("abc", min_size=1, max_size=3),
    amount=st.none() | st.decimals(min_value=0, max_value=10**6, places=2),
    currency=st.sampled_from(["EUR", "CNY", None]),
    probability=st.floats(min_value=0, max_value=1),
    expected_close=st.none() | st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    owner=st.sampled_from(["ann", "bob", None]),
    territory=st.sampled_from(["north", None])), max_size=30)


@given(opportunities)
def test_m3_every_grouping_gives_the_same_totals_per_currency(
        book: list[OpenOpportunity]) -> None:
    reference: dict[str, list[float]] = {}
    for o in book:
        if o.amount is not None and o.currency is not None:
            reference.setdefault(o.currency, []).append(float(o.amount) * o.probability)
    for by in ("period", "owner", "territory"):
        result = forecast(book, as_of=AS_OF, by=by)
        totals: dict[str, float] = {}
        for row in result.rows:
            totals[row.currency] = totals.get(row.currency, 0.0) + row.expected
            assert row.low <= row.expected <= row.high
        assert totals.keys() == reference.keys()
        for currency, values in reference.items():
            assert totals[currency] == pytest.approx(math.fsum(values), rel=1e-9, abs=1e-6)


def test_m3_by_owner_and_territory_name_unknown_when_unstated() -> None:
    book = [_open(1, "10", 1.0, AS_OF, owner="bob", territory=None),
            _open(2, "20", 1.0, AS_OF, owner=None, territory="south")]
    assert [r.key for r in forecast(book, as_of=AS_OF, by="owner").rows] == ["bob", "unknown"]
    assert [r.key for r in forecast(book, as_of=AS_OF, by="territory").rows] == [
        "south", "unknown"]


@pytest.mark.parametrize(("call", "field"), [
    (lambda: forecast([], as_of=AS_OF, by="week"), "by"),
    (lambda: forecast([], as_of=AS_OF, level=1.0), "level"),
    (lambda: forecast([], as_of=AS_OF, rates={"USD": 1}), "currency"),
    (lambda: _open(1, "-1", 0.5, AS_OF), "amount"),
    (lambda: _open(1, "1", 1.5, AS_OF), "probability"),
    (lambda: forecast([_open(1, "1", 0.5, AS_OF)], as_of=AS_OF, rates={"EUR": -1},
                      currency="CNY"), "rates.EUR"),
])
def test_m3_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.field == field


def _sample() -> list[OpenOpportunity]:
    return [_open(1, "1000", 0.5, date(2026, 7, 3)), _open(2, "50", 0.5, None, "CNY")]


def test_m3_csv_and_json_exports_carry_the_rows() -> None:
    result = forecast(_sample(), as_of=AS_OF)
    out = io.StringIO()
    to_csv(result, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["group"], r["currency"], r["expected"]) for r in rows] == [
        ("2026-07", "EUR", "500.0"), ("unknown", "CNY", "25.0")]
    data = json.loads(json.dumps(forecast_json(result)))
    assert data["rows"] == forecast_records(result)
    assert data["as_of"] == "2026-06-15"
    assert "normal approximation" in data["method"]


def test_m3_dataframe_export_and_the_extra_named_without_pandas(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pandas = pytest.importorskip("pandas")
    result = forecast(_sample(), as_of=AS_OF)
    frame = to_dataframe(result)
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["expected"].tolist() == [500.0, 25.0]
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    with pytest.raises(DataFrameUnavailableError, match=r"crmcore\[dataframe\]"):
        to_dataframe(result)


def test_m3_chart_is_written_as_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = forecast_chart(forecast(_sample(), as_of=AS_OF), tmp_path / "forecast.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValidationError, match="must end in .svg or .png"):
        forecast_chart(forecast(_sample(), as_of=AS_OF), tmp_path / "forecast.gif")


def test_m3_timing_never_moves_an_opportunity_across_months() -> None:
    book = [_open(i, "100", 0.5, AS_OF + timedelta(days=i)) for i in range(60)]
    result = forecast(book, as_of=AS_OF)
    months = {f"{(AS_OF + timedelta(days=i)):%Y-%m}" for i in range(60)}
    assert {row.key for row in result.rows} == months
    assert sum(row.opportunities for row in result.rows) == 60



def test_m3_forecast_imports_without_numpy_and_names_the_clv_extra_when_needed() -> None:
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None  # as if numpy were not installed\n"
        "import crmcore.sales.win_probability, crmcore.sales.forecast\n"
        "import crmcore.sales.forecast_export, crmcore.sales.forecast_pipeline\n"
        "from datetime import date\n"
        "from crmcore.sales.forecast_repeat import ClvUnavailableError, repeat_purchases\n"
        "try:\n"
        "    repeat_purchases(['a'], [date(2026, 1, 1)], [1.0], as_of=date(2026, 1, 2),\n"
        "                     months=1, currency='EUR')\n"
        "except ClvUnavailableError as error:\n"
        "    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "pip install 'crmcore[clv]'" in done.stdout
