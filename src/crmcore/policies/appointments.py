"""Appointments and visits (S5): confirm 5 working days ahead, remind 1 hour before, return visit.

An :class:`Appointment` is a storable entity (kind ``appointment``). For each one,
:func:`appointment_actions` lists what is due as of a moment: the confirmation (by
the same hour, ``confirm_working_days`` working days of the team's calendar before the
start), the reminder (``remind_before`` the start) and, once the service is completed,
the return visit (回访) ``return_visit_after`` later, until one is scheduled
(:func:`plan_return_visit`).

>>> from datetime import UTC, datetime
>>> from crmcore.service import BusinessCalendar
>>> office = BusinessCalendar("office", "UTC", {d: ["09:00-17:00"] for d in range(5)})
>>> visit = Appointment(id="V1", customer_id="C1", owner="li.wei", purpose="installation",
...                     starts_at=datetime(2026, 3, 13, 10, tzinfo=UTC))        # a Friday
>>> confirm_by(visit, office).isoformat()                                       # Friday before
'2026-03-06T10:00:00+00:00'
>>> [(a.kind, a.due_at.isoformat()) for a in appointment_actions(
...     visit, office, as_of=datetime(2026, 3, 6, 9, tzinfo=UTC))]
[('confirmation', '2026-03-06T10:00:00+00:00')]
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.service import BusinessCalendar
from crmcore.validation import (
    as_tuple,
    aware_datetime,
    identifier,
    int_between,
    non_empty_text,
    optional_aware_datetime,
    optional_identifier,
)

__all__ = [
    "APPOINTMENT",
    "Appointment",
    "AppointmentDue",
    "AppointmentPolicy",
    "Rescheduling",
    "appointment_actions",
    "confirm_by",
    "plan_return_visit",
]


DEFAULT_DURATION = timedelta(hours=1)
"""How long an appointment without ``ends_at`` is taken to last (K3 overlap checks)."""


@attrs.frozen
class Appointment:
    """A service appointment or visit at a customer, to the hour (S5, K3).

    ``confirmed_at``, ``reminded_at``, ``completed_at`` and ``cancelled_at`` record
    what happened; ``follows_up`` names the appointment this one is the return visit of.
    ``ends_at`` is optional: without it the appointment lasts :data:`DEFAULT_DURATION`.
    Running late (S5): ``expected_arrival`` is the owner's estimate, ``late_notice_at``
    when the customer was called ahead, ``arrived_at`` when the owner arrived.
    ``rescheduled`` lists each move of the time, with the customer's consent
    (:func:`crmcore.policies.visits.reschedule`). A return visit carries its
    ``outline`` (what to ask) and, once done, its ``outcome`` (process control).
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    starts_at: datetime = attrs.field(validator=aware_datetime)
    purpose: str = attrs.field(validator=non_empty_text)
    owner: str | None = None
    confirmed_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    reminded_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    completed_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    cancelled_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    follows_up: str | None = attrs.field(default=None, validator=optional_identifier)
    ends_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    expected_arrival: datetime | None = attrs.field(default=None,
                                                    validator=optional_aware_datetime)
    late_notice_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    arrived_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    rescheduled: tuple[Rescheduling, ...] = attrs.field(default=(), converter=as_tuple)
    outline: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    outcome: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValidationError("ends_at", self.ends_at.isoformat(), tr(
                "is not after {field} {value}").format(field="starts_at",
                                                        value=self.starts_at.isoformat()))

    def end(self, default_duration: timedelta = DEFAULT_DURATION) -> datetime:
        """When it ends: ``ends_at``, or ``default_duration`` after the start."""
        return self.ends_at if self.ends_at is not None else self.starts_at + default_duration


@attrs.frozen
class Rescheduling:
    """One move of an appointment's time, agreed by the customer (改约, S5)."""

    previous_start: datetime = attrs.field(validator=aware_datetime)
    new_start: datetime = attrs.field(validator=aware_datetime)
    consent_by: str = attrs.field(validator=non_empty_text)
    consent_at: datetime = attrs.field(validator=aware_datetime)
    reason: str = ""


APPOINTMENT = register_entity_type(EntityType("appointment", Appointment, "customer_id",
                                              "starts_at"))
