"""The sales pipeline through the application service: add, move, assign, list (M1, M2).

:class:`PipelineService` stores opportunities (kind ``opportunity``) through a
:class:`~crmcore.CRM` and moves their stages through the one transition door,
each change in one unit of work with its events (outbox). Bad input (a stage
not in the flow, an amount without a currency, an unknown or unauthorised
owner, a lost reason outside the catalogue) raises an error naming the field
and the value, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ValidationError
from crmcore.events import ENTITY_RECORDED, ENTITY_UPDATED, DomainEvent, entity_event
from crmcore.i18n import tr
from crmcore.model import Customer, Opportunity, OpportunityStatus
from crmcore.sales.opportunities import (
    PIPELINE_FLOW,
    LostReasons,
    SalesOpportunity,
    StageStay,
    pipeline_flow,
    stage_stays,
)
from crmcore.sales.territories import Assignment, Territories
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    RefusedTransitionError,
    Transition,
    history_of,
    load_state,
    start_in,
    transition_in,
)
from crmcore.transitions.records import state_id
from crmcore.unit_of_work import UnitOfWork

__all__ = ["OPPORTUNITY_ASSIGNED", "PipelineService", "event_to_stage"]

OPPORTUNITY_ASSIGNED = "opportunity.assigned"
"""Event emitted when an opportunity gets a territory and owner (data: territory,
owner, previous ones, why)."""

_CLOSED = {"won": OpportunityStatus.WON, "lost": OpportunityStatus.LOST}


def event_to_stage(flow: FlowDefinition, opportunity_id: str, current: str, stage: str) -> str:
    """The event that moves an opportunity from ``current`` to ``stage`` in one step.

    A stage not in the flow raises :class:`ValidationError` naming it and the
    known stages; a stage not reachable from ``current`` raises
    :class:`~crmcore.transitions.RefusedTransitionError` listing the stages allowed next.
    """
    if not flow.has_state(stage):
        raise ValidationError("stage", stage, tr("is not a stage of the {flow} flow (known: "
                                                 "{known})").format(
            flow=flow.name, known=", ".join(flow.state_names())))
    for transition in flow.transitions_from(current):
        if transition.target == stage and stage != current:
            return transition.event
    nexts = [t.target for t in flow.transitions_from(current) if t.target not in (None, current)]
    raise RefusedTransitionError(flow.name, opportunity_id, current, f"to {stage}",
                                 tr("{stage!r} cannot be reached from {current!r} in one move "
                                    "(allowed next: {allowed})").format(
                                     stage=stage, current=current,
                                     allowed=", ".join(map(str, nexts)) or tr("none")))


class PipelineService:
    """Opportunities and their stages in a :class:`~crmcore.CRM` (rules M1, M2).

    Without ``territories`` or ``lost_reasons`` they are read from the
    configuration's ``[sales]`` table.
    """

    def __init__(self, crm: CRM, *, territories: Territories | None = None,
                 lost_reasons: LostReasons | None = None) -> None:
        self.crm = crm
        settings = crm.settings("sales")
        self.territories = (territories if territories is not None
                            else Territories.from_options(settings))
        self.lost_reasons = lost_reasons or LostReasons.from_options(settings)
        self.flow = pipeline_flow(self.lost_reasons)

    # -- writing --------------------------------------------------------------------

    def add(self, opportunity_id: str, customer_id: str, title: str, *,
            amount: Decimal | None, currency: str | None, expected_close: date | None,
            actor: str, created_at: datetime | None = None, source: str | None = None,
            owner: str | None = None, territory: str | None = None,
            assign: bool = True) -> SalesOpportunity:
        """Store a new opportunity in the first stage; return it.

        ``expected_close`` None records the close date as unknown (never a
        default). An amount needs its currency. With territory rules
        configured and ``assign``, the opportunity gets its territory and owner
        by the rules (``owner``/``territory`` narrow them and are checked).
        """
        moment = created_at or self.crm.now()
        if amount is not None and currency is None:
            raise ValidationError("currency", None, tr("is required with amount {amount}"
                                                       ).format(amount=amount))
        if currency is not None and amount is None:
            raise ValidationError("amount", None, tr("is required with currency {currency}"
                                                     ).format(currency=currency))
        with self.crm.transaction() as work:
            customer = work.repository(Customer).require(customer_id, field="customer_id")
            placed = self._placement(customer, owner, territory, assign)
            opportunity = Opportunity(
                id=opportunity_id, customer_id=customer_id, title=title, received_at=moment,
                source=source, owner=placed.owner if placed else owner,
                expected_close=expected_close, estimated_value=amount, currency=currency,
                territory=placed.territory if placed else territory)
            if not work.repository(Opportunity).add(opportunity):
                raise ValidationError("id", opportunity_id, tr("is already an opportunity"))
            work.emit(entity_event(ENTITY_RECORDED, opportunity, at=self.crm.now()))
            made = start_in(work, self.flow, opportunity_id, customer_id=customer_id, at=moment,
                            actor=actor, reason="M1: opportunity recorded")
            if placed is not None:
                self._emit_assigned(work, opportunity, placed, None, None)
        return SalesOpportunity.of(opportunity, made.state)

    def _placement(self, customer: Customer, owner: str | None, territory: str | None,
                   assign: bool) -> Assignment | None:
        if self.territories.rules and (assign or owner is not None or territory is not None):
            return self.territories.assign(customer, owner=owner, territory=territory)
        if territory is not None:
            self.territories.rule(territory)  # no rules: any named territory is unknown
        return None

    def move(self, opportunity_id: str, stage: str, *, actor: str, at: datetime | None = None,
             reason: str = "", lost_reason: str | None = None, lost_note: str | None = None,
             override: bool = False) -> Transition:
        """Move an opportunity to ``stage`` through the door; won/lost also close the record.

        ``lost_reason`` (from the catalogue) is required to reach ``lost``.
        The opportunity's status follows its stage in the same transaction,
        so prospect grading (G4) and the lead clocks (L2) see the outcome.
        """
        fields: dict[str, Any] = {}
        if lost_reason is not None:
            fields["lost_reason"] = lost_reason
        if lost_note is not None:
            fields["lost_note"] = lost_note
        with self.crm.transaction() as work:
            opportunity = work.repository(Opportunity).require(opportunity_id,
                                                               field="opportunity_id")
            state = self._state(work, opportunity_id)
            event = event_to_stage(self.flow, opportunity_id, state.state, stage)
            made = transition_in(work, self.flow, opportunity_id, event, at=at or self.crm.now(),
                                 actor=actor, reason=reason, fields=fields or None,
                                 override=override)
            status = _CLOSED.get(made.state.state)
            if status is not None:
                closed = attrs.evolve(opportunity, status=status)
                version = work.repository(Opportunity).replace(closed)
                work.emit(entity_event(ENTITY_UPDATED, closed, at=self.crm.now(),
                                       version=version))
        return made

    def assign(self, opportunity_id: str, *, actor: str, owner: str | None = None,
               territory: str | None = None) -> Assignment:
        """Give an opportunity its territory and owner by the rules (or the ones named).

        An unknown owner, or one not authorised for the territory, is refused
        and nothing changes. Emits :data:`OPPORTUNITY_ASSIGNED`.
        """
        with self.crm.transaction() as work:
            return self.assign_in(work, opportunity_id, actor=actor, owner=owner,
                                  territory=territory)

    def assign_in(self, work: UnitOfWork, opportunity_id: str, *, actor: str,
                  owner: str | None = None, territory: str | None = None) -> Assignment:
        """:meth:`assign` inside ``work``, so a caller can store more with it atomically."""
        if not self.territories.rules:
            raise ValidationError("territories", [], tr("are not configured: add "
                                                        "[[sales.territories]] tables"))
        opportunity = work.repository(Opportunity).require(opportunity_id,
                                                           field="opportunity_id")
        customer = work.repository(Customer).require(opportunity.customer_id,
                                                     field="customer_id")
        placed = self.territories.assign(customer, owner=owner, territory=territory)
        moved = attrs.evolve(opportunity, owner=placed.owner, territory=placed.territory)
        if moved != opportunity:
            version = work.repository(Opportunity).replace(moved)
            work.emit(entity_event(ENTITY_UPDATED, moved, at=self.crm.now(), version=version))
            self._emit_assigned(work, moved, placed, opportunity.territory, opportunity.owner,
                                actor=actor)
        return placed

    def reassign_open(self, *, actor: str) -> list[tuple[str, Assignment]]:
        """Reset territories: assign every open opportunity again by the current rules.

        An owner still authorised for the (new) territory keeps the
        opportunity; returns the ones that changed.
        """
        changed = []
        for item in self.open():
            rule = (self.territories.territory_of(self.crm.require(Customer, item.customer_id)))
            owner = item.owner if item.owner is not None and rule.authorises(item.owner) \
                else None
            if item.territory == rule.name and owner is not None:
                continue
            changed.append((item.id, self.assign(item.id, actor=actor, owner=owner)))
        return changed

    def _emit_assigned(self, work: UnitOfWork, opportunity: Opportunity, placed: Assignment,
                       territory: str | None, owner: str | None, *, actor: str = "") -> None:
        work.emit(DomainEvent(
            type=OPPORTUNITY_ASSIGNED, occurred_at=self.crm.now(),
            subject=f"opportunity:{opportunity.id}", customer_id=opportunity.customer_id,
            data={"territory": placed.territory, "owner": placed.owner, "why": placed.why,
                  "previous_territory": territory, "previous_owner": owner, "actor": actor}))

    def _state(self, work: UnitOfWork, opportunity_id: str) -> FlowState:
        state, _ = load_state(work, self.flow, opportunity_id)
        if state is None:
            raise RefusedTransitionError(self.flow.name, opportunity_id, None, "move",
                                         "the opportunity is not in the pipeline")
        return state

    # -- reading --------------------------------------------------------------------

    def opportunities(self) -> list[SalesOpportunity]:
        """Every opportunity in the pipeline, by id.

        One read of the opportunities and one look-up of each one's stage, in
        one transaction: the other flows' states (a whole book's lifecycle) are
        not read.
        """
        made = []
        with self.crm.transaction() as work:
            states = work.repository(FlowState)
            for opportunity in work.repository(Opportunity).find():
                state = states.get(state_id(PIPELINE_FLOW, opportunity.id))
                if state is not None:
                    made.append(SalesOpportunity.of(opportunity, state))
        return sorted(made, key=lambda item: item.id)

    def open(self) -> list[SalesOpportunity]:
        """The opportunities not yet won or lost, by id."""
        return [item for item in self.opportunities()
                if not self.flow.state(item.stage).final]

    def get(self, opportunity_id: str) -> SalesOpportunity:
        """One opportunity in the pipeline; :class:`~crmcore.errors.NotFoundError` if absent."""
        opportunity = self.crm.require(Opportunity, opportunity_id)
        with self.crm.transaction() as work:
            state = self._state(work, opportunity_id)
        return SalesOpportunity.of(opportunity, state)

    def stays(self, opportunity_id: str) -> list[StageStay]:
        """The stage history of one opportunity: each stage, when entered and left."""
        opportunity = self.crm.require(Opportunity, opportunity_id)
        return stage_stays(history_of(self.crm, self.flow, opportunity_id,
                                      customer_id=opportunity.customer_id))

    def stage_names(self) -> Sequence[str]:
        """The pipeline's stages, in order."""
        return self.flow.state_names()
