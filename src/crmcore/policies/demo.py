"""The service policies in the demo: appointments and contracts for a demo book, and the
report's agenda section.

:func:`policy_records` adds what the generated book lacks for the agenda:
appointments (upcoming and completed visits), contracts and warranties near expiry.
Store them after the book (``crm.import_entities(policy_records(book), ...)``).
:func:`agenda_section` is the demo report's agenda: counts by action and owner, and
the most urgent items with why they are due.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.policies.appointments import Appointment
from crmcore.policies.expiry import Contract, Warranty
from crmcore.policies.service import PolicyService

if TYPE_CHECKING:
    from crmcore.demo.generator import DemoBook
    from crmcore.demo.report import ReportContext, ReportSection

__all__ = ["SHOWN_ITEMS", "agenda_section", "policy_records"]

SHOWN_ITEMS = 8
"""How many agenda items the section lists."""

_PURPOSES = ("installation", "maintenance visit", "training", "quarterly review")


def _hour(moment: datetime, rng: random.Random) -> datetime:
    return moment.replace(hour=rng.randint(1, 9), minute=0, second=0, microsecond=0)


def policy_records(book: DemoBook, *, seed: int = 7,
                   as_of: datetime | None = None) -> list[Any]:
    """Appointments, contracts and warranties for ``book`` (same seed, same records);
    ``as_of`` defaults to the demo's today."""
    if as_of is None:
        from crmcore.demo.generator import DEFAULT_AS_OF  # the demo imports this module

        as_of = DEFAULT_AS_OF
    rng = random.Random(seed * 7919 + 1)
    made: list[Any] = []
    for customer in book.customers:
        if rng.random() < 0.25:
            completed = rng.random() < 0.4
            at = _hour(as_of + timedelta(days=rng.randint(-20, -2) if completed
                                         else rng.randint(1, 12)), rng)
            made.append(Appointment(
                id=f"{customer.id}-V1", customer_id=customer.id, starts_at=at,
                purpose=rng.choice(_PURPOSES), owner=customer.owner,
                confirmed_at=at - timedelta(days=8) if completed or rng.random() < 0.5 else None,
                reminded_at=at - timedelta(hours=2) if completed else None,
                completed_at=at + timedelta(hours=2) if completed else None))
        if rng.random() < 0.2:
            expires = as_of + timedelta(days=rng.randint(-5, 60))
            made.append(Contract(
                id=f"{customer.id}-K1", customer_id=customer.id,
                title=f"service contract {expires.year}", expires_at=expires,
                owner=customer.owner,
                acted_at=as_of - timedelta(days=1) if rng.random() < 0.3 else None))
        if rng.random() < 0.1:
            made.append(Warranty(
                id=f"{customer.id}-W1", customer_id=customer.id, product="equipment",
                expires_at=as_of + timedelta(days=rng.randint(0, 45)), owner=customer.owner))
    return made


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def agenda_section(context: ReportContext) -> ReportSection:
    """Due actions as of the report date: by action, by owner, and the most urgent."""
    from crmcore.demo.report import ReportSection  # the report imports this module

    service = PolicyService(context.crm)
    items = service.agenda(context.as_of)
    scheme = service.grading_scheme(context.as_of)
    kinds = Counter(item.kind.value for item in items)
    owners = Counter(item.owner for item in items)
    graded = tr("none stored") if scheme is None else tr("stored {scheme}").format(
        scheme=scheme.name)
    lines = [tr("due actions {count} (grades: {graded})").format(count=len(items),
                                                                 graded=graded),
             tr("by action: {counts}").format(counts=", ".join(
                 f"{term(kind)} {count}" for kind, count in kinds.items()) or tr("none")),
             tr("by owner:  {counts}").format(counts=", ".join(
                 f"{owner} {count}" for owner, count in sorted(owners.items())) or tr("none")),
             tr("most urgent:")]
    lines.extend(_short(f"  {item.owner:<10} {term(item.kind.value):<16} "
                        f"{term(item.grade or '-')} {item.customer_id:<7} {item.why}")
                 for item in items[:SHOWN_ITEMS])
    return ReportSection(tr("Agenda (CCPR)"), tuple(lines))
