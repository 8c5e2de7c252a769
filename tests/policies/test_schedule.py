"""K3: conflict warnings for one owner's overlapping appointments, and the team schedule."""

from __future__ import annotations

import doctest
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer
from crmcore.cli import main
from crmcore.errors import ValidationError
from crmcore.policies.appointments import DEFAULT_DURATION, Appointment
from crmcore.policies.schedule import conflicts, overlaps, team_schedule
from crmcore.serialization import structure, unstructure

DAY = datetime(2026, 3, 9, tzinfo=UTC)  # a Monday


def _visit(visit_id: str, hour: float, hours: float | None = None, owner: str | None = "li",
           **more: object) -> Appointment:
    start = DAY + timedelta(hours=hour)
    end = None if hours is None else start + timedelta(hours=hours)
    return Appointment(id=visit_id, customer_id="C1", purpose="visit", owner=owner,
                       starts_at=start, ends_at=end, **more)  # type: ignore[arg-type]


def test_k3_overlapping_appointments_of_one_owner_are_found_with_the_shared_time() -> None:
    found = overlaps([_visit("A", 9, 2), _visit("B", 10), _visit("C", 11, 1),
                      _visit("D", 9.5, 0.25, owner="wu")])
    assert [(o.owner, o.first, o.second) for o in found] == [("li", "A", "B")]
    assert (found[0].starts_at, found[0].ends_at) == (DAY + timedelta(hours=10),
                                                      DAY + timedelta(hours=11))


def test_k3_touching_cancelled_and_other_owners_appointments_do_not_overlap() -> None:
    assert overlaps([_visit("A", 9, 1), _visit("B", 10, 1)]) == []
    assert overlaps([_visit("A", 9, 2), _visit("B", 10, cancelled_at=DAY)]) == []
    assert overlaps([_visit("A", 9, 2), _visit("B", 10, owner="wu")]) == []
    pooled = overlaps([_visit("A", 9, 2, owner=None), _visit("B", 10, owner=None)])
    assert [(o.owner, o.first, o.second) for o in pooled] == [(None, "A", "B")]


def test_k3_appointment_end_defaults_and_must_follow_the_start() -> None:
    assert _visit("A", 9).end() == DAY + timedelta(hours=9) + DEFAULT_DURATION
    with pytest.raises(ValidationError, match="ends_at: '2026-03-09T09:00:00.00:00' is not "
                                              "after starts_at"):
        _visit("A", 9, 0)
    old_body = {k: v for k, v in unstructure(_visit("A", 9)).items() if k != "ends_at"}
    assert structure(old_body, Appointment) == _visit("A", 9)  # stored before ends_at existed


def test_k3_conflicts_warn_before_booking_and_ignore_the_moved_appointment_itself() -> None:
    booked = [_visit("A", 9, 2), _visit("B", 14, 1), _visit("X", 9, 8, owner="wu")]
    assert [(o.first, o.second) for o in conflicts(_visit("N", 10, 1), booked)] == [("A", "N")]
    assert [(o.first, o.second) for o in conflicts(_visit("N", 11, 3.5), booked)] == [
        ("N", "B")]
    assert conflicts(_visit("N", 11, 3), booked) == []  # touches A and B
    assert conflicts(_visit("N", 12, 2), booked) == []
    assert conflicts(_visit("A", 10, 1), booked) == []  # A moved within its own old slot
    assert conflicts(_visit("N", 10, 1, cancelled_at=DAY), booked) == []


_VISITS = st.lists(st.tuples(st.sampled_from(["li", "wu", None]), st.integers(0, 40),
                             st.none() | st.integers(1, 12), st.booleans()), max_size=14)


@given(_VISITS)
def test_k3_sweep_finds_exactly_the_pairs_a_pairwise_check_finds(
        rows: list[tuple[str | None, int, int | None, bool]]) -> None:
    visits = [_visit(f"V{i:02d}", start / 4, None if length is None else length / 4, owner=who,
                     cancelled_at=DAY if cancelled else None)
              for i, (who, start, length, cancelled) in enumerate(rows)]
    reference = {
        frozenset((a.id, b.id)) for a, b in itertools.combinations(visits, 2)
        if a.owner == b.owner and a.cancelled_at is None and b.cancelled_at is None
        and a.starts_at < b.end() and b.starts_at < a.end()}
    found = overlaps(visits)
    assert {frozenset((o.first, o.second)) for o in found} == reference
    assert len(found) == len(reference)
    for o in found:
        assert o.starts_at < o.ends_at


def test_k3_team_schedule_lists_the_period_by_owner_with_overlaps_flagged() -> None:
    visits = [_visit("A", 9, 2), _visit("B", 10), _visit("C", 8, owner="wu"),
              _visit("D", 30), _visit("E", -3, 4, owner="wu"),
              _visit("F", 10, cancelled_at=DAY)]
    entries = team_schedule(visits, since=DAY, until=DAY + timedelta(days=1))
    assert [(e.appointment.id, e.overlaps_with, e.status) for e in entries] == [
        ("A", ("B",), "planned"), ("B", ("A",), "planned"), ("F", (), "cancelled"),
        ("E", (), "planned"), ("C", (), "planned")]
    only_wu = team_schedule(visits, since=DAY, until=DAY + timedelta(days=2), owner="wu")
    assert [e.appointment.id for e in only_wu] == ["E", "C"]


def test_k3_schedule_command_shows_the_team_calendar_and_warns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "crm.db"
    with CRM.open("sqlite", path=str(db)) as crm:
        crm.record(Customer(id="C1", name="c"))
        crm.record_many([_visit("A", 9, 2), _visit("B", 10, confirmed_at=DAY),
                         _visit("C", 9, owner="wu"), _visit("D", 60)])
    period = ["--from", "2026-03-09", "--to", "2026-03-10", "--db", str(db)]
    assert main(["schedule", *period]) == 0
    out, err = capsys.readouterr()
    assert "2 appointment(s) overlap" in err
    lines = [line.split() for line in out.splitlines()[2:-1]]
    assert [line[0] for line in lines] == ["!", "!", "wu"]
    assert lines[1][-2:] == ["confirmed", "A"]
    assert main(["schedule", *period, "--owner", "wu", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)
    assert [a["id"] for a in shown["appointments"]] == ["C"]
    assert shown["appointments"][0]["ends_at"] == "2026-03-09T10:00:00+00:00"
    assert err == ""
    assert main(["schedule", "--from", "2026-03-10", "--to", "2026-03-09", "--db", str(db)]) == 1
    assert "--to:" in capsys.readouterr().err


def test_k3_docstring_example_runs() -> None:
    import crmcore.policies.schedule

    failed, attempted = doctest.testmod(crmcore.policies.schedule)
    assert attempted
    assert not failed
