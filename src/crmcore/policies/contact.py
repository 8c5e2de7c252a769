"""Convenient and personal contact (S1, S3): the customer's channel, at a suitable local hour.

:func:`plan_contact` chooses the channel (the customer's first preference the company
can use, else a default) and the earliest suitable moment at or after a time, in the
customer's own time zone: within contact hours, outside the customer's quiet hours,
on the customer's best weekdays (or, for e-mail, Tuesday to Thursday, which works
best), never for a customer who asked not to be contacted. :func:`suitable_moment` judges a
moment by the same rules (the S3 check of the compliance report).

>>> from datetime import UTC, datetime, time
>>> from crmcore.model import Channel, ContactPreferences, Customer, QuietHours
>>> berlin = Customer(id="C1", name="Berg GmbH", preferences=ContactPreferences(
...     channels=(Channel.EMAIL, Channel.PHONE), time_zone="Europe/Berlin",
...     quiet_hours=(QuietHours(time(12), time(13)),)))
>>> slot = plan_contact(berlin, datetime(2026, 3, 2, 11, 30, tzinfo=UTC))   # a Monday
>>> slot.channel.value, slot.local.isoformat()
('email', '2026-03-03T09:00:00+01:00')
>>> plan_contact(berlin, datetime(2026, 3, 3, 11, 30, tzinfo=UTC)).local.isoformat()
'2026-03-03T13:00:00+01:00'
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from crmcore.errors import CrmError, ValidationError
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.model import Channel, ContactPreferences, Customer, QuietHours
from crmcore.validation import int_between, time_zone

__all__ = [
    "WEEKDAY_ABBREVIATIONS",
    "ContactRefusedError",
    "ContactRules",
    "ContactSlot",
    "choose_channel",
    "plan_contact",
    "suitable_moment",
]

WEEKDAY_ABBREVIATIONS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"),
                         N_("Sun"))
"""Weekday names for explanations, Monday first."""


class ContactRefusedError(CrmError):
    """The customer cannot be contacted (do-not-contact, or no suitable time or channel)."""


def _weekday_tuple(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value or any(isinstance(d, bool) or d not in range(7) for d in value):
        raise ValidationError(attribute.name, value, "is not a non-empty list of weekdays 0..6")


def _window(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    start, end = value
    if not (isinstance(start, time) and isinstance(end, time)) or not start < end:
        raise ValidationError(attribute.name, value, "is not a (start, end) time window")


@attrs.frozen
class ContactRules:
    """The company's side of S1/S3 (configurable; the defaults follow the rule catalogue).

    ``hours``: the local window in which customers are contacted; ``weekdays``: the days
    used when the customer named none; ``email_weekdays``: the days e-mail is sent when
    the customer named none (S3: Tuesday to Thursday); ``fallback_channels``: used when
    the customer named no channel the company can use; ``default_time_zone``: for
    customers without one; ``horizon_days``: how far ahead to look.
    """

    hours: tuple[time, time] = attrs.field(default=(time(9), time(18)), validator=_window)
    weekdays: tuple[int, ...] = attrs.field(default=(0, 1, 2, 3, 4), validator=_weekday_tuple)
    email_weekdays: tuple[int, ...] = attrs.field(default=(1, 2, 3), validator=_weekday_tuple)
    fallback_channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.PHONE)
    default_time_zone: str = attrs.field(default="UTC", validator=time_zone)
    horizon_days: int = attrs.field(default=366, validator=int_between(1, 3660))


@attrs.frozen
class ContactSlot:
    """When and how to contact one customer, and why.

    ``at`` is in UTC, ``local`` the same moment in the customer's time zone.
    """

    customer_id: str
    channel: Channel
    at: datetime
    local: datetime
    why: str


def choose_channel(preferences: ContactPreferences, rules: ContactRules | None = None,
                   available: Collection[Channel] | None = None) -> tuple[Channel, str]:
    """The channel to use and why: the customer's first preference in ``available``
    (None: every channel), else the first usable fallback."""
    rules = rules or ContactRules()
    usable = [c for c in preferences.channels if available is None or c in available]
    if usable:
        if usable[0] == preferences.channels[0]:
            return usable[0], tr("{channel}: the customer's first choice").format(
                channel=term(usable[0].value))
        return usable[0], tr("{channel}: the customer's choice {rank} (earlier ones not "
                             "available)").format(channel=term(usable[0].value),
                                                  rank=preferences.channels.index(usable[0]) + 1)
    fallback = [c for c in rules.fallback_channels if available is None or c in available]
    if not fallback:
        raise ContactRefusedError(tr("no channel: none of the customer's or the default "
                                     "channels is available"))
    said = tr("{channel}: default (the customer named no channel)") \
        if not preferences.channels else \
        tr("{channel}: default (the customer named no available channel)")
    return fallback[0], said.format(channel=term(fallback[0].value))


def _days(preferences: ContactPreferences, channel: Channel, rules: ContactRules
          ) -> tuple[tuple[int, ...], str]:
    if preferences.best_weekdays:
        return preferences.best_weekdays, tr("the customer's best weekdays")
    if channel is Channel.EMAIL:
        return rules.email_weekdays, tr("e-mail works best on these days")
    return rules.weekdays, tr("working days")


def _free_from(moment: time, quiet: tuple[QuietHours, ...]) -> time | None:
    """The first time at or after ``moment`` on the same day outside every quiet span;
    None when the day is quiet from there to midnight."""
    current = moment
    for _ in range(len(quiet) + 1):
        span = next((s for s in quiet if s.contains(current)), None)
        if span is None:
            return current
        if span.end <= span.start and current >= span.start:  # quiet past midnight
            return None
        current = span.end
    return None


def _first_on(day: date, earliest: time, rules: ContactRules,
              quiet: tuple[QuietHours, ...]) -> time | None:
    start, end = rules.hours
    free = _free_from(max(earliest, start), quiet)
    return free if free is not None and free < end else None


def _span_text(spans: tuple[QuietHours, ...]) -> str:
    return ", ".join(f"{s.start:%H:%M}-{s.end:%H:%M}" for s in spans)


def _names(weekdays: Collection[int]) -> str:
    return ", ".join(tr(WEEKDAY_ABBREVIATIONS[d]) for d in sorted(weekdays))


def suitable_moment(customer: Customer, moment: datetime, *, channel: Channel,
                    rules: ContactRules | None = None) -> tuple[bool, str]:
    """Whether contacting ``customer`` on ``channel`` at ``moment`` suits them (S3), and
    why: never against do-not-contact, within contact hours, outside the customer's
    quiet hours, on their best weekdays (else the channel's days), in their time zone.
    Every moment :func:`plan_contact` proposes is suitable."""
    rules = rules or ContactRules()
    preferences = customer.preferences
    local = moment.astimezone(ZoneInfo(preferences.time_zone or rules.default_time_zone))
    at = local.time().replace(tzinfo=None)
    start, end = rules.hours
    weekdays, days_why = _days(preferences, channel, rules)
    faults = [fault for fault, broken in (
        (tr("do-not-contact"), preferences.do_not_contact),
        (tr("quiet hours {spans}").format(spans=_span_text(preferences.quiet_hours)),
         any(span.contains(at) for span in preferences.quiet_hours)),
        (tr("outside contact hours {start:%H:%M}-{end:%H:%M}").format(start=start, end=end),
         not start <= at < end),
        (tr("not on {days} ({why})").format(days=_names(weekdays), why=days_why),
         local.weekday() not in weekdays),
    ) if broken]
    verdict = "; ".join(faults) if faults else tr("suitable hour and day")
    return not faults, tr("{day} {time:%H:%M} local by {channel}: {verdict}").format(
        day=tr(WEEKDAY_ABBREVIATIONS[local.weekday()]), time=local,
        channel=term(channel.value), verdict=verdict)


def plan_contact(customer: Customer, after: datetime, *, rules: ContactRules | None = None,
                 channel: Channel | None = None,
                 available: Collection[Channel] | None = None) -> ContactSlot:
    """The channel and earliest suitable moment at or after ``after`` to contact ``customer``.

    ``channel`` forces a channel (otherwise :func:`choose_channel`). Raises
    :class:`ContactRefusedError` for a do-not-contact customer, or when no suitable
    moment exists within ``rules.horizon_days``.
    """
    rules = rules or ContactRules()
    preferences = customer.preferences
    if preferences.do_not_contact:
        raise ContactRefusedError(tr("customer {id} asked not to be contacted").format(
            id=customer.id))
    if channel is None:
        channel, channel_why = choose_channel(preferences, rules, available)
    else:
        channel_why = tr("{channel}: chosen by the caller").format(channel=term(channel.value))
    zone_name = preferences.time_zone or rules.default_time_zone
    zone = ZoneInfo(zone_name)
    local_after = after.astimezone(zone)
    weekdays, days_why = _days(preferences, channel, rules)
    for offset in range(rules.horizon_days + 1):
        day = local_after.date() + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        earliest = local_after.time().replace(tzinfo=None) if offset == 0 else time(0)
        found = _first_on(day, earliest, rules, preferences.quiet_hours)
        if found is None:
            continue
        local = datetime.combine(day, found, tzinfo=zone)
        if local < local_after:  # a repeated wall-clock hour: keep the requested moment
            local = local_after
        names = _names(weekdays)
        quiet = (tr(", outside quiet hours {spans}").format(
            spans=_span_text(preferences.quiet_hours)) if preferences.quiet_hours else "")
        why = tr("{channel_why}; {day} {time:%Y-%m-%d %H:%M} {zone} is the earliest time within "
                 "contact hours {start:%H:%M}-{end:%H:%M}{quiet}, on {days} ({days_why})").format(
            channel_why=channel_why, day=tr(WEEKDAY_ABBREVIATIONS[local.weekday()]), time=local,
            zone=zone_name, start=rules.hours[0], end=rules.hours[1], quiet=quiet, days=names,
            days_why=days_why)
        return ContactSlot(customer.id, channel, local.astimezone(UTC), local, why)
    raise ContactRefusedError(tr("customer {id}: no suitable moment within {days} days (quiet "
                                 "hours cover the contact hours?)").format(
        id=customer.id, days=rules.horizon_days))
