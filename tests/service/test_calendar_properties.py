"""Properties of business-time arithmetic (rules S3, S4), checked with hypothesis.

The fast path is compared with a reference written here that walks minute by minute
and decides membership from local wall-clock time alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.service import BusinessCalendar, ExtraWorkingDay

MINUTE = timedelta(minutes=1)
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Shanghai", "Asia/Kolkata")
# Minutes of the day inside the wall-clock hour repeated when clocks turn back. A boundary
# there means its first occurrence for the calendar, while the reference below counts
# every wall-clock minute in the interval (twice for repeated ones), so such boundaries
# are left to the hand-checked tests. In the spring gap the two readings agree.
REPEATED = {"Europe/Berlin": range(121, 180), "America/New_York": range(61, 120)}
# Test windows: a week around the 2026 clock changes (the same dates for fixed zones).
CLOCK_CHANGES = {
    "America/New_York": {"spring": date(2026, 3, 8), "fall": date(2026, 11, 1)},
}
DEFAULT_CHANGES = {"spring": date(2026, 3, 29), "fall": date(2026, 10, 25)}
WINDOW_DAYS = 7

Hours = list[tuple[int, int]]  # (start, end) minutes after local midnight; end may pass 1440


@dataclass(frozen=True)
class Spec:
    """A calendar as plain data, read independently of the implementation."""

    zone: str
    week: list[Hours]
    holidays: frozenset[date]
    extras: dict[date, Hours]

    def hours_on(self, day: date) -> Hours:
        if day in self.holidays:
            return []
        return self.extras.get(day, self.week[day.weekday()])


def text(hours: Hours) -> list[str]:
    def clock(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return [f"{clock(s)}-{'24:00' if e == 1440 else clock(e % 1440)}" for s, e in hours]


@st.composite
def day_hours(draw: st.DrawFn, zone: str, season: str) -> Hours:
    """Up to three disjoint intervals, the last one possibly running past midnight."""
    if draw(st.integers(0, 9)) == 0:
        return [(0, 1440)]  # the whole day, written 00:00-24:00
    minutes = st.integers(0, 1440) | st.integers(115, 185)  # often near 02:00-03:00
    points = sorted(draw(st.lists(minutes, unique=True, max_size=4)))
    hours = [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]
    free_from = hours[-1][1] if hours else 0
    if free_from < 1440 and draw(st.booleans()):
        start = draw(st.integers(free_from, 1439))
        hours.append((start, start + draw(st.integers(1, 720))))
    repeated = REPEATED.get(zone, range(0)) if season == "fall" else range(0)
    assume(not any(m % 1440 in repeated for pair in hours for m in pair))
    return hours


def without_overlaps_across_midnight(week: list[Hours]) -> list[Hours]:
    """Drop each overnight interval that runs into the next day's first interval."""
    for index, hours in enumerate(week):
        following = week[(index + 1) % 7]
        if hours and following and hours[-1][1] - 1440 > following[0][0]:
            week[index] = hours[:-1]
    return week


@st.composite
def calendars(draw: st.DrawFn) -> tuple[Spec, BusinessCalendar, datetime]:
    """A random calendar, its spec, and the first moment (UTC) of its test window."""
    zone = draw(st.sampled_from(ZONES))
    season = draw(st.sampled_from(("spring", "fall")))
    first = CLOCK_CHANGES.get(zone, DEFAULT_CHANGES)[season] - timedelta(days=3)
    days = st.integers(0, WINDOW_DAYS - 1).map(lambda n: first + timedelta(days=n))
    week = without_overlaps_across_midnight([draw(day_hours(zone, season)) for _ in range(7)])
    assume(sum(e - s for hours in week for s, e in hours) >= 120)
    holidays = frozenset(draw(st.lists(days, max_size=4)))
    extras: dict[date, Hours] = {}
    likes: dict[date, int | None] = {}
    worked = [index for index, hours in enumerate(week) if hours]
    for day in draw(st.lists(days.filter(lambda d: d not in holidays), max_size=3, unique=True)):
        like = draw(st.sampled_from(worked) | st.none())
        extras[day] = week[like] if like is not None else draw(day_hours(zone, season)) or [
            (540, 600)
        ]
        likes[day] = like
    try:
        extra_days = [
            ExtraWorkingDay(day, like_weekday=like) if like is not None
            else ExtraWorkingDay(day, text(extras[day]))
            for day, like in likes.items()
        ]
        calendar = BusinessCalendar(
            "random", zone, [text(h) for h in week], holidays, extra_days
        )
    except ValidationError:  # extra days overlapping their neighbours
        assume(False)
        raise
    window_start = datetime.combine(first, time(), ZoneInfo(zone)).astimezone(UTC)
    return Spec(zone, week, holidays, extras), calendar, window_start


def reference_is_working(spec: Spec, moment: datetime) -> bool:
    wall = moment.astimezone(ZoneInfo(spec.zone)).replace(tzinfo=None)
    for day in (wall.date() - timedelta(days=1), wall.date()):
        midnight = datetime.combine(day, time())
        for start, end in spec.hours_on(day):
            if midnight + start * MINUTE <= wall < midnight + end * MINUTE:
                return True
    return False


