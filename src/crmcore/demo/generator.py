"""A realistic, reproducible book of business for the demo and the docs.

Customers differ in size by orders of magnitude (a log-normal spread), and
each follows a purchase rhythm: regular buyers, seasonal buyers, one-off
buyers, customers who drift away, recent newcomers and prospects who have not
bought yet. Interactions, tickets, survey answers, opportunities and
commitments follow from that behaviour. The same ``seed`` and ``as_of`` give
the same entities, with the same ids, every time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from crmcore.model import (
    Celebration,
    Channel,
    Commitment,
    ContactPerson,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    Opportunity,
    Outcome,
    PartyKind,
    Priority,
    QuietHours,
    SurveyResponse,
    Ticket,
    TicketKind,
    TicketStatus,
    Transaction,
)

DEFAULT_AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
"""The demo's fixed "today", so that a demo database is reproducible."""

HISTORY_DAYS = 730
"""How far back the generated purchase history reaches."""

COMPLAINT_CATEGORIES = ("late delivery", "product quality", "billing error", "service attitude",
                        "no follow-up", "price")
COMPLAINT_WEIGHTS = (38, 24, 14, 10, 8, 6)
"""Complaint causes are skewed, as real ones are: a vital few dominate (P1)."""
REQUEST_CATEGORIES = ("installation", "training", "spare parts", "documentation")
INDUSTRIES = ("manufacturing", "retail", "media", "education", "logistics", "healthcare")
OWNERS = ("li.wei", "zhang.min", "anna.berg", "tom.hart")
_ZONES = (("Asia/Shanghai", "zh-CN"), ("Asia/Shanghai", "zh-CN"), ("Europe/Berlin", "de-DE"),
          ("America/New_York", "en-US"), ("Asia/Singapore", "en-SG"))


class Rhythm(StrEnum):
    """How a generated customer buys."""

    REGULAR = "regular"
    SEASONAL = "seasonal"
    ONE_OFF = "one_off"
    DRIFTING = "drifting"
    NEWCOMER = "newcomer"
    PROSPECT = "prospect"


_RHYTHM_WEIGHTS = {Rhythm.REGULAR: 35, Rhythm.SEASONAL: 10, Rhythm.ONE_OFF: 20,
                   Rhythm.DRIFTING: 15, Rhythm.NEWCOMER: 10, Rhythm.PROSPECT: 10}


@attrs.frozen
class DemoBook:
    """Everything the generator made, in the order it must be stored."""

    customers: tuple[Customer, ...]
    entities: tuple[Any, ...]
    rhythms: dict[str, Rhythm]

    def all(self) -> Iterator[Any]:
        """Customers first, then everything that refers to them."""
        yield from self.customers
        yield from self.entities


def generate_book(customers: int = 200, *, seed: int = 7,
                  as_of: datetime = DEFAULT_AS_OF) -> DemoBook:
    """Generate ``customers`` customers and their history up to ``as_of``."""
    if customers < 1:
        raise ValueError(f"customers: {customers!r} must be at least 1")
    rng = random.Random(seed)
    made: list[Customer] = []
    entities: list[Any] = []
    rhythms: dict[str, Rhythm] = {}
    for number in range(1, customers + 1):
        rhythm = rng.choices(list(_RHYTHM_WEIGHTS), weights=list(_RHYTHM_WEIGHTS.values()))[0]
        scale = rng.lognormvariate(6.0, 1.2)  # typical order value, a wide spread
        customer = _customer(rng, number, rhythm, scale, as_of)
        made.append(customer)
        rhythms[customer.id] = rhythm
        purchases = _purchases(rng, customer, rhythm, scale, as_of)
        entities.extend(purchases)
        entities.extend(_contacts(rng, customer))
        entities.extend(_interactions(rng, customer, as_of))
        entities.extend(_tickets(rng, customer, purchases, as_of))
        entities.extend(_surveys(rng, customer, purchases, rhythm))
        entities.extend(_opportunities(rng, customer, rhythm, as_of))
    return DemoBook(tuple(made), tuple(entities), rhythms)


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 1.0):.2f}")


