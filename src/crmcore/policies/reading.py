"""The stored book read for the service policies, in two parts read once each.

:func:`read_tasks` reads what escalations need (tickets with their status
intervals, commitments, contracts, warranties, escalation records);
:func:`read_people` what only the agenda adds (customers, interactions,
appointments, unpaid balances, unexplained churns, survey comments).
Customer-sized kinds are read through :mod:`crmcore.book` and
:meth:`~crmcore.ports.StorageSession.scan` (ADR 0007): customers are built
from their columns; of the status history only the tickets' entries are
looked up by id and decoded (the lifecycle's, one per customer move, are
not read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from crmcore.app import CRM
from crmcore.book import customer_entities
from crmcore.lifecycle.taxonomy import UNKNOWN_REASON, ChurnType
from crmcore.model import Commitment, Customer, Interaction, SurveyResponse, Ticket
from crmcore.policies.agenda import Book, UnexplainedChurn
from crmcore.policies.appointments import Appointment
from crmcore.policies.escalation import EscalationRecord, history_of
from crmcore.policies.expiry import Contract, Warranty
from crmcore.policies.tickets import TICKET_FLOW, StatusInterval, intervals_from_history
from crmcore.ports import ColumnType
from crmcore.sales.receivables_agenda import unpaid_notes
from crmcore.transitions import HistoryEntry
from crmcore.transitions.batch import load_states
from crmcore.transitions.records import FLOW_HISTORY, FLOW_STATE, history_id
from crmcore.unit_of_work import from_record

__all__ = ["PeoplePart", "TaskPart", "book_of", "read_people", "read_tasks", "through",
           "ticket_history", "unexplained_churns"]


def through(as_of: datetime) -> datetime:
    """The exclusive ``until`` bound of a stored read that keeps records at ``as_of``.

    The pure policies count what happens at ``as_of`` (a ticket opened, a status
    changed, a contact made), so the book read for them must too.
    """
    return as_of + timedelta(microseconds=1)


@attrs.frozen
class TaskPart:
    """What escalations read: the tasks that can fall late and the steps recorded."""

    tickets: Sequence[Ticket]
    intervals: Mapping[str, Sequence[StatusInterval]]
    commitments: Sequence[Commitment]
    expiring: Sequence[Contract | Warranty]
    escalations: Mapping[str, Sequence[EscalationRecord]]


@attrs.frozen
class PeoplePart:
    """What the agenda reads besides the tasks."""

    customers: Sequence[Customer]
    interactions: Sequence[Interaction]
    appointments: Sequence[Appointment]
    unpaid: Mapping[str, str]
    unexplained_churns: Sequence[UnexplainedChurn]
    surveys: Sequence[SurveyResponse]


def ticket_history(crm: CRM, tickets: Sequence[Ticket], until: datetime
                   ) -> dict[str, list[HistoryEntry]]:
    """The status history of ``tickets`` (the ticket flow's entries recorded before
    ``until``), by ticket id, in the order stored (time, then id).

    Looked up by id: each ticket's flow state counts its entries, whose ids
    :func:`~crmcore.transitions.records.history_id` gives. No other flow's
    history (the lifecycle's: a few entries per customer) is read at all.
    """
    if not tickets:
        return {}
    with crm.reading() as work:
        states = load_states(work, TICKET_FLOW, [ticket.id for ticket in tickets])
        ids = [history_id(TICKET_FLOW, subject, sequence)
               for subject, (state, _) in states.items()
               for sequence in range(1, state.sequence + 1)]
        records = work.session.get_many(FLOW_HISTORY.kind, ids)
    entries = sorted((entry for entry in (from_record(record, HistoryEntry)
                                          for record in records.values())
                      if entry.at < until),
                     key=lambda entry: (entry.at, entry.id))
    history: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        history.setdefault(entry.subject_id, []).append(entry)
    return history


def read_tasks(crm: CRM, as_of: datetime) -> TaskPart:
    """The :class:`TaskPart` of the book as of ``as_of`` (inclusive)."""
    until = through(as_of)
    tickets = crm.find(Ticket, until=until)
    history = ticket_history(crm, tickets, until)
    return TaskPart(
        tickets=tickets,
        intervals={t.id: intervals_from_history(t, history[t.id])
                   for t in tickets if t.id in history},
        commitments=crm.find(Commitment),
        expiring=[*crm.find(Contract), *crm.find(Warranty)],
        escalations=history_of(crm.find(EscalationRecord)))


def read_people(crm: CRM, as_of: datetime) -> PeoplePart:
    """The :class:`PeoplePart` of the book as of ``as_of`` (inclusive)."""
    until = through(as_of)
    with crm.storage.transaction() as session:
        customers = customer_entities(session)
    appointments = crm.find(Appointment)
    return PeoplePart(
        customers=customers,
        interactions=crm.find(Interaction, until=until),
        appointments=appointments,
        unpaid=unpaid_notes(crm, {a.customer_id for a in appointments}, as_of),
        unexplained_churns=unexplained_churns(crm, until),
        surveys=[answer for answer in crm.find(SurveyResponse, until=until) if answer.comment])


def book_of(grades: Mapping[str, str], tasks: TaskPart, people: PeoplePart | None = None
            ) -> Book:
    """The :class:`~crmcore.policies.agenda.Book` of the parts (no customers without
    ``people``: enough for escalations)."""
    found = attrs.asdict(tasks, recurse=False)
    if people is not None:
        found.update(attrs.asdict(people, recurse=False))
    return Book(**{"customers": (), **found}, grades=grades)


def unexplained_churns(crm: CRM, until: datetime) -> list[UnexplainedChurn]:
    """Customers whose lifecycle stands in a churn recorded before ``until`` with its reason
    unknown (L3), read as columns: only the three churn fields of each flow state are
    extracted in the engine, none decoded whole (a null ``churn_note`` reads as none)."""
    found: list[UnexplainedChurn] = []
    unknown = ChurnType.UNKNOWN.value
    with crm.storage.transaction() as session:
        for chunk in session.scan(FLOW_STATE.kind, _CHURN_COLUMNS):
            for subject, state, entered, churn_type, reasons, note in zip(
                    chunk["subject_id"], chunk["state"], chunk["entered_at"],
                    chunk["fields.churn_type"], chunk["fields.churn_reasons"],
                    chunk["fields.churn_note"], strict=True):
                if state != "churned" or (churn_type != unknown
                                          and UNKNOWN_REASON not in (reasons or ())):
                    continue
                at = datetime.fromisoformat(entered)
                if at < until:
                    found.append(UnexplainedChurn(subject, at, note or ""))
    return found


_CHURN_COLUMNS: dict[str, ColumnType] = {
    "subject_id": "text", "state": "text", "entered_at": "text", "fields.churn_type": "text",
    "fields.churn_reasons": "json", "fields.churn_note": "text"}
"""What :func:`unexplained_churns` reads of each flow state."""
