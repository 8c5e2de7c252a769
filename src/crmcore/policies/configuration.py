"""The ``[policies]`` table of a configuration file, read into a :class:`PolicySet`.

Every key is optional; a key left out keeps the default. A table that is given
(``sla.table``, ``chain``, ``lines``, ``care.cadence_days``) replaces the default one
as a whole. Durations are business hours, cadences days, as in the classes they fill::

    [policies]
    calendar = "office.toml"      # a calendar file (relative to this file) or table,
                                  # or a country code: "CN" (crmcore.calendars)
    time_zone = "Asia/Shanghai"   # the company's zone (country-code or default calendar)
    customer_time_zone = "Asia/Shanghai"  # for customers without a zone of their own
    festivals = ["春节", "端午节", "中秋节"]  # greet everyone (calendar = a country code)
    lines = { "li.wei" = "zhang.min", "zhang.min" = "anna.berg" }  # person = superior

    [policies.sla]                # SlaPolicy
    warn_at = [0.75]              # fractions of the target
    paused_statuses = ["waiting_on_customer", "on_hold"]
    stopped_statuses = ["resolved", "closed"]

    [policies.sla.table]          # SlaTable: grade (best first) -> priority ->
    A = { urgent = [1, 4], high = [2, 8], normal = [4, 16], low = [8, 40] }
                                  # [first response, resolution] business hours

    [[policies.chain]]            # EscalationChain, step by step
    role = "owner"
    after_hours = 0               # business hours after the due moment
    action = "notify"             # notify | escalate | transfer

    [policies.care]               # CarePlan
    cadence_days = { A = 7, B = 30 }
    key_grades = ["A"]
    key_tags = ["已经签单", "即将签单", "重点跟踪", "需长期跟踪"]  # S2 key statuses
    personal_message_every_days = 7
    greeting_lead_days = 3
    message_weekday = "friday"    # S2: the weekly message on Friday evening (每周五晚上),
    message_time = "18:00"        # local to the customer (customer_time_zone without one),
    message_channel = "sms"       # by SMS unless the customer chose channels (S1)
    ask_why_within_days = 7       # L3: ask a churned customer why, within this many days
    thank_you_within_days = 5     # S2: a thank-you letter for feedback, within this many days
    thank_you_lookback_days = 30  # S2: feedback older than this gets no letter any more

Every bad value raises :class:`~crmcore.errors.ConfigError` naming its key path
(``policies.chain[1].action: 'teleport' is not one of notify, escalate, transfer``);
unknown keys are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.calendars import (
    MESSAGE_SLOT_KEYS,
    festival_days,
    is_region_code,
    message_slot_options,
    region_calendar,
    zone_option,
)
from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import N_, file_problem, tr
from crmcore.model import TicketStatus
from crmcore.options import Options
from crmcore.policies.care import EVERYONE, CarePlan
from crmcore.policies.escalation import (
    EscalationAction,
    EscalationChain,
    EscalationStep,
    ReportingLines,
)
from crmcore.policies.settings import PolicySet
from crmcore.policies.sla import SlaPolicy, SlaTable
from crmcore.service import BusinessCalendar
from crmcore.service.calendar_data import calendar_from_mapping, calendar_from_toml

if TYPE_CHECKING:
    from crmcore.app import CRM
    from crmcore.config import CRMConfig

__all__ = ["POLICIES_SECTION", "configured_policies", "policies_from_config"]

POLICIES_SECTION = "policies"
"""The configuration table read by :func:`policies_from_config`."""

_MAX_HOURS = 24 * 366 * 10
_ACTIONS = tuple(action.value for action in EscalationAction)
_STATUSES = tuple(status.value for status in TicketStatus)


def policies_from_config(config: CRMConfig) -> PolicySet:
    """The :class:`PolicySet` of the configuration's optional ``[policies]`` table."""
    options = config.settings(POLICIES_SECTION)
    default = PolicySet()
    values: dict[str, Any] = {}
    if options.has("calendar"):
        values["calendar"] = _calendar(options)
    elif options.has("time_zone"):  # the default hours, in the company's zone
        zone = zone_option(options, "time_zone") or "UTC"
        values["calendar"] = attrs.evolve(default.calendar, time_zone=zone,
                                          name=f"weekdays-9-18-{zone}")
    if options.has("customer_time_zone"):
        values["contact"] = attrs.evolve(default.contact, default_time_zone=zone_option(
            options, "customer_time_zone") or "UTC")
    if options.has("festivals"):
        values["holidays"] = {EVERYONE: festival_days(options)}
    if options.has("sla"):
        values["sla"] = _sla(options.section("sla"), default.sla)
    if options.has("chain"):
        values["chain"] = _chain(options)
    if options.has("lines"):
        values["lines"] = _lines(options)
    if options.has("care") or options.has("customer_time_zone"):
        care = _care(options.section("care"), default.care)
        values["care"] = attrs.evolve(care, time_zone=values["contact"].default_time_zone) \
            if "contact" in values else care
    options.refuse_unknown(("calendar", "sla", "chain", "lines", "care", "time_zone",
                            "customer_time_zone", "calendar_years", "festivals"))
    return attrs.evolve(default, **values)


