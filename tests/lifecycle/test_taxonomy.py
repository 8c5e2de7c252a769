"""Churn types, causes and reasons (L3) and loyalty types (L4) enforced at the door."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from crmcore.errors import ValidationError
from crmcore.lifecycle import (
    ChurnCause,
    ChurnReason,
    ChurnTaxonomy,
    ChurnType,
    LoyaltyType,
    customer_flow,
)
from crmcore.transitions import RefusedTransitionError, apply_transition, start_flow

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _in(state: str, taxonomy: ChurnTaxonomy | None = None) -> Any:
    flow = customer_flow(taxonomy)
    record = start_flow(flow, "C1", customer_id="C1", at=T0, actor="a").state
    return flow, attrs.evolve(record, state=state)


def test_l3_catalogue_types_causes() -> None:
    assert [t.value for t in ChurnType] == ["natural", "malicious", "competitive", "negligence",
                                            "unknown"]
    assert [c.value for c in ChurnCause] == ["value", "system", "employee", "unknown"]
    assert "competitor-temptation" in ChurnTaxonomy().codes()


def test_l3_entering_churned_needs_type_cause_and_reasons() -> None:
    flow, record = _in("at-risk")
    fields = {"churn_type": "competitive", "churn_cause": "value",
              "churn_reasons": ["competitor-temptation", "price-too-high"]}
    made = apply_transition(flow, record, "churn", at=T0, actor="a", fields=fields)
    assert made.state.fields == fields
    assert made.entry.fields == fields


@pytest.mark.parametrize(("fields", "message"), [
    ({"churn_type": "bored", "churn_cause": "value", "churn_reasons": ["poor-service"]},
     "churn_type: 'bored' is not one of natural, malicious, competitive, negligence"),
    ({"churn_type": "natural", "churn_cause": "weather", "churn_reasons": ["poor-service"]},
     "churn_cause: 'weather' is not one of value, system, employee"),
    ({"churn_type": "natural", "churn_cause": "value", "churn_reasons": ["aliens"]},
     r"churn_reasons\[0\]: 'aliens' is not a churn reason"),
    ({"churn_type": "natural", "churn_cause": "value", "churn_reasons": []},
     "churn_reasons required on entry"),
    ({"churn_type": "natural", "churn_cause": "value", "churn_reasons": ["other"]},
     "churn_note: '' must explain the reason 'other'"),
])
def test_l3_bad_churn_details_are_refused(fields: dict[str, Any], message: str) -> None:
    flow, record = _in("active")
    with pytest.raises(RefusedTransitionError, match=message):
        apply_transition(flow, record, "churn", at=T0, actor="a", fields=fields)


def test_l3_other_with_a_note_is_accepted() -> None:
    flow, record = _in("loyal")
    made = apply_transition(flow, record, "churn", at=T0, actor="a", fields={
        "churn_type": "natural", "churn_cause": "value", "churn_reasons": ["other"],
        "churn_note": "company closed"})
    assert made.state.state == "churned"


def test_l3_reason_catalogue_is_extensible() -> None:
    taxonomy = ChurnTaxonomy().with_reasons([ChurnReason("merger", "acquired by a rival")])
    assert taxonomy.codes()[-3:] == ("merger", "other", "unknown")
    flow, record = _in("active", taxonomy)
    fields = {"churn_type": "natural", "churn_cause": "system", "churn_reasons": ["merger"]}
    assert apply_transition(flow, record, "churn", at=T0, actor="a", fields=fields)
    plain_flow, plain = _in("active")
    with pytest.raises(RefusedTransitionError, match="'merger' is not a churn reason"):
        apply_transition(plain_flow, plain, "churn", at=T0, actor="a", fields=fields)
    with pytest.raises(ValidationError, match="listed twice"):
        taxonomy.with_reasons([ChurnReason("merger", "again")])


def test_l4_loyal_customers_carry_a_loyalty_type() -> None:
    assert [t.value for t in LoyaltyType] == ["monopoly", "convenience", "potential", "price",
                                              "incentive", "super-value", "unknown"]
    flow, record = _in("active")
    with pytest.raises(RefusedTransitionError, match="loyalty_type required on entry"):
        apply_transition(flow, record, "become_loyal", at=T0, actor="a")
    with pytest.raises(RefusedTransitionError, match="'fond' is not one of monopoly"):
        apply_transition(flow, record, "become_loyal", at=T0, actor="a",
                         fields={"loyalty_type": "fond"})
    made = apply_transition(flow, record, "become_loyal", at=T0, actor="a",
                            fields={"loyalty_type": "convenience"})
    assert made.state.fields == {"loyalty_type": "convenience"}
