"""Tests of the per-customer summary built from raw purchases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crmcore_plugins.clv.summary import ClvInputError, RfmSummary, summarize_purchases

END = dt.date(2020, 1, 31)


def _summary(
    ids: list[str], days: list[int], amounts: list[float], unit: float = 1.0
) -> RfmSummary:
    dates = [dt.date(2020, 1, 1) + dt.timedelta(days=d) for d in days]
    return summarize_purchases(ids, dates, amounts, calibration_end=END, unit_days=unit)


def test_same_day_purchases_are_one_transaction_with_summed_value() -> None:
    s = _summary(["a", "a", "a", "a"], [0, 5, 5, 10], [1.0, 2.0, 3.0, 7.0])
    assert s.frequency.tolist() == [2]
    assert s.monetary_value.tolist() == [6.0]  # mean of (2+3) and 7; the first day excluded
    assert s.recency.tolist() == [10.0]
    assert s.T.tolist() == [30.0]


def test_unit_days_scales_times_and_t_counts_days_to_the_end_day() -> None:
    s = _summary(["a", "a"], [0, 14], [1.0, 1.0], unit=7.0)
    assert s.recency.tolist() == [2.0]
    assert s.T.tolist() == pytest.approx([30 / 7])


def test_purchases_after_calibration_end_are_ignored_and_late_customers_dropped() -> None:
    s = _summary(["a", "a", "b", "c"], [0, 40, 45, 30], [1.0, 9.0, 5.0, 4.0])
    assert s.customer_ids.tolist() == ["a", "c"]
    assert s.frequency.tolist() == [0, 0]
    assert s.T.tolist() == [30.0, 0.0]
    assert s.monetary_value.tolist() == [0.0, 0.0]


def test_customers_are_sorted_and_columns_aligned() -> None:
    s = _summary(["z", "b", "z", "b", "b"], [0, 1, 3, 2, 4], [1.0, 1.0, 4.0, 2.0, 6.0])
    assert s.customer_ids.tolist() == ["b", "z"]
    assert s.frequency.tolist() == [2, 1]
    assert s.monetary_value.tolist() == [4.0, 4.0]
    assert len(s) == 2


def test_datetimes_count_on_their_calendar_day_and_datetime64_is_accepted() -> None:
    stamps = [dt.datetime(2020, 1, 1, 8), dt.datetime(2020, 1, 1, 23, 59), dt.datetime(2020, 1, 3)]
    s1 = summarize_purchases([1, 1, 1], stamps, [1, 2, 3], calibration_end=END, unit_days=1.0)
    s2 = summarize_purchases(
        np.array([1, 1, 1]), np.array(stamps, dtype="datetime64[s]"), [1, 2, 3],
        calibration_end=END, unit_days=1.0,
    )
    for s in (s1, s2):
        assert s.frequency.tolist() == [1]
        assert s.recency.tolist() == [2.0]


def test_arrays_are_read_only() -> None:
    s = _summary(["a"], [0], [1.0])
    with pytest.raises(ValueError, match="read-only"):
        s.frequency[0] = 3


def test_unit_days_is_a_required_keyword() -> None:
    with pytest.raises(TypeError, match="unit_days"):
        summarize_purchases(["a"], [END], [1.0], calibration_end=END)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("ids", "dates", "amounts", "unit", "field"),
    [
        ([], [], [], 1.0, "customer_ids"),
        (["a"], [END], [float("nan")], 1.0, "amounts[0]"),
        (["a", "b"], [END, END], [1.0, -2.0], 1.0, "amounts[1]"),
        (["a", "b"], [END], [1.0, 2.0], 1.0, "customer_ids, dates, amounts"),
        (["a"], ["2020-01-01"], [1.0], 1.0, "dates[0]"),
        (["a"], [END], [1.0], 0.0, "unit_days"),
        (["a"], [END + dt.timedelta(days=1)], [1.0], 1.0, "calibration_end"),
    ],
)
def test_bad_input_names_the_argument(
    ids: list[str], dates: list[object], amounts: list[float], unit: float, field: str
) -> None:
    with pytest.raises(ClvInputError) as info:
        summarize_purchases(ids, dates, amounts, calibration_end=END, unit_days=unit)  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_day_statistics_give_the_summary_of_the_purchases() -> None:
    """What a database computes per customer (first and last day, purchase days, the value
    of the days after the first) summarises as the purchases themselves do."""
    from crmcore_plugins.clv.summary import summarize_codes, summarize_day_statistics

    rng = np.random.default_rng(5)
    codes = rng.integers(0, 40, 500)
    days = rng.integers(9000, 9400, 500)
    cents = rng.integers(1, 50_000, 500)
    end = dt.date(1970, 1, 1) + dt.timedelta(days=9400)
    expected = summarize_codes([f"c{i}" for i in range(40)], codes, days, cents / 100.0,
                               calibration_end=end, unit_days=7.0)
    present = sorted(set(codes.tolist()))
    per_day: dict[tuple[int, int], int] = {}
    for code, day, value in zip(codes.tolist(), days.tolist(), cents.tolist(), strict=True):
        per_day[code, day] = per_day.get((code, day), 0) + value
    first = [min(d for c, d in per_day if c == code) for code in present]
    last = [max(d for c, d in per_day if c == code) for code in present]
    count = [sum(1 for c, _ in per_day if c == code) for code in present]
    repeat = [sum(v for (c, d), v in per_day.items() if c == code and d != f)
              for code, f in zip(present, first, strict=True)]
    found = summarize_day_statistics([f"c{i}" for i in present], first, last, count,
                                     np.asarray(repeat) / 100.0, calibration_end=end,
                                     unit_days=7.0)
    assert found.customer_ids.tolist() == expected.customer_ids.tolist()
    assert found.frequency.tolist() == expected.frequency.tolist()
    assert found.recency.tolist() == expected.recency.tolist()
    assert found.T.tolist() == expected.T.tolist()
    assert found.monetary_value == pytest.approx(expected.monetary_value, rel=1e-12)
    with pytest.raises(ClvInputError, match="last_day"):
        summarize_day_statistics(["a"], [9000], [9500], [2], [1.0], calibration_end=end,
                                 unit_days=7.0)