def configured_policies(crm: CRM) -> PolicySet:
    """The policies of ``crm``'s configuration (the defaults when it has no ``[policies]``)."""
    return policies_from_config(crm.config)


def _calendar(options: Options) -> BusinessCalendar:
    key = options.key("calendar")
    value = options.raw("calendar")
    if isinstance(value, Mapping):
        try:
            return calendar_from_mapping(value)
        except ConfigError as error:
            raise ConfigError(tr("{key}: {error}").format(key=key, error=error)) from None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(tr("{key}: {value!r} is not a calendar file path or a calendar "
                             "table").format(key=key, value=value))
    path = Path(options.path("calendar"))
    if is_region_code(value) and not path.exists():  # "CN", "DE-BY": crmcore.calendars
        return region_calendar(options)
    if options.has("time_zone"):
        raise ConfigError(tr("{key}: the calendar {value!r} names its own time zone; give "
                             "time_zone with a country-code calendar only").format(
                                 key=options.key("time_zone"), value=value))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(tr("{key}: {error}").format(key=key, error=tr(
            "cannot read {path!r}: {error}").format(path=str(path),
                                                    error=file_problem(error)))) from None
    try:
        return calendar_from_toml(text)
    except ConfigError as error:
        raise ConfigError(tr("{key}: {path}: {error}").format(key=key, path=path,
                                                             error=error)) from None


def _sla(options: Options, default: SlaPolicy) -> SlaPolicy:
    values: dict[str, Any] = {}
    if options.has("table"):
        values["table"] = SlaTable.from_hours(options.table("table"),
                                              prefix=options.key("table"))
    for name in ("paused_statuses", "stopped_statuses"):
        statuses = options.items(name, "a list of ticket statuses")
        if statuses is None:
            continue
        for index, status in enumerate(statuses):
            if status not in _STATUSES:
                raise ConfigError(tr("{key}: {value!r} is not one of {choices}").format(
                    key=f"{options.key(name)}[{index}]", value=status,
                    choices=", ".join(_STATUSES)))
        values[name] = frozenset(statuses)
    if options.has("warn_at"):
        values["warn_at"] = _fractions(options, "warn_at")
    options.refuse_unknown(("table", "paused_statuses", "stopped_statuses", "warn_at"))
    try:
        return attrs.evolve(default, **values)
    except ValidationError as error:
        raise options.invalid(error) from None