def _customer(rng: random.Random, number: int, rhythm: Rhythm, scale: float,
              as_of: datetime) -> Customer:
    is_person = rng.random() < 0.25
    zone, language = rng.choice(_ZONES)
    first_seen = {Rhythm.NEWCOMER: rng.randint(10, 90), Rhythm.PROSPECT: rng.randint(5, 120)}
    acquired_days = first_seen.get(rhythm, rng.randint(300, HISTORY_DAYS))
    channels = rng.sample(list(Channel)[:5], k=rng.randint(1, 3))
    founded = rng.randint(1985, 2020)
    return Customer(
        id=f"C{number:05d}",
        name=(f"Customer {number}" if is_person
              else f"{rng.choice(INDUSTRIES).title()} Co. {number}"),
        kind=PartyKind.PERSON if is_person else PartyKind.ORGANISATION,
        owner=rng.choice(OWNERS),
        acquired_at=as_of - timedelta(days=acquired_days),
        attributes={
            "industry": rng.choice(INDUSTRIES),
            "annual_turnover": int(scale * rng.uniform(2_000, 40_000)),
            "training_spend": int(scale * rng.uniform(20, 200)),
            "reputation": rng.choice(("high", "medium", "medium", "low")),
            "wants_change": rng.random() < 0.4,
        },
        preferences=ContactPreferences(
            channels=channels, language=language, time_zone=zone,
            quiet_hours=(QuietHours(time(21), time(8)),),
            contact_every_days=rng.choice((7, 14, 30, 90)),
            best_weekdays=tuple(sorted(rng.sample(range(5), k=2))),
            celebrations=(Celebration("founding day", rng.randint(1, 12), rng.randint(1, 28),
                                      founded),),
        ),
    )


def _purchase_days(rng: random.Random, rhythm: Rhythm, acquired_days: int) -> list[int]:
    """Days before ``as_of`` on which the customer buys."""
    if rhythm is Rhythm.PROSPECT:
        return []
    if rhythm is Rhythm.ONE_OFF:
        return [rng.randint(1, acquired_days)]
    if rhythm is Rhythm.SEASONAL:
        return [day for day in range(acquired_days, 0, -1)
                if (day % 365) in (300, 301, 120) and rng.random() < 0.9]
    gap = rng.uniform(10, 60)
    stop = rng.randint(150, 400) if rhythm is Rhythm.DRIFTING else 0
    days, day = [], float(acquired_days)
    while day > stop:
        days.append(int(day))
        day -= max(1.0, rng.gauss(gap, gap / 4))
    return days or [acquired_days]


def _purchases(rng: random.Random, customer: Customer, rhythm: Rhythm, scale: float,
               as_of: datetime) -> list[Transaction]:
    assert customer.acquired_at is not None
    acquired_days = (as_of - customer.acquired_at).days
    made = []
    for index, day in enumerate(sorted(_purchase_days(rng, rhythm, acquired_days), reverse=True)):
        at = (as_of - timedelta(days=day)).replace(hour=rng.randint(1, 10))
        amount = _money(scale * rng.lognormvariate(0, 0.35))
        made.append(Transaction(
            id=f"{customer.id}-T{index + 1:04d}", customer_id=customer.id, occurred_at=at,
            amount=amount, quantity=rng.randint(1, 12),
            cost=(amount * Decimal(str(round(rng.uniform(0.55, 0.85), 2)))).quantize(
                Decimal("0.01")),
        ))
    return made


def _contacts(rng: random.Random, customer: Customer) -> list[ContactPerson]:
    if customer.kind is PartyKind.PERSON:
        return []
    titles = ("purchasing manager", "general manager", "engineer", "finance officer")
    return [
        ContactPerson(
            id=f"{customer.id}-P{index + 1}", customer_id=customer.id,
            name=f"Contact {index + 1} of {customer.id}", title=rng.choice(titles),
            phone=f"+86 21 5555 {rng.randint(1000, 9999)}",
            email=f"contact{index + 1}@{customer.id.lower()}.example", is_primary=index == 0,
        )
        for index in range(rng.randint(1, 3))
    ]


def _interactions(rng: random.Random, customer: Customer, as_of: datetime) -> list[Interaction]:
    made = []
    for index in range(rng.randint(0, 8)):
        kind = rng.choice(list(InteractionKind))
        made.append(Interaction(
            id=f"{customer.id}-I{index + 1:03d}", customer_id=customer.id,
            occurred_at=as_of - timedelta(days=rng.randint(1, 365), hours=rng.randint(0, 8)),
            kind=kind, direction=rng.choice(list(Direction)),
            outcome=rng.choices(list(Outcome), weights=(70, 15, 10, 5))[0],
            owner=customer.owner,
        ))
    return made


