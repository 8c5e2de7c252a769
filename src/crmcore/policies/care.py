"""Care (S2, G6): contact cadence per grade, personal weekly messages, greetings.

A :class:`CarePlan` says how often each grade is contacted (A weekly, B monthly, C
quarterly, D twice a year by default; or the ``contact_every_days`` of a grading
scheme's follow-up policies) and who the *key* customers are: the key grades, and the
customers tagged with the follow-up procedures' key statuses (signed, about to sign,
tracked closely, tracked long term: 已经签单 / 即将签单 / 重点跟踪 / 需长期跟踪).
Key customers get a personal message every week.

The customer's own wishes come first (S1): a customer who told us how often to hear
from us is contacted that often, and gets the personal message no more often than
that; a customer whose chosen channels include no message channel (website, phone,
fax...) gets it on those channels, so a contact there counts as the message. One
definition serves the agenda and the compliance report: :func:`contact_every`,
:func:`message_every`, :func:`counts_as_message` and :func:`key_customer`. Greetings
fall due on the customer's own celebrations and on the holidays of the customer's
religion.

Messages are personal by design: a :class:`Message` is addressed to exactly one
customer and signed by a person of the company. Addressing one to several customers
raises :class:`BulkSendError`.

>>> from datetime import UTC, datetime
>>> from crmcore.model import Customer
>>> key = Customer(id="C1", name="Anna Berg")
>>> due = contact_due(key, "A", datetime(2026, 3, 1, tzinfo=UTC),
...                   as_of=datetime(2026, 3, 9, tzinfo=UTC))
>>> due.due_at.date().isoformat(), due.why
('2026-03-08', 'last contact 2026-03-01; grade A is contacted every 7 days')
>>> compose_message([key, key], subject="Hello", body="Dear Anna, ...",
...                 signature=Signature("Li Wei", "Acme"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
crmcore.policies.care.BulkSendError: recipient: 2 customers given; a message is addressed to ...
"""

from __future__ import annotations

import calendar as gregorian
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import attrs

from crmcore.errors import MISSING, ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import Celebration, Channel, Customer, Interaction, InteractionKind
from crmcore.policies.grades import grade_or_last
from crmcore.validation import int_between, non_empty_text, time_zone

__all__ = [
    "DEFAULT_CADENCE_DAYS",
    "DEFAULT_KEY_TAGS",
    "EVERYONE",
    "MESSAGE_CHANNELS",
    "MESSAGE_KINDS",
    "BulkSendError",
    "CareDue",
    "CarePlan",
    "ContactEvery",
    "Holiday",
    "Message",
    "Signature",
    "compose_message",
    "contact_due",
    "contact_every",
    "counts_as_message",
    "greetings_due",
    "key_customer",
    "message_every",
    "personal_message_due",
]

DEFAULT_CADENCE_DAYS: dict[str, int] = {"A": 7, "B": 30, "C": 91, "D": 182}
"""Days between contacts per grade: weekly, monthly, quarterly, twice a year."""

DEFAULT_KEY_TAGS: frozenset[str] = frozenset({
    "已经签单", "即将签单", "重点跟踪", "需长期跟踪",
    "signed", "about-to-sign", "tracked-closely", "tracked-long-term"})
"""Customer tags that make a key customer (S2): signed, about to sign, tracked closely,
tracked long term, as the follow-up procedures name them (and in English)."""

MESSAGE_KINDS = frozenset({InteractionKind.EMAIL, InteractionKind.MESSAGE,
                           InteractionKind.SMS})
"""Outbound interactions of these kinds count as messages (the weekly personal message)."""

MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL, Channel.INSTANT_MESSAGE})
"""Channels a written personal message can go by."""

EVERYONE = "*"
"""The key of :func:`greetings_due`'s holidays that every customer is greeted on (a
country's festivals: 春节, 端午节, 中秋节), whatever their religion."""


class BulkSendError(ValidationError):
    """A message was addressed to more than one customer (S2 forbids bulk sends)."""


class ContactEvery(Protocol):
    """What :meth:`CarePlan.from_followup` reads per grade (a G6 follow-up policy)."""

    @property
    def contact_every_days(self) -> int | None:
        """Days between contacts, or None to keep the plan's."""


