"""Every service policy in one value, and G6: per-grade follow-up from a grading scheme.

:class:`PolicySet` bundles the business calendar and the policies the agenda and the
compliance report apply. :meth:`PolicySet.with_followup` applies the follow-up
principles per grade (G6) of a grading scheme (``[followup.<grade>]`` tables,
:class:`crmcore.grading.FollowUpPolicy`): contact frequency -> care cadence,
response target -> SLA first-response targets, complaint priority -> complaint
priorities, nurture toward -> nurture actions on the agenda. :meth:`PolicySet.from_config`
reads the optional ``[policies]`` table of a configuration file
(:mod:`crmcore.policies.configuration`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import attrs

from crmcore.model import Priority
from crmcore.policies.appointments import AppointmentPolicy
from crmcore.policies.care import CarePlan, Holiday
from crmcore.policies.complaints import (
    DEFAULT_COMPLAINT_PRIORITY,
    RecurrenceRule,
    priorities_from_followup,
)
from crmcore.policies.contact import ContactRules
from crmcore.policies.escalation import DEFAULT_CHAIN, EscalationChain, Hierarchy, ReportingLines
from crmcore.policies.expiry import ExpiryPolicy
from crmcore.policies.grades import DEFAULT_GRADES
from crmcore.policies.sla import SlaPolicy
from crmcore.service import BusinessCalendar

if TYPE_CHECKING:
    from crmcore.config import CRMConfig

__all__ = ["DEFAULT_CALENDAR", "FollowUp", "PolicySet"]

DEFAULT_CALENDAR = BusinessCalendar("weekdays-9-18-utc", "UTC",
                                    {day: ["09:00-12:00", "13:00-18:00"] for day in range(5)})
"""Used when no calendar is configured: Monday to Friday, 09:00-12:00 and 13:00-18:00 UTC."""


class FollowUp(Protocol):
    """A grade's follow-up policy (G6), as :class:`crmcore.grading.FollowUpPolicy` gives it."""

    @property
    def contact_every_days(self) -> int | None:
        """Days between contacts."""

    @property
    def response_hours(self) -> int | None:
        """Response target in hours."""

    @property
    def complaint_priority(self) -> Priority | None:
        """The least priority of the grade's complaints."""

    @property
    def nurture_toward(self) -> str | None:
        """The grade to develop the grade's customers toward."""


@attrs.frozen
class PolicySet:
    """The calendar and every policy; each field defaults to the rule catalogue's numbers.

    ``grade_order`` lists grades best first (agenda ordering); ``holidays`` maps a
    religion to its dated holidays (greetings); ``lines`` is the reporting chart the
    escalation chains climb; ``nurture`` maps a grade to the grade its customers are
    developed toward (G6: B toward A), each an agenda action beside the due contact.
    """

    calendar: BusinessCalendar = DEFAULT_CALENDAR
    sla: SlaPolicy = attrs.field(factory=SlaPolicy)
    chain: EscalationChain = DEFAULT_CHAIN
    lines: Hierarchy = attrs.field(factory=ReportingLines)
    care: CarePlan = attrs.field(factory=CarePlan)
    contact: ContactRules = attrs.field(factory=ContactRules)
    appointments: AppointmentPolicy = attrs.field(factory=AppointmentPolicy)
    expiry: ExpiryPolicy = attrs.field(factory=ExpiryPolicy)
    complaint_priorities: Mapping[str, Priority] = attrs.field(
        factory=lambda: dict(DEFAULT_COMPLAINT_PRIORITY))
    recurrence: RecurrenceRule = attrs.field(factory=RecurrenceRule)
    holidays: Mapping[str, Iterable[Holiday]] = attrs.field(factory=dict)
    grade_order: tuple[str, ...] = DEFAULT_GRADES
    nurture: Mapping[str, str] = attrs.field(factory=dict)

    def with_followup(self, followup: Mapping[str, FollowUp],
                      grade_order: Iterable[str] | None = None) -> PolicySet:
        """These policies with a grading scheme's follow-up principles per grade (G6).

        ``grade_order`` (best first) defaults to the order of ``followup``. When the
        SLA table's rows are not named by these grades, they take its rows by order
        (:meth:`~crmcore.policies.SlaTable.for_grades`).
        """
        order = tuple(grade_order if grade_order is not None else followup)
        table = self.sla.table.for_grades(order).with_response_hours(followup)
        return attrs.evolve(
            self,
            sla=attrs.evolve(self.sla, table=table),
            care=self.care.from_followup(followup),
            complaint_priorities=priorities_from_followup(followup, self.complaint_priorities),
            grade_order=order,
            nurture={grade: policy.nurture_toward for grade, policy in followup.items()
                     if policy.nurture_toward},
        )

    @classmethod
    def from_config(cls, config: CRMConfig) -> PolicySet:
        """The policies of the configuration's optional ``[policies]`` table.

        Keys left out keep the defaults; a table given replaces the default one as a
        whole. Bad values raise :class:`~crmcore.errors.ConfigError` naming the key
        path; unknown keys are refused. See :mod:`crmcore.policies.configuration`.
        """
        from crmcore.policies.configuration import policies_from_config

        return policies_from_config(config)
