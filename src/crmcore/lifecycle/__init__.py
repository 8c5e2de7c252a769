"""The customer lifecycle (L1-L6): courtship, marriage, divorce, and the flows hosts run.

- :func:`customer_flow`, :func:`builtin_flow`: the shipped definitions (TOML);
- :mod:`~crmcore.lifecycle.taxonomy`: churn types, causes, reasons; loyalty types;
- :mod:`~crmcore.lifecycle.evidence`: as-of evidence rules, each move explained;
- :class:`LifecycleService`: advance, list and explain stages in a :class:`~crmcore.CRM`;
- :mod:`~crmcore.lifecycle.measures`: churn, retention and win-back per period and cohort;
- :mod:`~crmcore.lifecycle.leads`: the lead clock (L2);
- :class:`LeadService`: start stored opportunities in the lead flow, list lead clocks.

Every stage change goes through :func:`crmcore.transitions.apply_transition`.
"""

from crmcore.lifecycle.definitions import (
    CUSTOMER_FLOW,
    FLOW_FILES,
    builtin_flow,
    customer_flow,
    lifecycle_checks,
)
from crmcore.lifecycle.evidence import (
    ChurnSignal,
    CustomerFacts,
    Move,
    Thresholds,
    complaint_signals,
    decide,
    plan_moves,
)
from crmcore.lifecycle.lead_service import LEAD_ACTOR, LeadAdvance, LeadService
from crmcore.lifecycle.leads import (
    LeadClock,
    LeadMove,
    LeadPolicy,
    LeadRow,
    lead_clock,
    lead_clock_from_history,
    lead_row,
    plan_lead_moves,
)
from crmcore.lifecycle.measures import (
    CUSTOMER_STAGES,
    Period,
    RetentionRow,
    acquisition_cohorts,
    cohort_label,
    periods,
    retention,
)
from crmcore.lifecycle.service import (
    AdvanceReport,
    LifecycleService,
    StageRow,
    configured_policies,
)
from crmcore.lifecycle.taxonomy import (
    DEFAULT_CHURN_REASONS,
    ChurnCause,
    ChurnDetails,
    ChurnReason,
    ChurnTaxonomy,
    ChurnType,
    LoyaltyType,
)

__all__ = [
    "CUSTOMER_FLOW",
    "CUSTOMER_STAGES",
    "DEFAULT_CHURN_REASONS",
    "FLOW_FILES",
    "LEAD_ACTOR",
    "AdvanceReport",
    "ChurnCause",
    "ChurnDetails",
    "ChurnReason",
    "ChurnSignal",
    "ChurnTaxonomy",
    "ChurnType",
    "CustomerFacts",
    "LeadAdvance",
    "LeadClock",
    "LeadMove",
    "LeadPolicy",
    "LeadRow",
    "LeadService",
    "LifecycleService",
    "LoyaltyType",
    "Move",
    "Period",
    "RetentionRow",
    "StageRow",
    "Thresholds",
    "acquisition_cohorts",
    "builtin_flow",
    "cohort_label",
    "complaint_signals",
    "configured_policies",
    "customer_flow",
    "decide",
    "lead_clock",
    "lead_clock_from_history",
    "lead_row",
    "lifecycle_checks",
    "periods",
    "plan_lead_moves",
    "plan_moves",
    "retention",
]