def _cadence(value: Mapping[str, int]) -> dict[str, int]:
    cadence = dict(value)
    if not cadence:
        raise ValidationError("cadence_days", cadence, "is empty: give days per grade")
    for grade, days in cadence.items():
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValidationError(f"cadence_days.{grade}", days, "is not a number of days >= 1")
    return cadence


@attrs.frozen
class CarePlan:
    """Contact cadence per grade (best first), key customers and greeting lead time.

    Customers of ``key_grades``, and customers with one of ``key_tags``, get a personal
    message every ``personal_message_every_days``; greetings appear
    ``greeting_lead_days`` before their day. Ungraded customers are treated as the
    last grade. A churn whose reason is unknown puts "ask why" on the owner's agenda,
    due ``ask_why_within_days`` after the churn (L3). Feedback of the last
    ``thank_you_lookback_days`` gets a thank-you letter due ``thank_you_within_days``
    after it (S2).
    """

    cadence_days: dict[str, int] = attrs.field(factory=lambda: dict(DEFAULT_CADENCE_DAYS),
                                               converter=_cadence)
    key_grades: frozenset[str] = attrs.field(default=frozenset({"A"}), converter=frozenset)
    key_tags: frozenset[str] = attrs.field(default=DEFAULT_KEY_TAGS, converter=frozenset)
    personal_message_every_days: int = attrs.field(default=7, validator=int_between(1, 366))
    greeting_lead_days: int = attrs.field(default=3, validator=int_between(0, 60))
    ask_why_within_days: int = attrs.field(default=7, validator=int_between(0, 366))
    thank_you_within_days: int = attrs.field(default=5, validator=int_between(0, 366))
    thank_you_lookback_days: int = attrs.field(default=30, validator=int_between(1, 3660))

    message_weekday: int | None = attrs.field(default=None, validator=attrs.validators.optional(
        int_between(0, 6)))
    message_time: time | None = None
    message_channel: Channel | None = None
    time_zone: str = attrs.field(default="UTC", validator=time_zone)

    def message_slot(self, due_at: datetime, zone: ZoneInfo) -> datetime:
        """``message_time`` (local to ``zone``) of the first ``message_weekday`` on or after
        the day of ``due_at``: the follow-up procedures' "every Friday evening" (S2)."""
        day = due_at.astimezone(zone).date()
        if self.message_weekday is not None:
            day += timedelta(days=(self.message_weekday - day.weekday()) % 7)
        return datetime.combine(day, self.message_time or time(0), tzinfo=zone).astimezone(UTC)

    @property
    def ask_why_within(self) -> timedelta:
        """How soon after an unexplained churn its owner should ask why (L3)."""
        return timedelta(days=self.ask_why_within_days)

    def cadence(self, grade: str | None) -> int:
        """Days between contacts for ``grade``."""
        return self.cadence_days[grade_or_last(grade, tuple(self.cadence_days))]

    def from_followup(self, policies: Mapping[str, ContactEvery]) -> CarePlan:
        """This plan with the ``contact_every_days`` of G6 follow-up policies per grade."""
        cadence = dict(self.cadence_days)
        cadence.update({grade: policy.contact_every_days for grade, policy in policies.items()
                        if policy.contact_every_days is not None})
        return attrs.evolve(self, cadence_days=cadence)


@attrs.frozen
class CareDue:
    """A care action that is due: ``kind`` is ``contact``, ``personal_message`` or
    ``greeting``; ``occasion`` names a greeting's occasion."""

    customer_id: str
    kind: str
    due_at: datetime
    why: str
    occasion: str | None = None
    channel: Channel | None = None


def contact_every(customer: Customer, grade: str | None, plan: CarePlan | None = None
                  ) -> tuple[int, str]:
    """Days between contacts of ``customer`` and the rule that says so: the customer's
    wish (S1) when stated, else the grade's cadence (S2, G6)."""
    plan = plan or CarePlan()
    wanted = customer.preferences.contact_every_days
    if wanted:
        return wanted, tr("the customer asked to hear from us every {days} days").format(
            days=wanted)
    every = plan.cadence(grade)
    return every, tr("grade {grade} is contacted every {days} days").format(
        grade=term(grade_or_last(grade, tuple(plan.cadence_days))), days=every)


def key_customer(customer: Customer, grade: str | None, plan: CarePlan | None = None
                 ) -> str | None:
    """Why ``customer`` is a key customer (S2): its grade or its key tag; None if not."""
    plan = plan or CarePlan()
    if grade is not None and grade in plan.key_grades:
        return tr("grade {grade}").format(grade=term(grade))
    tag = next((t for t in customer.tags if t in plan.key_tags), None)
    return None if tag is None else tr("tagged {tag}").format(tag=tag)


