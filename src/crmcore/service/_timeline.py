"""Prefix sums of working time over consecutive local days (private).

A :class:`Timeline` holds, for a contiguous range of local days, each day's working
periods as UTC microsecond pairs and the running total of working time. Days are
computed once, lazily, in chunks that at least double the range, so a query costs
``O(log days)`` after the days it touches have been seen. Running totals never change
once computed (days prepended get smaller totals), so totals from different calls can
be subtracted.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import NamedTuple

from crmcore.service._localtime import MAX_ORDINAL, MIN_ORDINAL

#: Working periods of one day: sorted ``(start, end)`` pairs in UTC microseconds.
DayPeriods = tuple[tuple[int, int], ...]

_MIN_CHUNK = 64


class NoWorkingTimeError(Exception):
    """The working time asked for lies after the last day that has any."""


class _State(NamedTuple):
    first: int
    days: list[DayPeriods]
    totals: list[int]  # totals[i]: working time before day first + i; len(days) + 1

    @property
    def last(self) -> int:
        return self.first + len(self.days) - 1


class Timeline:
    """Working time of a calendar as a non-decreasing function of the instant.

    ``periods_of(ordinal)`` returns a day's working periods; the periods of consecutive days
    are sorted and disjoint, and a day's periods start at or after its local midnight and
    before the next. ``work_ends_after`` is ``None`` when every future week has working
    time, else the last day ordinal that can have any.
    """

    __slots__ = ("_lock", "_periods_of", "_state", "_work_ends_after")

    def __init__(
        self, periods_of: Callable[[int], DayPeriods], work_ends_after: int | None
    ) -> None:
        self._periods_of = periods_of
        self._work_ends_after = work_ends_after
        self._lock = threading.Lock()
        self._state: _State | None = None

    def measure(self, instant: int, ordinal: int) -> int:
        """Return the working time up to ``instant``, whose local day is ``ordinal``."""
        state = self._ensure(ordinal - 1, ordinal)
        index = ordinal - 1 - state.first
        return (
            state.totals[index]
            + _worked_before(state.days[index], instant)
            + _worked_before(state.days[index + 1], instant)
        )

    def reach(self, total: int) -> int:
        """Return the earliest instant whose measure is ``total`` (above a measured one)."""
        state = self._ensure_total(total)
        day = bisect_left(state.totals, total) - 1
        remaining = total - state.totals[day]
        for start, end in state.days[day]:
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        raise AssertionError("running totals disagree with the day's periods")

    def next_working(self, instant: int, ordinal: int) -> int:
        """Return the earliest working instant at or after ``instant`` (local day ``ordinal``)."""
        state = self._ensure(ordinal - 1, ordinal)
        index = ordinal - 1 - state.first
        for periods in (state.days[index], state.days[index + 1]):
            for start, end in periods:
                if end > instant:
                    return max(start, instant)
        worked = state.totals[index + 2]
        state = self._ensure_total(worked + 1)
        return state.days[bisect_right(state.totals, worked) - 1][0][0]

    def is_working(self, instant: int, ordinal: int) -> bool:
        """Return whether ``instant`` (local day ``ordinal``) lies in a working period."""
        state = self._ensure(ordinal - 1, ordinal)
        index = ordinal - 1 - state.first
        return any(
            start <= instant < end
            for periods in (state.days[index], state.days[index + 1])
            for start, end in periods
        )

    def _ensure_total(self, total: int) -> _State:
        state = self._state
        assert state is not None  # callers measure first
        while state.totals[-1] < total:
            ends = self._work_ends_after
            if (ends is not None and state.last >= ends) or state.last >= MAX_ORDINAL:
                raise NoWorkingTimeError
            state = self._ensure(state.first, state.last + 1)
        return state

    def _ensure(self, low: int, high: int) -> _State:
        state = self._state
        if state is not None and state.first <= low and high <= state.last:
            return state
        with self._lock:
            state = self._state
            if state is None:
                state = self._build(low, high)
            else:
                span = max(len(state.days), _MIN_CHUNK)
                if low < state.first:
                    state = self._prepend(state, min(low, state.first - span))
                if high > state.last:
                    state = self._append(state, max(high, state.last + span))
            self._state = state
            return state

    def _build(self, low: int, high: int) -> _State:
        days = self._days(low, max(high, low + _MIN_CHUNK))
        return _State(low, days, list(accumulate(map(_work, days), initial=0)))

    def _prepend(self, state: _State, low: int) -> _State:
        low = max(low, MIN_ORDINAL - 1)
        days = self._days(low, state.first - 1)
        start = state.totals[0] - sum(map(_work, days))
        totals = list(accumulate(map(_work, days), initial=start))
        return _State(low, days + state.days, totals[:-1] + state.totals)

    def _append(self, state: _State, high: int) -> _State:
        high = min(high, MAX_ORDINAL + 1)
        days = self._days(state.last + 1, high)
        more = list(accumulate(map(_work, days), initial=state.totals[-1]))
        return _State(state.first, state.days + days, state.totals + more[1:])

    def _days(self, low: int, high: int) -> list[DayPeriods]:
        valid = range(MIN_ORDINAL, MAX_ORDINAL + 1)
        return [self._periods_of(o) if o in valid else () for o in range(low, high + 1)]


def _work(periods: DayPeriods) -> int:
    return sum(end - start for start, end in periods)


def _worked_before(periods: DayPeriods, instant: int) -> int:
    total = 0
    for start, end in periods:
        if start >= instant:
            break
        total += (end if end < instant else instant) - start
    return total
