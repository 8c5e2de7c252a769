"""Trade-show leads (L2): assignment with a report form, and the sample clock.

A trade-show lead is an :class:`~crmcore.model.Opportunity` in the ``lead``
flow (:mod:`crmcore.lifecycle.leads`). :func:`assign_lead` gives it a
territory and an authorised owner and hands the owner the report form
(:data:`REPORT_FORM`: what the rep reports back, due by the L2 answer date).
:func:`report_lead` records a filled :class:`LeadReport` through the
transition door: the first report answers the lead, every report is a
``report_progress`` entry whose fields are the form.

The sample clock: once a report says the sample arrived, the customer's
opinion is to be asked within a week (样品到达后的一周内询问对方意见).
:func:`sample_clock` is pure; :func:`sample_agenda` turns due and overdue
clocks into :class:`~crmcore.policies.agenda.AgendaItem` values for the owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ValidationError
from crmcore.events import DomainEvent
from crmcore.i18n import tr
from crmcore.lifecycle.definitions import builtin_flow
from crmcore.lifecycle.leads import LeadPolicy
from crmcore.lifecycle.service import configured_policies
from crmcore.model import Opportunity, OpportunityStatus
from crmcore.options import Options
from crmcore.policies.agenda import UNASSIGNED, ActionKind, AgendaItem
from crmcore.sales.pipeline import PipelineService
from crmcore.sales.territories import Assignment
from crmcore.transitions import (
    HistoryEntry,
    Transition,
    load_state,
    start_in,
    transition_in,
)
from crmcore.validation import aware_datetime, non_empty_text, optional_aware_datetime

__all__ = [
    "INTEREST_LEVELS",
    "LEAD_ASSIGNED",
    "LEAD_FLOW",
    "REPORT_FORM",
    "LeadReport",
    "SampleClock",
    "SamplePolicy",
    "assign_lead",
    "lead_reports",
    "report_lead",
    "sample_agenda",
    "sample_clock",
]

LEAD_FLOW = "lead"
"""The lead flow's name (shipped with :mod:`crmcore.lifecycle`)."""

LEAD_ASSIGNED = "lead.assigned"
"""Event emitted by :func:`assign_lead`: owner, territory, report form, report due date."""

INTEREST_LEVELS = ("hot", "warm", "cold")
"""How interested the customer is, as the rep judges it."""

REPORT_FORM: dict[str, str] = {
    "reported_at": "when the report is made (date-time)",
    "interest": f"the customer's interest: {', '.join(INTEREST_LEVELS)}",
    "needs": "what the customer needs, in their words",
    "next_step": "the next step agreed with the customer",
    "contact_person": "whom the rep spoke to (optional)",
    "next_report_due": "when the next report is due (optional date)",
    "sample_sent_at": "when a sample was sent (optional)",
    "sample_arrived_at": "when the sample arrived at the customer (optional)",
    "opinion_asked_at": "when the customer's opinion of the sample was asked (optional)",
    "opinion": "the customer's opinion of the sample (optional)",
}
"""The report form handed over with a trade-show lead: field -> what to fill in."""