def message_every(customer: Customer, plan: CarePlan | None = None) -> int:
    """Days between personal messages: the plan's, or the customer's wanted contact
    frequency when that is rarer (S1 before S2)."""
    plan = plan or CarePlan()
    return max(plan.personal_message_every_days,
               customer.preferences.contact_every_days or 0)


def counts_as_message(interaction: Interaction, customer: Customer) -> bool:
    """Whether an outbound ``interaction`` counts as the personal message (S2): a
    written message; or, for a customer who chose only channels without written
    messages (website, phone, fax...), any contact on a chosen channel (S1)."""
    chosen = customer.preferences.channels
    if chosen and not MESSAGE_CHANNELS.intersection(chosen):
        return interaction.channel in chosen
    return interaction.kind in MESSAGE_KINDS


def contact_due(customer: Customer, grade: str | None, last_contact: datetime | None, *,
                as_of: datetime, plan: CarePlan | None = None,
                cadence: tuple[int, str] | None = None) -> CareDue | None:
    """The next contact if it is due by ``as_of`` (S2, G6; S1 when the customer chose a
    frequency). Never contacted: due since the relationship started (or now).

    ``cadence`` is :func:`contact_every` of the customer, when the caller has it (the
    agenda computes it once per wanted frequency and grade)."""
    if customer.preferences.do_not_contact:
        return None
    every, rule = cadence or contact_every(customer, grade, plan)
    if last_contact is None:
        due_at = customer.acquired_at or as_of
        why = tr("never contacted; {rule}").format(rule=rule)
    else:
        due_at = last_contact + timedelta(days=every)
        why = tr("last contact {date}; {rule}").format(date=last_contact.date().isoformat(),
                                                      rule=rule)
    if due_at > as_of:
        return None
    return CareDue(customer.id, "contact", due_at, why)


def personal_message_due(customer: Customer, grade: str | None,
                         last_message: datetime | None, *, as_of: datetime,
                         plan: CarePlan | None = None) -> CareDue | None:
    """The personal message of a key customer, if due by ``as_of`` (S2; ``last_message``
    as :func:`counts_as_message` finds it, every :func:`message_every` days)."""
    plan = plan or CarePlan()
    reason = key_customer(customer, grade, plan)
    if reason is None or customer.preferences.do_not_contact:
        return None
    every = message_every(customer, plan)
    due_at = as_of if last_message is None else last_message + timedelta(days=every)
    if plan.message_weekday is not None or plan.message_time is not None:
        zone = ZoneInfo(customer.preferences.time_zone or plan.time_zone)
        due_at = plan.message_slot(due_at, zone)  # shown from the morning of its day
        if due_at.astimezone(zone).date() > as_of.astimezone(zone).date():
            return None
    elif due_at > as_of:
        return None
    since = tr("no personal message yet") if last_message is None else \
        tr("last personal message {date}").format(date=last_message.date().isoformat())
    chosen = customer.preferences.channels
    channel = chosen[0] if chosen else plan.message_channel
    why = tr("key customer ({reason}): a personal message every {days} days; {since}").format(
        reason=reason, days=every, since=since)
    if channel is not None and plan.message_channel is not None:
        why = tr("{why}; send it by {channel}").format(why=why, channel=term(channel.value))
    return CareDue(customer.id, "personal_message", due_at, why, channel=channel)


@attrs.frozen
class Holiday:
    """A dated holiday of a religion or culture (Eid al-Fitr 2026, Diwali 2026...)."""

    name: str = attrs.field(validator=non_empty_text)
    day: date = attrs.field(validator=attrs.validators.instance_of(date))


def _occurs(celebration: Celebration, year: int) -> date:
    """The celebration's date in ``year`` (29 February becomes the 28th in other years)."""
    last = gregorian.monthrange(year, celebration.month)[1]
    return date(year, celebration.month, min(celebration.day, last))


