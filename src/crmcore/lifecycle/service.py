"""The customer lifecycle through the application service: advance, list, explain.

:class:`LifecycleService` gathers each customer's facts from storage, asks
the pure evidence rules (:mod:`crmcore.lifecycle.evidence`) what should
move, and applies every move through the transition door, one customer per
transaction. A customer enters the lifecycle (``identified``) at its
acquisition date, or its first purchase if earlier.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ConfigError, TransitionError
from crmcore.lifecycle.definitions import customer_flow
from crmcore.lifecycle.evidence import CustomerFacts, Move, Thresholds, plan_moves
from crmcore.lifecycle.leads import LeadPolicy
from crmcore.lifecycle.taxonomy import ChurnTaxonomy
from crmcore.model import Customer, SurveyResponse, Ticket, Transaction
from crmcore.options import Options
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    HistoryEntry,
    Transition,
    current_state,
    history_of,
    load_state,
    start_in,
    states_of,
    transition,
    transition_in,
)
from crmcore.unit_of_work import UnitOfWork

_log = logging.getLogger(__name__)

DEFAULT_ACTOR = "crmcore.lifecycle"
"""Who the history names for moves made by :meth:`LifecycleService.advance`."""


@attrs.frozen
class AdvanceReport:
    """What :meth:`LifecycleService.advance` did.

    ``moves`` in order per customer; ``started`` the customers who entered the
    lifecycle; ``evidence`` notes which evidence sources were available;
    ``refused`` the (customer id, message) pairs the door refused.
    """

    as_of: datetime
    moves: tuple[Move, ...]
    started: tuple[str, ...]
    evidence: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class StageRow:
    """One customer's current stage (``stage`` None: not in the lifecycle yet)."""

    customer_id: str
    name: str
    stage: str | None
    phase: str | None
    since: datetime | None
    fields: Mapping[str, Any] = attrs.field(factory=dict)


