"""The team calendar (K3): each owner's appointments, with overlaps flagged.

:func:`overlaps` finds every pair of one owner's appointments whose times
overlap (cancelled ones excepted): a warning that someone is booked twice.
:func:`conflicts` checks one appointment against those already booked,
before it is stored. :func:`team_schedule` lays out the appointments of a
period, owner by owner, each with the ids of those it overlaps.

>>> from datetime import UTC, datetime
>>> from crmcore.policies.appointments import Appointment
>>> from crmcore.policies.schedule import overlaps
>>> at = lambda hour: datetime(2026, 3, 9, hour, tzinfo=UTC)
>>> book = [Appointment(id="V1", customer_id="C1", owner="li.wei", purpose="install",
...                     starts_at=at(9), ends_at=at(11)),
...         Appointment(id="V2", customer_id="C2", owner="li.wei", purpose="repair",
...                     starts_at=at(10))]
>>> [(o.first, o.second, o.starts_at.hour, o.ends_at.hour) for o in overlaps(book)]
[('V1', 'V2', 10, 11)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.policies.appointments import DEFAULT_DURATION, Appointment

__all__ = ["Overlap", "ScheduleEntry", "conflicts", "overlaps", "team_schedule"]


@attrs.frozen
class Overlap:
    """Two appointments of one owner at once: ``first`` starts no later than ``second``
    (by start, then id); the shared time is ``starts_at`` to ``ends_at``."""

    owner: str | None
    first: str
    second: str
    starts_at: datetime
    ends_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The overlap as JSON values."""
        return {"owner": self.owner, "first": self.first, "second": self.second,
                "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat()}


@attrs.frozen
class ScheduleEntry:
    """One appointment in the team schedule, with the ids of those it overlaps (K3)."""

    appointment: Appointment
    ends_at: datetime
    status: str
    overlaps_with: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON values."""
        visit = self.appointment
        return {"id": visit.id, "owner": visit.owner, "customer_id": visit.customer_id,
                "purpose": visit.purpose, "starts_at": visit.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(), "status": self.status,
                "overlaps_with": list(self.overlaps_with)}


def _status(visit: Appointment) -> str:
    for status, at in (("cancelled", visit.cancelled_at), ("completed", visit.completed_at),
                       ("confirmed", visit.confirmed_at)):
        if at is not None:
            return status
    return "planned"


def _by_owner(appointments: Iterable[Appointment]) -> dict[str | None, list[Appointment]]:
    grouped: dict[str | None, list[Appointment]] = defaultdict(list)
    for visit in appointments:
        if visit.cancelled_at is None:
            grouped[visit.owner].append(visit)
    return grouped


def overlaps(appointments: Iterable[Appointment], *,
             default_duration: timedelta = DEFAULT_DURATION) -> list[Overlap]:
    """Every pair of one owner's appointments that overlap in time, cancelled ones left out.

    Appointments without an owner are one unassigned pool (``owner`` None). One
    ending exactly when the next starts does not overlap it. Sorted by owner,
    then start; a sweep over each owner's appointments in start order, so the
    work grows with the appointments and the overlaps found, not their square.
    """
    found: list[Overlap] = []
    for owner, booked in sorted(_by_owner(appointments).items(),
                                key=lambda item: (item[0] is not None, item[0] or "")):
        running: list[tuple[datetime, Appointment]] = []  # started, not yet ended
        for visit in sorted(booked, key=lambda v: (v.starts_at, v.id)):
            start, end = visit.starts_at, visit.end(default_duration)
            running = [(ends, other) for ends, other in running if ends > start]
            found.extend(Overlap(owner, other.id, visit.id, start, min(ends, end))
                         for ends, other in running)
            running.append((end, visit))
    return found


def conflicts(appointment: Appointment, booked: Iterable[Appointment], *,
              default_duration: timedelta = DEFAULT_DURATION) -> list[Overlap]:
    """The overlaps ``appointment`` would make with its owner's ``booked`` appointments.

    Call it before storing a new or moved appointment: a non-empty answer is
    the K3 conflict warning. The stored version of ``appointment`` itself (same
    id) is ignored, so moving an appointment does not conflict with its old time.
    """
    if appointment.cancelled_at is not None:
        return []
    same_owner = [v for v in booked if v.owner == appointment.owner and v.id != appointment.id]
    return [o for o in overlaps([*same_owner, appointment], default_duration=default_duration)
            if appointment.id in (o.first, o.second)]


def team_schedule(appointments: Iterable[Appointment], *, since: datetime, until: datetime,
                  owner: str | None = None, default_duration: timedelta = DEFAULT_DURATION
                  ) -> list[ScheduleEntry]:
    """The appointments that meet ``[since, until)``, by owner then start, overlaps flagged.

    ``owner`` keeps one owner's appointments. Cancelled appointments are listed
    (status ``cancelled``) but overlap nothing.
    """
    shown: Sequence[Appointment] = [
        v for v in appointments
        if (owner is None or v.owner == owner)
        and v.starts_at < until and v.end(default_duration) > since]
    partners: dict[str, list[str]] = defaultdict(list)
    for found in overlaps(shown, default_duration=default_duration):
        partners[found.first].append(found.second)
        partners[found.second].append(found.first)
    ordered = sorted(shown, key=lambda v: (v.owner is None, v.owner or "", v.starts_at, v.id))
    return [ScheduleEntry(v, v.end(default_duration), _status(v), tuple(sorted(partners[v.id])))
            for v in ordered]
