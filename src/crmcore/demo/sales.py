"""The demo's sales pipeline (M1, M2): opportunities that moved, territories, probability.

:func:`store_demo_pipeline` generates opportunities for the stored demo book and
moves each through the pipeline flow as its (generated) history says, through
the same :class:`~crmcore.sales.pipeline.PipelineService` a host uses: the
territories are by industry (:data:`DEMO_TERRITORIES`), amounts are in the
customer's currency (several currencies, never summed), and about one close
date in seven is unknown. The ground truth is known: referrals win most often,
cold calls least. Running it again stores nothing new.

:func:`sales_section` is the report's "Sales pipeline" section. It comes after
the lifecycle section, which advances the customers and the leads as of the
report date: the win probability reads both (response times, lifecycle stages),
so the section reads the same on every run.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import mean
from typing import TYPE_CHECKING

from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.model import Customer, Opportunity
from crmcore.sales.money import totals_by_currency
from crmcore.sales.opportunities import LOST_REASONS, SalesOpportunity
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.pipeline_probability import pipeline_probabilities
from crmcore.sales.territories import Territories, TerritoryRule

if TYPE_CHECKING:
    from crmcore.app import CRM
    from crmcore.demo.report import ReportContext, ReportSection

__all__ = ["DEMO_TERRITORIES", "MAX_DEMO_OPPORTUNITIES", "WIN_RATES", "sales_section",
           "store_demo_pipeline"]

DEMO_TERRITORIES = Territories((
    TerritoryRule("industrial", industries=["manufacturing", "logistics"],
                  salespeople=["li.wei", "tom.hart"]),
    TerritoryRule("consumer", industries=["retail", "media"],
                  salespeople=["zhang.min", "tom.hart"]),
    TerritoryRule("public", industries=["education", "healthcare"],
                  salespeople=["anna.berg", "li.wei"]),
))
"""The demo book's territories: by industry, two authorised salespeople each."""

WIN_RATES: dict[str, float] = {"referral": 0.6, "trade show": 0.35, "web": 0.25,
                               "cold call": 0.12}
"""The generated ground truth: the chance a closed opportunity of each source was won."""

MAX_DEMO_OPPORTUNITIES = 150
"""At most this many demo opportunities, whatever the book's size."""

_CURRENCIES = {"Europe/Berlin": "EUR", "America/New_York": "USD", "Asia/Singapore": "SGD"}
_OPEN = ("qualification", "needs_analysis", "proposal", "negotiation")
_ACTOR = "demo"


def _plan(rng: random.Random, customer: Customer, number: int, as_of: datetime
          ) -> tuple[dict[str, object], list[tuple[str, datetime, str | None]]]:
    """The opportunity's values and its moves ``(stage, at, lost_reason)`` up to ``as_of``."""
    created = as_of - timedelta(days=rng.randint(5, 540), hours=rng.randint(0, 23))
    source = rng.choice(tuple(WIN_RATES))
    close = None if rng.random() < 0.15 else (created + timedelta(
        days=rng.randint(30, 240))).date()
    values: dict[str, object] = {
        "opportunity_id": f"S{number:04d}", "customer_id": customer.id,
        "title": f"{rng.choice(('line upgrade', 'annual supply', 'pilot', 'service plan'))} "
                 f"for {customer.id}",
        "amount": Decimal(round(rng.lognormvariate(9.5, 1.0), -2) or 100),
        "currency": _CURRENCIES.get(customer.preferences.time_zone or "", "CNY"),
        "expected_close": close, "created_at": created, "source": source}
    won = rng.random() < WIN_RATES[source]
    reached = rng.randint(1, 4)
    moves: list[tuple[str, datetime, str | None]] = []
    at = created
    for stage in _OPEN[1:reached]:
        at += timedelta(days=rng.randint(3, 45))
        moves.append((stage, at, None))
    at += timedelta(days=rng.randint(3, 60))
    moves.append(("won", at, None) if won else ("lost", at, rng.choice(LOST_REASONS[:-1])))
    return values, [move for move in moves if move[1] <= as_of]