def _interest(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in INTEREST_LEVELS:
        raise ValidationError(attribute.name, value,
                              tr("is not an interest level (known: {known})").format(
                                  known=", ".join(INTEREST_LEVELS)))


def _optional_date(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise ValidationError(attribute.name, value, "is not a date")


@attrs.frozen
class LeadReport:
    """A filled report form (:data:`REPORT_FORM`); the sample dates drive the clock."""

    reported_at: datetime = attrs.field(validator=aware_datetime)
    interest: str = attrs.field(validator=_interest)
    needs: str = attrs.field(validator=non_empty_text)
    next_step: str = attrs.field(validator=non_empty_text)
    contact_person: str | None = None
    next_report_due: date | None = attrs.field(default=None, validator=_optional_date)
    sample_sent_at: datetime | None = attrs.field(default=None,
                                                  validator=optional_aware_datetime)
    sample_arrived_at: datetime | None = attrs.field(default=None,
                                                     validator=optional_aware_datetime)
    opinion_asked_at: datetime | None = attrs.field(default=None,
                                                    validator=optional_aware_datetime)
    opinion: str | None = None

    def __attrs_post_init__(self) -> None:
        order = (("sample_sent_at", "sample_arrived_at"), ("sample_arrived_at",
                                                           "opinion_asked_at"))
        for before, after in order:
            first, second = getattr(self, before), getattr(self, after)
            if first is not None and second is not None and second < first:
                raise ValidationError(after, second.isoformat(),
                                      tr("is before {field} {value}").format(
                                          field=before, value=first.isoformat()))
        for name in ("sample_sent_at", "sample_arrived_at", "opinion_asked_at"):
            moment = getattr(self, name)
            if moment is not None and moment > self.reported_at:
                raise ValidationError(name, moment.isoformat(),
                                      tr("is after {field} {value}").format(
                                          field="reported_at",
                                          value=self.reported_at.isoformat()))

    def to_fields(self) -> dict[str, Any]:
        """The form as JSON values (ISO texts for dates), as stored in the flow history."""
        return {name: (value.isoformat() if isinstance(value, date) else value)
                for name, value in attrs.asdict(self, recurse=False).items()}

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> LeadReport:
        """Rebuild a report from :meth:`to_fields` values."""
        def moment(name: str) -> datetime | None:
            value = fields.get(name)
            return None if value is None else datetime.fromisoformat(value)

        due = fields.get("next_report_due")
        return cls(reported_at=datetime.fromisoformat(fields["reported_at"]),
                   interest=fields["interest"], needs=fields["needs"],
                   next_step=fields["next_step"], contact_person=fields.get("contact_person"),
                   next_report_due=None if due is None else date.fromisoformat(due),
                   sample_sent_at=moment("sample_sent_at"),
                   sample_arrived_at=moment("sample_arrived_at"),
                   opinion_asked_at=moment("opinion_asked_at"), opinion=fields.get("opinion"))


@attrs.frozen
class SamplePolicy:
    """Ask the customer's opinion within ``opinion_days`` of the sample's arrival.

    In the configuration: ``[sales] sample_opinion_days = 7``.
    """

    opinion_days: int = 7

    def __attrs_post_init__(self) -> None:
        if isinstance(self.opinion_days, bool) or not isinstance(self.opinion_days, int) \
                or self.opinion_days < 1:
            raise ValidationError("sales.sample_opinion_days", self.opinion_days,
                                  "must be a whole number of at least 1")

    @classmethod
    def from_options(cls, options: Options) -> SamplePolicy:
        """Read ``sample_opinion_days`` from a ``[sales]`` table (7 when absent)."""
        return cls(options.integer("sample_opinion_days", 7, minimum=1))


@attrs.frozen
class SampleClock:
    """Where a lead's sample stands as of a date.

    ``status``: ``asked`` (the opinion was asked after the latest arrival),
    ``due`` (not yet, due by ``due_at``) or ``overdue``.
    """

    lead_id: str
    arrived_at: datetime
    due_at: datetime
    asked_at: datetime | None
    status: str

    def why(self, as_of: datetime, customer_id: str, policy: SamplePolicy) -> str:
        """Why the clock says what it says, in one sentence."""
        arrived = self.arrived_at.date().isoformat()
        rule = tr("within {days} days of arrival (L2)").format(days=policy.opinion_days)
        due = self.due_at.date().isoformat()
        if self.status == "asked" and self.asked_at is not None:
            return tr("sample arrived at {customer} on {arrived}; opinion asked on {asked} "
                      "({rule})").format(customer=customer_id, arrived=arrived,
                                         asked=self.asked_at.date().isoformat(), rule=rule)
        if self.status == "overdue":
            return tr("sample arrived at {customer} on {arrived}; opinion not asked {late} "
                      "days later: overdue since {due} ({rule})").format(
                customer=customer_id, arrived=arrived, late=(as_of - self.arrived_at).days,
                due=due, rule=rule)
        return tr("sample arrived at {customer} on {arrived}: ask their opinion by {due} "
                  "({rule})").format(customer=customer_id, arrived=arrived, due=due, rule=rule)


def sample_clock(lead_id: str, reports: Iterable[LeadReport], as_of: datetime,
                 policy: SamplePolicy = SamplePolicy()) -> SampleClock | None:
    """The sample clock of a lead from its reports seen by ``as_of`` (None: no sample arrived).

    The latest arrival counts (a second sample restarts the clock); the
    opinion counts as asked when a report asks it (or gives it) at or after
    that arrival.
    """
    seen = [report for report in reports if report.reported_at <= as_of]
    arrivals = [r.sample_arrived_at for r in seen if r.sample_arrived_at is not None]
    if not arrivals:
        return None
    arrived = max(arrivals)
    due = arrived + timedelta(days=policy.opinion_days)
    asked = min((moment for moment in (_asked(report) for report in seen)
                 if moment is not None and moment >= arrived), default=None)
    status = "asked" if asked is not None else "overdue" if as_of > due else "due"
    return SampleClock(lead_id, arrived, due, asked, status)


def _asked(report: LeadReport) -> datetime | None:
    if report.opinion_asked_at is not None:
        return report.opinion_asked_at
    return report.reported_at if report.opinion else None


def lead_reports(entries: Iterable[HistoryEntry]) -> dict[str, list[LeadReport]]:
    """The filled report forms in ``lead`` flow history entries, by lead id, in order."""
    found: dict[str, list[LeadReport]] = {}
    for entry in sorted(entries, key=lambda item: (item.subject_id, item.sequence)):
        if entry.flow == LEAD_FLOW and entry.event == "report_progress" \
                and "interest" in entry.fields:
            found.setdefault(entry.subject_id, []).append(LeadReport.from_fields(entry.fields))
    return found


def assign_lead(crm: CRM, lead_id: str, *, actor: str, owner: str | None = None,
                territory: str | None = None, pipeline: PipelineService | None = None,
                policy: LeadPolicy | None = None) -> tuple[Assignment, dict[str, Any]]:
    """Assign a trade-show lead to a territory and authorised owner, with its report form.

    Returns the assignment and the form handed over (the fields of
    :data:`REPORT_FORM` and ``report_due``: the L2 answer date); the
    :data:`LEAD_ASSIGNED` event carries the same.
    """
    service = pipeline or PipelineService(crm)
    answer_days = (policy or configured_policies(crm)[1]).answer_days
    with crm.transaction() as work:  # the assignment and its form, together or not at all
        placed = service.assign_in(work, lead_id, actor=actor, owner=owner,
                                   territory=territory)
        lead = work.repository(Opportunity).require(lead_id, field="lead_id")
        form = {"lead_id": lead_id, "owner": placed.owner, "territory": placed.territory,
                "report_due": (lead.received_at + timedelta(days=answer_days)).isoformat(),
                "fields": dict(REPORT_FORM)}
        work.emit(DomainEvent(type=LEAD_ASSIGNED, occurred_at=crm.now(),
                              subject=f"opportunity:{lead_id}", customer_id=lead.customer_id,
                              data={**form, "actor": actor, "why": placed.why}))
    return placed, form


def report_lead(crm: CRM, lead_id: str, report: LeadReport, *, actor: str) -> Transition:
    """Record a filled report form in the lead flow (the first one answers the lead).

    All in one transaction; a closed lead, or a report dated before the lead's
    current state, is refused and nothing is stored.
    """
    flow = builtin_flow("lead")
    with crm.transaction() as work:
        lead = work.repository(Opportunity).require(lead_id, field="lead_id")
        state, _ = load_state(work, flow, lead_id)
        if state is None:
            state = start_in(work, flow, lead_id, customer_id=lead.customer_id,
                             at=lead.received_at, actor=actor,
                             reason="L2: lead received; its identifier is the opportunity id"
                             ).state
        if state.state == "received":
            transition_in(work, flow, lead_id, "answer", at=report.reported_at, actor=actor,
                          reason="L2: first report on the trade-show lead")
        return transition_in(work, flow, lead_id, "report_progress", at=report.reported_at,
                             actor=actor, reason=f"L2: report ({report.interest})",
                             fields=report.to_fields())


def sample_agenda(crm: CRM, as_of: datetime, *, policy: SamplePolicy | None = None,
                  owner: str | None = None) -> list[AgendaItem]:
    """An agenda item for every lead whose sample opinion is due or overdue as of ``as_of``.

    Due items are reminders until the week is up, then overdue. ``owner``
    keeps one owner's items. Ordered by due time. Reads the open
    opportunities and, per customer with one, that customer's flow history
    (not the whole book's).
    """
    chosen = policy or SamplePolicy.from_options(crm.settings("sales"))
    leads = {lead.id: lead for lead in crm.find(Opportunity)
             if lead.status is OpportunityStatus.OPEN and lead.received_at <= as_of
             and (owner is None or lead.owner == owner)}
    entries = [entry for customer_id in sorted({lead.customer_id for lead in leads.values()})
               for entry in crm.find(HistoryEntry, customer_id=customer_id)
               if entry.flow == LEAD_FLOW and entry.subject_id in leads and entry.at <= as_of]
    closed = {entry.subject_id for entry in entries if entry.to_state in ("won", "lost")}
    items = []
    for lead_id, reports in lead_reports(entries).items():
        lead = leads[lead_id]
        clock = sample_clock(lead_id, reports, as_of, chosen)
        if clock is None or clock.status == "asked" or lead_id in closed:
            continue
        kind = ActionKind.OVERDUE if clock.status == "overdue" else ActionKind.REMINDER
        items.append(AgendaItem(lead.owner or UNASSIGNED, kind, lead.customer_id,
                                f"lead:{lead_id}", clock.due_at, None,
                                clock.why(as_of, lead.customer_id, chosen)))
    return sorted(items, key=lambda item: (item.due_at, item.subject))