def _tickets(rng: random.Random, customer: Customer, purchases: list[Transaction],
             as_of: datetime) -> list[Any]:
    made: list[Any] = []
    for index, purchase in enumerate(p for p in purchases if rng.random() < 0.08):
        complaint = rng.random() < 0.6
        opened = purchase.occurred_at + timedelta(days=rng.randint(1, 20), hours=3)
        if opened >= as_of:
            continue
        resolved = opened + timedelta(hours=rng.randint(2, 240))
        is_open = resolved >= as_of or rng.random() < 0.15
        ticket = Ticket(
            id=f"{customer.id}-K{index + 1:03d}", customer_id=customer.id, opened_at=opened,
            kind=TicketKind.COMPLAINT if complaint else TicketKind.REQUEST,
            category=_category(rng, complaint, f"{customer.id}-K{index + 1:03d}"),
            priority=rng.choices(list(Priority), weights=(5, 20, 60, 15))[0],
            status=TicketStatus.OPEN if is_open else TicketStatus.RESOLVED,
            owner=customer.owner,
            first_response_at=min(opened + timedelta(hours=rng.randint(1, 30)), as_of),
            resolved_at=None if is_open else resolved,
        )
        made.append(ticket)
        if is_open:
            made.append(Commitment(
                id=f"{ticket.id}-promise", customer_id=customer.id, made_at=opened,
                due_at=max(as_of + timedelta(days=rng.randint(-3, 7)),  # never before made
                           opened + timedelta(hours=1)),
                description=f"answer about {ticket.category}", owner=customer.owner,
                ticket_id=ticket.id,
            ))
    return made


def _category(rng: random.Random, complaint: bool, ticket_id: str) -> str:
    """A ticket's category; complaint causes are skewed (see :data:`COMPLAINT_WEIGHTS`).

    The main generator draws as it always did, so every other generated value
    stays the same; the skewed draw uses its own generator seeded by the id.
    """
    drawn = rng.choice(COMPLAINT_CATEGORIES if complaint else REQUEST_CATEGORIES)
    if not complaint:
        return drawn
    skew = random.Random(ticket_id)
    return skew.choices(COMPLAINT_CATEGORIES, weights=COMPLAINT_WEIGHTS)[0]


def _surveys(rng: random.Random, customer: Customer, purchases: list[Transaction],
             rhythm: Rhythm) -> list[SurveyResponse]:
    mood = {Rhythm.DRIFTING: -1.2, Rhythm.ONE_OFF: -0.5}.get(rhythm, 0.3)
    made = []
    for index, purchase in enumerate(p for p in purchases[-6:] if rng.random() < 0.3):
        csat = min(5, max(1, round(rng.gauss(3.9 + mood, 0.9))))
        made.append(SurveyResponse(
            id=f"{customer.id}-S{index + 1:02d}", customer_id=customer.id,
            answered_at=purchase.occurred_at + timedelta(days=2), survey="after-sale",
            csat=csat, nps=min(10, max(0, round(rng.gauss(6 + 2 * (csat - 3), 1.5)))),
            answers={"heard_of_us_from": rng.choice(("referral", "trade show", "web", "ad")),
                     "reputation": min(5, max(1, csat + rng.choice((-1, 0, 0, 1))))},
        ))
    return made


def _opportunities(rng: random.Random, customer: Customer, rhythm: Rhythm,
                   as_of: datetime) -> list[Opportunity]:
    if rhythm not in (Rhythm.PROSPECT, Rhythm.NEWCOMER, Rhythm.REGULAR) or rng.random() < 0.5:
        return []
    received = as_of - timedelta(days=rng.randint(3, 60))
    horizon = rng.choice((45, 120, 250, 500))
    value = _money(rng.lognormvariate(9, 1))
    return [Opportunity(
        id=f"{customer.id}-O1", customer_id=customer.id,
        title=f"{rng.choice(('framework deal', 'pilot', 'renewal', 'expansion'))} "
              f"for {customer.id}",
        received_at=received, source=rng.choice(("trade show", "web", "referral")),
        owner=customer.owner, expected_close=date.fromordinal(as_of.toordinal() + horizon),
        estimated_value=value, estimated_profit=(value * Decimal("0.3")).quantize(Decimal("1")),
        poor_credit=rng.random() < 0.1, low_loyalty=rng.random() < 0.1,
    )]
