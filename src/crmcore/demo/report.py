"""The demo report: what is in a book of business, section by section.

Each section is a function from a :class:`ReportContext` to a
:class:`ReportSection`; capabilities add their own to :data:`SECTIONS`
(grading, lifecycle, agenda, PDCA).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from statistics import mean

import attrs

from crmcore.app import CRM
from crmcore.demo.receivables import receivables_section
from crmcore.demo.sales import sales_section
from crmcore.grading.report import grading_section
from crmcore.i18n import N_, display_width, tr
from crmcore.i18n_terms import term
from crmcore.improvement.report import improvement_section
from crmcore.lifecycle.report import lifecycle_section
from crmcore.model import (
    Commitment,
    ContactPerson,
    Customer,
    Interaction,
    Opportunity,
    OpportunityStatus,
    SurveyResponse,
    Ticket,
    TicketKind,
    TicketStatus,
    Transaction,
)
from crmcore.policies.demo import agenda_section


@attrs.frozen
class ReportSection:
    """A titled block of report lines."""

    title: str
    lines: tuple[str, ...]

    def render(self) -> str:
        """The section as text: a title, an underline and the lines."""
        return "\n".join((self.title, "-" * display_width(self.title), *self.lines))


class ReportContext:
    """What sections read: the service, the as-of time and cached entity lists."""

    def __init__(self, crm: CRM, as_of: datetime) -> None:
        self.crm = crm
        self.as_of = as_of

    @cached_property
    def customers(self) -> list[Customer]:
        """Every stored customer."""
        return self.crm.find(Customer)

    @cached_property
    def transactions(self) -> list[Transaction]:
        """Every transaction up to ``as_of``."""
        return self.crm.find(Transaction, until=self.as_of)

    @cached_property
    def tickets(self) -> list[Ticket]:
        """Every ticket opened up to ``as_of``."""
        return self.crm.find(Ticket, until=self.as_of)


Section = Callable[[ReportContext], ReportSection]


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def book_section(context: ReportContext) -> ReportSection:
    """Counts of every entity kind."""
    crm = context.crm
    kinds = ((N_("customers"), Customer), (N_("contacts"), ContactPerson),
             (N_("transactions"), Transaction), (N_("interactions"), Interaction),
             (N_("tickets"), Ticket), (N_("opportunities"), Opportunity),
             (N_("survey responses"), SurveyResponse), (N_("commitments"), Commitment))
    return ReportSection(tr("Book of business"), tuple(
        f"{tr(label):<18}{crm.count(cls):>8,}" for label, cls in kinds
    ))


def revenue_section(context: ReportContext) -> ReportSection:
    """Revenue in total and over the last 12 months, and how concentrated it is."""
    by_customer: dict[str, Decimal] = {}
    recent = Decimal(0)
    year_ago = context.as_of - timedelta(days=365)
    for transaction in context.transactions:
        by_customer[transaction.customer_id] = (
            by_customer.get(transaction.customer_id, Decimal(0)) + transaction.amount)
        if transaction.occurred_at >= year_ago:
            recent += transaction.amount
    total = sum(by_customer.values(), Decimal(0))
    largest = sorted(by_customer.items(), key=lambda item: (-item[1], item[0]))
    ranked = [value for _, value in largest]
    top_fifth = sum(ranked[: max(1, len(ranked) // 5)], Decimal(0))
    lines = [
        tr("revenue, all time       {value:>16}").format(value=_money(total)),
        tr("revenue, last 12 months {value:>16}").format(value=_money(recent)),
        tr("buying customers        {count:>16,}").format(count=len(ranked)),
    ]
    if total:
        lines.append(tr("top 20% of buyers bring {share:>16.1%} of revenue").format(
            share=top_fifth / total))
    names = {customer.id: customer.name for customer in context.customers}
    lines.append(tr("largest customers:"))
    lines.extend(f"  {cid:<8} {names.get(cid, '?'):<28} {_money(value):>14}"
                 for cid, value in largest[:5])
    return ReportSection(tr("Revenue"), tuple(lines))


def rhythm_section(context: ReportContext) -> ReportSection:
    """How customers buy: repeat, one-off, silent for long, not yet."""
    days_by_customer: dict[str, set[object]] = {}
    last: dict[str, datetime] = {}
    for transaction in context.transactions:
        days_by_customer.setdefault(transaction.customer_id, set()).add(
            transaction.occurred_at.date())
        last[transaction.customer_id] = max(last.get(transaction.customer_id,
                                                     transaction.occurred_at),
                                            transaction.occurred_at)
    repeat = sum(1 for days in days_by_customer.values() if len(days) > 1)
    silent = sum(1 for at in last.values() if context.as_of - at > timedelta(days=180))
    never = len(context.customers) - len(days_by_customer)
    return ReportSection(tr("Purchase rhythm"), (
        tr("repeat buyers (2+ purchase days)   {count:>6}").format(count=repeat),
        tr("one-off buyers                     {count:>6}").format(
            count=len(days_by_customer) - repeat),
        tr("silent for more than 180 days      {count:>6}").format(count=silent),
        tr("no purchase yet (prospects)        {count:>6}").format(count=never),
    ))


def service_section(context: ReportContext) -> ReportSection:
    """Open tickets and the most common complaint categories."""
    open_tickets = [t for t in context.tickets
                    if t.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)]
    complaints = Counter(t.category for t in context.tickets if t.kind is TicketKind.COMPLAINT)
    by_priority = Counter(t.priority.value for t in open_tickets)
    priorities = ", ".join(f"{term(p)} {n}" for p, n in sorted(by_priority.items()))
    lines = [tr("tickets {count}, open {open} ({priorities})").format(
                 count=len(context.tickets), open=len(open_tickets),
                 priorities=priorities or tr("none")),
             tr("complaints by category:")]
    lines.extend(f"  {term(category):<20}{count:>5}"
                 for category, count in complaints.most_common())
    return ReportSection(tr("Service"), tuple(lines))


def satisfaction_section(context: ReportContext) -> ReportSection:
    """Average CSAT and the net promoter score over all survey answers."""
    responses = context.crm.find(SurveyResponse, until=context.as_of)
    csat = [r.csat for r in responses if r.csat is not None]
    nps = [r.nps for r in responses if r.nps is not None]
    lines = [tr("survey responses {count}").format(count=len(responses))]
    if csat:
        lines.append(tr("mean CSAT (1-5)  {mean:.2f}  (n={n})").format(mean=mean(csat),
                                                                       n=len(csat)))
    if nps:
        score = 100 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps)
        lines.append(tr("NPS              {score:+.0f}  (n={n})").format(score=score,
                                                                         n=len(nps)))
    return ReportSection(tr("Satisfaction"), tuple(lines))


def pipeline_section(context: ReportContext) -> ReportSection:
    """Open opportunities by expected closing horizon."""
    opportunities = [o for o in context.crm.find(Opportunity)
                     if o.status is OpportunityStatus.OPEN]
    horizons: Counter[str] = Counter()
    today = context.as_of.date()
    for opportunity in opportunities:
        if opportunity.expected_close is None:
            horizons[_NO_DATE] += 1
            continue
        days = (opportunity.expected_close - today).days
        label = _HORIZONS[0 if days <= 91 else 1 if days <= 182 else 2 if days <= 365 else 3]
        horizons[label] += 1
    return ReportSection(tr("Pipeline"), (
        tr("open opportunities {count}").format(count=len(opportunities)), *(
            f"  {tr(label):<18}{horizons[label]:>5}" for label in (*_HORIZONS, _NO_DATE)
            if horizons[label])))


_HORIZONS = (N_("within 3 months"), N_("within 6 months"), N_("within 12 months"),
             N_("beyond 12 months"))
_NO_DATE = N_("no date")


SECTIONS: list[Section] = [
    book_section, revenue_section, rhythm_section, service_section, satisfaction_section,
    pipeline_section, lifecycle_section, sales_section, grading_section, improvement_section,
    agenda_section, receivables_section,
]
"""The report's sections, in order; capabilities append their own."""


def build_report(crm: CRM, as_of: datetime) -> list[ReportSection]:
    """Every section of :data:`SECTIONS` for the book stored in ``crm``."""
    context = ReportContext(crm, as_of)
    return [section(context) for section in SECTIONS]


def render_report(sections: list[ReportSection], *, title: str) -> str:
    """The whole report as text."""
    return "\n\n".join([f"{title}\n{'=' * display_width(title)}",
                        *(section.render() for section in sections)]) + "\n"
