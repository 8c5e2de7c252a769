"""Benchmark: SLA state of many open tickets on business time (rule S4).

Generates open tickets in memory (numpy): opened over the last 60 days, grades A-D,
four priorities, and status histories in which about half the tickets pause
(waiting on the customer, on hold) and resume, some more than once. The calendar is
China's (``holidays`` package: public holidays and 调休 make-up weekends) with
09:00-12:00 and 13:00-18:00 in Asia/Shanghai.

For every size in ``--tickets`` it times :func:`crmcore.policies.sla_batch.sla_columns`
(both clocks, with warnings) and prints the time, the rate and the growth against the
first size (linear means time ratio ~= size ratio).

Baseline: at ``--baseline`` tickets it also runs the plain per-ticket loop a user
would write over :class:`~crmcore.service.BusinessCalendar` (business time per running
interval, then ``add`` for the deadline), checks that it agrees with the batch on
elapsed, paused and due time for every ticket, and reports the speed-up.

Run: ``python benchmarks/bench_sla.py [--tickets 100000 1000000] [--baseline N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from crmcore.policies.sla import DEFAULT_SLA_TABLE, SlaPolicy
from crmcore.policies.sla_batch import (
    KIND_PAUSED,
    KIND_RUNNING,
    NO_TIME,
    TicketColumns,
    sla_columns,
    to_micros,
)
from crmcore.service import BusinessCalendar
from crmcore_plugins.calendar_holidays import calendar_from_holidays

AS_OF = datetime(2026, 10, 9, 15, 30, tzinfo=UTC)  # just after China's National Day week
WINDOW_US = 60 * 86_400_000_000
PRIORITIES = ("urgent", "high", "normal", "low")


def make_calendar() -> BusinessCalendar:
    """China's working days for 2025-2026 (holidays and make-up days)."""
    return calendar_from_holidays("CN", (2025, 2026), time_zone="Asia/Shanghai")


