"""The customer's grade and lifecycle stage at a moment, for win probability (M1).

The model's history must describe each closed opportunity as it stood *before* it
closed, or it learns from the future (a won deal's purchase can raise the grade).
:func:`customer_standing` reads every stored grade change of one scheme (as columns)
and every lifecycle move once; :meth:`CustomerStanding.at` then gives a customer's
grade and lifecycle stage in force strictly before a moment, by bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crmcore.columns import micros_of
from crmcore.grading.results import GRADE_RESULT
from crmcore.ports import ColumnType, StorageSession
from crmcore.transitions import HistoryEntry

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = ["LIFECYCLE_FLOW", "CustomerStanding", "customer_standing", "stored_standing"]

LIFECYCLE_FLOW = "customer-lifecycle"
"""The flow whose states are the customer's lifecycle stages."""

Timeline = tuple[tuple[int, ...], tuple[str, ...]]


def _timelines(changes: Mapping[str, list[tuple[int, str]]]) -> dict[str, Timeline]:
    made: dict[str, Timeline] = {}
    for customer_id, items in changes.items():
        items.sort()
        made[customer_id] = (tuple(at for at, _ in items), tuple(value for _, value in items))
    return made


def _before(timeline: Timeline | None, moment_us: int, inclusive: bool) -> str | None:
    if timeline is None:
        return None
    index = (bisect_right if inclusive else bisect_left)(timeline[0], moment_us)
    return timeline[1][index - 1] if index else None


@dataclass(frozen=True)
class CustomerStanding:
    """Each customer's grade changes and lifecycle moves, in time order."""

    grades: Mapping[str, Timeline]
    stages: Mapping[str, Timeline]

    def at(self, customer_id: str, moment: datetime, *, inclusive: bool = False
           ) -> tuple[str | None, str | None]:
        """``(grade, lifecycle stage)`` in force strictly before ``moment`` (None: none);
        with ``inclusive``, changes at ``moment`` itself count too (an as-of date)."""
        moment_us = micros_of(moment)
        return (_before(self.grades.get(customer_id), moment_us, inclusive),
                _before(self.stages.get(customer_id), moment_us, inclusive))


def customer_standing(session: StorageSession, scheme: str | None,
                      entries: Iterable[HistoryEntry]) -> CustomerStanding:
    """Read the grade changes of ``scheme`` (none when None) and the lifecycle moves in
    ``entries`` (the stored flow history)."""
    grades: dict[str, list[tuple[int, str]]] = {}
    if scheme is not None:
        columns: dict[str, ColumnType] = {"customer_id": "text", "scheme": "text",
                                          "grade": "text", "at": "instant"}
        for chunk in session.scan(GRADE_RESULT.kind, columns):
            for customer_id, name, grade, at in zip(chunk["customer_id"], chunk["scheme"],
                                                    chunk["grade"], chunk["at"], strict=True):
                if name == scheme and grade is not None:
                    grades.setdefault(customer_id, []).append((at, grade))
    stages: dict[str, list[tuple[int, str]]] = {}
    for entry in entries:
        if entry.flow == LIFECYCLE_FLOW:
            stages.setdefault(entry.subject_id, []).append((micros_of(entry.at), entry.to_state))
    return CustomerStanding(_timelines(grades), _timelines(stages))


def stored_standing(crm: CRM, entries: Iterable[HistoryEntry], as_of: datetime
                    ) -> CustomerStanding:
    """:func:`customer_standing` of the grading scheme stored last by ``as_of``."""
    from crmcore.policies.scheme import stored_scheme

    scheme = stored_scheme(crm, as_of=as_of)
    with crm.storage.transaction() as session:
        return customer_standing(session, scheme, entries)
