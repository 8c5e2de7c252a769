"""The event catalogue: every domain event type, its data as an attrs class and a JSON Schema.

Integrators read it with ``crmcore events`` (``list``, ``show TYPE``,
``schema TYPE``) or from Python with :func:`catalogue`. Each entry's
``data`` class is the source of truth; :func:`json_schema` derives the JSON
Schema from it (attrs fields, their types and the converter's JSON shapes:
dates as ISO text, decimals as text, enums as their values).

Every notifier receives the event wrapped in an *envelope*
(:func:`event_envelope`) whose ``version`` is :data:`ENVELOPE_VERSION`; a
receiver checks a body with :func:`check_envelope`. The data of an event about
an erased customer is replaced by :class:`ErasedData` (K2), which every
type's schema also accepts.
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from crmcore.errors import NotFoundError, ValidationError
from crmcore.events import ENTITY_IMPORTED, ENTITY_RECORDED, ENTITY_UPDATED, DomainEvent
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term

ENVELOPE_VERSION = 1
"""The version of the event envelope; it grows when a field changes meaning or goes away."""

JsonSchema = dict[str, Any]
"""A JSON Schema (draft 2020-12) as a dict."""

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The ``$schema`` of every schema :func:`event_schema` returns."""


def _json(name: str) -> dict[str, str]:
    """Field metadata naming the JSON key when it is not a Python name (``from``)."""
    return {"json": name}


# -- the data of each event type -----------------------------------------------------------


@attrs.frozen
class EntityImportedData:
    """``<kind>.imported``: one batch import of a file (rows read, rows new)."""

    source: str
    rows: int
    new: int


@attrs.frozen
class GradeChangedData:
    """``grade.changed``: a customer's grade under a scheme moved up or down (G1-G8)."""

    scheme: str
    version: int
    as_of: datetime
    from_: str = attrs.field(metadata=_json("from"))
    to: str
    direction: Literal["up", "down"]
    explanation: str
    result_id: str


@attrs.frozen
class GradingCompletedData:
    """``grading.completed``: a grading run finished; counts per grade."""

    scheme: str
    version: int
    as_of: str
    customers: int
    counts: dict[str, int]
    changed: int


@attrs.frozen
class FlowData:
    """``flow.started`` / ``flow.transitioned``: a move through a flow's one door."""

    flow: str
    flow_version: int
    event: str
    from_: str | None = attrs.field(metadata=_json("from"))
    to: str
    actor: str
    reason: str
    seconds_in_previous: float
    fields: dict[str, Any]
    override: bool
    sequence: int


@attrs.frozen
class ProblemOpenedData:
    """``problem.opened``: recurring incidents were linked to a new problem record (S7)."""

    key: str
    incidents: list[str]
    summary: str


@attrs.frozen
class TaskStepData:
    """``task.overdue`` / ``task.escalated`` / ``task.transferred``: an escalation step (S4)."""

    id: str
    subject: str
    customer_id: str
    clock: str | None
    step: int
    role: str
    action: str
    event: str
    original_owner: str | None
    from_: str | None = attrs.field(metadata=_json("from"))
    to: str | None
    person: str | None
    rule: str
    due_at: datetime
    at: datetime
    reason: str
    version: int


@attrs.frozen
class ImprovementWarningData:
    """``improvement.warning``: an early-warning rule fired on a measure (P7)."""

    warning: str
    rule: str
    measure: str
    text: str
    periods: list[str]
    values: list[float]
    sample_sizes: list[int]
    small_sample: bool


@attrs.frozen
class CustomerErasedData:
    """``customer.erased``: a customer's personal data was erased, a tombstone kept (K2)."""

    erasure: str
    removed: dict[str, int]
    scrubbed: dict[str, int]
    events_redacted: int


@attrs.frozen
class OpportunityAssignedData:
    """``opportunity.assigned``: an opportunity got a territory and an owner (M1-M3)."""

    territory: str | None
    owner: str | None
    why: str
    previous_territory: str | None
    previous_owner: str | None
    actor: str


@attrs.frozen
class LeadAssignedData:
    """``lead.assigned``: a lead was given an owner and a report form with its due date (L2)."""

    lead_id: str
    owner: str | None
    territory: str | None
    report_due: datetime
    fields: dict[str, Any]
    actor: str
    why: str


@attrs.frozen
class ErasedData:
    """What remains of any event's data after its customer was erased (K2)."""

    erased: Literal[True]
    erasure: str


