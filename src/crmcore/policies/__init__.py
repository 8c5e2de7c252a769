"""Service policies (CCPR, rules S1-S8 and G6): convenient, caring, personal, real time.

The pure core, one module per reason to change:

* :mod:`~crmcore.policies.contact` – S1/S3: channel and earliest suitable local time;
* :mod:`~crmcore.policies.care` – S2/G6: cadence per grade, weekly personal messages,
  greetings; one message per customer, never a bulk send;
* :mod:`~crmcore.policies.sla` – S4: SLA targets grade x priority, clocks that pause,
  warnings, breaches; :mod:`~crmcore.policies.sla_batch` – the same for a million
  tickets as columns (numpy);
* :mod:`~crmcore.policies.escalation` – S4: escalation chains and transfers;
  :mod:`~crmcore.policies.assignments` – the steps applied and stored, with events;
* :mod:`~crmcore.policies.appointments` – S5; :mod:`~crmcore.policies.visits` – S5: call
  ahead, reschedule with consent, return visits by plan;
  :mod:`~crmcore.policies.thanks` – S2: thank-you letters; :mod:`~crmcore.policies.expiry` – S6;
* :mod:`~crmcore.policies.complaints` – S7: priority from grade, recurring incidents;
* :mod:`~crmcore.policies.agenda` – the daily agenda; :mod:`~crmcore.policies.compliance`
  – S8: promises kept or broken, with evidence;
* :mod:`~crmcore.policies.settings` – every policy in one :class:`PolicySet`, G6 wiring;
  :mod:`~crmcore.policies.configuration` – the ``[policies]`` table of a configuration file.

:class:`PolicyService` (:mod:`~crmcore.policies.service`) runs them over a
:class:`~crmcore.CRM`. Importing this package registers the entity kinds
``appointment``, ``contract``, ``warranty``, ``problem`` and ``escalation``.
"""

from crmcore.policies.agenda import (
    ActionKind,
    AgendaItem,
    Book,
    UnexplainedChurn,
    build_agenda,
    due_escalations,
    graded_ticket_sla,
    order_agenda,
)
from crmcore.policies.appointments import (
    APPOINTMENT,
    Appointment,
    AppointmentDue,
    AppointmentPolicy,
    Rescheduling,
    appointment_actions,
    confirm_by,
    plan_return_visit,
)
from crmcore.policies.assignments import EscalationConflict, EscalationReport, PlannedStep
from crmcore.policies.care import (
    DEFAULT_CADENCE_DAYS,
    BulkSendError,
    CareDue,
    CarePlan,
    Holiday,
    Message,
    Signature,
    compose_message,
    contact_due,
    contact_every,
    counts_as_message,
    greetings_due,
    key_customer,
    message_every,
    personal_message_due,
)
from crmcore.policies.complaints import (
    DEFAULT_COMPLAINT_PRIORITY,
    PROBLEM,
    ProblemRecord,
    RecurrenceRule,
    complaint_priority,
    complaint_queue,
    find_recurring,
    link_incidents,
)
from crmcore.policies.compliance import ComplianceReport, PromiseCheck, compliance_report
from crmcore.policies.configuration import configured_policies
from crmcore.policies.contact import (
    ContactRefusedError,
    ContactRules,
    ContactSlot,
    choose_channel,
    plan_contact,
    suitable_moment,
)
from crmcore.policies.escalation import (
    DEFAULT_CHAIN,
    Escalation,
    EscalationAction,
    EscalationChain,
    EscalationRecord,
    EscalationStep,
    ReportingLines,
    Task,
    escalation,
    next_step,
    task_of_commitment,
)
from crmcore.policies.expiry import (
    CONTRACT,
    EXPIRY_CHAIN,
    WARRANTY,
    Contract,
    ExpiryPolicy,
    Warranty,
    expiry_reminder,
)
from crmcore.policies.grades import DEFAULT_GRADES
from crmcore.policies.scheme import grades_in_force, policy_scheme, stored_scheme
from crmcore.policies.service import PolicyService, change_ticket_status
from crmcore.policies.settings import DEFAULT_CALENDAR, PolicySet
from crmcore.policies.sla import (
    DEFAULT_SLA_HOURS,
    DEFAULT_SLA_TABLE,
    SlaClock,
    SlaPolicy,
    SlaState,
    SlaTable,
    SlaTarget,
    TicketSla,
    sla_clock,
    ticket_sla,
)
from crmcore.policies.thanks import ThankYouDue, thank_you_letters, thanks_subject
from crmcore.policies.tickets import (
    TICKET_FLOW,
    StatusInterval,
    intervals_from_history,
    status_intervals,
    ticket_flow,
)
from crmcore.policies.visits import (
    DEFAULT_RETURN_VISIT_OUTLINE,
    lateness_actions,
    outcome_actions,
    reschedule,
    return_visit_plan,
)

__all__ = [
    "APPOINTMENT",
    "CONTRACT",
    "DEFAULT_CADENCE_DAYS",
    "DEFAULT_CALENDAR",
    "DEFAULT_CHAIN",
    "DEFAULT_COMPLAINT_PRIORITY",
    "DEFAULT_GRADES",
    "DEFAULT_RETURN_VISIT_OUTLINE",
    "DEFAULT_SLA_HOURS",
    "DEFAULT_SLA_TABLE",
    "EXPIRY_CHAIN",
    "PROBLEM",
    "TICKET_FLOW",
    "WARRANTY",
    "ActionKind",
    "AgendaItem",
    "Appointment",
    "AppointmentDue",
    "AppointmentPolicy",
    "Book",
    "BulkSendError",
    "CareDue",
    "CarePlan",
    "ComplianceReport",
    "ContactRefusedError",
    "ContactRules",
    "ContactSlot",
    "Contract",
    "Escalation",
    "EscalationAction",
    "EscalationChain",
    "EscalationConflict",
    "EscalationRecord",
    "EscalationReport",
    "EscalationStep",
    "ExpiryPolicy",
    "Holiday",
    "Message",
    "PlannedStep",
    "PolicyService",
    "PolicySet",
    "ProblemRecord",
    "PromiseCheck",
    "RecurrenceRule",
    "ReportingLines",
    "Rescheduling",
    "Signature",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "SlaTable",
    "SlaTarget",
    "StatusInterval",
    "Task",
    "ThankYouDue",
    "TicketSla",
    "UnexplainedChurn",
    "Warranty",
    "appointment_actions",
    "build_agenda",
    "change_ticket_status",
    "choose_channel",
    "complaint_priority",
    "complaint_queue",
    "compliance_report",
    "compose_message",
    "configured_policies",
    "confirm_by",
    "contact_due",
    "contact_every",
    "counts_as_message",
    "due_escalations",
    "escalation",
    "expiry_reminder",
    "find_recurring",
    "graded_ticket_sla",
    "grades_in_force",
    "greetings_due",
    "intervals_from_history",
    "key_customer",
    "lateness_actions",
    "link_incidents",
    "message_every",
    "next_step",
    "order_agenda",
    "outcome_actions",
    "personal_message_due",
    "plan_contact",
    "plan_return_visit",
    "policy_scheme",
    "reschedule",
    "return_visit_plan",
    "sla_clock",
    "status_intervals",
    "stored_scheme",
    "suitable_moment",
    "task_of_commitment",
    "thank_you_letters",
    "thanks_subject",
    "ticket_flow",
    "ticket_sla",
]