def greetings_due(customer: Customer, *, as_of: datetime, plan: CarePlan | None = None,
                  holidays: Mapping[str, Iterable[Holiday]] | None = None) -> list[CareDue]:
    """Greetings whose day falls within the plan's lead days from ``as_of`` (S2, S3).

    Days are the customer's local days; ``holidays`` maps a religion (as written in
    the customer's preferences) to its dated holidays, and :data:`EVERYONE` to the
    holidays every customer is greeted on. Each greeting is due at local midnight of
    its day (the plan's ``time_zone`` for a customer without one).
    """
    plan = plan or CarePlan()
    preferences = customer.preferences
    if preferences.do_not_contact:
        return []
    zone = ZoneInfo(preferences.time_zone or plan.time_zone)
    today = as_of.astimezone(zone).date()
    last = today + timedelta(days=plan.greeting_lead_days)
    found: list[tuple[date, str, str]] = []
    for celebration in preferences.celebrations:
        for year in (today.year, today.year + 1):
            day = _occurs(celebration, year)
            if today <= day <= last:
                years = tr(" ({years} years)").format(years=year - celebration.year) \
                    if celebration.year else ""
                found.append((day, celebration.name, tr("the customer's {name}{years} is on "
                                                        "{day}").format(
                    name=term(celebration.name), years=years, day=day.isoformat())))
    for holiday in (holidays or {}).get(EVERYONE, ()):
        if today <= holiday.day <= last:
            found.append((holiday.day, holiday.name, tr("{name} is on {day}").format(
                name=holiday.name, day=holiday.day.isoformat())))
    religion = preferences.religion
    for holiday in (holidays or {}).get(religion or "", ()) if religion else ():
        if today <= holiday.day <= last:
            found.append((holiday.day, holiday.name, tr(
                "{name}, a holiday of the customer's religion ({religion}), is on {day}").format(
                name=holiday.name, religion=religion, day=holiday.day.isoformat())))
    return [CareDue(customer.id, "greeting",
                    datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC), why, name)
            for day, name, why in sorted(found)]


@attrs.frozen
class Signature:
    """Who signs a message: a person of the company (S2: signed with company and person)."""

    person: str = attrs.field(validator=non_empty_text)
    company: str = attrs.field(validator=non_empty_text)
    title: str | None = None

    def text(self) -> str:
        """The signature block."""
        return "\n".join(part for part in (self.person, self.title, self.company) if part)


def _one_recipient(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, list | tuple | set | frozenset):
        raise _bulk(len(value))
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(attribute.name, value, "is not one customer id")


_ONLY_ONE = ("a message is addressed to exactly one customer; write one message per "
             "customer (S2: never a bulk send)")


def _bulk(count: int) -> BulkSendError:
    return BulkSendError("recipient", MISSING, f"{count} customers given; {_ONLY_ONE}")


_PLACEHOLDER = re.compile(r"\{[^{}]*\}|\[\[[^\]]*\]\]")


def _filled(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_empty_text(_instance, attribute, value)
    leftover = _PLACEHOLDER.search(value)
    if leftover:
        raise ValidationError(attribute.name, leftover.group(),
                              "is an unfilled placeholder: write each message for its reader")


@attrs.frozen
class Message:
    """A personal message to ONE customer, signed by a person (S2).

    ``recipient_id`` is a single customer id: a list or set of customers raises
    :class:`BulkSendError`. ``subject`` and ``body`` must not contain unfilled
    placeholders such as ``{name}``.
    """

    recipient_id: str = attrs.field(validator=_one_recipient)
    recipient_name: str = attrs.field(validator=non_empty_text)
    subject: str = attrs.field(validator=_filled)
    body: str = attrs.field(validator=_filled)
    signature: Signature = attrs.field(validator=attrs.validators.instance_of(Signature))
    channel: Channel = Channel.EMAIL

    def text(self) -> str:
        """The body followed by the signature block."""
        return f"{self.body.rstrip()}\n\n{self.signature.text()}\n"


def compose_message(recipient: Customer, *, subject: str, body: str, signature: Signature,
                    channel: Channel | None = None) -> Message:
    """A :class:`Message` to ``recipient`` on its preferred channel (or ``channel``).

    Passing several customers raises :class:`BulkSendError`: write one each.
    """
    if isinstance(recipient, list | tuple | set | frozenset):
        raise _bulk(len(recipient))
    if not isinstance(recipient, Customer):
        raise ValidationError("recipient", recipient, "is not a customer")
    preferred = recipient.preferences.channels
    return Message(recipient.id, recipient.name, subject, body, signature,
                   channel or (preferred[0] if preferred else Channel.EMAIL))
