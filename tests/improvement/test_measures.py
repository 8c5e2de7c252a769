"""Satisfaction measures (P5) over periods, with their sample sizes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmcore.errors import ValidationError
from crmcore.improvement import (
    MEASURES,
    MeasureData,
    MeasureKind,
    MeasureSettings,
    measure_values,
    parse_period,
    span,
)
from crmcore.model import SurveyResponse, Ticket, Transaction

from .helpers import book


def _data() -> MeasureData:
    entities = book()
    return MeasureData([e for e in entities if isinstance(e, Transaction)],
                       [e for e in entities if isinstance(e, Ticket)],
                       [e for e in entities if isinstance(e, SurveyResponse)])


def test_p5_every_measure_has_a_value_and_a_sample_size() -> None:
    values = measure_values(_data(), parse_period("2026-Q1"))
    assert set(values) == set(MEASURES)
    complaint = values["complaint_rate"]
    assert (complaint.value, complaint.n, complaint.successes) == (0.3, 100, 30)
    assert (values["csat"].value, values["csat"].n) == (3.5, 40)
    assert values["nps"].value == 25.0
    assert values["nps"].promoters == 10
    assert values["reputation"].value == 3.0
    assert values["reputation"].sd == 0.0
    assert (values["awareness"].value, values["awareness"].n) == (0.5, 40)
    assert (values["return_rate"].value, values["return_rate"].n) == (0.0, 100)
    assert not any(v.small_sample for v in values.values())


def test_p5_definitions_over_the_second_quarter() -> None:
    values = measure_values(_data(), parse_period("2026-Q2"))
    assert values["complaint_rate"].value == 0.1
    assert values["return_rate"].value == 0.6
    assert values["csat"].value == 4.5
    sales = values["sales_power"]
    assert (sales.value, sales.n, sales.kind) == (30.0, 100, MeasureKind.MEAN)


def test_p5_small_samples_are_flagged_not_hidden() -> None:
    values = measure_values(_data(), parse_period("2026-Q1"), MeasureSettings(minimum_sample=50))
    assert values["csat"].small_sample
    assert values["csat"].value == 3.5
    assert not values["complaint_rate"].small_sample
    empty = measure_values(MeasureData(), parse_period("2026-Q1"))
    assert all(v.value is None and v.n == 0 and v.small_sample for v in empty.values())
    assert all(v.interval() is None for v in empty.values())


def test_p5_intervals_follow_the_kind_of_measure() -> None:
    values = measure_values(_data(), parse_period("2026-Q1"))
    rate = values["complaint_rate"].interval()
    assert rate is not None
    assert rate.low < 0.3 < rate.high
    nps = values["nps"].interval()
    assert nps is not None
    assert nps.low < 25 < nps.high
    csat = values["csat"].interval()
    assert csat is not None
    assert csat.low < 3.5 < csat.high


@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("2026-Q2", "2026-Q2", datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
    ("2026-05", "2026-05", datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
    ("2025", "2025", datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01..2026-01-31", "2026-01-01..2026-01-31", datetime(2026, 1, 1, tzinfo=UTC),
     datetime(2026, 2, 1, tzinfo=UTC)),
])
def test_p5_periods_from_labels(text: str, label: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert parse_period(span(start, end).label) == span(start, end)


@pytest.mark.parametrize("text", ["2026-Q5", "last year", "2026-13", "2026-02-01..2026-01-01"])
def test_p5_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="is not a period"):
        parse_period(text)
