"""SLA clocks of many tickets at once, as columns (S4 at scale; needs ``crmcore[fast]``).

:func:`sla_columns` computes, for every ticket of a :class:`TicketColumns`, exactly
what :func:`crmcore.policies.sla.sla_clock` computes for one: elapsed and paused
business time, the state, the due moment and the warning moments, to the
microsecond. Times are int64 microseconds since 1970-01-01 UTC; :data:`NO_TIME`
stands for "none".

The business calendar becomes a table of its working periods in UTC with running
totals, so measuring an instant is a binary search and reaching a total of working
time is another: a million tickets cost a few array passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from crmcore.errors import PluginError, ValidationError
from crmcore.model import Ticket
from crmcore.policies.grades import Grades
from crmcore.policies.sla import SlaPolicy, SlaState
from crmcore.policies.tickets import StatusInterval, intervals_of_ticket
from crmcore.service import BusinessCalendar

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is the optional extra "fast"
    np = None  # type: ignore[assignment]

__all__ = [
    "KIND_PAUSED",
    "KIND_RUNNING",
    "KIND_STOPPED",
    "NO_TIME",
    "STATE_CODES",
    "ClockColumns",
    "PeriodTable",
    "SlaColumns",
    "TicketColumns",
    "from_micros",
    "sla_columns",
    "ticket_columns",
    "to_micros",
]

Array = Any
"""A numpy array (numpy is optional, so not named in annotations)."""

NO_TIME = 2**63 - 1
"""The int64 that stands for "no moment"."""

KIND_RUNNING, KIND_PAUSED, KIND_STOPPED = 0, 1, 2
"""Interval kinds: the clock runs, pauses or stops."""

STATE_CODES: tuple[SlaState, ...] = tuple(SlaState)
"""``ClockColumns.state`` codes index this tuple."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MAX_EXTENSION_DAYS = 400 * 366


def _numpy() -> Any:
    if np is None:
        from crmcore.i18n import tr

        raise PluginError(tr("batch SLA clocks need numpy: pip install 'crmcore[fast]'"))
    return np


def to_micros(moment: datetime) -> int:
    """An aware datetime as microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _ONE_US


def from_micros(instant: int) -> datetime | None:
    """The inverse of :func:`to_micros`; None for :data:`NO_TIME`."""
    return None if instant == NO_TIME else _EPOCH + timedelta(microseconds=int(instant))


def _day_periods(calendar: BusinessCalendar, ordinal: int) -> tuple[tuple[int, int], ...]:
    """The UTC working periods (µs) of the calendar's local day ``ordinal``.

    Uses the calendar's own conversion (DST gaps and folds included) so the table
    agrees with :meth:`BusinessCalendar.add` to the microsecond.
    """
    return calendar.utc_periods(ordinal)


class PeriodTable:
    """A calendar's working periods over a range of days, with running totals.

    ``measure(x)`` is the working time before instants ``x`` (from an arbitrary
    origin); ``reach(t)`` the earliest instant whose measure is ``t``. The table
    grows to the right when a total lies beyond it.
    """

    def __init__(self, calendar: BusinessCalendar, low_us: int, high_us: int) -> None:
        numpy = _numpy()
        self.calendar = calendar
        self.first = low_us // _DAY_US + _EPOCH_ORDINAL - 2
        self.last = self.first - 1
        empty = numpy.zeros(0, dtype=numpy.int64)
        self.starts, self.ends, self.before, self.after = empty, empty, empty, empty
        self._extend(high_us // _DAY_US + _EPOCH_ORDINAL + 2)

    def _extend(self, last: int) -> None:
        numpy = _numpy()
        periods = [period for ordinal in range(self.last + 1, last + 1)
                   for period in _day_periods(self.calendar, ordinal)]
        starts = numpy.array([p[0] for p in periods], dtype=numpy.int64)
        ends = numpy.array([p[1] for p in periods], dtype=numpy.int64)
        base = int(self.after[-1]) if self.after.size else 0
        after = base + numpy.cumsum(ends - starts)
        self.starts = numpy.concatenate((self.starts, starts))
        self.ends = numpy.concatenate((self.ends, ends))
        self.before = numpy.concatenate((self.before, after - (ends - starts)))
        self.after = numpy.concatenate((self.after, after))
        self.last = last

    def measure(self, instants: Array) -> Array:
        """Working time before each instant (µs), from the table's origin."""
        numpy = _numpy()
        if not self.starts.size:
            return numpy.zeros_like(instants)
        index = numpy.maximum(numpy.searchsorted(self.starts, instants, side="right") - 1, 0)
        starts = self.starts[index]
        inside = numpy.clip(instants - starts, 0, self.ends[index] - starts)
        return self.before[index] + inside

    def reach(self, totals: Array) -> Array:
        """The earliest instant at which each measure total is reached (totals above the
        measure of some instant in the table)."""
        numpy = _numpy()
        if totals.size:
            need = int(totals.max())
            limit = self.last + _MAX_EXTENSION_DAYS
            while not self.after.size or int(self.after[-1]) < need:
                if self.last >= limit:
                    from crmcore.i18n import tr

                    raise ValidationError("target", need, tr(
                        "cannot be met: calendar {calendar!r} has too little working time"
                    ).format(calendar=self.calendar.name))
                self._extend(self.last + max(64, self.last - self.first + 1))
        index = numpy.searchsorted(self.after, totals, side="left")
        return self.starts[index] + (totals - self.before[index])


