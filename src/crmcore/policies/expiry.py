"""Reminders before expiry (S6): contracts and warranties remind their owner N days ahead,
and go up a level when nobody acts.

:class:`Contract` and :class:`Warranty` are storable entities (kinds ``contract`` and
``warranty``). :func:`expiry_reminder` treats "act on this before it expires" as a
:class:`~crmcore.policies.escalation.Task` due ``remind_days_before`` its expiry and
follows an escalation chain from there: the owner first, the supervisor when nobody
acted within the first delay, and so on. Acting (``acted_at``: renewed, extended,
declined on purpose) ends it.

>>> from datetime import UTC, datetime
>>> from crmcore.service import BusinessCalendar
>>> from crmcore.policies.escalation import ReportingLines
>>> office = BusinessCalendar("office", "UTC", {d: ["09:00-17:00"] for d in range(5)})
>>> deal = Contract(id="K1", customer_id="C1", title="maintenance 2026", owner="li.wei",
...                 expires_at=datetime(2026, 4, 30, tzinfo=UTC))
>>> reminder = expiry_reminder(deal, office, ReportingLines({"li.wei": "zhang.min"}),
...                            as_of=datetime(2026, 4, 6, 12, tzinfo=UTC))
>>> reminder.step.role, reminder.person
('supervisor', 'zhang.min')
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.policies.escalation import (
    Escalation,
    EscalationAction,
    EscalationChain,
    EscalationStep,
    Hierarchy,
    Task,
    escalation,
)
from crmcore.service import BusinessCalendar
from crmcore.validation import (
    aware_datetime,
    identifier,
    int_between,
    non_empty_text,
    optional_aware_datetime,
)

__all__ = [
    "CONTRACT",
    "EXPIRY_CHAIN",
    "WARRANTY",
    "Contract",
    "ExpiryPolicy",
    "Warranty",
    "expiry_reminder",
    "expiry_task",
]


@attrs.frozen
class Contract:
    """A contract with a customer that expires (K1: proposals and contracts)."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    title: str = attrs.field(validator=non_empty_text)
    expires_at: datetime = attrs.field(validator=aware_datetime)
    owner: str | None = None
    acted_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)


@attrs.frozen
class Warranty:
    """A warranty on something a customer bought, that expires."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    product: str = attrs.field(validator=non_empty_text)
    expires_at: datetime = attrs.field(validator=aware_datetime)
    owner: str | None = None
    acted_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)


CONTRACT = register_entity_type(EntityType("contract", Contract, "customer_id", "expires_at"))
"""The storable entity kind of :class:`Contract`."""

WARRANTY = register_entity_type(EntityType("warranty", Warranty, "customer_id", "expires_at"))
"""The storable entity kind of :class:`Warranty`."""

EXPIRY_CHAIN = EscalationChain((
    EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
    EscalationStep("supervisor", timedelta(hours=24)),
    EscalationStep("manager", timedelta(hours=64)),
))
"""Owner at the reminder date; up a level after 24 business hours (three 8-hour days)
with nobody acting, and again after 64 (eight days)."""


@attrs.frozen
class ExpiryPolicy:
    """Remind ``remind_days_before`` expiry; climb ``chain`` while nobody acts."""

    remind_days_before: int = attrs.field(default=30, validator=int_between(0, 3660))
    chain: EscalationChain = EXPIRY_CHAIN


def expiry_task(item: Contract | Warranty, policy: ExpiryPolicy | None = None) -> Task:
    """The "act before it expires" task of a contract or warranty."""
    policy = policy or ExpiryPolicy()
    kind, name = ("contract", item.title) if isinstance(item, Contract) else \
        ("warranty", item.product)
    return Task(kind, item.id, item.customer_id, item.owner,
                due_at=item.expires_at - timedelta(days=policy.remind_days_before),
                done_at=item.acted_at,
                what=tr("{kind} {name!r} expires {date}").format(
                    kind=term(kind), name=name, date=item.expires_at.date().isoformat()))


def expiry_reminder(item: Contract | Warranty, calendar: BusinessCalendar, lines: Hierarchy,
                    *, as_of: datetime, policy: ExpiryPolicy | None = None
                    ) -> Escalation | None:
    """Who must be reminded of ``item`` as of ``as_of`` (None: not yet, or acted on)."""
    policy = policy or ExpiryPolicy()
    return escalation(expiry_task(item, policy), policy.chain, calendar, lines, as_of=as_of)