def _fractions(options: Options, name: str) -> tuple[float, ...]:
    value = options.raw(name)
    items = value if isinstance(value, list) else [value]
    keys = ([f"{options.key(name)}[{index}]" for index in range(len(items))]
            if isinstance(value, list) else [options.key(name)])
    for key, item in zip(keys, items, strict=True):
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item < 1:
            raise ConfigError(tr("{key}: {value!r} is not a fraction between 0 and 1 (0.75: warn "
                                 "when 75% of the target is used)").format(key=key, value=item))
    return tuple(float(item) for item in items)


def _chain(options: Options) -> EscalationChain:
    key = options.key("chain")
    tables = options.sections("chain")
    if not tables:
        raise ConfigError(tr("{key}: is empty: a chain has at least one step ([[{key}]])").format(
            key=key))
    steps: list[EscalationStep] = []
    for table in tables:
        role = table.text("role")
        if not role.strip():
            raise ConfigError(tr("{key}: {value!r} is not a non-empty text").format(
                key=table.key("role"), value=role))
        hours = table.number("after_hours")
        if not math.isfinite(hours) or hours < 0 or hours > _MAX_HOURS:
            raise ConfigError(tr("{key}: {value!r} is not a number of hours from 0 to "
                                 "{most}").format(key=table.key("after_hours"), value=hours,
                                                  most=_MAX_HOURS))
        if steps and timedelta(hours=hours) < steps[-1].after:
            before = steps[-1].after / timedelta(hours=1)
            raise ConfigError(tr("{key}: {value!r} is earlier than the step before it "
                                 "({before!r})").format(key=table.key("after_hours"),
                                                        value=hours, before=before))
        action = table.choice("action", _ACTIONS, EscalationAction.ESCALATE.value)
        table.check_all_used()
        try:
            steps.append(EscalationStep(role, timedelta(hours=hours), EscalationAction(action)))
        except ValidationError as error:
            raise table.invalid(error) from None
    return EscalationChain(tuple(steps))


def _lines(options: Options) -> ReportingLines:
    key = options.key("lines")
    superiors = options.table("lines")
    for person, boss in superiors.items():
        if not isinstance(boss, str) or not boss.strip():
            raise ConfigError(tr("{key}: {value!r} is not a person (a non-empty text)").format(
                key=f"{key}.{person}", value=boss))
    return ReportingLines({str(person): boss.strip() for person, boss in superiors.items()})


def _texts(options: Options, name: str, what: str) -> frozenset[str] | None:
    """The list ``name`` of non-empty texts (each a ``what``), or None when absent."""
    items = options.items(name, tr("a list of {what}s").format(what=tr(what)))
    if items is None:
        return None
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(tr("{key}: {value!r} is not a {what} (a non-empty text)").format(
                key=f"{options.key(name)}[{index}]", value=item, what=tr(what)))
    return frozenset(items)


def _care(options: Options, default: CarePlan) -> CarePlan:
    values: dict[str, Any] = {}
    if options.has("cadence_days"):
        cadence = options.table("cadence_days")
        if not cadence:
            raise ConfigError(tr("{key}: is empty: give days per grade").format(
                key=options.key("cadence_days")))
        for grade, days in cadence.items():
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise ConfigError(tr("{key}: {value!r} is not a number of days >= 1").format(
                    key=f"{options.key('cadence_days')}.{grade}", value=days))
        values["cadence_days"] = dict(cadence)
    for name, what in (("key_grades", N_("grade")), ("key_tags", N_("customer tag"))):
        texts = _texts(options, name, what)
        if texts is not None:
            values[name] = texts
    values.update(message_slot_options(options))
    integers = ("personal_message_every_days", "greeting_lead_days", "ask_why_within_days",
                "thank_you_within_days", "thank_you_lookback_days")
    for name in integers:
        if options.has(name):
            values[name] = options.integer(name)
    options.refuse_unknown(("cadence_days", "key_grades", "key_tags", *integers,
                            *MESSAGE_SLOT_KEYS))
    try:
        return attrs.evolve(default, **values)
    except ValidationError as error:
        raise options.invalid(error) from None