"""The storable entity kind of :class:`Appointment`."""


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(attribute.name, value, "is not a positive duration")


@attrs.frozen
class AppointmentPolicy:
    """The S5 numbers; ``notice`` is how long before its due moment an action is listed."""

    confirm_working_days: int = attrs.field(default=5, validator=int_between(0, 60))
    remind_before: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive)
    return_visit_after: timedelta = attrs.field(default=timedelta(days=7), validator=_positive)
    notice: timedelta = attrs.field(default=timedelta(days=1), validator=_positive)


@attrs.frozen
class AppointmentDue:
    """An appointment action due: ``confirmation``, ``reminder`` or ``return_visit``."""

    appointment_id: str
    customer_id: str
    owner: str | None
    kind: str
    due_at: datetime
    why: str


def confirm_by(appointment: Appointment, calendar: BusinessCalendar,
               policy: AppointmentPolicy | None = None) -> datetime:
    """The latest moment to confirm: the appointment's local hour, ``confirm_working_days``
    working days (days with working time in ``calendar``) before its day."""
    policy = policy or AppointmentPolicy()
    local = appointment.starts_at.astimezone(calendar.zone)
    day = local.date()
    left = policy.confirm_working_days
    for _ in range(3660):
        if not left:
            break
        day -= timedelta(days=1)
        if calendar.intervals_on(day):
            left -= 1
    else:
        raise ValidationError("calendar", calendar.name, "has no working days to confirm in")
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=calendar.zone)


def appointment_actions(appointment: Appointment, calendar: BusinessCalendar, *,
                        as_of: datetime, policy: AppointmentPolicy | None = None,
                        followed_up: Collection[str] = ()) -> list[AppointmentDue]:
    """What is due for ``appointment`` as of ``as_of`` (listed from ``notice`` before).

    ``followed_up`` holds the ids of appointments that already have a return visit.
    """
    policy = policy or AppointmentPolicy()
    if appointment.cancelled_at is not None and appointment.cancelled_at <= as_of:
        return []
    found: list[AppointmentDue] = []

    def due(kind: str, at: datetime, why: str) -> None:
        if as_of >= at - policy.notice:
            found.append(AppointmentDue(appointment.id, appointment.customer_id,
                                        appointment.owner, kind, at, why))

    start = appointment.starts_at
    purpose = term(appointment.purpose)
    what = tr("{purpose} at {start}").format(purpose=purpose, start=start.isoformat())
    if appointment.completed_at is None and as_of < start:
        if appointment.confirmed_at is None:
            by = confirm_by(appointment, calendar, policy)
            due("confirmation", by, tr("confirm the {what} by {by}, {days} working days ahead "
                                       "(S5)").format(what=what, by=by.isoformat(),
                                                      days=policy.confirm_working_days))
        if appointment.reminded_at is None:
            hours = policy.remind_before.total_seconds() / 3600
            due("reminder", start - policy.remind_before,
                tr("remind the customer of the {what}, {hours:g} hour(s) before (S5)").format(
                    what=what, hours=hours))
    completed = appointment.completed_at
    if completed is not None and completed <= as_of and appointment.id not in followed_up:
        due("return_visit", completed + policy.return_visit_after,
            tr("the {purpose} was completed {date}: schedule the return visit (S5)")
            .format(purpose=purpose, date=completed.date().isoformat()))
    return found


def plan_return_visit(appointment: Appointment, calendar: BusinessCalendar, *,
                      policy: AppointmentPolicy | None = None,
                      purpose: str | None = None) -> Appointment:
    """The return visit of a completed appointment, at the first working moment
    ``return_visit_after`` its completion."""
    policy = policy or AppointmentPolicy()
    if appointment.completed_at is None:
        raise ValidationError("completed_at", None, "is not set: the service is not completed")
    at = calendar.next_working_moment(appointment.completed_at + policy.return_visit_after)
    return Appointment(id=f"{appointment.id}-return", customer_id=appointment.customer_id,
                       starts_at=at, purpose=purpose or f"return visit: {appointment.purpose}",
                       owner=appointment.owner, follows_up=appointment.id)
