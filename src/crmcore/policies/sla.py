"""Service-level targets and SLA clocks on business time (S4: a definite time for every request).

A ticket has two clocks: *first response* and *resolution*. Each counts the business
time (a :class:`~crmcore.service.BusinessCalendar`) the ticket spends in running
statuses; it pauses in :attr:`SlaPolicy.paused_statuses` (the paused business time is
kept in :attr:`SlaClock.paused`, never lost) and stops in
:attr:`SlaPolicy.stopped_statuses`. The first-response clock also stops at
``first_response_at``. Targets come from an :class:`SlaTable`, grade x priority.

For a clock as of a time, ``elapsed + paused`` is the business time between the
opening and the stop (or ``as_of``), whatever the path through the statuses: a ticket
created at night starts counting when work starts, and one that goes straight from a
paused status to resolved keeps its paused time.

>>> from datetime import UTC, datetime, timedelta
>>> from crmcore.service import BusinessCalendar
>>> from crmcore.policies.tickets import status_intervals
>>> office = BusinessCalendar("office", "UTC", {d: ["09:00-17:00"] for d in range(5)})
>>> opened = datetime(2026, 3, 2, 16, tzinfo=UTC)                 # Monday, 16:00
>>> history = status_intervals(opened, [(datetime(2026, 3, 3, 10, tzinfo=UTC), "on_hold")])
>>> clock = sla_clock(history, timedelta(hours=4), office,
...                   as_of=datetime(2026, 3, 3, 12, tzinfo=UTC))
>>> clock.elapsed, clock.paused, clock.state.value
(datetime.timedelta(seconds=7200), datetime.timedelta(seconds=7200), 'on_track')
>>> clock.due_at  # projected: if work resumed now, 2 hours remain
datetime.datetime(2026, 3, 3, 14, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import attrs

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.model import Priority, Ticket, TicketStatus
from crmcore.policies.grades import grade_or_last
from crmcore.policies.tickets import StatusInterval, intervals_of_ticket
from crmcore.service import BusinessCalendar
from crmcore.vocabulary import known_terms, member

__all__ = [
    "DEFAULT_PAUSED_STATUSES",
    "DEFAULT_SLA_HOURS",
    "DEFAULT_SLA_TABLE",
    "DEFAULT_STOPPED_STATUSES",
    "ResponseHours",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "SlaTable",
    "SlaTarget",
    "TicketSla",
    "sla_clock",
    "threshold_micros",
    "ticket_sla",
]

DEFAULT_SLA_HOURS: dict[str, dict[str, tuple[float, float]]] = {
    "A": {"urgent": (1, 4), "high": (2, 8), "normal": (4, 16), "low": (8, 40)},
    "B": {"urgent": (2, 8), "high": (4, 16), "normal": (8, 32), "low": (16, 80)},
    "C": {"urgent": (4, 16), "high": (8, 32), "normal": (16, 48), "low": (24, 120)},
    "D": {"urgent": (8, 24), "high": (16, 48), "normal": (24, 72), "low": (40, 160)},
}
"""Default targets in business hours: grade -> priority -> (first response, resolution)."""

DEFAULT_PAUSED_STATUSES = frozenset({TicketStatus.WAITING_ON_CUSTOMER.value,
                                     TicketStatus.ON_HOLD.value})
"""Statuses in which the SLA clocks pause."""

DEFAULT_STOPPED_STATUSES = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})
"""Statuses in which the SLA clocks stop."""

_ONE_US = timedelta(microseconds=1)


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(attribute.name, value, "is not a positive duration")


@attrs.frozen
class SlaTarget:
    """Business time allowed for the first response and for the resolution."""

    first_response: timedelta = attrs.field(validator=_positive)
    resolution: timedelta = attrs.field(validator=_positive)


class ResponseHours(Protocol):
    """What :meth:`SlaTable.with_response_hours` reads per grade (a G6 follow-up policy)."""

    @property
    def response_hours(self) -> int | None:
        """The grade's response target in hours, or None to keep the table's."""


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


@attrs.frozen
class SlaTable:
    """SLA targets by grade x priority (S4, G6: A customers get the fastest response).

    ``targets`` maps each grade (best first, in insertion order) to a target for every
    :class:`~crmcore.model.Priority`. Customers without a known grade get the last
    grade's targets. For a grading scheme with other grade names (VIP, major...),
    :meth:`for_grades` gives the table in the scheme's names, row by row in order.
    """

    targets: Mapping[str, Mapping[Priority, SlaTarget]]

    def __attrs_post_init__(self) -> None:
        if not self.targets:
            raise ConfigError(tr("{key}: the table needs at least one grade").format(key="sla"))
        for grade, row in self.targets.items():
            missing = [p.value for p in Priority if p not in row]
            if missing:
                raise ConfigError(tr("{key}: no target for priority {missing}").format(
                    key=f"sla.{grade}", missing=", ".join(missing)))

    @property
    def grades(self) -> tuple[str, ...]:
        """The grades of the table, best first."""
        return tuple(self.targets)

    def target(self, grade: str | None, priority: Priority) -> SlaTarget:
        """The target for a customer of ``grade`` (None: ungraded) and a ticket ``priority``."""
        return self.targets[grade_or_last(grade, self.grades)][priority]

    def for_grades(self, grades: Iterable[str],
                   rows: Mapping[str, str] | None = None) -> SlaTable:
        """This table for a scheme's ``grades`` (best first).

        When every grade is a row of the table, the table is returned as is. Otherwise
        the grades take the rows by order: the first grade the first row, the second
        the second..., grades beyond the last row take the last row. ``rows`` maps a
        grade to a row by name instead (``{"VIP": "A"}``), before the order applies.
        """
        names = tuple(grades)
        rows = dict(rows or {})
        unknown = sorted({*rows.values()} - set(self.targets))
        if unknown:
            raise ConfigError(tr("sla: {value!r} is not a grade of the table ({grades})").format(
                value=unknown[0], grades=", ".join(self.targets)))
        if not names or (not rows and set(names) <= set(self.targets)):
            return self
        order = self.grades
        return SlaTable({name: self.targets[rows.get(name, order[min(index, len(order) - 1)])]
                         for index, name in enumerate(names)})

    @classmethod
    def from_hours(cls, hours: Mapping[str, Mapping[str, Any]], *,
                   prefix: str = "sla") -> SlaTable:
        """Build from ``{grade: {priority: (first_hours, resolution_hours)}}``.

        A priority's value may also be a table ``{first_response_hours = 1,
        resolution_hours = 4}`` (the TOML form). Errors name the key path, starting
        with ``prefix`` (``policies.sla.table`` for the configuration file).
        """
        if not isinstance(hours, Mapping):
            raise ConfigError(tr("{key}: {value!r} is not a table of grades").format(
                key=prefix, value=hours))
        if not hours:
            raise ConfigError(tr("{key}: the table needs at least one grade").format(key=prefix))
        targets: dict[str, dict[Priority, SlaTarget]] = {}
        for grade, row in hours.items():
            if not isinstance(row, Mapping):
                raise ConfigError(tr("{key}: {value!r} is not a table of priorities").format(
                    key=f"{prefix}.{grade}", value=row))
            targets[grade] = {}
            for name, value in row.items():
                key = f"{prefix}.{grade}.{name}"
                try:  # a code or its Chinese term (紧急, 高, 普通, 低)
                    priority = member(Priority, name, key)
                except ValueError:
                    known = ", ".join(p.value for p in Priority)
                    raise ConfigError(tr("{key}: is not a priority ({known}; {terms})").format(
                        key=key, known=known, terms=known_terms(Priority))) from None
                targets[grade][priority] = _target(key, value)
            missing = [p.value for p in Priority if p not in targets[grade]]
            if missing:
                raise ConfigError(tr("{key}: no target for priority {missing}").format(
                    key=f"{prefix}.{grade}", missing=", ".join(missing)))
        return cls(targets)

    def with_response_hours(self, policies: Mapping[str, ResponseHours]) -> SlaTable:
        """Apply the per-grade response targets of G6 follow-up policies.

        A grade whose policy gives ``response_hours`` gets that first-response target
        for normal priority; its other priorities are scaled by the same factor, so the
        table keeps its ratios between priorities. Resolution targets are unchanged.
        """
        targets = {grade: dict(row) for grade, row in self.targets.items()}
        for grade, policy in policies.items():
            hours = policy.response_hours
            if hours is None or grade not in targets:
                continue
            row = targets[grade]
            factor = _hours(hours) / row[Priority.NORMAL].first_response
            for priority, target in row.items():
                row[priority] = attrs.evolve(target,
                                             first_response=target.first_response * factor)
        return SlaTable(targets)


def _target(key: str, value: Any) -> SlaTarget:
    if isinstance(value, Mapping):
        unknown = set(value) - {"first_response_hours", "resolution_hours"}
        if unknown:
            raise ConfigError(tr("{key}: is not a known key (first_response_hours, "
                                 "resolution_hours)").format(key=f"{key}.{sorted(unknown)[0]}"))
        pair = (value.get("first_response_hours"), value.get("resolution_hours"))
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        pair = (value[0], value[1])
    else:
        raise ConfigError(tr("{key}: {value!r} is not (first_response_hours, "
                             "resolution_hours)").format(key=key, value=value))
    hours: list[float] = []
    for name, item in zip(("first_response_hours", "resolution_hours"), pair, strict=True):
        if isinstance(item, bool) or not isinstance(item, int | float) or not item > 0:
            raise ConfigError(tr("{key}: {value!r} is not a positive number of hours").format(
                key=f"{key}.{name}", value=item))
        hours.append(item)
    return SlaTarget(_hours(hours[0]), _hours(hours[1]))


DEFAULT_SLA_TABLE = SlaTable.from_hours(DEFAULT_SLA_HOURS)
"""The table of :data:`DEFAULT_SLA_HOURS`."""


def _thresholds(value: Iterable[float]) -> tuple[float, ...]:
    items = tuple(sorted(value))
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item < 1:
            raise ValidationError("warn_at", item, "is not a fraction between 0 and 1")
    return items


def _statuses(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ValidationError("statuses", value, "is not a set of statuses")
    return frozenset(value)


@attrs.frozen
class SlaPolicy:
    """What the SLA clocks use: targets, paused and stopped statuses, warning thresholds.

    ``warn_at`` are fractions of the target (``0.75``: warn when 75% is used).
    """

    table: SlaTable = DEFAULT_SLA_TABLE
    paused_statuses: frozenset[str] = attrs.field(default=DEFAULT_PAUSED_STATUSES,
                                                  converter=_statuses)
    stopped_statuses: frozenset[str] = attrs.field(default=DEFAULT_STOPPED_STATUSES,
                                                   converter=_statuses)
    warn_at: tuple[float, ...] = attrs.field(default=(0.75,), converter=_thresholds)

    def __attrs_post_init__(self) -> None:
        both = self.paused_statuses & self.stopped_statuses
        if both:
            raise ValidationError("paused_statuses", sorted(both)[0],
                                  "is also a stopped status")


class SlaState(StrEnum):
    """Where a clock stands: running ones are on track, warned or breached; stopped ones
    met or missed their target."""

    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"


@attrs.frozen
class SlaClock:
    """One SLA clock as of a moment.

    ``elapsed`` is the business time counted, ``paused`` the business time spent in
    paused statuses. ``due_at`` is when ``elapsed`` reaches the target: in the past for
    a breached or missed clock, projected for a running one, and for a paused one
    projected as if work resumed at ``as_of``; None when it stopped in time.
    ``warn_moments`` are the same for each warning threshold. ``running`` is False
    while paused or stopped; ``stopped_at`` is when it stopped.
    """

    target: timedelta
    elapsed: timedelta
    paused: timedelta
    state: SlaState
    due_at: datetime | None
    warn_moments: tuple[datetime | None, ...]
    threshold: float | None
    running: bool
    stopped_at: datetime | None
    as_of: datetime

    @property
    def used(self) -> float:
        """The fraction of the target used (above 1 when breached)."""
        return self.elapsed / self.target

    @property
    def remaining(self) -> timedelta:
        """Business time left before the target (negative when exceeded)."""
        return self.target - self.elapsed

    @property
    def is_paused(self) -> bool:
        """Whether the clock is paused (not running and not stopped)."""
        return not self.running and self.stopped_at is None


def threshold_micros(target_us: int, fraction: float) -> int:
    """The business microseconds at which ``fraction`` of ``target_us`` is used.

    Truncated, so that the per-ticket clocks and the batch agree to the microsecond.
    """
    return math.floor(target_us * fraction)


def sla_clock(intervals: Sequence[StatusInterval], target: timedelta,
              calendar: BusinessCalendar, as_of: datetime, *,
              policy: SlaPolicy | None = None, stop_at: datetime | None = None) -> SlaClock:
    """The clock of ``target`` over a ticket's status ``intervals`` as of ``as_of``.

    ``stop_at`` stops the clock at a moment regardless of status (the first response
    for the first-response clock). Intervals after ``as_of`` are ignored.
    """
    policy = policy or SlaPolicy()
    if not intervals:
        raise ValidationError("intervals", (), "is empty: a ticket has at least one status")
    if as_of < intervals[0].start:
        from crmcore.i18n import tr

        raise ValidationError("as_of", as_of.isoformat(), tr(
            "is before the ticket was opened ({opened})").format(
            opened=intervals[0].start.isoformat()))
    clock_end = as_of if stop_at is None else min(as_of, stop_at)
    running: list[tuple[datetime, int]] = []  # (start, business µs) of running segments
    elapsed = paused = 0
    current = intervals[0]
    for interval in intervals:
        if interval.start > clock_end:
            break
        current = interval
        end = clock_end if interval.end is None else min(interval.end, clock_end)
        work = calendar.business_time_between(interval.start, end) // _ONE_US
        if interval.status in policy.paused_statuses:
            paused += work
        elif interval.status not in policy.stopped_statuses:
            running.append((interval.start, work))
            elapsed += work
    stopped_at: datetime | None = None
    if stop_at is not None and stop_at <= as_of:
        stopped_at = stop_at
    elif current.status in policy.stopped_statuses:
        stopped_at = current.start
    target_us = target // _ONE_US

    def moment_of(total: int) -> datetime | None:
        done = 0
        for start, work in running:
            if done < total <= done + work:
                return calendar.add(start, timedelta(microseconds=total - done))
            done += work
        if stopped_at is not None:
            return None
        return calendar.add(as_of, timedelta(microseconds=total - done))

    crossed = [fraction for fraction in policy.warn_at
               if elapsed >= threshold_micros(target_us, fraction)]
    if stopped_at is not None:
        state = SlaState.MISSED if elapsed >= target_us else SlaState.MET
    elif elapsed >= target_us:
        state = SlaState.BREACHED
    else:
        state = SlaState.WARNING if crossed else SlaState.ON_TRACK
    return SlaClock(
        target=target, elapsed=timedelta(microseconds=elapsed),
        paused=timedelta(microseconds=paused), state=state, due_at=moment_of(target_us),
        warn_moments=tuple(moment_of(threshold_micros(target_us, fraction))
                           for fraction in policy.warn_at),
        threshold=crossed[-1] if crossed else None,
        running=stopped_at is None and current.status not in policy.paused_statuses,
        stopped_at=stopped_at, as_of=as_of,
    )


@attrs.frozen
class TicketSla:
    """Both clocks of one ticket, with what decided its targets."""

    ticket_id: str
    customer_id: str
    owner: str | None
    grade: str | None
    priority: Priority
    first_response: SlaClock
    resolution: SlaClock

    @property
    def clocks(self) -> tuple[tuple[str, SlaClock], ...]:
        """``("first response", clock)`` and ``("resolution", clock)``."""
        return (("first response", self.first_response), ("resolution", self.resolution))


def ticket_sla(ticket: Ticket, calendar: BusinessCalendar, as_of: datetime, *,
               grade: str | None = None, policy: SlaPolicy | None = None,
               intervals: Sequence[StatusInterval] | None = None) -> TicketSla:
    """Both SLA clocks of ``ticket`` for a customer of ``grade`` as of ``as_of``.

    ``intervals`` is the status history (:func:`~crmcore.policies.tickets.
    intervals_from_history`); by default it is read from the ticket's fields. The
    first-response clock stops at ``first_response_at`` or when the ticket first
    reaches a stopped status, whichever is earlier.
    """
    policy = policy or SlaPolicy()
    history = tuple(intervals) if intervals is not None else intervals_of_ticket(ticket)
    target = policy.table.target(grade, ticket.priority)
    first_stop = next((i.start for i in history if i.status in policy.stopped_statuses), None)
    if ticket.first_response_at is not None:
        first_stop = (ticket.first_response_at if first_stop is None
                      else min(first_stop, ticket.first_response_at))
    return TicketSla(
        ticket_id=ticket.id, customer_id=ticket.customer_id, owner=ticket.owner, grade=grade,
        priority=ticket.priority,
        first_response=sla_clock(history, target.first_response, calendar, as_of,
                                 policy=policy, stop_at=first_stop),
        resolution=sla_clock(history, target.resolution, calendar, as_of, policy=policy),
    )

