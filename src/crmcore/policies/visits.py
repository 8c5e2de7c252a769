"""Visits that keep their word (S5): call ahead when late, reschedule only with consent,
return visits by plan with an outline and a recorded outcome.

Pure functions over :class:`~crmcore.policies.appointments.Appointment`; the agenda
lists what they find (:mod:`crmcore.policies.agenda`):

- :func:`lateness_actions`: an owner who expects to arrive after the start, or a start
  passed with nobody there, must call the customer ahead (S5: 迟到要提前打电话);
- :func:`reschedule`: a new time is recorded only with who agreed to it and when (改约);
- :func:`return_visit_plan`: the return visit (回访) as plan, outline, schedule and
  process control; :func:`outcome_actions` lists return visits done without an outcome.

>>> from datetime import UTC, datetime, timedelta
>>> visit = Appointment(id="V1", customer_id="C1", owner="li.wei", purpose="installation",
...                     starts_at=datetime(2026, 3, 13, 10, tzinfo=UTC))
>>> late = attrs.evolve(visit, expected_arrival=visit.starts_at + timedelta(minutes=40))
>>> [a.kind for a in lateness_actions(late, as_of=datetime(2026, 3, 13, 9, 30, tzinfo=UTC))]
['call_ahead']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from crmcore.errors import ValidationError
from crmcore.policies.appointments import (
    Appointment,
    AppointmentDue,
    AppointmentPolicy,
    Rescheduling,
    plan_return_visit,
)
from crmcore.service import BusinessCalendar

__all__ = [
    "DEFAULT_RETURN_VISIT_OUTLINE",
    "lateness_actions",
    "outcome_actions",
    "reschedule",
    "return_visit_plan",
]

DEFAULT_RETURN_VISIT_OUTLINE: tuple[str, ...] = (
    "Is the customer satisfied with the service done? (满意度)",
    "Does anything still not work as promised?",
    "What could we have done better?",
    "What will the customer need next?",
)
"""What a return visit asks when the host gives no outline of its own (S5 回访提纲)."""


def _due(appointment: Appointment, kind: str, at: datetime, why: str) -> AppointmentDue:
    return AppointmentDue(appointment.id, appointment.customer_id, appointment.owner, kind,
                          at, why)


def _open(appointment: Appointment, as_of: datetime) -> bool:
    """Neither cancelled, completed nor arrived at by ``as_of``."""
    return not any(moment is not None and moment <= as_of for moment in (
        appointment.cancelled_at, appointment.completed_at, appointment.arrived_at))


def lateness_actions(appointment: Appointment, *, as_of: datetime) -> list[AppointmentDue]:
    """``call_ahead`` when the owner will be late and the customer has not been told.

    Late means an ``expected_arrival`` after the start, or the start passed with no
    arrival recorded. A call ahead recorded (``late_notice_at``) after the estimate was
    made, or before the start, settles it.
    """
    if not _open(appointment, as_of) or (appointment.late_notice_at is not None
                                         and appointment.late_notice_at <= as_of):
        return []
    start = appointment.starts_at
    expected = appointment.expected_arrival
    if expected is not None and expected > start:
        minutes = (expected - start).total_seconds() / 60
        return [_due(appointment, "call_ahead", min(as_of, start),
                     f"running {minutes:.0f} min late for the {appointment.purpose} at "
                     f"{start.isoformat()}: call the customer ahead now, before the hour "
                     "(S5)")]
    if as_of > start:
        return [_due(appointment, "call_ahead", start,
                     f"the {appointment.purpose} started {start.isoformat()} and no arrival "
                     "is recorded: call the customer now (S5)")]
    return []


def reschedule(appointment: Appointment, new_start: datetime, *, consent_by: str,
               consent_at: datetime, reason: str = "") -> Appointment:
    """``appointment`` moved to ``new_start`` with the customer's consent (改约, S5).

    ``consent_by`` names who at the customer agreed, ``consent_at`` when. The new time
    counts as confirmed at ``consent_at`` (the customer agreed to it); the reminder is
    due again. Refused, naming the field, without consent, for a cancelled or completed
    appointment, or for a new time not after the consent.
    """
    if not consent_by.strip():
        raise ValidationError("consent_by", consent_by,
                              "must name who at the customer agreed to the new time")
    if appointment.cancelled_at is not None or appointment.completed_at is not None:
        raise ValidationError("appointment", appointment.id,
                              "is cancelled or completed: nothing to reschedule")
    if new_start <= consent_at:
        from crmcore.i18n import tr

        raise ValidationError("new_start", new_start.isoformat(), tr(
            "is not after the consent ({consent})").format(consent=consent_at.isoformat()))
    if new_start == appointment.starts_at:
        raise ValidationError("new_start", new_start.isoformat(), "is the current time")
    moved = Rescheduling(appointment.starts_at, new_start, consent_by.strip(), consent_at,
                         reason)
    ends_at = None if appointment.ends_at is None else \
        new_start + (appointment.ends_at - appointment.starts_at)
    return attrs.evolve(appointment, starts_at=new_start, ends_at=ends_at,
                        confirmed_at=consent_at, reminded_at=None, expected_arrival=None,
                        late_notice_at=None, rescheduled=(*appointment.rescheduled, moved))


def return_visit_plan(appointment: Appointment, calendar: BusinessCalendar, *,
                      outline: Sequence[str] = DEFAULT_RETURN_VISIT_OUTLINE,
                      policy: AppointmentPolicy | None = None) -> Appointment:
    """The return visit of a completed appointment, scheduled by
    :func:`~crmcore.policies.appointments.plan_return_visit`, with its ``outline``."""
    if not outline or not all(isinstance(item, str) and item.strip() for item in outline):
        raise ValidationError("outline", list(outline), "must list what to ask, one text each")
    planned = plan_return_visit(appointment, calendar, policy=policy)
    return attrs.evolve(planned, outline=tuple(item.strip() for item in outline))


def outcome_actions(appointment: Appointment, *, as_of: datetime,
                    within: timedelta = timedelta(days=1)) -> list[AppointmentDue]:
    """``record_outcome`` for a return visit done (completed) without an outcome: the
    process control of S5 (a plan is kept only when its results are written down)."""
    done = appointment.completed_at
    if appointment.follows_up is None or done is None or done > as_of or \
            (appointment.outcome or "").strip():
        return []
    asked = f" against its outline ({len(appointment.outline)} points)" \
        if appointment.outline else ""
    return [_due(appointment, "record_outcome", done + within,
                 f"the return visit of {appointment.follows_up} was done "
                 f"{done.date().isoformat()}: record its outcome{asked} (S5 process control)")]