@attrs.frozen
class TicketColumns:
    """Tickets as columns: one row per ticket, one per status interval.

    Per ticket (length n): ``first_response_us`` (:data:`NO_TIME` if none),
    ``first_target_us`` and ``resolution_target_us`` (business µs). Per interval
    (length m, sorted by ticket, then start; every ticket has at least one, and its
    first starts at the opening): ``interval_ticket`` (0..n-1), ``interval_start_us``
    and ``interval_kind`` (:data:`KIND_RUNNING`, :data:`KIND_PAUSED`,
    :data:`KIND_STOPPED`). ``ids`` names the tickets, when known.
    """

    first_response_us: Array
    first_target_us: Array
    resolution_target_us: Array
    interval_ticket: Array
    interval_start_us: Array
    interval_kind: Array
    ids: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.first_response_us)


@attrs.frozen
class ClockColumns:
    """One clock of every ticket; see :class:`~crmcore.policies.sla.SlaClock`.

    ``state`` codes index :data:`STATE_CODES`; ``warn_us`` has one column per
    warning threshold; times are :data:`NO_TIME` when absent.
    """

    elapsed_us: Array
    paused_us: Array
    state: Array
    due_us: Array
    warn_us: tuple[Array, ...]
    running: Array
    stopped_us: Array

    def counts(self) -> dict[str, int]:
        """How many clocks are in each state."""
        numpy = _numpy()
        found = numpy.bincount(self.state, minlength=len(STATE_CODES))
        return {state.value: int(found[code]) for code, state in enumerate(STATE_CODES)}


@attrs.frozen
class SlaColumns:
    """Both clocks of every ticket of a :class:`TicketColumns`."""

    first_response: ClockColumns
    resolution: ClockColumns


def _kind(status: str, policy: SlaPolicy) -> int:
    if status in policy.paused_statuses:
        return KIND_PAUSED
    return KIND_STOPPED if status in policy.stopped_statuses else KIND_RUNNING


