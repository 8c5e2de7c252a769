"""The lifecycle evidence of a whole book, read as columns (ADR 0007).

:func:`read_evidence` reads every customer's purchase times, satisfaction
answers and complaints up to a date with one columnar
:meth:`~crmcore.ports.StorageSession.scan` per kind, reading only the fields
the rules use; no stored row is decoded into an entity, except the rare
complaint tickets. Times are read as the stored text and parsed, so each
keeps the offset it was recorded with (the rules count calendar days in it).
:meth:`EvidenceBook.facts` then gives the pure rules one customer's
:class:`~crmcore.lifecycle.evidence.CustomerFacts`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from crmcore.i18n import N_, tr
from crmcore.lifecycle.evidence import CustomerFacts
from crmcore.model import Ticket, TicketKind, Transaction
from crmcore.ports import Columns, ColumnType, StorageSession
from crmcore.unit_of_work import from_record

_PARSE = datetime.fromisoformat


@attrs.frozen
class EvidenceBook:
    """Every customer's evidence up to a date: ids in order, acquisition times, facts by id."""

    ids: tuple[str, ...]
    acquired: Mapping[str, datetime | None]
    attributes: Mapping[str, Mapping[str, Any]]
    purchases: Mapping[str, list[datetime]]
    satisfaction: Mapping[str, list[tuple[datetime, int]]]
    complaints: Mapping[str, list[Ticket]]
    response_due: Mapping[str, datetime | None] = attrs.field(factory=dict)
    """By complaint id, its first-response due time on the graded SLA clock (S7)."""

    def all_complaints(self) -> list[Ticket]:
        """Every complaint ticket read, by customer id then as stored."""
        return [ticket for customer_id in sorted(self.complaints)
                for ticket in self.complaints[customer_id]]

    def facts(self, customer_id: str, *, p_alive: float | None = None,
              p_alive_source: str = N_("no lifetime-value strategy")) -> CustomerFacts:
        """One customer's facts for :func:`~crmcore.lifecycle.evidence.plan_moves`."""
        return CustomerFacts(
            customer_id=customer_id, acquired_at=self.acquired.get(customer_id),
            purchases=self.purchases.get(customer_id, ()),
            satisfaction=self.satisfaction.get(customer_id, ()),
            complaints=self.complaints.get(customer_id, ()),
            attributes=self.attributes.get(customer_id, {}), p_alive=p_alive,
            p_alive_source=p_alive_source, response_due=self.response_due)


class EvidenceReader(Protocol):
    """Reads the evidence book: :func:`read_evidence`, or a source's (the pushdown's)."""

    def __call__(self, session: StorageSession, until: datetime, *,
                 customer_ids: Collection[str] | None = None) -> EvidenceBook:
        """Every customer's evidence before ``until`` (only ``customer_ids`` when given)."""
        ...


def _rows(session: StorageSession, kind: str, columns: Mapping[str, ColumnType],
          until: datetime) -> Iterator[Columns]:
    return session.scan(kind, columns, until=until)


def read_evidence(session: StorageSession, until: datetime, *,
                  customer_ids: Collection[str] | None = None) -> EvidenceBook:
    """Customers (sorted by id; only ``customer_ids`` when given) and their evidence before
    ``until``: purchase times, CSAT answers, complaint tickets."""
    wanted = None if customer_ids is None else set(customer_ids)
    ids: list[str] = []
    acquired: dict[str, datetime | None] = {}
    attributes: dict[str, Mapping[str, Any]] = {}
    for chunk in session.scan("customer", {"id": "text", "acquired_at": "text",
                                           "attributes": "json"}):
        for customer_id, at, extra in zip(chunk["id"], chunk["acquired_at"],
                                          chunk["attributes"], strict=True):
            if wanted is None or customer_id in wanted:
                ids.append(customer_id)
                acquired[customer_id] = None if at is None else _PARSE(at)
                if extra:
                    attributes[customer_id] = extra
    purchases: defaultdict[str, list[datetime]] = defaultdict(list)
    for chunk in _rows(session, "transaction",
                       {"customer_id": "text", "occurred_at": "text"}, until):
        for customer_id, at in zip(chunk["customer_id"], chunk["occurred_at"], strict=True):
            purchases[customer_id].append(_PARSE(at))
    satisfaction: defaultdict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for chunk in _rows(session, "survey_response",
                       {"customer_id": "text", "answered_at": "text", "csat": "integer"},
                       until):
        for customer_id, at, csat in zip(chunk["customer_id"], chunk["answered_at"],
                                         chunk["csat"], strict=True):
            if csat is not None:
                satisfaction[customer_id].append((_PARSE(at), csat))
    return EvidenceBook(tuple(sorted(ids)), acquired, attributes, purchases, satisfaction,
                        _complaints(session, until))


def _complaints(session: StorageSession, until: datetime) -> dict[str, list[Ticket]]:
    """Complaint tickets opened before ``until``, decoded as entities (they are few)."""
    complaint = TicketKind.COMPLAINT.value
    found = [ticket_id
             for chunk in _rows(session, "ticket", {"id": "text", "kind": "text"}, until)
             for ticket_id, kind in zip(chunk["id"], chunk["kind"], strict=True)
             if kind == complaint]
    grouped: defaultdict[str, list[Ticket]] = defaultdict(list)
    records = session.get_many("ticket", found)
    for ticket_id in found:
        ticket = from_record(records[ticket_id], Ticket)
        grouped[ticket.customer_id].append(ticket)
    return grouped


def read_transactions(session: StorageSession, until: datetime) -> list[Transaction]:
    """Purchases before ``until`` as :class:`~crmcore.model.Transaction` objects with the
    fields a scoring strategy reads (id, customer, time, amount, quantity, cost)."""
    found: list[Transaction] = []
    for chunk in _rows(session, "transaction",
                       {"id": "text", "customer_id": "text", "occurred_at": "text",
                        "amount": "decimal", "quantity": "integer", "cost": "decimal"},
                       until):
        found.extend(
            Transaction(id=i, customer_id=c, occurred_at=_PARSE(at), amount=Decimal(amount),
                        quantity=quantity, cost=None if cost is None else Decimal(cost))
            for i, c, at, amount, quantity, cost in zip(
                chunk["id"], chunk["customer_id"], chunk["occurred_at"], chunk["amount"],
                chunk["quantity"], chunk["cost"], strict=True))
    return found


def in_batches(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``values`` in consecutive slices of at most ``size``."""
    if size < 1:
        raise ValueError(tr("{key}: {value!r} must be at least {minimum}").format(
            key="batch_size", value=size, minimum=1))
    for start in range(0, len(values), size):
        yield values[start:start + size]