def group_by_customer(items: Iterable[Any]) -> dict[str, list[Any]]:
    """Records (anything with ``customer_id``) grouped by customer, order kept."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.customer_id].append(item)
    return grouped


class LifecycleService:
    """Advance and query the customer lifecycle stored in a :class:`~crmcore.CRM`.

    ``scoring`` names the lifetime-value scoring strategy whose
    ``probability_alive`` measure is used as at-risk evidence when it is
    registered (None: never). Without ``thresholds``, they are read from the
    configuration's ``[lifecycle]`` table (defaults for absent keys).
    """

    def __init__(self, crm: CRM, *, flow: FlowDefinition | None = None,
                 thresholds: Thresholds | None = None, taxonomy: ChurnTaxonomy | None = None,
                 scoring: str | None = "clv", actor: str = DEFAULT_ACTOR) -> None:
        self.crm = crm
        self.flow = flow or customer_flow(taxonomy)
        self.thresholds = thresholds or _configured_thresholds(crm)
        self.scoring = scoring
        self.actor = actor

    # -- advancing -----------------------------------------------------------------------------

    def advance(self, as_of: datetime | None = None, *,
                customer_ids: Sequence[str] | None = None) -> AdvanceReport:
        """Apply the evidence rules to every customer (or ``customer_ids``) as of ``as_of``.

        ``as_of`` defaults to the service's clock. Running it again for the
        same date moves nothing.
        """
        moment = as_of or self.crm.now()
        until = moment + timedelta(microseconds=1)
        customers = [c for c in self.crm.find(Customer)
                     if customer_ids is None or c.id in customer_ids]
        transactions = self.crm.find(Transaction, until=until)
        purchases = group_by_customer(transactions)
        tickets = group_by_customer(self.crm.find(Ticket, until=until))
        surveys = group_by_customer(self.crm.find(SurveyResponse, until=until))
        p_alive, source = self._probability_alive(transactions, moment)
        moves: list[Move] = []
        started: list[str] = []
        refused: list[tuple[str, str]] = []
        for customer in customers:
            facts = CustomerFacts.gather(
                customer, purchases.get(customer.id, ()), tickets.get(customer.id, ()),
                surveys.get(customer.id, ()), p_alive=p_alive.get(customer.id),
                p_alive_source=source)
            with self.crm.transaction() as work:
                self._advance_one(work, customer, facts, moment, moves, started, refused)
        return AdvanceReport(moment, tuple(moves), tuple(started), (source,), tuple(refused))

    def _advance_one(self, work: UnitOfWork, customer: Customer, facts: CustomerFacts,
                     as_of: datetime, moves: list[Move], started: list[str],
                     refused: list[tuple[str, str]]) -> None:
        state, _ = load_state(work, self.flow, customer.id)
        if state is None:
            begin = min([m for m in (customer.acquired_at, *facts.purchases[:1]) if m],
                        default=as_of)
            if begin > as_of:
                return
            state = start_in(work, self.flow, customer.id, customer_id=customer.id, at=begin,
                             actor=self.actor, reason="entered the customer lifecycle").state
            started.append(customer.id)
        for move in plan_moves(state.state, state.entered_at, facts, as_of, self.thresholds):
            try:
                transition_in(work, self.flow, customer.id, move.event, at=move.at,
                              actor=self.actor, reason=f"{move.rule}: {move.reason}",
                              fields=move.fields, facts=move.facts)
            except TransitionError as error:
                refused.append((customer.id, str(error)))
                return
            moves.append(move)

    def _probability_alive(self, transactions: Sequence[Transaction], as_of: datetime
                           ) -> tuple[dict[str, float], str]:
        name = self.scoring
        if name is None:
            return {}, "probability alive: not used (no scoring strategy chosen)"
        registry = self.crm.plugins.scoring_strategies()
        if name not in registry:
            return {}, f"probability alive: skipped (no {name!r} scoring strategy registered)"
        try:
            strategy = registry.get(name)(Options({"measure": "probability_alive"},
                                                  f"lifecycle.scoring.{name}"))
        except ConfigError as error:  # e.g. its optional extra is not installed
            _log.info("scoring strategy %r is not available: %s", name, error)
            return {}, f"probability alive: skipped ({name!r} not available: {error})"
        try:
            scores = dict(strategy.score(transactions, as_of=as_of))
        except Exception as error:  # a plugin's failure must not stop the lifecycle
            _log.warning("scoring strategy %r failed (%s); lifecycle continues without it",
                         name, error)
            _log.debug("scoring strategy %r failure", name, exc_info=True)
            return {}, f"probability alive: skipped ({name!r} failed: {error})"
        if not all(isinstance(v, float | int) and math.isfinite(v) and 0 <= v <= 1
                   for v in scores.values()):
            return {}, f"probability alive: skipped ({name!r} did not return probabilities)"
        return ({k: float(v) for k, v in scores.items()},
                f"probability alive from the {name!r} scoring strategy")

    # -- manual moves and queries ----------------------------------------------------------------

    def move(self, customer_id: str, event: str, *, actor: str, reason: str = "",
             at: datetime | None = None, fields: Mapping[str, Any] | None = None,
             facts: Mapping[str, Any] | None = None, override: bool = False) -> Transition:
        """Apply ``event`` to a customer by hand (e.g. ``select`` or ``churn`` with reasons)."""
        return transition(self.crm, self.flow, customer_id, event, at=at, actor=actor,
                          reason=reason, fields=fields, facts=facts, override=override)

    def stage(self, customer_id: str) -> FlowState | None:
        """The customer's stored lifecycle state, or None."""
        return current_state(self.crm, self.flow, customer_id)

    def states(self) -> list[FlowState]:
        """Every stored lifecycle state record, by customer id."""
        return states_of(self.crm, self.flow)

    def stages(self) -> list[StageRow]:
        """Every customer with its current stage, by customer id."""
        states = {state.subject_id: state for state in self.states()}
        rows = []
        for customer in sorted(self.crm.find(Customer), key=lambda c: c.id):
            state = states.get(customer.id)
            rows.append(StageRow(
                customer.id, customer.name, state.state if state else None,
                self.flow.state(state.state).phase if state else None,
                state.entered_at if state else None, dict(state.fields) if state else {}))
        return rows

    def history(self, customer_id: str) -> list[HistoryEntry]:
        """The customer's lifecycle history, oldest first."""
        return history_of(self.crm, self.flow, customer_id)

    def histories(self) -> dict[str, list[HistoryEntry]]:
        """Every customer's lifecycle history, by customer id, oldest first."""
        grouped: dict[str, list[HistoryEntry]] = defaultdict(list)
        for entry in self.crm.find(HistoryEntry):
            if entry.flow == self.flow.name:
                grouped[entry.subject_id].append(entry)
        return {key: sorted(items, key=lambda e: e.sequence)
                for key, items in sorted(grouped.items())}


def configured_policies(crm: CRM) -> tuple[Thresholds, LeadPolicy]:
    """The configuration's ``[lifecycle]`` table: customer thresholds and ``lead_`` keys.

    Both are read from one reader before unknown keys are refused, so a table
    may hold both kinds.
    """
    options = crm.settings("lifecycle")
    thresholds = Thresholds.from_options(options)
    leads = LeadPolicy.from_options(options)
    options.check_all_used()
    return thresholds, leads


def _configured_thresholds(crm: CRM) -> Thresholds:
    """The ``[lifecycle]`` thresholds of the configuration; unknown keys are refused."""
    return configured_policies(crm)[0]
