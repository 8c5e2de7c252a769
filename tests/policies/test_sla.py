"""Rule S4 (real time): SLA targets, clocks that pause, warnings, breaches; G6 response targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.policies.helpers import OFFICE, at, ticket

from crmcore.errors import ConfigError, ValidationError
from crmcore.grading import load_scheme
from crmcore.model import Priority
from crmcore.policies import (
    DEFAULT_SLA_TABLE,
    SlaPolicy,
    SlaState,
    SlaTable,
    sla_clock,
    status_intervals,
    ticket_sla,
)
from crmcore.policies.sla_batch import STATE_CODES, from_micros, sla_columns, ticket_columns
from crmcore.service import BusinessCalendar, ExtraWorkingDay

HOUR = timedelta(hours=1)

OVERNIGHT_BERLIN = BusinessCalendar(
    "berlin-shifts", "Europe/Berlin",
    {0: ["08:00-12:00", "22:00-02:00"], 1: ["08:00-16:00"], 2: ["08:00-16:00"],
     3: ["08:00-16:00"], 4: ["08:00-12:00"], 5: ["10:00-14:00"]},
    holidays=["2026-04-03", "2026-04-06"])
SHANGHAI = BusinessCalendar("cn", "Asia/Shanghai",
                            {d: ["09:00-12:00", "13:00-18:00"] for d in range(5)},
                            holidays=["2026-03-23", "2026-04-06", "2026-04-07"],
                            extra_working_days=[ExtraWorkingDay("2026-04-11", like_weekday=0)])
CALENDARS = (OFFICE, OVERNIGHT_BERLIN, SHANGHAI)


def test_s4_targets_by_grade_and_priority() -> None:
    assert DEFAULT_SLA_TABLE.target("A", Priority.URGENT).first_response == HOUR
    assert DEFAULT_SLA_TABLE.target("D", Priority.LOW).resolution == 160 * HOUR
    assert DEFAULT_SLA_TABLE.target(None, Priority.LOW) == DEFAULT_SLA_TABLE.target(
        "D", Priority.LOW)
    assert DEFAULT_SLA_TABLE.target("A", Priority.HIGH).first_response < \
        DEFAULT_SLA_TABLE.target("B", Priority.HIGH).first_response


def test_s4_table_from_hours_checks_every_cell() -> None:
    table = SlaTable.from_hours({"gold": {p.value: {"first_response_hours": 1,
                                                    "resolution_hours": 2} for p in Priority}})
    assert table.target("gold", Priority.LOW).resolution == 2 * HOUR
    with pytest.raises(ConfigError, match=r"sla\.gold\.asap: is not a priority"):
        SlaTable.from_hours({"gold": {"asap": (1, 2)}})
    with pytest.raises(ConfigError, match=r"sla\.gold: no target for priority high"):
        SlaTable.from_hours({"gold": {"urgent": (1, 2), "normal": (1, 2), "low": (1, 2)}})
    with pytest.raises(ConfigError, match=r"sla\.A\.urgent\.resolution_hours: -1"):
        SlaTable.from_hours({"A": {"urgent": (1, -1)}})


def test_g6_response_hours_from_the_scheme_followup() -> None:
    followup = load_scheme("pareto-abc").followup  # A 4h, B 24h, C 48h
    table = DEFAULT_SLA_TABLE.with_response_hours(followup)
    assert table.target("B", Priority.NORMAL).first_response == 24 * HOUR
    assert table.target("B", Priority.URGENT).first_response == 6 * HOUR  # ratio kept
    assert table.target("B", Priority.NORMAL).resolution == 32 * HOUR
    assert table.target("D", Priority.NORMAL) == DEFAULT_SLA_TABLE.target("D", Priority.NORMAL)


def test_s4_clock_pauses_and_keeps_the_paused_time() -> None:
    history = status_intervals(at(2, 10), [(at(2, 12), "on_hold"), (at(3, 10), "open")])
    clock = sla_clock(history, 8 * HOUR, OFFICE, at(3, 12))
    assert (clock.elapsed, clock.paused) == (4 * HOUR, 6 * HOUR)
    assert clock.running
    assert clock.state is SlaState.ON_TRACK
    assert clock.due_at == at(3, 16)


def test_s4_paused_time_kept_when_going_straight_from_paused_to_resolved() -> None:
    history = status_intervals(at(2, 10), [(at(2, 11), "waiting_on_customer"),
                                           (at(3, 11), "resolved")])
    clock = sla_clock(history, 4 * HOUR, OFFICE, at(4, 15))
    assert (clock.elapsed, clock.paused) == (HOUR, 8 * HOUR)
    assert clock.state is SlaState.MET
    assert clock.stopped_at == at(3, 11)
    assert clock.due_at is None


def test_s4_ticket_created_outside_working_hours_starts_with_the_working_day() -> None:
    late = ticket(opened=at(7, 20), priority=Priority.NORMAL)  # Saturday evening
    sla = ticket_sla(late, OFFICE, at(9, 10), grade="A")
    assert sla.first_response.elapsed == HOUR
    assert sla.first_response.due_at == at(9, 13)
    assert sla.resolution.due_at == at(10, 17)  # 16 business hours


def test_s4_holidays_do_not_count() -> None:
    sla = ticket_sla(ticket(opened=at(5, 16)), OFFICE, at(5, 16), grade="A")
    assert sla.first_response.due_at == at(9, 12)  # Thursday 1h, holiday Friday, Monday 3h


def test_s4_warning_at_the_threshold_then_breach() -> None:
    history = status_intervals(at(2, 9), [])
    policy = SlaPolicy(warn_at=(0.5, 0.75))
    warned = sla_clock(history, 4 * HOUR, OFFICE, at(2, 12, 30), policy=policy)
    assert warned.state is SlaState.WARNING
    assert warned.threshold == 0.75
    assert warned.warn_moments == (at(2, 11), at(2, 12))
    breached = sla_clock(history, 4 * HOUR, OFFICE, at(3, 9, 30), policy=policy)
    assert breached.state is SlaState.BREACHED
    assert breached.due_at == at(2, 13)
    assert breached.remaining == -4.5 * HOUR


def test_s4_first_response_clock_stops_at_the_response() -> None:
    answered = ticket(first_response_at=at(2, 11))
    sla = ticket_sla(answered, OFFICE, at(4, 11), grade="A")
    assert sla.first_response.state is SlaState.MET
    assert sla.first_response.elapsed == HOUR
    assert sla.resolution.state is SlaState.BREACHED  # 16h passed without resolution


def test_s4_policy_rejects_a_status_both_paused_and_stopped() -> None:
    with pytest.raises(ValidationError, match="also a stopped status"):
        SlaPolicy(paused_statuses={"resolved"})
    with pytest.raises(ValidationError, match="fraction"):
        SlaPolicy(warn_at=(75,))


def test_s4_as_of_before_the_opening_is_refused() -> None:
    with pytest.raises(ValidationError, match="before the ticket was opened"):
        ticket_sla(ticket(), OFFICE, at(1))


# -- properties ------------------------------------------------------------------------

STATUSES = ("open", "on_hold", "waiting_on_customer", "resolved", "closed")
BASE = datetime(2026, 3, 20, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn, *, stop_last: bool = False
              ) -> tuple[datetime, list[tuple[datetime, str]]]:
    opened = BASE + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    changes, moment = [], opened
    count = draw(st.integers(0, 5))
    for index in range(count):
        moment += timedelta(minutes=draw(st.integers(0, 60 * 24 * 4)))
        allowed = STATUSES if not stop_last or index == count - 1 else STATUSES[:3]
        changes.append((moment, draw(st.sampled_from(allowed))))
    return opened, changes


calendars = st.sampled_from(CALENDARS)
targets = st.integers(1, 60 * 40).map(lambda minutes: timedelta(minutes=minutes))
AS_OF = BASE + timedelta(days=60)


@settings(max_examples=150, deadline=None)
@given(calendars, histories(stop_last=True), targets)
def test_s4_paused_time_is_never_lost(calendar: BusinessCalendar,
                                      history: tuple[datetime, list[tuple[datetime, str]]],
                                      target: timedelta) -> None:
    opened, changes = history
    intervals = status_intervals(opened, changes)
    clock = sla_clock(intervals, target, calendar, AS_OF)
    end = clock.stopped_at or AS_OF
    assert clock.elapsed + clock.paused == calendar.business_time_between(opened, end)


@settings(max_examples=150, deadline=None)
@given(calendars, st.integers(0, 60 * 24 * 20), st.integers(0, 60 * 24 * 5), targets)
def test_s4_deadline_is_monotone_in_the_start(calendar: BusinessCalendar, first: int,
                                              later: int, target: timedelta) -> None:
    early = BASE + timedelta(minutes=first)
    late = early + timedelta(minutes=later)
    due = [sla_clock(status_intervals(start, []), target, calendar, start).due_at
           for start in (early, late)]
    assert due[0] is not None
    assert due[1] is not None
    assert due[0] <= due[1]


@settings(max_examples=150, deadline=None)
@given(calendars, histories(), targets)
def test_s4_a_due_moment_never_lands_outside_working_time(
        calendar: BusinessCalendar, history: tuple[datetime, list[tuple[datetime, str]]],
        target: timedelta) -> None:
    opened, changes = history
    clock = sla_clock(status_intervals(opened, changes), target, calendar, AS_OF,
                      policy=SlaPolicy(warn_at=(0.5, 0.9)))
    for moment in (clock.due_at, *clock.warn_moments):
        if moment is not None:
            assert calendar.is_working_time(moment - timedelta(microseconds=1))


@settings(max_examples=40, deadline=None)
@given(calendars, st.lists(histories(), min_size=1, max_size=12),
       st.lists(st.sampled_from(list(Priority)), min_size=12, max_size=12),
       st.lists(st.none() | st.integers(0, 60 * 24 * 3), min_size=12, max_size=12))
def test_s4_batch_equals_the_per_ticket_clocks(
        calendar: BusinessCalendar, drawn: list[tuple[datetime, list[tuple[datetime, str]]]],
        priorities: list[Priority], responses: list[int | None]) -> None:
    tickets, intervals, grades = [], {}, {}
    for index, (opened, changes) in enumerate(drawn):
        response = responses[index]
        made = ticket(f"T{index}", customer_id=f"C{index % 5}", opened=opened,
                      priority=priorities[index],
                      first_response_at=None if response is None
                      else opened + timedelta(minutes=response))
        tickets.append(made)
        intervals[made.id] = status_intervals(opened, changes)
        grades[made.customer_id] = "ABCDX"[index % 5]
    policy = SlaPolicy(warn_at=(0.5, 0.75, 0.9))
    columns = sla_columns(ticket_columns(tickets, grades=grades, policy=policy,
                                         intervals=intervals), calendar, AS_OF, policy=policy)
    for index, made in enumerate(tickets):
        expected = ticket_sla(made, calendar, AS_OF, grade=grades[made.customer_id],
                              policy=policy, intervals=intervals[made.id])
        for clock, column in ((expected.first_response, columns.first_response),
                              (expected.resolution, columns.resolution)):
            assert int(column.elapsed_us[index]) == clock.elapsed // timedelta(microseconds=1)
            assert int(column.paused_us[index]) == clock.paused // timedelta(microseconds=1)
            assert STATE_CODES[column.state[index]] is clock.state
            assert from_micros(int(column.due_us[index])) == clock.due_at
            assert tuple(from_micros(int(w[index])) for w in column.warn_us) == \
                clock.warn_moments
            assert bool(column.running[index]) is clock.running
            assert from_micros(int(column.stopped_us[index])) == clock.stopped_at
