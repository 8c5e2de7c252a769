"""The stored records of a flow: the current state and the history of how it got there.

Both are registered entity kinds (``flow_state`` and ``flow_history``), filed
under the customer they concern and indexed by time, so any storage backend
keeps them without changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from crmcore.model.registry import EntityType, register_entity_type
from crmcore.validation import (
    as_dict,
    aware_datetime,
    identifier,
    int_between,
    non_empty_text,
)

_Record = TypeVar("_Record")


def assemble(cls: type[_Record], **values: Any) -> _Record:
    """A ``cls`` record holding ``values`` as given: no validator or converter runs.

    Only for values already checked, as the transition door's are (it checks
    what it is given and takes the rest from a checked record or the flow
    definition); ``values`` must name every field. Dicts are stored as given,
    so pass a private copy.
    """
    try:
        return _builder(cls)(**values)  # type: ignore[no-any-return, arg-type]
    except TypeError:
        names = cls.__attrs_attrs__  # type: ignore[attr-defined]
        missing = sorted({field.name for field in names} - set(values))
        unknown = sorted(set(values) - {field.name for field in names})
        raise TypeError(f"{cls.__name__}: every field needs a value (missing: {missing}, "
                        f"unknown: {unknown})") from None


@functools.cache
def _builder(cls: type[Any]) -> Callable[..., Any]:
    """A function taking every field of the slotted attrs class ``cls`` by name and
    setting each slot directly (generated once per class: no loop, no dict walk)."""
    names = [field.name for field in cls.__attrs_attrs__]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": getattr(cls, name).__set__ for name in names})
    lines = [f"def build(*, {', '.join(names)}):", "    record = new(cls)"]
    lines += [f"    set_{name}(record, {name})" for name in names]
    lines.append("    return record")
    exec("\n".join(lines), namespace)  # the names are the class's own field names
    return namespace["build"]  # type: ignore[no-any-return]


def state_id(flow: str, subject_id: str) -> str:
    """The id of the state record of ``subject_id`` in flow ``flow``."""
    return f"{flow}:{subject_id}"


def history_id(flow: str, subject_id: str, sequence: int) -> str:
    """The id of the ``sequence``-th history entry of ``subject_id`` in ``flow``."""
    return f"{flow}:{subject_id}:{sequence:06d}"


@attrs.frozen
class FlowState:
    """Where one subject stands in one flow.

    ``sequence`` counts the history entries so far (the start is entry 1);
    ``fields`` are the values given on entry to the current state (a churn
    reason, a loyalty type...). Only the transition door makes new ones.
    """

    id: str = attrs.field(validator=non_empty_text)
    flow: str = attrs.field(validator=non_empty_text)
    flow_version: int = attrs.field(validator=int_between(1))
    subject_id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    state: str = attrs.field(validator=non_empty_text)
    entered_at: datetime = attrs.field(validator=aware_datetime)
    sequence: int = attrs.field(validator=int_between(1))
    fields: dict[str, Any] = attrs.field(factory=dict, converter=as_dict)


@attrs.frozen
class HistoryEntry:
    """One recorded change: from, to, when, who, why, and time spent in ``from_state``.

    The first entry of a subject starts the flow (``from_state`` None).
    ``override`` is True when a backward move of a forward-only flow was
    explicitly allowed.
    """

    id: str = attrs.field(validator=non_empty_text)
    flow: str = attrs.field(validator=non_empty_text)
    flow_version: int = attrs.field(validator=int_between(1))
    subject_id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    sequence: int = attrs.field(validator=int_between(1))
    event: str = attrs.field(validator=non_empty_text)
    from_state: str | None
    to_state: str = attrs.field(validator=non_empty_text)
    at: datetime = attrs.field(validator=aware_datetime)
    actor: str = attrs.field(validator=non_empty_text)
    reason: str = ""
    seconds_in_previous: float = 0.0
    fields: dict[str, Any] = attrs.field(factory=dict, converter=as_dict)
    override: bool = False

    @property
    def time_in_previous(self) -> timedelta:
        """How long the subject stayed in ``from_state`` before this change."""
        return timedelta(seconds=self.seconds_in_previous)


FLOW_STATE = register_entity_type(EntityType("flow_state", FlowState, "customer_id", "entered_at"))
"""The entity kind of :class:`FlowState` records."""

FLOW_HISTORY = register_entity_type(EntityType("flow_history", HistoryEntry, "customer_id", "at"))
"""The entity kind of :class:`HistoryEntry` records."""