@attrs.frozen
class EventType:
    """One entry of the catalogue: a type name, what it means and the class of its data.

    ``summary`` is in English (the JSON Schema's ``description``); people read
    :meth:`summary_text`, in the current language. ``entity`` is the entity
    class for ``<kind>.recorded`` / ``.updated`` events, whose data is
    ``{"entity": ..., "version": ...}``; ``data`` is the attrs class of the data
    otherwise; ``kind`` is the entity kind of the three entity events.
    """

    name: str
    summary: str
    data: type[Any] | None = None
    entity: type[Any] | None = None
    kind: str | None = None

    def summary_text(self) -> str:
        """The summary in the current language (:func:`crmcore.i18n.tr`), the entity kind
        of an entity event worded too (:func:`crmcore.i18n_terms.term`)."""
        if self.kind is None:
            return tr(self.summary)
        template = ENTITY_SUMMARIES[self.name.rpartition(".")[2]]
        return tr(template).format(kind=term(self.kind))


ENTITY_SUMMARIES = {
    "recorded": N_("A new {kind} was recorded."),
    "updated": N_("A stored {kind} was replaced by a new version."),
    "imported": N_("A file of {kind} rows was imported."),
}
"""The summary of each entity event (``<kind>.recorded`` ...), by the type's last word."""

KIND_WORDS = (N_("grading_run"), N_("daily_run"), N_("pdca_cycle"), N_("erasure"))
"""Entity kinds with a word only here (the others are words of the erasure report)."""

_FIXED: tuple[EventType, ...] = (
    EventType("grade.changed", N_("A customer's grade under a scheme moved up or down "
                                  "(G1-G8)."), GradeChangedData),
    EventType("grading.completed", N_("A grading run finished; counts per grade."),
              GradingCompletedData),
    EventType("flow.started", N_("A flow started for a subject (its first state)."), FlowData),
    EventType("flow.transitioned", N_("A subject moved from one state to another."), FlowData),
    EventType("problem.opened", N_("Recurring incidents were linked to a new problem record "
                                   "(S7)."), ProblemOpenedData),
    EventType("task.overdue", N_("An escalation step notified someone of an overdue task."),
              TaskStepData),
    EventType("task.escalated", N_("An escalation step raised an overdue task."), TaskStepData),
    EventType("task.transferred", N_("An escalation step moved a task to a new owner."),
              TaskStepData),
    EventType("improvement.warning", N_("An early-warning rule fired on a measure (P7)."),
              ImprovementWarningData),
    EventType("customer.erased", N_("A customer's personal data was erased, a tombstone kept "
                                    "(K2)."), CustomerErasedData),
    EventType("opportunity.assigned", N_("An opportunity got a territory and an owner "
                                         "(M1-M3)."), OpportunityAssignedData),
    EventType("lead.assigned", N_("A lead was given an owner and a report form with its due "
                                  "date (L2)."), LeadAssignedData),
)


_ENTITY_MODULES = ("crmcore.policies.appointments", "crmcore.policies.expiry")
"""Capability modules whose entity kinds hosts record (imported so the catalogue lists them)."""


def catalogue() -> tuple[EventType, ...]:
    """Every event type crmcore emits, sorted by name.

    The entity events (``<kind>.recorded``, ``.updated``, ``.imported``) are
    listed for every registered entity kind, so a capability or plugin that
    registers a kind adds its events here too.
    """
    from crmcore.model.registry import registered_entity_types

    for module in _ENTITY_MODULES:
        importlib.import_module(module)
    entries = list(_FIXED)
    for kind in registered_entity_types():
        name = kind.kind
        entries += [
            EventType(ENTITY_RECORDED.format(kind=name),
                      ENTITY_SUMMARIES["recorded"].format(kind=name), entity=kind.cls, kind=name),
            EventType(ENTITY_UPDATED.format(kind=name),
                      ENTITY_SUMMARIES["updated"].format(kind=name), entity=kind.cls, kind=name),
            EventType(ENTITY_IMPORTED.format(kind=name),
                      ENTITY_SUMMARIES["imported"].format(kind=name), EntityImportedData,
                      kind=name),
        ]
    return tuple(sorted(entries, key=lambda entry: entry.name))


def event_type(name: str) -> EventType:
    """The catalogue entry of ``name``; :class:`~crmcore.errors.NotFoundError` if none."""
    for entry in catalogue():
        if entry.name == name:
            return entry
    raise NotFoundError("event type", name, "type")


# -- JSON Schema from attrs classes --------------------------------------------------------


def json_schema(annotation: Any) -> JsonSchema:
    """The JSON Schema of the converter's JSON for a Python type (attrs classes included)."""
    return _schema(annotation)


def _schema(tp: Any) -> JsonSchema:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg) for arg in args]}
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {"type": "array", "prefixItems": [_schema(a) for a in args],
                    "minItems": len(args), "maxItems": len(args)}
        return {"type": "array", "items": _schema(args[0]) if args else {}}
    if origin in (dict, Mapping) or tp is dict:
        return {"type": "object", "additionalProperties": _schema(args[1]) if args else {}}
    if isinstance(tp, type):
        return _scalar_or_class(tp)
    return {}


