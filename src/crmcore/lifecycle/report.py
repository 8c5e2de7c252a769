"""The demo report's lifecycle section: stages, recent moves and why, churn reasons, retention,
and one line on the leads (L2).

The section first advances the lifecycle and the leads as of the report date
(a no-op when they already were), so it always reflects the stored book; everything it
prints comes from stored states and history, so printing it twice gives the
same text.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

from crmcore.i18n import tr
from crmcore.i18n_terms import reason_label, term
from crmcore.lifecycle.lead_service import LeadService
from crmcore.lifecycle.measures import periods, retention
from crmcore.lifecycle.service import LifecycleService

if TYPE_CHECKING:
    from crmcore.demo.report import ReportContext, ReportSection

RECENT_DAYS = 90
"""How far back "who moved and why" looks."""

SHOWN_MOVES = 10
"""How many recent moves the section lists."""

REPORTS_SOON_DAYS = 7
"""The leads line counts the progress reports due within this many days."""


def _short(text: str, width: int = 96) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def lifecycle_section(context: ReportContext) -> ReportSection:
    """Customers per stage, who moved recently and why, churn reasons, churn and retention."""
    from crmcore.demo.report import ReportSection

    service = LifecycleService(context.crm)
    service.advance(context.as_of)
    rows = service.stages()
    stages = Counter(row.stage for row in rows)
    lines = [tr("customers per stage:")]
    lines.extend(f"  {term(state.name):<12}{stages[state.name]:>6}  ({term(state.phase)})"
                 for state in service.flow.states)
    if stages[None]:
        not_started = tr("not started")
        lines.append(f"  {not_started:<12}{stages[None]:>6}")
    histories = service.histories()
    since = context.as_of - timedelta(days=RECENT_DAYS)
    recent = sorted((e for entries in histories.values() for e in entries
                     if e.from_state is not None and since <= e.at <= context.as_of),
                    key=lambda e: (-e.at.timestamp(), e.subject_id))
    lines.append(tr("moves in the last {days} days: {count}").format(days=RECENT_DAYS,
                                                                    count=len(recent)))
    lines.extend(_short(f"  {e.subject_id:<8} {e.at.date()} {term(e.from_state or '')} -> "
                        f"{term(e.to_state)}: {e.reason}") for e in recent[:SHOWN_MOVES])
    reasons = Counter(code for row in rows if row.stage == "churned"
                      for code in row.fields.get("churn_reasons", ()))
    lines.append(tr("churn reasons of churned customers:"))
    lines.extend(f"  {reason_label(code):<40}{count:>5}"
                 for code, count in sorted(reasons.items(), key=lambda i: (-i[1], i[0])))
    spans = periods(context.as_of - timedelta(days=365), context.as_of, "quarter")
    for row in retention(histories, spans):
        if row.churn_rate is not None and row.retention_rate is not None:
            lines.append(tr("{period}: at start {count:>4}, churned {churn:6.1%}, retained "
                            "{retained:6.1%}, won back {won_back}").format(
                period=row.period.label, count=row.customers_at_start, churn=row.churn_rate,
                retained=row.retention_rate, won_back=row.won_back))
    lines.append(_leads_line(context))
    return ReportSection(tr("Lifecycle"), tuple(lines))



def _leads_line(context: ReportContext) -> str:
    service = LeadService(context.crm)
    service.advance(context.as_of)
    rows = service.clocks(context.as_of)
    soon = context.as_of + timedelta(days=REPORTS_SOON_DAYS)
    due = sum(not row.report_overdue and row.clock.next_report_due is not None
              and row.clock.next_report_due <= soon for row in rows)
    return tr("leads (L2): {open} open, {answers} answers overdue, {reports} progress reports "
              "overdue, {due} due within {days} days").format(
        open=len(rows), answers=sum(r.answer_overdue for r in rows),
        reports=sum(r.report_overdue for r in rows), due=due, days=REPORTS_SOON_DAYS)
