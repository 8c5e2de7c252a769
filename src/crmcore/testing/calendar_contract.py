"""The contract every business calendar must meet, as a pytest test class to subclass.

Subclass :class:`CalendarContract` (in a class named ``Test...``) and provide:

``calendar`` (fixture, required)
    The :class:`~crmcore.service.BusinessCalendar` a calendar factory returns
    (the factory given its :class:`~crmcore.options.Options`).
``calendar_span`` (fixture, optional)
    The ``(first, last)`` UTC datetimes the moments are drawn from; by default
    2025-01-01 to 2027-12-31. Narrow it to the years your calendar covers.

For a calendar registered as ``"mine"``::

    class TestMine(CalendarContract):
        @pytest.fixture
        def calendar(self):
            return open_mine(Options({"country": "FR"}, "calendars.team"))

Checked with hypothesis over moments of the span: each day's working intervals
are ordered and do not overlap, nor overlap the next day's (an overnight
interval included); ``next_working_moment`` is a working moment and never
earlier than the moment given, and is that moment when it is working time;
business time is additive (``a..b`` plus ``b..c`` is ``a..c``), antisymmetric,
never more than the elapsed time; ``add`` reaches exactly the business time
it was given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.service.calendar import BusinessCalendar
from crmcore.testing.pytest_plugin import CONTRACT_MARKER

Span = tuple[datetime, datetime]
"""The first and last moment (UTC) the contract draws moments from."""

DEFAULT_SPAN: Span = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
"""The span used when a subclass does not override ``calendar_span``."""

_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


def moments(span: Span) -> st.SearchStrategy[datetime]:
    """UTC moments in ``span``, to the microsecond; on the hour one time in three, so
    interval boundaries (``09:00``, ``18:00``) are hit."""
    first, last = span
    seconds = int((last - first).total_seconds())
    exact = st.integers(0, seconds * 1_000_000).map(
        lambda us: first + timedelta(microseconds=us))
    on_the_hour = st.integers(0, seconds // 3600).map(lambda hours: first + timedelta(hours=hours))
    return st.one_of(on_the_hour, exact, exact)


def _days(span: Span) -> st.SearchStrategy[date]:
    first, last = span
    return st.dates(min_value=first.date(), max_value=last.date())


@getattr(pytest.mark, CONTRACT_MARKER)
class CalendarContract:
    """Tests every business calendar must pass; see the module documentation for fixtures."""

    max_examples: ClassVar[int] = 60
    """Hypothesis examples per property."""

    @pytest.fixture
    def calendar_span(self) -> Span:
        """Where the moments are drawn from; override to match the calendar's years."""
        return DEFAULT_SPAN

    def test_is_a_business_calendar(self, calendar: BusinessCalendar) -> None:
        """The factory returns a :class:`~crmcore.service.BusinessCalendar` with a name."""
        assert isinstance(calendar, BusinessCalendar)
        assert calendar.name.strip()

    def test_working_intervals_are_ordered_and_do_not_overlap(
        self, calendar: BusinessCalendar, calendar_span: Span
    ) -> None:
        """A day's periods are ordered, non-empty, and end before the next day's begin."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(_days(calendar_span))
        def check(day: date) -> None:
            starts = [interval.start for interval in calendar.intervals_on(day)]
            assert starts == sorted(starts)
            today = calendar.utc_periods(day.toordinal())
            tomorrow = calendar.utc_periods(day.toordinal() + 1)
            periods = [*today, *tomorrow]
            for start, end in periods:
                assert start < end, (day, start, end)
            for (_, end), (start, _) in pairwise(periods):
                assert end <= start, (day, periods)

        check()

    def test_next_working_moment_is_working_and_never_earlier(
        self, calendar: BusinessCalendar, calendar_span: Span
    ) -> None:
        """``next_working_moment(m)`` is working time, ``>= m``, and ``m`` itself if working."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(moments(calendar_span))
        def check(moment: datetime) -> None:
            found = calendar.next_working_moment(moment)
            assert found >= moment
            assert calendar.is_working_time(found), (moment, found)
            if calendar.is_working_time(moment):
                assert found == moment
            else:  # nothing worked in between: no business time passes
                assert calendar.business_time_between(moment, found) == timedelta(0)

        check()

    def test_business_time_is_additive(
        self, calendar: BusinessCalendar, calendar_span: Span
    ) -> None:
        """``a..b`` plus ``b..c`` is ``a..c``; reversed it is negated; never above elapsed."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(moments(calendar_span), moments(calendar_span), moments(calendar_span))
        def check(a: datetime, b: datetime, c: datetime) -> None:
            a_b = calendar.business_time_between(a, b)
            b_c = calendar.business_time_between(b, c)
            assert a_b + b_c == calendar.business_time_between(a, c)
            assert calendar.business_time_between(b, a) == -a_b
            low, high = min(a, b), max(a, b)
            assert timedelta(0) <= calendar.business_time_between(low, high) <= high - low

        check()

    def test_add_reaches_the_business_time_given(
        self, calendar: BusinessCalendar, calendar_span: Span
    ) -> None:
        """``add(start, d)`` is after ``start`` with exactly ``d`` of business time between,
        and ``add(start, between(start, end))`` is no later than ``end``."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(moments(calendar_span), moments(calendar_span))
        def check(one: datetime, other: datetime) -> None:
            start, end = min(one, other), max(one, other)
            worked = calendar.business_time_between(start, end)
            reached = calendar.add(start, worked)
            assert start <= reached <= end
            assert calendar.business_time_between(start, reached) == worked
            assert calendar.add(start, timedelta(0)) == start

        check()
