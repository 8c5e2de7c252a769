"""The lead clock (L2): answer within a week (two at most), report progress, convert in 3-8 months.

Every lead is an :class:`~crmcore.model.Opportunity`, whose id is the lead's
identifier, moving through the ``lead`` flow (``received`` -> ``answered`` ->
... -> ``won`` (invoiced) or ``lost``). :func:`lead_clock` is pure: from the
lead's dates it computes what is due and what is late as of a date.
:func:`lead_clock_from_history` reads those dates from the lead flow history
(the ``answer`` and ``report_progress`` events, the entry into a final state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from crmcore.lifecycle.measures import add_months
from crmcore.model import Opportunity, OpportunityStatus
from crmcore.transitions import HistoryEntry


@attrs.frozen
class LeadPolicy:
    """The L2 numbers: answer within ``answer_days``, overdue at ``overdue_days``;
    a progress report every ``report_every_days`` after the answer; conversion
    expected ``window_months`` after receipt, ``large_extra_months`` later for
    leads worth at least ``large_value``."""

    answer_days: float = 7.0
    overdue_days: float = 14.0
    report_every_days: float = 14.0
    window_months: tuple[int, int] = (3, 8)
    large_value: Decimal | None = None
    large_extra_months: int = 4


@attrs.frozen
class LeadClock:
    """Where one lead stands against the L2 clock as of a date.

    ``answer_status``: ``answered``, ``answered late``, ``due`` or ``overdue``.
    ``report_status``: ``not started`` (not answered yet), ``on schedule``,
    ``overdue`` or ``closed``. ``conversion_status``: ``before window``,
    ``in window``, ``past window``, ``won`` or ``lost``.
    """

    lead_id: str
    received_at: datetime
    answer_due: datetime
    answer_overdue_at: datetime
    answered_at: datetime | None
    answer_status: str
    next_report_due: datetime | None
    report_status: str
    window_start: datetime
    window_end: datetime
    conversion_status: str


def lead_clock(lead_id: str, received_at: datetime, as_of: datetime, *,
               answered_at: datetime | None = None, reports: Sequence[datetime] = (),
               closed_at: datetime | None = None, won: bool | None = None,
               estimated_value: Decimal | None = None,
               policy: LeadPolicy = LeadPolicy()) -> LeadClock:
    """The lead's clock as of ``as_of``.

    ``won`` is True or False once the lead is closed at ``closed_at``.
    The next progress report is due ``report_every_days`` after the answer
    or the latest report, until the lead is closed.
    """
    due = received_at + timedelta(days=policy.answer_days)
    overdue = received_at + timedelta(days=policy.overdue_days)
    answered = answered_at if answered_at is not None and answered_at <= as_of else None
    if answered is not None:
        answer_status = "answered" if answered <= due else "answered late"
    else:
        answer_status = "overdue" if as_of >= overdue else "due"
    closed = closed_at is not None and closed_at <= as_of
    next_report: datetime | None = None
    if closed:
        report_status = "closed"
    elif answered is None:
        report_status = "not started"
    else:
        latest = max([answered, *(r for r in reports if r <= as_of)])
        next_report = latest + timedelta(days=policy.report_every_days)
        report_status = "overdue" if as_of > next_report else "on schedule"
    extra = (policy.large_extra_months if policy.large_value is not None
             and estimated_value is not None and estimated_value >= policy.large_value else 0)
    start = add_months(received_at, policy.window_months[0])
    end = add_months(received_at, policy.window_months[1] + extra)
    if closed:
        conversion = "won" if won else "lost"
    else:
        conversion = ("before window" if as_of < start else "in window" if as_of <= end
                      else "past window")
    return LeadClock(lead_id, received_at, due, overdue, answered, answer_status, next_report,
                     report_status, start, end, conversion)


def lead_clock_from_history(lead: Opportunity, history: Sequence[HistoryEntry],
                            as_of: datetime, policy: LeadPolicy = LeadPolicy()
                            ) -> LeadClock:
    """The clock of ``lead`` from its ``lead`` flow history (or its status, without one)."""
    answered = next((e.at for e in history if e.event == "answer"), None)
    reports = [e.at for e in history if e.event == "report_progress"]
    closing = next((e for e in history if e.to_state in ("won", "lost")), None)
    won: bool | None = None if closing is None else closing.to_state == "won"
    closed_at = None if closing is None else closing.at
    if closing is None and lead.status is not OpportunityStatus.OPEN:
        won, closed_at = lead.status is OpportunityStatus.WON, lead.received_at
    return lead_clock(lead.id, lead.received_at, as_of, answered_at=answered, reports=reports,
                      closed_at=closed_at, won=won, estimated_value=lead.estimated_value,
                      policy=policy)
