"""Erasing a customer: the right to deletion (K2; PIPL Art. 47, GDPR Art. 17).

:func:`erase_customer` removes, in one transaction, every stored record filed
under the customer (every registered entity kind: the customer, contacts,
transactions, tickets, flow states and histories, grades...) except those
that concern other customers too (:data:`CO_OWNERS_FIELD`), takes the
person's name, e-mail addresses and phone numbers out of the records filed
elsewhere (the daily run's agenda snapshots, PDCA cycles...), replaces what
the outbox events about the customer carried, and leaves a tombstone: an
:class:`Erasure` record saying who erased, when, why and how much, without
any personal data. It emits ``customer.erased`` (ids and counts only).

The customer's id stays in the tombstone, in event subjects and in other
customers' references: it is the pseudonymous key that lets a host see that
the person was erased (and not re-import them by mistake).

>>> from crmcore import CRM, Customer
>>> from crmcore.erasure import erase_customer
>>> crm = CRM.open("memory")
>>> crm.record(Customer(id="C1", name="Wang Fang"))
True
>>> done = erase_customer(crm, "C1", reason="customer request 2026-0042", actor="dpo")
>>> done.removed, crm.get(Customer, "C1")
({'customer': 1}, None)
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from crmcore.errors import NotFoundError, ValidationError
from crmcore.events import DomainEvent
from crmcore.model.registry import EntityType, register_entity_type, registered_entity_types
from crmcore.ports import StorageSession, StoredRecord
from crmcore.serialization import structure
from crmcore.unit_of_work import from_record, to_record
from crmcore.validation import aware_datetime, identifier, non_empty_text

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = [
    "CO_OWNERS_FIELD",
    "CUSTOMER_ERASED",
    "ERASED",
    "ERASURE",
    "Erasure",
    "erase_customer",
    "personal_values",
    "scrub",
]

_log = logging.getLogger(__name__)

CUSTOMER_ERASED = "customer.erased"
"""The type of the event :func:`erase_customer` emits."""

ERASED = "[erased]"
"""What a personal value is replaced by in records kept after an erasure."""

RECORD_MODULES = (
    "crmcore.transitions.records",
    "crmcore.policies.appointments",
    "crmcore.policies.complaints",
    "crmcore.policies.escalation",
    "crmcore.policies.expiry",
    "crmcore.daily.records",
    "crmcore.grading.records",
    "crmcore.grading.results",
    "crmcore.improvement.service",
    "crmcore.sales.receivables",
    "crmcore.sales.credit",
)
"""The modules registering crmcore's own entity kinds, imported before an erasure
so that no kind is missed because its capability was not used in this process."""

PER_CUSTOMER_FIELDS = frozenset({"id", "customer_id"})
"""Customer fields of kinds filed per customer; other kinds are filed under a shared
key (``filed_under``) and are read whole to take the person's data out."""


@attrs.frozen
class Erasure:
    """The tombstone of an erasure: who, when, why and how much; no personal data.

    ``removed`` counts the deleted records per kind, ``scrubbed`` the records
    rewritten without the person's data (those of shared kinds, and those kept
    because they concern other customers too), ``events_redacted`` the outbox
    events whose data was replaced.
    """

    id: str = attrs.field(validator=non_empty_text)
    customer_id: str = attrs.field(validator=identifier)
    erased_at: datetime = attrs.field(validator=aware_datetime)
    actor: str = attrs.field(validator=non_empty_text)
    reason: str = attrs.field(validator=non_empty_text)
    removed: dict[str, int] = attrs.field(factory=dict)
    scrubbed: dict[str, int] = attrs.field(factory=dict)
    events_redacted: int = 0


ERASURE = register_entity_type(EntityType("erasure", Erasure, "customer_id", "erased_at"))
"""The entity kind of :class:`Erasure` tombstones (kept by every later erasure)."""


@runtime_checkable
class _Checkpointing(Protocol):
    def checkpoint(self) -> bool: ...


