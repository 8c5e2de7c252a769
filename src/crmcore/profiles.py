"""Shipped profiles: the sources' defaults for a practice, chosen by one configuration key.

``profile = "zh-CN"`` at the top of a configuration file fills in what Chinese practice
in the rule catalogue's sources does, as ordinary configuration (so every value can be
changed, and each is read and checked by its own table's reader)::

    profile = "zh-CN"

is the same as writing::

    lang = "zh_CN"                            # output in Chinese (crmcore.i18n)
    [policies]
    calendar = "CN"                           # official calendar with 调休 (crmcore.calendars)
    time_zone = "Asia/Shanghai"
    customer_time_zone = "Asia/Shanghai"
    festivals = ["元旦", "春节", "端午节", "中秋节", "国庆节"]  # greet every customer
    [policies.care]
    message_weekday = "friday"                # S2: the weekly message to key customers
    message_time = "18:00"                    # on Friday evening (每周五晚上)
    message_channel = "sms"                   # by SMS, unless the customer chose channels

A key the file gives itself wins over the profile's (tables are merged key by key).
The festivals' dates come from the lunar calendar as the ``holidays`` package computes
it. The weekly message is addressed and signed as the follow-up handbook shows:
``王总,您好!`` ... then the person and the company (:meth:`Profile.weekly_message`).
An unknown profile is a :class:`~crmcore.errors.ConfigError` listing the shipped ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.model import Channel, Customer, PartyKind
from crmcore.policies.care import CarePlan, Message, Signature, compose_message

__all__ = ["PROFILES", "Profile", "apply_profile", "profile_named", "surname"]

_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台",
})

CONTACT_ATTRIBUTES = ("contact", "联系人")
"""Customer attributes naming the person a message to an organisation is addressed to."""


def surname(name: str) -> str:
    """The family name of a Chinese name (``王建国`` -> ``王``, ``欧阳修`` -> ``欧阳``);
    a name in another script is returned whole."""
    name = name.strip()
    if not name or not "\u4e00" <= name[0] <= "\u9fff":
        return name
    return name[:2] if name[:2] in _COMPOUND_SURNAMES else name[:1]


@attrs.frozen
class Profile:
    """A shipped profile: configuration ``settings`` filled in under a file's own, and
    how its weekly message is addressed (``salutation``, with ``{surname}``) and the
    ``subject`` it carries."""

    name: str
    description: str
    settings: Mapping[str, Any]
    salutation: str = "{name},"
    subject: str = "weekly message"

    def address(self, customer: Customer) -> str:
        """The salutation for ``customer``: its contact person (attribute ``contact`` or
        ``联系人``) or, for a person, the customer itself."""
        person = next((str(customer.attributes[key]) for key in CONTACT_ATTRIBUTES
                       if customer.attributes.get(key)), None)
        if person is None:
            person = customer.name if customer.kind is PartyKind.PERSON else None
        if person is None:
            return self.salutation.format(surname=customer.name, name=customer.name)
        return self.salutation.format(surname=surname(person), name=person)

    def weekly_message(self, customer: Customer, body: str, signature: Signature,
                       plan: CarePlan | None = None) -> Message:
        """The weekly personal message to one key customer (S2): addressed as the
        handbook shows, ``body``, then the person and the company; on the customer's
        chosen channel, else the plan's ``message_channel``."""
        chosen = customer.preferences.channels
        channel: Channel | None = None if chosen else (plan.message_channel if plan else None)
        return compose_message(customer, subject=self.subject,
                               body=f"{self.address(customer)}\n{body.strip()}",
                               signature=signature, channel=channel)


PROFILES: dict[str, Profile] = {
    "zh-CN": Profile(
        name="zh-CN",
        description="Chinese practice: Chinese output, CN calendar with make-up working days, "
                    "Asia/Shanghai, festival greetings, the weekly SMS on Friday evening",
        settings={
            "lang": "zh_CN",
            "policies": {
                "calendar": "CN",
                "time_zone": "Asia/Shanghai",
                "customer_time_zone": "Asia/Shanghai",
                "festivals": ["元旦", "春节", "端午节", "中秋节", "国庆节"],
                "care": {"message_weekday": "friday", "message_time": "18:00",
                         "message_channel": "sms"},
            },
        },
        salutation="{surname}总,您好!",
        subject="每周问候",
    ),
}
"""The shipped profiles by name."""


def profile_named(name: object) -> Profile:
    """The shipped profile ``name``; :class:`~crmcore.errors.ConfigError` listing them."""
    profile = PROFILES.get(name) if isinstance(name, str) else None
    if profile is None:
        raise ConfigError(tr("profile: {value!r} is not a shipped profile (available: "
                             "{profiles})").format(value=name,
                                                   profiles=", ".join(sorted(PROFILES))))
    return profile


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(defaults))
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_profile(data: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration document with its ``profile`` (if any) filled in under its own
    keys; the ``profile`` key itself is kept. A language the file sets (``lang`` or
    ``[locale] lang``) wins over the profile's."""
    if "profile" not in data:
        return dict(data)
    defaults = dict(profile_named(data["profile"]).settings)
    locale = data.get("locale")
    if "lang" in data or (isinstance(locale, Mapping) and "lang" in locale):
        defaults.pop("lang", None)
    return _merged(defaults, data)
