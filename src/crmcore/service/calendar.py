"""Business calendars: local working hours, holidays and make-up working days.

A :class:`BusinessCalendar` answers the questions of SLA clocks (rule S4: give the
customer a definite time) in the local time of a team or customer (rule S3).

Conventions
-----------
* Working hours are local wall-clock intervals per weekday, ``start`` inclusive and
  ``end`` exclusive. An interval whose end is not after its start spans midnight
  (``22:00-06:00``) and belongs to the day it starts on; an end of ``00:00`` (written
  ``24:00``) is the midnight that ends the day, so ``00:00-24:00`` is the whole day (a
  24x7 desk works it every day). Intervals may touch but not overlap, also across
  midnight.
* A holiday removes every interval that starts on it, including one that runs past
  midnight; the tail of the previous day's overnight interval is still worked.
* An extra working day (a make-up day such as China's 调休 weekends) replaces the
  weekday's hours of its date by its own hours or by those of another weekday; on a
  normal working day it changes that day's hours (e.g. a short Christmas Eve).
* Daylight saving time: a local interval lasts its real elapsed time (``01:00-04:00`` on
  a spring-forward day is two hours, on a fall-back day four). An ambiguous boundary
  means its first occurrence; a nonexistent one the moment the clocks jumped.
* Inputs are timezone-aware datetimes (naive ones raise
  :class:`~crmcore.errors.ValidationError`), taken at the UTC offset Python gives them
  (``fold`` picks the occurrence of an ambiguous time); results are in UTC.
* ``add(start, d)`` is the earliest moment ``t >= start`` with
  ``business_time_between(start, t) == d``: ``start`` itself for ``d == 0``, else the end
  of the last consumed working time, which is inside working time or exactly at the end
  of an interval. ``business_time_between`` is antisymmetric: negative when ``end`` is
  before ``start``.

Working time per local day is computed once per calendar and kept as running totals, so
a deadline costs ``O(log days)`` once the days it spans have been seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import N_, tr
from crmcore.service._localtime import (
    DAY_US,
    ONE_US,
    from_utc_us,
    is_aware,
    local_ordinal,
    to_utc_us,
    wall_to_utc_us,
)
from crmcore.service._timeline import DayPeriods, NoWorkingTimeError, Timeline
from crmcore.validation import parse_date

#: Weekday names in :meth:`datetime.date.weekday` order, as used in calendar documents.
WEEKDAY_NAMES: tuple[str, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)

#: The working intervals of one day, sorted by start.
Intervals = tuple["WorkingInterval", ...]

_TIME_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


def _naive_time(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValidationError(attribute.name, value, "is not a time of day without time zone")


def _time_us(value: time) -> int:
    return (
        (value.hour * 60 + value.minute) * 60 + value.second
    ) * 1_000_000 + value.microsecond


def _format_time(value: time, *, is_end: bool = False) -> str:
    if is_end and value == time(0):
        return "24:00"
    return value.isoformat("minutes" if not value.second and not value.microsecond else "auto")


@attrs.frozen
class WorkingInterval:
    """Working hours within one local day, from ``start`` (inclusive) to ``end`` (exclusive).

    ``end <= start`` means the interval runs past midnight into the next day; an ``end``
    of ``00:00`` is the midnight ending the day, so ``00:00-00:00`` is the whole day
    (written ``00:00-24:00``).
    """

    start: time = attrs.field(validator=_naive_time)
    end: time = attrs.field(validator=_naive_time)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end != time(0):
            raise ValidationError("", str(self), "starts and ends at the same time")

    @classmethod
    def parse(cls, text: str) -> WorkingInterval:
        """Parse ``"HH:MM-HH:MM"``; the end may be ``24:00``."""
        match = _TIME_RANGE.fullmatch(text) if isinstance(text, str) else None
        hours_minutes = [int(group) for group in match.groups()] if match else [99] * 4
        start_h, start_m, end_h, end_m = hours_minutes
        if (end_h, end_m) == (24, 0):
            end_h = 0
        if max(start_h, end_h) > 23 or max(start_m, end_m) > 59:
            raise ValidationError("", text, "is not a time range HH:MM-HH:MM")
        return cls(time(start_h, start_m), time(end_h, end_m))

    @property
    def spans_midnight(self) -> bool:
        """Whether the interval ends on the next day."""
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        """Wall-clock length (the real length differs on a day clocks change)."""
        start, end = _offsets(self)
        return timedelta(microseconds=end - start)

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end, is_end=True)}"


def _offsets(interval: WorkingInterval) -> tuple[int, int]:
    """Return start and end as microseconds after the local midnight of its day."""
    end = _time_us(interval.end) + (DAY_US if interval.spans_midnight else 0)
    return _time_us(interval.start), end


def _to_weekday(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(value.lower())
    raise ValidationError(field, value, "is not a weekday (monday..sunday or 0..6)")


def _items(value: object, field: str, what: str) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(field, value, tr("is not a list of {what}").format(what=tr(what)))
    return list(value)


def _to_interval(value: object, field: str) -> WorkingInterval:
    if isinstance(value, WorkingInterval):
        return value
    try:
        return WorkingInterval.parse(value)  # type: ignore[arg-type]  # parse checks the type
    except ValidationError as error:
        raise error.at(field) from None


def _to_intervals(value: object, field: str) -> Intervals:
    """Convert a list of intervals or ``"HH:MM-HH:MM"`` texts; sort and check overlaps."""
    items = _items(value, field, N_("time ranges HH:MM-HH:MM"))
    intervals = sorted(
        (_to_interval(item, f"{field}[{i}]") for i, item in enumerate(items)),
        key=lambda interval: interval.start,
    )
    for earlier, later in pairwise(intervals):
        if _offsets(earlier)[1] > _offsets(later)[0]:
            raise ValidationError(field, str(later), tr("overlaps {other}").format(
                other=earlier))
    return tuple(intervals)


def _check_next_day(field: str, today: Intervals, tomorrow: Intervals, label: str) -> None:
    """Reject an interval running past midnight into the first interval of the next day."""
    if today and tomorrow and _offsets(today[-1])[1] - DAY_US > _offsets(tomorrow[0])[0]:
        raise ValidationError(field, str(today[-1]), tr("overlaps {other} on {day}").format(
            other=tomorrow[0], day=label))


def _to_week(value: Mapping[Any, Any] | Sequence[Any]) -> tuple[Intervals, ...]:
    """Convert ``{weekday: intervals}`` (names or 0..6) or seven lists, Monday first."""
    if isinstance(value, Mapping):
        days: list[Intervals | None] = [None] * 7
        for key, hours in value.items():
            index = _to_weekday(key, f"week.{key}")
            if days[index] is not None:
                raise ValidationError("week", key, "names a weekday given twice")
            days[index] = _to_intervals(hours, f"week.{WEEKDAY_NAMES[index]}")
        week = tuple(day or () for day in days)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:
        pairs = zip(WEEKDAY_NAMES, value, strict=True)
        week = tuple(_to_intervals(hours, f"week.{name}") for name, hours in pairs)
    else:
        raise ValidationError("week", value, "is not a mapping of weekdays to time ranges")
    for index, name in enumerate(WEEKDAY_NAMES):
        following = (index + 1) % 7
        _check_next_day(f"week.{name}", week[index], week[following], WEEKDAY_NAMES[following])
    return week


def _to_day(value: date | str) -> date:
    return parse_date(value, "day")


def _to_hours(value: Iterable[WorkingInterval | str]) -> Intervals:
    return _to_intervals(value, "hours")


def _to_optional_weekday(value: int | str | None) -> int | None:
    return None if value is None else _to_weekday(value, "like_weekday")


@attrs.frozen
class ExtraWorkingDay:
    """A date worked although its weekday normally is not (a make-up day, 调休).

    Give either ``hours`` (intervals or ``"HH:MM-HH:MM"`` texts) or ``like_weekday`` (0..6
    or a name): the date is then worked with that weekday's hours of the calendar.
    """

    day: date = attrs.field(converter=_to_day)
    hours: Intervals = attrs.field(default=(), converter=_to_hours)
    like_weekday: int | None = attrs.field(default=None, converter=_to_optional_weekday)

    def __attrs_post_init__(self) -> None:
        if bool(self.hours) == (self.like_weekday is not None):
            raise ValidationError(
                "", self.day.isoformat(), "needs either hours or like_weekday, not both"
            )


def _to_holidays(value: Iterable[date | str]) -> frozenset[date]:
    items = _items(value, "holidays", N_("dates"))
    return frozenset(parse_date(item, f"holidays[{i}]") for i, item in enumerate(items))


def _to_extra_days(value: Iterable[ExtraWorkingDay]) -> tuple[ExtraWorkingDay, ...]:
    items = _items(value, "extra_working_days", N_("extra working days"))
    for i, item in enumerate(items):
        if not isinstance(item, ExtraWorkingDay):
            raise ValidationError(f"extra_working_days[{i}]", item, "is not an ExtraWorkingDay")
    days = sorted(items, key=lambda extra: extra.day)
    for earlier, later in pairwise(days):
        if earlier.day == later.day:
            raise ValidationError("extra_working_days", later.day.isoformat(), "is given twice")
    return tuple(days)


def _non_empty_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(attribute.name, value, "is not a non-empty text")


def _iana_zone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    try:
        ZoneInfo(value)  # type: ignore[arg-type]  # wrong types raise and are reported
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(attribute.name, value, "is not an IANA time zone") from None


@attrs.frozen
class BusinessCalendar:
    """Working time of a team in one IANA time zone; see the module for the conventions.

    ``week`` maps weekdays (names or 0..6) to intervals or ``"HH:MM-HH:MM"`` texts, or is
    a sequence of seven such lists starting on Monday; it is stored as seven sorted
    tuples. ``holidays`` are local dates without working time. Invalid data raises
    :class:`~crmcore.errors.ValidationError` naming the field and value.
    """

    name: str = attrs.field(validator=_non_empty_text)
    time_zone: str = attrs.field(validator=_iana_zone)
    week: tuple[Intervals, ...] = attrs.field(converter=_to_week)
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_to_holidays)
    extra_working_days: tuple[ExtraWorkingDay, ...] = attrs.field(
        default=(), converter=_to_extra_days
    )
    _zone: ZoneInfo = attrs.field(init=False, eq=False, repr=False)
    _extra_hours: dict[date, Intervals] = attrs.field(init=False, eq=False, repr=False)
    _timeline: Timeline = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        extra_hours = {extra.day: self._hours_of(extra) for extra in self.extra_working_days}
        object.__setattr__(self, "_extra_hours", extra_hours)
        self._check_extra_days()
        object.__setattr__(self, "_timeline", Timeline(self.utc_periods, self._work_ends_after()))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the fields only; caches are rebuilt."""
        return type(self), (
            self.name, self.time_zone, self.week, self.holidays, self.extra_working_days,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    def intervals_on(self, day: date) -> Intervals:
        """Return the local working intervals that start on ``day``."""
        if day in self.holidays:
            return ()
        extra = self._extra_hours.get(day)
        return self.week[day.weekday()] if extra is None else extra

    def is_working_time(self, moment: datetime) -> bool:
        """Return whether ``moment`` lies in a working interval (ends excluded)."""
        return self._timeline.is_working(*self._instant(moment, "moment"))

    def next_working_moment(self, moment: datetime) -> datetime:
        """Return the earliest working moment at or after ``moment``, in UTC."""
        try:
            return from_utc_us(self._timeline.next_working(*self._instant(moment, "moment")))
        except NoWorkingTimeError:
            raise self._never("moment", moment) from None

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Return when ``duration`` of working time has elapsed after ``start``, in UTC.

        ``start`` itself for a zero duration; a negative one raises ValidationError.
        """
        return self.add_many((start,), duration)[0]

    def add_many(self, starts: Iterable[datetime], duration: timedelta) -> list[datetime]:
        """Return :meth:`add` of ``duration`` to each start, in order (for many tickets)."""
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise ValidationError("duration", duration, "is not a non-negative timedelta")
        work = duration // ONE_US
        timeline = self._timeline
        results = []
        for start in starts:
            instant, ordinal = self._instant(start, "start")
            if work:
                try:
                    instant = timeline.reach(timeline.measure(instant, ordinal) + work)
                except NoWorkingTimeError:
                    raise self._never("duration", duration) from None
            results.append(from_utc_us(instant))
        return results

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the working time from ``start`` to ``end``; negative if ``end`` is earlier."""
        before = self._timeline.measure(*self._instant(start, "start"))
        after = self._timeline.measure(*self._instant(end, "end"))
        return timedelta(microseconds=after - before)

    def _instant(self, moment: datetime, field: str) -> tuple[int, int]:
        if not isinstance(moment, datetime) or not is_aware(moment):
            raise ValidationError(field, moment, "is not a timezone-aware datetime")
        return to_utc_us(moment), local_ordinal(moment, self._zone)

    def _never(self, field: str, value: object) -> ValidationError:
        if any(self.week):
            reason = tr("cannot be met before the end of year 9999")
        elif self._extra_hours:
            last = max(self._extra_hours).isoformat()
            reason = tr("cannot be met: calendar {calendar!r} has no working time after "
                        "{last}").format(calendar=self.name, last=last)
        else:
            reason = tr("cannot be met: calendar {calendar!r} has no working time at "
                        "all").format(calendar=self.name)
        return ValidationError(field, value, reason)

    def _hours_of(self, extra: ExtraWorkingDay) -> Intervals:
        if extra.like_weekday is None:
            return extra.hours
        hours = self.week[extra.like_weekday]
        if not hours:
            weekday = WEEKDAY_NAMES[extra.like_weekday]
            reason = tr("is worked like {weekday}, which has no working hours").format(
                weekday=weekday)
            raise ValidationError("extra_working_days", extra.day.isoformat(), reason)
        return hours

    def _check_extra_days(self) -> None:
        one_day = timedelta(days=1)
        for day in self._extra_hours:
            if day in self.holidays:
                raise ValidationError("extra_working_days", day.isoformat(), "is also a holiday")
            before, after = day - one_day, day + one_day
            field = "extra_working_days"
            _check_next_day(field, self.intervals_on(before), self.intervals_on(day), str(day))
            _check_next_day(field, self.intervals_on(day), self.intervals_on(after), str(after))

    def _work_ends_after(self) -> int | None:
        if any(self.week):
            return None
        return max((day.toordinal() + 1 for day in self._extra_hours), default=0)

    def utc_periods(self, ordinal: int) -> DayPeriods:
        """The working periods of the local day with this proleptic ordinal, in UTC.

        Each period is a ``(start, end)`` pair of microseconds since the Unix
        epoch; an interval that falls into a DST gap has no real time and is
        left out. This is what :meth:`add` walks, exposed for batch code that
        must agree with it to the microsecond.
        """
        periods = []
        for interval in self.intervals_on(date.fromordinal(ordinal)):
            start, end = (wall_to_utc_us(self._zone, ordinal, off) for off in _offsets(interval))
            if end > start:  # an interval inside a DST gap has no real time
                periods.append((start, end))
        return tuple(periods)
