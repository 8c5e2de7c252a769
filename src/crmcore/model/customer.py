"""Customers, their contacts and their contact preferences (K1, S1, S3)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime, time
from enum import StrEnum
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.validation import (
    as_dict,
    as_tuple,
    identifier,
    int_between,
    language_tag,
    non_empty_text,
    optional,
    optional_aware_datetime,
    optional_identifier,
    time_zone,
)

AttributeValue = str | int | float | bool
"""A custom attribute value: what a host's threshold rules can test (G2)."""


class PartyKind(StrEnum):
    """Whether a customer is a natural person or an organisation."""

    PERSON = "person"
    ORGANISATION = "organisation"


class Channel(StrEnum):
    """A way to reach a customer or be reached by one (S1)."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    WEBSITE = "website"
    FAX = "fax"
    IN_PERSON = "in_person"
    INSTANT_MESSAGE = "instant_message"
    POST = "post"


def _unique_channels(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for index, channel in enumerate(value):
        if not isinstance(channel, Channel):
            raise ValidationError(f"{attribute.name}[{index}]", channel, "is not a channel")
        if channel in value[:index]:
            raise ValidationError(f"{attribute.name}[{index}]", channel.value, "is listed twice")


def _weekdays(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for index, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValidationError(
                f"{attribute.name}[{index}]", day, "is not a weekday number (0=Monday..6=Sunday)"
            )


@attrs.frozen
class QuietHours:
    """A local time span in which the customer must not be contacted.

    ``start`` may be later than ``end``: the span then crosses midnight
    (``22:00-07:00``).
    """

    start: time = attrs.field(validator=attrs.validators.instance_of(time))
    end: time = attrs.field(validator=attrs.validators.instance_of(time))

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationError("end", self.end.isoformat("minutes"), "must differ from start")

    def contains(self, moment: time) -> bool:
        """Whether local ``moment`` falls inside the quiet span (end excluded)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@attrs.frozen
class Celebration:
    """A day the customer celebrates every year (birthday, founding day, festival).

    ``year`` is the year it started, when known (anniversaries count from it).
    """

    name: str = attrs.field(validator=non_empty_text)
    month: int = attrs.field(validator=int_between(1, 12))
    day: int = attrs.field(validator=int_between(1, 31))
    year: int | None = attrs.field(default=None, validator=optional(int_between(1, 9999)))

    def __attrs_post_init__(self) -> None:
        longest = calendar.monthrange(self.year or 2000, self.month)[1]
        if self.day > longest:
            raise ValidationError("day", self.day, tr("does not exist in month {month}").format(
                month=self.month))


@attrs.frozen
class ContactPreferences:
    """How, when and how often a customer wants to hear from us (S1, S3).

    ``channels`` are in order of preference. ``contact_every_days`` is the
    wanted contact frequency; ``best_weekdays`` uses 0 for Monday.
    """

    channels: tuple[Channel, ...] = attrs.field(default=(), converter=as_tuple,
                                                validator=_unique_channels)
    language: str | None = attrs.field(default=None, validator=optional(language_tag))
    time_zone: str | None = attrs.field(default=None, validator=optional(time_zone))
    quiet_hours: tuple[QuietHours, ...] = attrs.field(default=(), converter=as_tuple)
    contact_every_days: int | None = attrs.field(
        default=None, validator=optional(int_between(1, 3660))
    )
    best_weekdays: tuple[int, ...] = attrs.field(
        default=(), converter=as_tuple, validator=_weekdays
    )
    religion: str | None = None
    celebrations: tuple[Celebration, ...] = attrs.field(default=(), converter=as_tuple)
    do_not_contact: bool = False


def _attributes(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError(attribute.name, value, "is not a mapping of attribute values")
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValidationError(attribute.name, key, "is not an attribute name")
        if not isinstance(item, str | int | float | bool):
            raise ValidationError(
                f"{attribute.name}.{key}", item, "is not a text, number or true/false value"
            )
        if isinstance(item, float) and item != item:
            raise ValidationError(f"{attribute.name}.{key}", item, "is not a number (NaN)")


@attrs.frozen
class Customer:
    """A person or organisation we do business with, or want to (K1).

    ``attributes`` holds the host's own facts (annual turnover, industry,
    reputation...) that threshold grading rules can test (G2).
    ``acquired_at`` is when the relationship started (cohorts, tenure);
    ``verified_at`` when its data was last checked with the customer (K2),
    None if never.
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=non_empty_text)
    kind: PartyKind = attrs.field(
        default=PartyKind.ORGANISATION, validator=attrs.validators.instance_of(PartyKind)
    )
    owner: str | None = None
    acquired_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    parent_id: str | None = attrs.field(default=None, validator=optional_identifier)
    attributes: dict[str, AttributeValue] = attrs.field(
        factory=dict, converter=as_dict, validator=_attributes
    )
    preferences: ContactPreferences = attrs.field(
        factory=ContactPreferences,
        validator=attrs.validators.instance_of(ContactPreferences),
    )
    tags: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    verified_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)


@attrs.frozen
class ContactPerson:
    """A person at a customer we talk to (K1: name, title, phone)."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=non_empty_text)
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    email: str | None = attrs.field(default=None)
    reports_to: str | None = attrs.field(default=None, validator=optional_identifier)
    is_primary: bool = False

    @email.validator
    def _check_email(self, _attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None and (value.count("@") != 1 or value.startswith("@")
                                  or value.endswith("@") or " " in value):
            raise ValidationError("email", value, "is not an e-mail address")