def ticket_columns(tickets: Sequence[Ticket], *, grades: Grades | None = None,
                   policy: SlaPolicy | None = None,
                   intervals: Mapping[str, Sequence[StatusInterval]] | None = None
                   ) -> TicketColumns:
    """Columns of ``tickets``, their targets from ``policy`` and ``grades`` (customer id
    -> grade); ``intervals`` by ticket id (default: read from each ticket's fields)."""
    numpy = _numpy()
    policy = policy or SlaPolicy()
    grades = grades or {}
    first_response, first_target, resolution_target = [], [], []
    owner, starts, kinds = [], [], []
    for index, ticket in enumerate(tickets):
        history = (intervals or {}).get(ticket.id) or intervals_of_ticket(ticket)
        target = policy.table.target(grades.get(ticket.customer_id), ticket.priority)
        first_response.append(NO_TIME if ticket.first_response_at is None
                              else to_micros(ticket.first_response_at))
        first_target.append(target.first_response // _ONE_US)
        resolution_target.append(target.resolution // _ONE_US)
        for interval in history:
            owner.append(index)
            starts.append(to_micros(interval.start))
            kinds.append(_kind(interval.status, policy))
    return TicketColumns(
        first_response_us=numpy.array(first_response, dtype=numpy.int64),
        first_target_us=numpy.array(first_target, dtype=numpy.int64),
        resolution_target_us=numpy.array(resolution_target, dtype=numpy.int64),
        interval_ticket=numpy.array(owner, dtype=numpy.int64),
        interval_start_us=numpy.array(starts, dtype=numpy.int64),
        interval_kind=numpy.array(kinds, dtype=numpy.int8),
        ids=tuple(ticket.id for ticket in tickets),
    )


@attrs.frozen
class _Intervals:
    """The interval columns with what every clock needs precomputed."""

    ticket: Array
    start: Array
    end: Array
    kind: Array
    group: Array  # index of each ticket's first interval


def _prepare(columns: TicketColumns, as_of_us: int) -> _Intervals:
    numpy = _numpy()
    ticket = numpy.asarray(columns.interval_ticket, dtype=numpy.int64)
    start = numpy.asarray(columns.interval_start_us, dtype=numpy.int64)
    n = len(columns)
    if not ticket.size:
        raise ValidationError("interval_ticket", 0, "has no interval")
    new_group = numpy.empty(ticket.size, dtype=bool)
    new_group[0] = True
    numpy.not_equal(ticket[1:], ticket[:-1], out=new_group[1:])
    group = numpy.flatnonzero(new_group)
    if group.size != n or not numpy.array_equal(ticket[group], numpy.arange(n)):
        raise ValidationError("interval_ticket", "...", "is not sorted with every ticket 0..n-1 "
                              "present")
    same = ~new_group[1:]
    if numpy.any(start[1:][same] < start[:-1][same]):
        raise ValidationError("interval_start_us", "...", "is not sorted within a ticket")
    if numpy.any(start[group] > as_of_us):
        raise ValidationError("as_of", from_micros(as_of_us), "is before a ticket was opened")
    end = numpy.empty_like(start)
    end[:-1] = start[1:]
    end[group[1:] - 1] = NO_TIME
    end[-1] = NO_TIME
    kind = numpy.asarray(columns.interval_kind, dtype=numpy.int8)
    return _Intervals(ticket, start, end, kind, group)


def _clock(table: PeriodTable, rows: _Intervals, target: Array, stop: Array, as_of_us: int,
           policy: SlaPolicy) -> ClockColumns:
    numpy = _numpy()
    clock_end = numpy.minimum(stop, as_of_us)
    per_row_end = clock_end[rows.ticket]
    active = rows.start <= per_row_end
    begin = numpy.minimum(rows.start, per_row_end)
    measured_begin = table.measure(begin)
    work = table.measure(numpy.minimum(rows.end, per_row_end)) - measured_begin
    work[~active] = 0
    running_rows = active & (rows.kind == KIND_RUNNING)
    worked = numpy.where(running_rows, work, 0)
    elapsed = numpy.add.reduceat(worked, rows.group)
    paused = numpy.add.reduceat(numpy.where(active & (rows.kind == KIND_PAUSED), work, 0),
                                rows.group)
    current = rows.group + numpy.add.reduceat(active.astype(numpy.int64), rows.group) - 1
    current_kind = rows.kind[current]
    stopped_us = numpy.where(stop <= as_of_us, stop,
                             numpy.where(current_kind == KIND_STOPPED, rows.start[current],
                                         NO_TIME))
    stopped = stopped_us != NO_TIME
    cumulative = numpy.cumsum(worked)
    done_before = cumulative - worked
    done_before -= done_before[rows.group][rows.ticket]
    as_of_measure = table.measure(numpy.array([as_of_us], dtype=numpy.int64))[0]

    def moment_of(total: Array) -> Array:
        row_total = total[rows.ticket]
        crossing = running_rows & (done_before < row_total) & (row_total <= done_before + worked)
        moments = numpy.full(total.shape, NO_TIME, dtype=numpy.int64)
        where = numpy.flatnonzero(crossing)
        moments[rows.ticket[where]] = table.reach(
            measured_begin[where] + row_total[where] - done_before[where])
        projected = numpy.flatnonzero(~stopped & (elapsed < total))
        moments[projected] = table.reach(as_of_measure + total[projected] - elapsed[projected])
        return moments

    # the same arithmetic as threshold_micros: a float product, truncated
    thresholds = [numpy.floor(target.astype(numpy.float64) * fraction).astype(numpy.int64)
                  for fraction in policy.warn_at]
    codes = {state: STATE_CODES.index(state) for state in SlaState}
    reached = elapsed >= target
    warned = elapsed >= thresholds[0] if thresholds else numpy.zeros_like(reached)
    state = numpy.where(
        stopped, numpy.where(reached, codes[SlaState.MISSED], codes[SlaState.MET]),
        numpy.where(reached, codes[SlaState.BREACHED],
                    numpy.where(warned, codes[SlaState.WARNING], codes[SlaState.ON_TRACK])),
    ).astype(numpy.int8)
    return ClockColumns(
        elapsed_us=elapsed, paused_us=paused, state=state, due_us=moment_of(target),
        warn_us=tuple(moment_of(column) for column in thresholds),
        running=~stopped & (current_kind != KIND_PAUSED), stopped_us=stopped_us,
    )


def sla_columns(columns: TicketColumns, calendar: BusinessCalendar, as_of: datetime, *,
                policy: SlaPolicy | None = None) -> SlaColumns:
    """Both SLA clocks of every ticket as of ``as_of`` (see the module)."""
    numpy = _numpy()
    policy = policy or SlaPolicy()
    as_of_us = to_micros(as_of)
    if not len(columns):
        empty = numpy.zeros(0, dtype=numpy.int64)
        nothing = ClockColumns(empty, empty, empty.astype(numpy.int8), empty,
                               tuple(empty for _ in policy.warn_at), empty.astype(bool), empty)
        return SlaColumns(nothing, nothing)
    rows = _prepare(columns, as_of_us)
    first_stopped = numpy.minimum.reduceat(
        numpy.where(rows.kind == KIND_STOPPED, rows.start, NO_TIME), rows.group)
    first_response = numpy.minimum(
        numpy.asarray(columns.first_response_us, dtype=numpy.int64), first_stopped)
    table = PeriodTable(calendar, int(rows.start.min()), as_of_us)
    never = numpy.full(len(columns), NO_TIME, dtype=numpy.int64)
    first_target = numpy.asarray(columns.first_target_us, dtype=numpy.int64)
    resolution_target = numpy.asarray(columns.resolution_target_us, dtype=numpy.int64)
    return SlaColumns(
        first_response=_clock(table, rows, first_target, first_response, as_of_us, policy),
        resolution=_clock(table, rows, resolution_target, never, as_of_us, policy),
    )
