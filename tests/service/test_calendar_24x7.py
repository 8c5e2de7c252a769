"""Working intervals ending at ``24:00``, up to a 24x7 desk (rules S3, S4; issue 12).

A calendar worked ``00:00-24:00`` every day with no holidays has no gap, so business time
must equal real elapsed time, across midnights and clock changes alike. The zones include
ones whose clocks change at midnight (Santiago, Havana, Beirut) and by half an hour
(Lord Howe).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.service import WEEKDAY_NAMES, BusinessCalendar, WorkingInterval
from crmcore.service.calendar_data import calendar_from_toml

HOUR = timedelta(hours=1)
ZONES = (
    "UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "America/Santiago",
    "America/Havana", "Asia/Beirut", "Australia/Lord_Howe", "Pacific/Apia",
)
DESK = """\
name = "desk"
time_zone = "Europe/Berlin"

[week]
{days}
"""


def desk(zone: str) -> BusinessCalendar:
    """A 24x7 desk: every day 00:00-24:00, no holidays."""
    return BusinessCalendar("desk", zone, [["00:00-24:00"]] * 7)


def test_s4_whole_day_interval_parses_and_round_trips() -> None:
    whole = WorkingInterval.parse("00:00-24:00")
    assert whole == WorkingInterval(time(0), time(0))
    assert whole.duration == 24 * HOUR
    assert str(whole) == "00:00-24:00"
    assert str(WorkingInterval.parse("18:00-24:00")) == "18:00-24:00"
    assert WorkingInterval.parse("18:00-24:00").duration == 6 * HOUR


def test_s4_same_start_and_end_other_than_midnight_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="'09:00-09:00' starts and ends at the same time"):
        WorkingInterval.parse("09:00-09:00")


def test_s4_whole_day_overlapping_other_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^week.monday: '09:00-10:00' overlaps 00:00-24:00"):
        BusinessCalendar("x", "UTC", {"monday": ["00:00-24:00", "09:00-10:00"]})
    with pytest.raises(ValidationError, match="overlaps 00:00-24:00 on tuesday"):
        BusinessCalendar("x", "UTC", {"monday": ["22:00-06:00"], "tuesday": ["00:00-24:00"]})


def test_s4_toml_desk_works_every_moment_of_the_week(tmp_path: Path) -> None:
    days = "\n".join(f'{name} = ["00:00-24:00"]' for name in WEEKDAY_NAMES)
    (tmp_path / "desk.toml").write_text(DESK.format(days=days), encoding="utf-8")
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    factory = host.calendars().get("toml")
    calendar = factory(Options({"path": "desk.toml"}, "calendar", base_dir=tmp_path))
    assert calendar == calendar_from_toml(DESK.format(days=days))
    sunday_late = datetime(2026, 1, 4, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert calendar.is_working_time(sunday_late + HOUR / 2)  # Berlin midnight
    assert calendar.next_working_moment(sunday_late) == sunday_late
    assert calendar.add(sunday_late, 2 * HOUR) == sunday_late + 2 * HOUR
    assert calendar.business_time_between(sunday_late, sunday_late + 7 * 24 * HOUR) == 168 * HOUR


def test_s4_evening_shift_to_midnight_then_whole_day() -> None:
    week = {"friday": ["18:00-24:00"], "saturday": ["00:00-24:00"], "sunday": ["00:00-12:00"]}
    weekend = BusinessCalendar("weekend", "Asia/Shanghai", week)
    friday_6pm = datetime(2026, 1, 9, 10, tzinfo=UTC)  # 18:00 in Shanghai
    assert weekend.business_time_between(friday_6pm, friday_6pm + 60 * HOUR) == 42 * HOUR
    assert weekend.add(friday_6pm, 42 * HOUR) == friday_6pm + 42 * HOUR
    assert weekend.add(friday_6pm, 42 * HOUR + timedelta(microseconds=1)) == (
        friday_6pm + 7 * 24 * HOUR + timedelta(microseconds=1)
    )


instants = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(0, 60 * 86_400_000_000).map(lambda n: timedelta(microseconds=n))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), instants, instants)
def test_s4_desk_business_time_equals_wall_clock_time(
    zone: str, start: datetime, end: datetime
) -> None:
    assert desk(zone).business_time_between(start, end) == end - start


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), instants, durations)
def test_s4_desk_add_equals_plain_addition(
    zone: str, start: datetime, duration: timedelta
) -> None:
    calendar = desk(zone)
    assert calendar.add(start, duration) == start + duration
    assert calendar.is_working_time(start)
    assert calendar.next_working_moment(start) == start