def personal_values(session: StorageSession, customer_id: str) -> list[str]:
    """The customer's name and its contacts' names, e-mail addresses and phone numbers."""
    found: list[str] = []
    for kind, columns in (("customer", ("name",)), ("contact", ("name", "email", "phone"))):
        for chunk in session.scan(kind, dict.fromkeys(columns, "text"), customer_id=customer_id):
            found.extend(v for column in columns for v in chunk[column] if v)
    return sorted({v.strip() for v in found if v.strip()}, key=lambda v: (-len(v), v))


def _pattern(values: Sequence[str]) -> re.Pattern[str] | None:
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)


def scrub(value: Any, customer_id: str, personal: Sequence[str]) -> Any:
    """``value`` (JSON data) without the customer's data.

    In lists, objects whose ``customer_id`` is the erased customer's are left
    out; in text, every personal value (any case) becomes :data:`ERASED`.
    """
    pattern = _pattern(personal)

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            # One pass, longest value first: what is left between matches holds none.
            return item if pattern is None else pattern.sub(ERASED, item)
        if isinstance(item, Mapping):
            return {key: clean(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [clean(inner) for inner in item
                    if not (isinstance(inner, Mapping) and inner.get("customer_id") == customer_id)]
        return item

    return clean(value)


def _check_reason(reason: str, personal: Sequence[str]) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("reason", reason, "is empty: say on what ground the data is erased")
    pattern = _pattern(personal)
    if pattern is not None and pattern.search(reason):
        # The value is not shown: it would put the erased data in logs.
        raise ValidationError("reason", "(withheld)",
                              "names the person being erased; give the ground, not the data")


def _stored_ids(session: StorageSession, kind: str, customer_id: str) -> list[str]:
    return [i for chunk in session.scan(kind, {"id": "text"}, customer_id=customer_id)
            for i in chunk["id"]]


def _shared_kinds() -> Iterable[EntityType]:
    return (t for t in registered_entity_types() if t.customer_field not in PER_CUSTOMER_FIELDS)


def _scrub_shared(session: StorageSession, customer_id: str, personal: Sequence[str]
                  ) -> dict[str, int]:
    """Rewrite the records of shared kinds that hold the customer's data; counts per kind."""
    counts: dict[str, int] = {}
    for entity_type in _shared_kinds():
        changes: list[tuple[StoredRecord, int]] = []
        for record in session.query(entity_type.kind):
            body = scrub(dict(record.body), customer_id, personal)
            if body != record.body:
                entity = structure(body, entity_type.cls, path=f"{record.kind}[{record.id!r}]")
                changes.append((to_record(entity, record.version + 1), record.version))
        if changes:
            session.update_many(changes)
            counts[entity_type.kind] = len(changes)
    return counts


CO_OWNERS_FIELD = "customer_ids"
"""A body field listing every customer a record concerns (a problem record of a complaint
category, say): such a record is kept for the other customers, without the erased one."""


def _co_owned(entity_type: EntityType) -> bool:
    return attrs.has(entity_type.cls) and CO_OWNERS_FIELD in attrs.fields_dict(entity_type.cls)


def _listing(session: StorageSession, kind: str, customer_id: str) -> list[str]:
    """The ids of the records of ``kind`` whose co-owners include ``customer_id``."""
    return [i for chunk in session.scan(kind, {"id": "text", CO_OWNERS_FIELD: "json"})
            for i, owners in zip(chunk["id"], chunk[CO_OWNERS_FIELD], strict=True)
            if owners and customer_id in owners]


def _keep_for_others(session: StorageSession, entity_type: EntityType, ids: list[str],
                     customer_id: str, personal: Sequence[str]
                     ) -> list[tuple[StoredRecord, int]]:
    """The new versions of the co-owned records that concern other customers too."""
    kind = entity_type.kind
    wanted = list(dict.fromkeys([*ids, *_listing(session, kind, customer_id)]))
    changes = []
    for record in session.get_many(kind, wanted).values():
        others = [c for c in record.body.get(CO_OWNERS_FIELD) or () if c != customer_id]
        if not others:
            continue  # the erased customer's alone: deleted
        body = scrub(dict(record.body), customer_id, personal)
        body[CO_OWNERS_FIELD] = others
        if record.customer_id == customer_id:  # refiled under the next customer it concerns
            body[entity_type.customer_field] = others[0]
        entity = structure(body, entity_type.cls, path=f"{kind}[{record.id!r}]")
        changes.append((to_record(entity, record.version + 1), record.version))
    return changes


def _erase_records(session: StorageSession, customer_id: str, personal: Sequence[str]
                   ) -> tuple[dict[str, int], dict[str, int]]:
    """Delete the customer's records and rewrite those kept for others; counts per kind."""
    removed: dict[str, int] = {}
    kept: dict[str, int] = {}
    for entity_type in registered_entity_types():
        if entity_type is ERASURE:
            continue
        ids = _stored_ids(session, entity_type.kind, customer_id)
        if _co_owned(entity_type):
            changes = _keep_for_others(session, entity_type, ids, customer_id, personal)
            if changes:
                session.update_many(changes)
                kept[entity_type.kind] = len(changes)
                rewritten = {record.id for record, _ in changes}
                ids = [i for i in ids if i not in rewritten]
        if ids:
            removed[entity_type.kind] = session.delete_many(entity_type.kind, ids)
    return removed, kept


def _tombstones(session: StorageSession, customer_id: str) -> list[Erasure]:
    return [from_record(r, Erasure) for r in session.query(ERASURE.kind, customer_id=customer_id)]


def erase_customer(crm: CRM, customer_id: str, *, reason: str, actor: str) -> Erasure:
    """Erase everything stored about ``customer_id``; return the tombstone.

    All of it happens in one transaction: if any step fails, nothing is
    changed. ``reason`` (the legal ground or request number) and ``actor``
    are kept in the tombstone, so ``reason`` must not contain the person's
    data. Erasing a customer already erased, with nothing stored since,
    returns the earlier tombstone. Raises
    :class:`~crmcore.errors.NotFoundError` when nothing was ever stored about
    the customer, and :class:`~crmcore.errors.StorageError` when the storage
    backend cannot delete records or rewrite events.
    """
    for module in RECORD_MODULES:
        importlib.import_module(module)
    if not isinstance(actor, str) or not actor.strip():
        raise ValidationError("actor", actor, "is empty: say who erases the data")
    with crm.transaction() as work:
        session = work.session
        personal = personal_values(session, customer_id)
        _check_reason(reason, personal)
        removed, kept = _erase_records(session, customer_id, personal)
        earlier = _tombstones(session, customer_id)
        if not removed and not kept:  # nothing was written
            if earlier:
                return max(earlier, key=lambda e: e.erased_at)
            raise NotFoundError("customer", customer_id, "customer_id")
        scrubbed = {**kept, **_scrub_shared(session, customer_id, personal)}
        at = crm.now()
        tombstone = Erasure(
            id=f"{customer_id}#{len(earlier) + 1}", customer_id=customer_id, erased_at=at,
            actor=actor.strip(), reason=reason.strip(), removed=removed, scrubbed=scrubbed,
            events_redacted=session.redact_events(
                customer_id, {"erased": True, "erasure": f"{customer_id}#{len(earlier) + 1}"}))
        session.insert(to_record(tombstone))
        work.emit(DomainEvent(
            type=CUSTOMER_ERASED, occurred_at=at, subject=f"customer:{customer_id}",
            customer_id=customer_id,
            data={"erasure": tombstone.id, "removed": removed, "scrubbed": scrubbed,
                  "events_redacted": tombstone.events_redacted}))
    if isinstance(crm.storage, _Checkpointing) and not crm.storage.checkpoint():
        _log.warning("erasure of %s committed, but a reader kept the write-ahead log from "
                     "being emptied: old page images remain until the next checkpoint",
                     customer_id)
    return tombstone