def generate(tickets: int, seed: int) -> TicketColumns:
    """Open tickets with pause/resume histories, as columns."""
    rng = np.random.default_rng(seed)
    as_of = to_micros(AS_OF)
    opened = as_of - rng.integers(0, WINDOW_US, tickets)
    grade = rng.integers(0, 4, tickets)
    priority = rng.choice(4, tickets, p=(0.05, 0.2, 0.6, 0.15))
    table = DEFAULT_SLA_TABLE
    us = timedelta(microseconds=1)
    first = np.array([[table.targets[g][p].first_response // us for p in table.targets[g]]
                      for g in table.grades], dtype=np.int64)
    resolution = np.array([[table.targets[g][p].resolution // us for p in table.targets[g]]
                           for g in table.grades], dtype=np.int64)
    responded = rng.random(tickets) < 0.7
    response_at = opened + rng.integers(0, 86_400_000_000, tickets)
    first_response = np.where(responded & (response_at <= as_of), response_at, NO_TIME)
    pauses = rng.choice(3, tickets, p=(0.5, 0.35, 0.15))  # pause/resume pairs per ticket
    counts = 1 + 2 * pauses
    owner = np.repeat(np.arange(tickets), counts)
    position = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    span = as_of - opened
    steps = np.sort(rng.random((tickets, 4)), axis=1)  # fractions of the ticket's age
    fraction = np.where(position == 0, 0.0, steps[owner, np.maximum(position - 1, 0) % 4])
    starts = opened[owner] + (fraction * span[owner]).astype(np.int64)
    kind = np.where(position % 2 == 1, KIND_PAUSED, KIND_RUNNING).astype(np.int8)
    return TicketColumns(
        first_response_us=first_response,
        first_target_us=first[grade, priority],
        resolution_target_us=resolution[grade, priority],
        interval_ticket=owner, interval_start_us=starts, interval_kind=kind,
    )


def moment(micros: int) -> datetime:
    """Microseconds since the epoch as an aware datetime."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def plain_loop(columns: TicketColumns, calendar: BusinessCalendar, n: int
               ) -> list[tuple[int, int, int]]:
    """What a user would write: per ticket, per interval, ask the calendar.

    Returns (elapsed, paused, due) in µs of the resolution clock for the first n tickets.
    """
    starts = columns.interval_start_us
    kinds = columns.interval_kind
    owners = columns.interval_ticket
    results = []
    row = 0
    for ticket in range(n):
        elapsed = paused = timedelta(0)
        intervals = []
        while row < owners.size and owners[row] == ticket:
            intervals.append((moment(int(starts[row])), int(kinds[row])))
            row += 1
        for index, (start, kind) in enumerate(intervals):
            end = intervals[index + 1][0] if index + 1 < len(intervals) else AS_OF
            worked = calendar.business_time_between(start, end)
            if kind == KIND_PAUSED:
                paused += worked
            else:
                elapsed += worked
        target = timedelta(microseconds=int(columns.resolution_target_us[ticket]))
        if elapsed < target:
            due = calendar.add(AS_OF, target - elapsed)
        else:  # find where the target was crossed
            done = timedelta(0)
            due = AS_OF
            for index, (start, kind) in enumerate(intervals):
                if kind != KIND_RUNNING:
                    continue
                end = intervals[index + 1][0] if index + 1 < len(intervals) else AS_OF
                worked = calendar.business_time_between(start, end)
                if done + worked >= target:
                    due = calendar.add(start, target - done)
                    break
                done += worked
        us = timedelta(microseconds=1)
        results.append((elapsed // us, paused // us, to_micros(due)))
    return results


def run_batch(columns: TicketColumns, calendar: BusinessCalendar, policy: SlaPolicy) -> Any:
    """crmcore's columnar path: both clocks, with warnings."""
    return sla_columns(columns, calendar, AS_OF, policy=policy)


def timed(function: Any, *arguments: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - began, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--baseline", type=int, default=20_000,
                        help="tickets for the plain-loop baseline (default: 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default: 3)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    arguments = parser.parse_args(argv)
    sizes = [2_000, 20_000] if arguments.smoke else arguments.tickets
    baseline = 500 if arguments.smoke else arguments.baseline
    repeat = 1 if arguments.smoke else arguments.repeat
    calendar = make_calendar()
    policy = SlaPolicy()
    print(f"calendar {calendar.name}: {len(calendar.holidays)} holidays, "
          f"{len(calendar.extra_working_days)} make-up days; as of {AS_OF.isoformat()}")

    columns = generate(baseline, seed=1)
    loop_time, expected = timed(plain_loop, columns, calendar, baseline)
    batch_time, got = timed(run_batch, columns, calendar, policy)
    clock = got.resolution
    for ticket, (elapsed, paused, due) in enumerate(expected):
        found = (int(clock.elapsed_us[ticket]), int(clock.paused_us[ticket]),
                 int(clock.due_us[ticket]))
        if found != (elapsed, paused, due):
            print(f"MISMATCH at ticket {ticket}: batch {found}, loop {(elapsed, paused, due)}")
            return 1
    print(f"baseline, {baseline:,} tickets: plain loop {loop_time:.3f} s, batch "
          f"{batch_time:.3f} s ({loop_time / batch_time:.0f}x); both agree on every ticket")

    times = []
    for size in sizes:
        columns = generate(size, seed=2)
        best = min(timed(run_batch, columns, calendar, policy)[0]
                   for _ in range(repeat))
        times.append(best)
        counts = sla_columns(columns, calendar, AS_OF, policy=policy).resolution.counts()
        print(f"{size:>10,} tickets ({columns.interval_ticket.size:,} status intervals): "
              f"{best:.3f} s, {size / best:,.0f} tickets/s; resolution {counts}")
    for size, elapsed in zip(sizes[1:], times[1:], strict=True):
        print(f"{size // sizes[0]}x the tickets: {elapsed / times[0]:.2f}x the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
