"""Hand-checked examples of business calendars (rules S3 local time, S4 SLA clocks)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from crmcore.errors import ValidationError
from crmcore.service import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    ExtraWorkingDay,
    WorkingInterval,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE_HOURS = ["09:00-12:00", "13:00-18:00"]
HOUR = timedelta(hours=1)


def office(**changes: object) -> BusinessCalendar:
    """A Shanghai office, Monday to Friday 09:00-12:00 and 13:00-18:00."""
    fields: dict[str, object] = {
        "name": "cn-office",
        "time_zone": "Asia/Shanghai",
        "week": dict.fromkeys(WEEKDAY_NAMES[:5], OFFICE_HOURS),
    }
    fields.update(changes)
    return BusinessCalendar(**fields)  # type: ignore[arg-type]


def every_day(zone: str, *hours: str, **changes: object) -> BusinessCalendar:
    return BusinessCalendar("daily", zone, [list(hours)] * 7, **changes)  # type: ignore[arg-type]


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
    *, fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


# --- S4: deadlines on working time -----------------------------------------------------


def test_s4_sla_clock_friday_evening_start_rolls_to_monday() -> None:
    friday_evening = local(SHANGHAI, 2026, 1, 9, 17, 0)
    deadline = office().add(friday_evening, 2 * HOUR)
    assert deadline == local(SHANGHAI, 2026, 1, 12, 10, 0)


def test_s4_sla_clock_start_after_hours_counts_from_next_opening() -> None:
    saturday = local(SHANGHAI, 2026, 1, 10, 11, 0)
    assert office().add(saturday, 4 * HOUR) == local(SHANGHAI, 2026, 1, 12, 14, 0)


def test_s4_sla_clock_skips_lunch_break() -> None:
    assert office().add(local(SHANGHAI, 2026, 1, 5, 11, 30), HOUR) == local(
        SHANGHAI, 2026, 1, 5, 13, 30
    )


def test_s4_sla_clock_skips_a_holiday() -> None:
    calendar = office(holidays=[date(2026, 1, 12)])
    deadline = calendar.add(local(SHANGHAI, 2026, 1, 9, 17, 0), 2 * HOUR)
    assert deadline == local(SHANGHAI, 2026, 1, 13, 10, 0)


def test_s4_sla_clock_works_a_make_up_saturday() -> None:
    make_up = ExtraWorkingDay(date(2026, 10, 10), like_weekday="friday")
    calendar = office(extra_working_days=[make_up])
    deadline = calendar.add(local(SHANGHAI, 2026, 10, 9, 17, 0), 2 * HOUR)
    assert deadline == local(SHANGHAI, 2026, 10, 10, 10, 0)
    assert calendar.intervals_on(date(2026, 10, 10)) == calendar.week[4]
    assert calendar.intervals_on(date(2026, 10, 17)) == ()


def test_s4_sla_clock_make_up_day_with_own_hours() -> None:
    make_up = ExtraWorkingDay(date(2026, 9, 27), hours=["10:00-11:00"])
    calendar = office(extra_working_days=[make_up])
    assert calendar.add(local(SHANGHAI, 2026, 9, 26, 0, 0), HOUR / 2) == local(
        SHANGHAI, 2026, 9, 27, 10, 30
    )
    assert calendar.business_time_between(
        local(SHANGHAI, 2026, 9, 26), local(SHANGHAI, 2026, 9, 28)
    ) == HOUR


def test_s4_sla_clock_result_at_interval_end_not_next_opening() -> None:
    deadline = office().add(local(SHANGHAI, 2026, 1, 9, 17, 0), HOUR)
    assert deadline == local(SHANGHAI, 2026, 1, 9, 18, 0)
    assert not office().is_working_time(deadline)


def test_s4_sla_clock_zero_duration_is_the_start_itself() -> None:
    saturday = local(SHANGHAI, 2026, 1, 10, 11, 0)
    deadline = office().add(saturday, timedelta(0))
    assert deadline == saturday
    assert deadline.tzinfo is UTC


def test_s4_extra_working_day_on_a_working_day_changes_its_hours() -> None:
    short_day = ExtraWorkingDay(date(2026, 12, 24), hours=["09:00-12:00"])
    calendar = office(extra_working_days=[short_day])
    deadline = calendar.add(local(SHANGHAI, 2026, 12, 24, 11, 0), 2 * HOUR)
    assert deadline == local(SHANGHAI, 2026, 12, 25, 10, 0)


def test_s4_sla_clock_long_duration_matches_measure() -> None:
    calendar = office(holidays=[date(2026, 10, d) for d in range(1, 8)])
    start = local(SHANGHAI, 2026, 1, 1, 8, 0)
    deadline = calendar.add(start, 2000 * HOUR)  # 250 working days of 8 hours
    assert calendar.business_time_between(start, deadline) == 2000 * HOUR
    assert deadline == local(SHANGHAI, 2026, 12, 23, 18, 0)  # 261 weekdays - 5 holidays


def test_s4_sla_clock_add_many_equals_add() -> None:
    calendar = office()
    starts = [local(SHANGHAI, 2026, 1, d, h) for d in range(1, 15) for h in (0, 10, 17)]
    assert calendar.add_many(starts, 5 * HOUR) == [calendar.add(s, 5 * HOUR) for s in starts]


def test_s4_business_time_between_is_negative_when_reversed() -> None:
    start, end = local(SHANGHAI, 2026, 1, 9, 17), local(SHANGHAI, 2026, 1, 12, 10)
    assert office().business_time_between(start, end) == 2 * HOUR
    assert office().business_time_between(end, start) == -2 * HOUR


def test_s4_next_working_moment_and_is_working_time() -> None:
    calendar = office()
    assert calendar.next_working_moment(local(SHANGHAI, 2026, 1, 9, 12, 0)) == local(
        SHANGHAI, 2026, 1, 9, 13, 0
    )
    inside = local(SHANGHAI, 2026, 1, 9, 9, 0)
    assert calendar.next_working_moment(inside) == inside
    assert calendar.is_working_time(inside)
    assert not calendar.is_working_time(local(SHANGHAI, 2026, 1, 9, 18, 0))
    assert calendar.next_working_moment(local(SHANGHAI, 2026, 1, 9, 18, 0)) == local(
        SHANGHAI, 2026, 1, 12, 9, 0
    )


def test_s4_overnight_interval_belongs_to_the_day_it_starts() -> None:
    night = BusinessCalendar("night", "Asia/Shanghai", {"monday": ["22:00-06:00"]})
    assert night.add(local(SHANGHAI, 2026, 1, 5, 23, 0), 3 * HOUR) == local(
        SHANGHAI, 2026, 1, 6, 2, 0
    )
    assert night.is_working_time(local(SHANGHAI, 2026, 1, 6, 5, 59))
    assert not night.is_working_time(local(SHANGHAI, 2026, 1, 6, 6, 0))
    assert night.add(local(SHANGHAI, 2026, 1, 6, 5, 0), 2 * HOUR) == local(
        SHANGHAI, 2026, 1, 12, 23, 0
    )


def test_s4_holiday_removes_overnight_interval_starting_on_it() -> None:
    week = {"monday": ["22:00-06:00"], "tuesday": ["22:00-06:00"]}
    monday_off = BusinessCalendar("night", "Asia/Shanghai", week, holidays=["2026-01-05"])
    assert not monday_off.is_working_time(local(SHANGHAI, 2026, 1, 6, 1, 0))
    tuesday_off = BusinessCalendar("night", "Asia/Shanghai", week, holidays=["2026-01-06"])
    assert tuesday_off.is_working_time(local(SHANGHAI, 2026, 1, 6, 1, 0))
    assert not tuesday_off.is_working_time(local(SHANGHAI, 2026, 1, 6, 23, 0))


def test_s4_interval_ending_at_midnight() -> None:
    late = BusinessCalendar("late", "UTC", {"sunday": ["18:00-24:00"], "monday": ["00:00-02:00"]})
    assert str(late.week[6][0]) == "18:00-24:00"
    sunday = datetime(2026, 1, 4, 18, tzinfo=UTC)
    assert late.add(sunday, 7 * HOUR) == datetime(2026, 1, 5, 1, tzinfo=UTC)
    assert late.business_time_between(sunday, sunday + 8 * HOUR) == 8 * HOUR


def test_s4_no_working_time_left_raises() -> None:
    only_one_day = BusinessCalendar(
        "once", "UTC", {}, extra_working_days=[ExtraWorkingDay("2026-01-05", ["09:00-10:00"])]
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert only_one_day.add(start, HOUR) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"^duration: .* no working time after 2026-01-05$"):
        only_one_day.add(start, 2 * HOUR)
    with pytest.raises(ValidationError, match=r"^moment: .*no working time"):
        only_one_day.next_working_moment(datetime(2026, 1, 5, 10, tzinfo=UTC))
    never = BusinessCalendar("never", "UTC", {})
    with pytest.raises(ValidationError, match="has no working time at all$"):
        never.next_working_moment(start)
    assert never.business_time_between(start, start + 1000 * HOUR) == timedelta(0)


# --- S3: local time, daylight saving ---------------------------------------------------


def test_s3_results_are_utc_whatever_the_input_zone() -> None:
    tokyo_start = datetime(2026, 1, 9, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 17:00 Shanghai
    deadline = office().add(tokyo_start, 2 * HOUR)
    assert deadline.tzinfo is UTC
    assert deadline == local(SHANGHAI, 2026, 1, 12, 10, 0)


def test_s3_spring_forward_interval_lasts_its_real_time() -> None:
    early = every_day("Europe/Berlin", "01:00-04:00")
    day = local(BERLIN, 2026, 3, 29)
    assert early.business_time_between(day, day + timedelta(days=1)) == 2 * HOUR
    assert early.add(day, 90 * timedelta(minutes=1)) == local(BERLIN, 2026, 3, 29, 3, 30)
    new_york = every_day("America/New_York", "01:00-04:00")
    ny_day = local(NEW_YORK, 2026, 3, 8)
    assert new_york.business_time_between(ny_day, ny_day + timedelta(days=1)) == 2 * HOUR


def test_s3_fall_back_interval_lasts_its_real_time() -> None:
    early = every_day("Europe/Berlin", "01:00-04:00")
    day = local(BERLIN, 2026, 10, 25)
    assert early.business_time_between(day, day + timedelta(days=1)) == 4 * HOUR
    assert early.add(day, 3 * HOUR) == local(BERLIN, 2026, 10, 25, 3, 0)
    repeated = local(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert early.is_working_time(repeated)


def test_s3_nonexistent_boundary_is_when_clocks_jump() -> None:
    gap_start = every_day("Europe/Berlin", "02:30-05:00")
    day = local(BERLIN, 2026, 3, 29)
    assert gap_start.next_working_moment(day) == local(BERLIN, 2026, 3, 29, 3, 0)
    assert gap_start.business_time_between(day, day + timedelta(days=1)) == 2 * HOUR
    gap_end = every_day("Europe/Berlin", "01:00-02:30")
    assert gap_end.business_time_between(day, day + timedelta(days=1)) == HOUR


def test_s3_ambiguous_boundary_is_its_first_occurrence() -> None:
    calendar = every_day("Europe/Berlin", "02:30-05:00")
    day = local(BERLIN, 2026, 10, 25)
    assert calendar.next_working_moment(day) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert calendar.business_time_between(day, day + timedelta(days=1)) == 3.5 * HOUR


def test_s3_interval_inside_the_gap_has_no_time() -> None:
    calendar = every_day("Europe/Berlin", "02:00-02:45")
    day = local(BERLIN, 2026, 3, 29)
    assert calendar.next_working_moment(day) == local(BERLIN, 2026, 3, 30, 2, 0)
    assert calendar.business_time_between(day, day + timedelta(days=1)) == timedelta(0)


def test_s3_overnight_interval_across_spring_forward() -> None:
    night = BusinessCalendar("night", "Europe/Berlin", {"saturday": ["22:00-06:00"]})
    saturday = local(BERLIN, 2026, 3, 28, 22)
    assert night.add(saturday, 6 * HOUR) == local(BERLIN, 2026, 3, 29, 5, 0)


# --- Inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["add", "between", "next", "is_working"])
def test_s3_naive_datetimes_are_rejected(method: str) -> None:
    calendar, naive = office(), datetime(2026, 1, 9, 17, 0)
    calls: dict[str, Callable[[], object]] = {
        "add": lambda: calendar.add(naive, HOUR),
        "between": lambda: calendar.business_time_between(naive, naive),
        "next": lambda: calendar.next_working_moment(naive),
        "is_working": lambda: calendar.is_working_time(naive),
    }
    with pytest.raises(ValidationError, match="is not a timezone-aware datetime"):
        calls[method]()


def test_s4_negative_duration_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"^duration: .* is not a non-negative timedelta"):
        office().add(local(SHANGHAI, 2026, 1, 9), -HOUR)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Mars/Base"}, "time_zone: 'Mars/Base' is not an IANA time zone"),
        ({"name": " "}, "name: ' ' is not a non-empty text"),
        (
            {"week": {"monday": ["09:00-12:00", "11:00-13:00"]}},
            "week.monday: '11:00-13:00' overlaps 09:00-12:00",
        ),
        (
            {"week": {"monday": ["22:00-06:00"], "tuesday": ["05:00-09:00"]}},
            "week.monday: '22:00-06:00' overlaps 05:00-09:00 on tuesday",
        ),
        (
            {"week": {"sunday": ["22:00-01:00"], "monday": ["00:30-09:00"]}},
            "week.sunday: '22:00-01:00' overlaps 00:30-09:00 on monday",
        ),
        ({"week": {"monday": ["09:00-09:00"]}}, "week.monday[0]: '09:00-09:00' starts and ends"),
        ({"week": {"monday": ["9-17"]}}, "week.monday[0]: '9-17' is not a time range HH:MM-HH:MM"),
        ({"week": {"monday": "09:00-17:00"}}, "week.monday: '09:00-17:00' is not a list of"),
        ({"week": {"mon": []}}, "week.mon: 'mon' is not a weekday"),
        ({"week": {"monday": [], 0: []}}, "week: 0 names a weekday given twice"),
        ({"week": [[]] * 6}, "week: [[], [], [], [], [], []] is not a mapping"),
        ({"holidays": ["2026-02-30"]}, "holidays[0]: '2026-02-30' is not a date (YYYY-MM-DD)"),
        (
            {"holidays": [datetime(2026, 1, 1)]},
            "holidays[0]: datetime.datetime(2026, 1, 1, 0, 0) is not a date",
        ),
        (
            {"holidays": ["2026-10-10"], "extra_working_days": [
                ExtraWorkingDay("2026-10-10", like_weekday=0)
            ]},
            "extra_working_days: '2026-10-10' is also a holiday",
        ),
        (
            {"extra_working_days": [ExtraWorkingDay("2026-10-10", like_weekday="sunday")]},
            "extra_working_days: '2026-10-10' is worked like sunday, which has no working hours",
        ),
        (
            {"extra_working_days": [ExtraWorkingDay("2026-10-10", like_weekday=0)] * 2},
            "extra_working_days: '2026-10-10' is given twice",
        ),
        (
            {"extra_working_days": [ExtraWorkingDay("2026-10-11", ["17:00-10:00"])]},
            "extra_working_days: '17:00-10:00' overlaps 09:00-12:00 on 2026-10-12",
        ),
        (
            {"extra_working_days": ["2026-10-10"]},
            "extra_working_days[0]: '2026-10-10' is not an ExtraWorkingDay",
        ),
    ],
)
def test_s4_invalid_calendars_name_field_and_value(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        office(**changes)
    assert str(caught.value).startswith(message)


def test_s4_extra_working_day_needs_hours_or_weekday() -> None:
    with pytest.raises(ValidationError, match="'2026-10-10' needs either hours or like_weekday"):
        ExtraWorkingDay(date(2026, 10, 10))
    with pytest.raises(ValidationError, match="needs either"):
        ExtraWorkingDay(date(2026, 10, 10), ["09:00-10:00"], like_weekday=0)
    with pytest.raises(ValidationError, match="^like_weekday: 7 is not a weekday"):
        ExtraWorkingDay(date(2026, 10, 10), like_weekday=7)
    with pytest.raises(ValidationError, match="^day: '10/10/2026' is not a date"):
        ExtraWorkingDay("10/10/2026", like_weekday=0)


def test_s4_working_interval_parse_and_format() -> None:
    assert WorkingInterval.parse("22:00-06:00") == WorkingInterval(time(22), time(6))
    assert WorkingInterval.parse("18:00-24:00").end == time(0)
    assert WorkingInterval.parse("22:00-06:00").duration == 8 * HOUR
    assert WorkingInterval.parse("22:00-06:00").spans_midnight
    assert not WorkingInterval.parse("09:00-17:00").spans_midnight
    assert str(WorkingInterval(time(9, 0, 30), time(17))) == "09:00:30-17:00"
    for text in ("24:00-01:00", "09:60-10:00", "09:00-24:01", "09:00 - 10:00", "0900-1000"):
        with pytest.raises(ValidationError, match="is not a time range"):
            WorkingInterval.parse(text)
    with pytest.raises(ValidationError, match="^start: .* is not a time of day"):
        WorkingInterval(time(9, tzinfo=UTC), time(10))


def test_s4_week_is_normalised_to_sorted_tuples() -> None:
    calendar = BusinessCalendar("x", "UTC", [["13:00-18:00", "09:00-12:00"]] + [[]] * 6)
    assert calendar.week[0] == (WorkingInterval.parse("09:00-12:00"),
                                WorkingInterval.parse("13:00-18:00"))
    assert calendar == BusinessCalendar("x", "UTC", {0: ["09:00-12:00", "13:00-18:00"]})


def test_s4_calendar_is_a_value_pickled_and_evolved() -> None:
    calendar = office(holidays=["2026-01-12"])
    calendar.add(local(SHANGHAI, 2026, 1, 9), HOUR)  # fill the caches
    copy = pickle.loads(pickle.dumps(calendar))
    assert copy == calendar
    assert hash(copy) == hash(calendar)
    assert copy.add(local(SHANGHAI, 2026, 1, 9), 20 * HOUR) == calendar.add(
        local(SHANGHAI, 2026, 1, 9), 20 * HOUR
    )
    changed = attrs.evolve(calendar, holidays=[])
    assert changed.add(local(SHANGHAI, 2026, 1, 9, 17), 2 * HOUR) == local(
        SHANGHAI, 2026, 1, 12, 10
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        calendar.name = "other"  # type: ignore[misc]