_SCALARS: dict[type[Any], JsonSchema] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    time: {"type": "string", "format": "time"},
    Decimal: {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"},
}


def _scalar_or_class(tp: type[Any]) -> JsonSchema:
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if issubclass(tp, Enum):
        return {"enum": [member.value for member in tp]}
    if attrs.has(tp):
        return _class_schema(tp)
    return {}


@cache
def _class_schema(cls: type[Any]) -> JsonSchema:
    hints = typing.get_type_hints(cls)
    properties = {field.metadata.get("json", field.name): _schema(hints[field.name])
                  for field in attrs.fields(cls)}
    schema: JsonSchema = {"type": "object", "title": cls.__name__, "properties": properties,
                          "required": list(properties), "additionalProperties": False}
    return schema


def data_schema(entry: EventType) -> JsonSchema:
    """The schema of an event type's ``data``: its own shape, or the erased shape (K2)."""
    if entry.entity is not None:
        own: JsonSchema = {
            "type": "object",
            "properties": {"entity": json_schema(entry.entity), "version": {"type": "integer"}},
            "required": ["entity"], "additionalProperties": False,
        }
    else:
        own = json_schema(entry.data)
    return {"anyOf": [own, json_schema(ErasedData)]}


def event_schema(name: str) -> JsonSchema:
    """The JSON Schema of the envelope of an event of type ``name`` (what receivers get)."""
    entry = event_type(name)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": name,
        "description": entry.summary,
        "type": "object",
        "properties": {
            "version": {"const": ENVELOPE_VERSION},
            "id": {"type": "string", "minLength": 1},
            "type": {"const": name},
            "occurred_at": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "minLength": 1},
            "customer_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "data": data_schema(entry),
        },
        "required": ["version", "id", "type", "occurred_at", "subject", "customer_id", "data"],
        "additionalProperties": False,
    }


def event_envelope(event: DomainEvent) -> dict[str, Any]:
    """The event as JSON values in the versioned envelope every notifier sends."""
    from crmcore.serialization import unstructure

    return {"version": ENVELOPE_VERSION, **unstructure(event)}


# -- a small validator (the subset of JSON Schema these schemas use) -------------------------


def check_envelope(body: Mapping[str, Any]) -> None:
    """Check a received envelope against its type's schema.

    Raises :class:`~crmcore.errors.ValidationError` naming the first bad
    field's path and value, or :class:`~crmcore.errors.NotFoundError` for an
    unknown ``type``.
    """
    problems = list(schema_problems(body, event_schema(str(body.get("type", "")))))
    if problems:
        raise problems[0]


def schema_problems(value: Any, schema: JsonSchema, path: str = "") -> Iterator[ValidationError]:
    """Every way ``value`` fails ``schema`` (type, const, enum, required, properties, items...)."""
    if "anyOf" in schema:
        if not any(not list(schema_problems(value, option, path)) for option in schema["anyOf"]):
            yield ValidationError(path, value, "matches none of the allowed shapes")
        return
    if "const" in schema and value != schema["const"]:
        yield ValidationError(path, value, tr("is not {expected!r}").format(
            expected=schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        yield ValidationError(path, value, tr("is not one of {known}").format(
            known=repr(schema["enum"])))
    expected = schema.get("type")
    if expected is not None and not _is_type(value, expected):
        yield ValidationError(path, value, tr("is not of JSON type {type}").format(
            type=expected))
        return
    if schema.get("format") == "date-time" and not _is_datetime(value):
        yield ValidationError(path, value, "is not an ISO date-time with offset")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        yield ValidationError(path, value, "is empty")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        yield ValidationError(path, value, tr("does not match {pattern}").format(
            pattern=schema["pattern"]))
    if isinstance(value, dict):
        yield from _object_problems(value, schema, path)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from schema_problems(item, schema.get("items", {}), f"{path}[{index}]")


def _object_problems(value: dict[str, Any], schema: JsonSchema, path: str
                     ) -> Iterator[ValidationError]:
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            yield ValidationError(_join(path, name), None, "is missing")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            yield from schema_problems(item, properties[name], _join(path, name))
        elif extra is False:
            yield ValidationError(_join(path, name), item, "is not a known field")
        elif isinstance(extra, dict):
            yield from schema_problems(item, extra, _join(path, name))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_type(value: Any, expected: str) -> bool:
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    kinds: dict[str, type[Any] | tuple[type[Any], ...]] = {
        "string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}
    return isinstance(value, kinds[expected])


def _is_datetime(value: Any) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except (TypeError, ValueError):
        return False
