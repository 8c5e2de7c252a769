"""A small, hand-counted book for the improvement tests.

100 customers, all buying on 2025-12-01. In 2026-Q1, 30 of them complain
(late delivery 18, billing 8, price 4) and 40 answer a survey (CSAT 3);
in 2026-Q2, 10 complain and 40 answer with CSAT 4. The first 60 buy again
in Q2. So the complaint rate is 30% in Q1 and 10% in Q2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from crmcore import CRM, Customer, SurveyResponse, Ticket, Transaction
from crmcore.improvement import (
    ImprovementService,
    KeyFactor,
    Target,
    countermeasure,
)
from crmcore.model import TicketKind

Q1 = datetime(2026, 1, 1, tzinfo=UTC)
Q2 = datetime(2026, 4, 1, tzinfo=UTC)
Q3 = datetime(2026, 7, 1, tzinfo=UTC)
CATEGORIES = ["late delivery"] * 18 + ["billing"] * 8 + ["price"] * 4


def customer_ids(count: int = 100) -> list[str]:
    return [f"C{n:03d}" for n in range(1, count + 1)]


def book() -> list[Any]:
    ids = customer_ids()
    made: list[Any] = [Customer(id=c, name=c, acquired_at=datetime(2025, 1, 1, tzinfo=UTC))
                       for c in ids]
    made += [Transaction(id=f"{c}-T1", customer_id=c, occurred_at=datetime(2025, 12, 1, tzinfo=UTC),
                         amount=Decimal(100)) for c in ids]
    made += [Transaction(id=f"{c}-T2", customer_id=c, occurred_at=Q2 + timedelta(days=10),
                         amount=Decimal(50)) for c in ids[:60]]
    made += [Ticket(id=f"{c}-K1", customer_id=c, opened_at=Q1 + timedelta(days=5),
                    kind=TicketKind.COMPLAINT, category=category)
             for c, category in zip(ids, CATEGORIES, strict=False)]
    made += [Ticket(id=f"{c}-K2", customer_id=c, opened_at=Q2 + timedelta(days=5),
                    kind=TicketKind.COMPLAINT, category="late delivery") for c in ids[:10]]
    made += [Ticket(id=f"{c}-R1", customer_id=c, opened_at=Q1 + timedelta(days=6),
                    kind=TicketKind.REQUEST, category="training") for c in ids[:5]]
    for quarter, start, csat in (("q1", Q1, 3), ("q2", Q2, 4)):
        made += [SurveyResponse(id=f"{c}-{quarter}", customer_id=c,
                                answered_at=start + timedelta(days=20), survey="after-sale",
                                csat=csat if n % 2 else csat + 1, nps=10 if n % 4 == 0 else 7,
                                answers={"reputation": csat, "aware": "yes" if n % 2 else "no"})
                 for n, c in enumerate(ids[:40])]
    return made


def stocked(crm: CRM) -> CRM:
    crm.record_many(book())
    return crm


def planned_cycle(service: ImprovementService, *, cycle_id: str = "PDCA-001") -> str:
    """A cycle with a complete plan: complaint rate 30% in Q1, target <= 15%."""
    service.open_cycle(measure="complaint_rate", period="2026-Q1", problem="Too many complaints",
                       problem_key="complaints", goal=0.15, cycle_id=cycle_id, actor="ann",
                       at=Q2)
    service.plan_from_pareto(cycle_id, service.complaint_pareto("2026-Q1"), source="complaints",
                             actor="ann", at=Q2)
    service.revise_plan(
        cycle_id, actor="ann", at=Q2,
        countermeasures=[countermeasure("cm-1", "call before late deliveries", "li.wei",
                                        "2026-05-01", "late delivery"),
                         countermeasure("cm-2", "check invoices twice", "zhang.min",
                                        "2026-05-01", "billing")],
        key_factors=[KeyFactor("late delivery", "the largest share")],
        targets=[Target("complaint_rate", 0.15, "complaints")])
    return cycle_id