def reference_add(spec: Spec, start: datetime, minutes: int) -> datetime:
    moment, counted = start.astimezone(UTC), 0  # steps of real, not wall-clock, time
    while counted < minutes:
        counted += reference_is_working(spec, moment)
        moment += MINUTE
    return moment.astimezone(UTC)


def reference_between(spec: Spec, start: datetime, end: datetime) -> timedelta:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    count = sum(
        reference_is_working(spec, start + n * MINUTE) for n in range((end - start) // MINUTE)
    )
    return count * MINUTE


def reference_next(spec: Spec, moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    while not reference_is_working(spec, moment):
        moment += MINUTE
    return moment.astimezone(UTC)


whole_minutes = st.integers(0, WINDOW_DAYS * 1440).map(lambda n: n * MINUTE)
any_offsets = st.integers(0, WINDOW_DAYS * 86_400_000_000).map(
    lambda n: timedelta(microseconds=n)
)
durations = st.integers(0, 200 * 3_600_000_000).map(lambda n: timedelta(microseconds=n))

reference_settings = settings(max_examples=100, deadline=None)
property_settings = settings(max_examples=100, deadline=None)


@reference_settings
@given(calendars(), whole_minutes, st.integers(0, 240))
def test_s4_add_equals_minute_by_minute_reference(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta, minutes: int
) -> None:
    spec, calendar, window = case
    start = window + offset
    assert calendar.add(start, minutes * MINUTE) == reference_add(spec, start, minutes)


@reference_settings
@given(calendars(), whole_minutes, st.integers(0, 3 * 1440))
def test_s4_business_time_between_equals_reference(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta, minutes: int
) -> None:
    spec, calendar, window = case
    start, end = window + offset, window + offset + minutes * MINUTE
    assert calendar.business_time_between(start, end) == reference_between(spec, start, end)


@reference_settings
@given(calendars(), whole_minutes)
def test_s3_working_time_and_next_moment_equal_reference(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta
) -> None:
    spec, calendar, window = case
    moment = window + offset
    assert calendar.is_working_time(moment) == reference_is_working(spec, moment)
    assert calendar.next_working_moment(moment) == reference_next(spec, moment)


@property_settings
@given(calendars(), any_offsets, durations)
def test_s4_add_then_measure_round_trips(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta, duration: timedelta
) -> None:
    _, calendar, window = case
    start = window + offset
    assert calendar.business_time_between(start, calendar.add(start, duration)) == duration


@property_settings
@given(calendars(), any_offsets, any_offsets, durations)
def test_s4_add_is_monotone_in_start(
    case: tuple[Spec, BusinessCalendar, datetime],
    first: timedelta,
    second: timedelta,
    duration: timedelta,
) -> None:
    _, calendar, window = case
    early, late = sorted((window + first, window + second))
    assert calendar.add(early, duration) <= calendar.add(late, duration)


@property_settings
@given(calendars(), any_offsets, durations, durations)
def test_s4_add_is_monotone_and_additive_in_duration(
    case: tuple[Spec, BusinessCalendar, datetime],
    offset: timedelta,
    first: timedelta,
    second: timedelta,
) -> None:
    _, calendar, window = case
    start = window + offset
    shorter, longer = sorted((first, second))
    assert calendar.add(start, shorter) <= calendar.add(start, longer)
    if second:
        assert calendar.add(calendar.add(start, first), second) == calendar.add(
            start, first + second
        )


@property_settings
@given(calendars(), any_offsets, durations.filter(bool))
def test_s4_add_ends_inside_working_time_or_at_an_interval_end(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta, duration: timedelta
) -> None:
    _, calendar, window = case
    deadline = calendar.add(window + offset, duration)
    assert calendar.is_working_time(deadline - timedelta(microseconds=1))


@property_settings
@given(calendars(), any_offsets)
def test_s4_next_working_moment_is_working_idempotent_and_skips_no_work(
    case: tuple[Spec, BusinessCalendar, datetime], offset: timedelta
) -> None:
    _, calendar, window = case
    moment = window + offset
    following = calendar.next_working_moment(moment)
    assert following >= moment
    assert calendar.is_working_time(following)
    assert calendar.next_working_moment(following) == following
    assert calendar.business_time_between(moment, following) == timedelta(0)


@property_settings
@given(calendars(), any_offsets, any_offsets, any_offsets)
def test_s4_business_time_is_additive_and_antisymmetric(
    case: tuple[Spec, BusinessCalendar, datetime], a: timedelta, b: timedelta, c: timedelta
) -> None:
    _, calendar, window = case
    between: Callable[[datetime, datetime], timedelta] = calendar.business_time_between
    x, y, z = window + a, window + b, window + c
    assert between(x, y) + between(y, z) == between(x, z)
    assert between(x, y) == -between(y, x)
    assert (between(x, y) >= timedelta(0)) == (x <= y) or between(x, y) == timedelta(0)