def store_demo_pipeline(crm: CRM, as_of: datetime, *, seed: int = 7) -> int:
    """Generate and store the demo opportunities and their moves; return how many are new."""
    customers = sorted(crm.find(Customer), key=lambda customer: customer.id)
    rng = random.Random(f"demo-sales-{seed}")
    chosen = [c for c in customers if rng.random() < 0.35][:MAX_DEMO_OPPORTUNITIES]
    service = PipelineService(crm, territories=DEMO_TERRITORIES)
    made = []
    for number, customer in enumerate(chosen, start=1):
        values, moves = _plan(rng, customer, number, as_of)
        if crm.get(Opportunity, str(values["opportunity_id"])) is not None:
            continue
        service.add(actor=_ACTOR, **values)  # type: ignore[arg-type]
        for stage, at, reason in moves:
            service.move(str(values["opportunity_id"]), stage, actor=_ACTOR, at=at,
                         lost_reason=reason)
        made.append(str(values["opportunity_id"]))
    return len(made)


def sales_section(context: ReportContext) -> ReportSection:
    """Open opportunities by stage, territory and owner; amounts per currency; outcomes
    and lost reasons; the most likely open deals with their win probability and why."""
    from crmcore.demo.report import ReportSection

    service = PipelineService(context.crm, territories=DEMO_TERRITORIES)
    items = service.opportunities()
    if not items:
        return ReportSection(tr("Sales pipeline"), (tr("no opportunities in the pipeline"),))
    open_items = [item for item in items if item.stage in _OPEN]
    outcomes = Counter(item.stage for item in items if item.stage not in _OPEN)
    lost_for = Counter(item.lost_reason for item in items if item.lost_reason)
    lost = tr(" (lost for: {reasons})").format(reasons=_counts(lost_for)) if lost_for else ""
    lines = [tr("opportunities {count}: open {open}, won {won}, lost {lost}{why}").format(
        count=len(items), open=len(open_items), won=outcomes["won"], lost=outcomes["lost"],
        why=lost)]
    lines.append(tr("open by stage: {stages}").format(stages=", ".join(
        f"{term(stage)} {sum(i.stage == stage for i in open_items)} "
        f"({_mean_days(open_items, stage, context.as_of)})" for stage in _OPEN)))
    lines.append(tr("open by territory/owner: {counts}").format(counts=_counts(Counter(
        f"{term(item.territory or '')}/{item.owner}" for item in open_items))))
    totals = totals_by_currency((item.amount, item.currency) for item in open_items)
    lines.append(tr("open amounts (per currency, never summed): {totals}").format(
        totals="; ".join(totals.lines())))
    unknown = sum(item.expected_close is None for item in open_items)
    lines.append(tr("expected close date unknown: {unknown} of {count} open").format(
        unknown=unknown, count=len(open_items)))
    predictions = pipeline_probabilities(service, context.as_of)
    if predictions:
        lines.append(tr("most likely open deals (win probability, why):"))
        ranked = sorted(open_items, key=lambda i: (-predictions[i.id].probability, i.id))
        lines.extend(_deal(item, predictions[item.id].probability,
                           predictions[item.id].factors) for item in ranked[:3])
    return ReportSection(tr("Sales pipeline"), tuple(lines))


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{term(key)} {count}" for key, count in sorted(
        counter.items(), key=lambda item: (-item[1], item[0])))


def _mean_days(items: list[SalesOpportunity], stage: str, as_of: datetime) -> str:
    days = [item.days_in_stage(as_of) for item in items if item.stage == stage]
    return tr("mean {days:.0f} days").format(days=mean(days)) if days else "-"


def _deal(item: SalesOpportunity, probability: float,
          factors: tuple[tuple[str, str, float], ...]) -> str:
    why = ", ".join(f"{term(feature)}={term(level)} {effect:+.2f}" for feature, level, effect
                    in factors[:2]) or tr("the stated prior (too little history)")
    return (f"  {item.id} {term(item.stage):<13} {item.owner:<10} {item.amount_label():>16}  "
            f"{probability:4.0%}  {why}")
