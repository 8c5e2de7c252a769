"""Leads through the application service (L2): start, advance and list their clocks.

:class:`LeadService` puts every stored :class:`~crmcore.model.Opportunity`
into the ``lead`` flow (the opportunity id is the lead's identifier), applies
what the stored facts allow (:func:`~crmcore.lifecycle.leads.plan_lead_moves`)
through the transition door, one lead per transaction, and lists the clock of
every open lead as of a date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import TransitionError
from crmcore.i18n import tr
from crmcore.lifecycle.definitions import builtin_flow
from crmcore.lifecycle.leads import (
    LeadPolicy,
    LeadRow,
    lead_clock_from_history,
    lead_row,
    plan_lead_moves,
)
from crmcore.lifecycle.service import configured_policies, group_by_customer
from crmcore.model import Interaction, Opportunity, OpportunityStatus, Transaction
from crmcore.transitions import (
    FlowDefinition,
    HistoryEntry,
    Transition,
    current_state,
    history_of,
    load_state,
    start_in,
    state_at,
    transition,
    transition_in,
)
from crmcore.unit_of_work import UnitOfWork

LEAD_ACTOR = "system"
"""Who the history names for what :meth:`LeadService.advance` records."""


@attrs.frozen
class LeadAdvance:
    """What :meth:`LeadService.advance` did.

    ``entries``: the history entries written, in order (starts included);
    ``started``: the leads that entered the flow; ``notes``: (lead id, text)
    for leads the facts could not move yet (won, not invoiced); ``refused``:
    (lead id, message) for moves the door refused.
    """

    as_of: datetime
    entries: tuple[HistoryEntry, ...]
    started: tuple[str, ...]
    notes: tuple[tuple[str, str], ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


class LeadService:
    """Start, advance and list the leads stored in a :class:`~crmcore.CRM` (rule L2).

    Without a ``policy``, it is read from the configuration's ``[lifecycle]``
    table (the ``lead_`` keys; defaults for absent keys).
    """

    def __init__(self, crm: CRM, *, policy: LeadPolicy | None = None,
                 actor: str = LEAD_ACTOR) -> None:
        self.crm = crm
        self.flow: FlowDefinition = builtin_flow("lead")
        self.policy = policy or configured_policies(crm)[1]
        self.actor = actor

    def advance(self, as_of: datetime | None = None, *,
                lead_ids: Sequence[str] | None = None) -> LeadAdvance:
        """Start every lead received by ``as_of`` and apply what the facts allow.

        ``as_of`` defaults to the service's clock. A lead starts at its
        ``received_at``; running again for the same date changes nothing.
        """
        moment = as_of or self.crm.now()
        until = moment + timedelta(microseconds=1)
        leads = [lead for lead in self.crm.find(Opportunity, until=until)
                 if lead_ids is None or lead.id in lead_ids]
        contacts = group_by_customer(self.crm.find(Interaction, until=until))
        purchases = (group_by_customer(self.crm.find(Transaction, until=until))
                     if any(lead.status is OpportunityStatus.WON for lead in leads) else {})
        entries: list[HistoryEntry] = []
        started: list[str] = []
        notes: list[tuple[str, str]] = []
        refused: list[tuple[str, str]] = []
        for lead in sorted(leads, key=lambda item: item.id):
            with self.crm.transaction() as work:
                note = self._advance_one(work, lead, moment, contacts.get(lead.customer_id, []),
                                         purchases.get(lead.customer_id, []), entries, started,
                                         refused)
            if note is not None:
                notes.append((lead.id, note))
        return LeadAdvance(moment, tuple(entries), tuple(started), tuple(notes),
                           tuple(refused))

    def _advance_one(self, work: UnitOfWork, lead: Opportunity, as_of: datetime,
                     contacts: Sequence[Interaction], purchases: Sequence[Transaction],
                     entries: list[HistoryEntry], started: list[str],
                     refused: list[tuple[str, str]]) -> str | None:
        state, _ = load_state(work, self.flow, lead.id)
        if state is None:
            if lead.received_at > as_of:
                return None
            try:
                made = start_in(work, self.flow, lead.id, customer_id=lead.customer_id,
                                at=lead.received_at, actor=self.actor,
                                reason=tr("L2: lead received; its identifier is the "
                                          "opportunity id"))
            except TransitionError as error:
                refused.append((lead.id, str(error)))
                return None
            state = made.state
            started.append(lead.id)
            entries.append(made.entry)
        moves, note = plan_lead_moves(lead, state.state, state.entered_at, as_of,
                                      interactions=contacts, purchases=purchases,
                                      policy=self.policy)
        for move in moves:
            try:
                made = transition_in(work, self.flow, lead.id, move.event, at=move.at,
                                     actor=self.actor, reason=move.reason, fields=move.fields)
            except TransitionError as error:
                refused.append((lead.id, str(error)))
                break
            entries.append(made.entry)
        return note

    def clocks(self, as_of: datetime | None = None) -> list[LeadRow]:
        """Every lead open as of ``as_of`` (default: now) with its clock, by lead id.

        Reads the stored lead flow only: run :meth:`advance` first to bring in
        new opportunities.
        """
        moment = as_of or self.crm.now()
        leads = {lead.id: lead for lead in self.crm.find(Opportunity)}
        rows = []
        for lead_id, entries in self.histories().items():
            lead = leads.get(lead_id)
            state = state_at(entries, moment)
            if lead is None or state is None or self.flow.state(state).final:
                continue
            seen = [entry for entry in entries if entry.at <= moment]
            clock = lead_clock_from_history(lead, seen, moment, self.policy)
            rows.append(lead_row(lead, state, clock, moment, self.policy))
        return rows

    def move(self, lead_id: str, event: str, *, actor: str, reason: str = "",
             at: datetime | None = None, fields: Mapping[str, Any] | None = None,
             override: bool = False) -> Transition:
        """Apply ``event`` to a lead by hand (``report_progress``, ``qualify``, ``win``...)."""
        return transition(self.crm, self.flow, lead_id, event, at=at, actor=actor,
                          reason=reason, fields=fields, override=override)

    def history(self, lead_id: str) -> list[HistoryEntry]:
        """The lead's flow history, oldest first (empty before it started)."""
        state = current_state(self.crm, self.flow, lead_id)
        if state is None:
            return []
        return history_of(self.crm, self.flow, lead_id, customer_id=state.customer_id)

    def histories(self) -> dict[str, list[HistoryEntry]]:
        """Every lead's flow history, by lead id, oldest first."""
        grouped: dict[str, list[HistoryEntry]] = defaultdict(list)
        for entry in self.crm.find(HistoryEntry):
            if entry.flow == self.flow.name:
                grouped[entry.subject_id].append(entry)
        return {key: sorted(items, key=lambda e: e.sequence)
                for key, items in sorted(grouped.items())}
