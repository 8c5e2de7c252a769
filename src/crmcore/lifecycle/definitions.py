"""The shipped flow definitions and the checks they name.

The customer lifecycle (L1), the lead lifecycle (L2) and two host flows
(L6: a consulting engagement and media sales) are TOML files in
``crmcore/lifecycle/flows``; :func:`builtin_flow` loads one by name.
:func:`lifecycle_checks` registers the guards and validators they use; a
host passes its own :class:`~crmcore.transitions.CheckRegistry` to
:func:`~crmcore.transitions.flow_from_toml` for its own flows.

Guards read these *facts* (timezone-aware datetimes) given to the door:
``first_purchase_at`` and ``last_purchase_at``.
"""

from __future__ import annotations

from datetime import datetime

from crmcore.errors import ValidationError
from crmcore.lifecycle.taxonomy import ChurnTaxonomy, loyalty_type, remembered_details
from crmcore.transitions import CheckRegistry, FlowDefinition, TransitionContext
from crmcore.transitions.loader import load_packaged_flow

FLOW_FILES: dict[str, str] = {
    "customer": "customer.toml",
    "lead": "lead.toml",
    "consulting": "consulting.toml",
    "media-sales": "media-sales.toml",
}
"""The shipped definitions: short name -> file in ``crmcore/lifecycle/flows``."""

CUSTOMER_FLOW = "customer-lifecycle"
"""The flow name of the default customer lifecycle."""


def _fact(context: TransitionContext, name: str) -> datetime | None:
    value = context.facts.get(name)
    return value if isinstance(value, datetime) else None


def has_purchased(context: TransitionContext) -> bool:
    """The customer has a purchase (fact first_purchase_at) no later than the transition."""
    first = _fact(context, "first_purchase_at")
    return first is not None and first <= context.at


def purchase_since_entry(context: TransitionContext) -> bool:
    """The customer bought (fact last_purchase_at) after entering its current state."""
    last = _fact(context, "last_purchase_at")
    return last is not None and context.state.entered_at < last <= context.at


def lifecycle_checks(taxonomy: ChurnTaxonomy | None = None) -> CheckRegistry:
    """Guards and validators of the shipped flows; churn reasons from ``taxonomy``
    (each distinct set of churn fields is checked once: :func:`remembered_details`)."""
    details = remembered_details(taxonomy or ChurnTaxonomy())

    def churn_details(context: TransitionContext) -> None:
        """Churn type, cause and catalogue reasons are valid; 'other' has a note (L3)."""
        details(context.fields)

    def churn_explained(context: TransitionContext) -> None:
        """The answer names a known type, cause and reasons (not ``unknown``) (L3)."""
        if not details(context.fields).explained:
            raise ValidationError("churn_reasons", context.fields.get("churn_reasons"),
                                  "must say why: the answer completes a churn record, so "
                                  "type, cause and reasons cannot be 'unknown'")

    def check_loyalty_type(context: TransitionContext) -> None:
        """The loyalty type is one of the catalogue's (L4)."""
        loyalty_type(context.fields.get("loyalty_type"))

    def lost_reason_given(context: TransitionContext) -> None:
        """A lost reason is a non-empty text."""
        value = context.fields.get("lost_reason")
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("lost_reason", value, "must be a non-empty text")

    return CheckRegistry(
        guards={"has_purchased": has_purchased, "purchase_since_entry": purchase_since_entry},
        validators={"churn_details": churn_details, "churn_explained": churn_explained,
                    "loyalty_type": check_loyalty_type,
                    "lost_reason": lost_reason_given},
    )


def builtin_flow(name: str, checks: CheckRegistry | None = None) -> FlowDefinition:
    """Load the shipped definition ``name`` (see :data:`FLOW_FILES`)."""
    return load_packaged_flow("crmcore.lifecycle", FLOW_FILES, name,
                              checks or lifecycle_checks(), label="flow")


def customer_flow(taxonomy: ChurnTaxonomy | None = None) -> FlowDefinition:
    """The default customer lifecycle (L1), checking churn reasons against ``taxonomy``."""
    return builtin_flow("customer", lifecycle_checks(taxonomy))
