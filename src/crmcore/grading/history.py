"""Reading stored grades: the latest grade of a scheme per customer, and the runs.

Stored grade changes (kind ``grade_result``) are read as columns through
:meth:`~crmcore.ports.StorageSession.scan`, never as objects. A customer's
grade in force is their latest stored change; databases written by
crmcore 0.1, which stored one result per customer per run, read the same
way (their latest result is their grade in force).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from crmcore.grading.records import GRADING_RUN
from crmcore.grading.results import GRADE_RESULT
from crmcore.ports import ColumnType, StorageSession

if TYPE_CHECKING:
    from crmcore.app import CRM

_CHANGE_COLUMNS: dict[str, ColumnType] = {"customer_id": "text", "scheme": "text", "grade": "text",
                   "previous": "text", "at": "instant"}


class StoredGrade(NamedTuple):
    """A customer's latest stored change: when (µs since the epoch), the grade, the one before."""

    at_us: int
    grade: str
    previous: str | None


def stored_grades(session: StorageSession, scheme: str, *, as_of: datetime | None = None
                  ) -> dict[str, StoredGrade]:
    """Each customer's latest stored change of ``scheme`` at or before ``as_of`` (all if None)."""
    until = None if as_of is None else as_of + timedelta(microseconds=1)
    latest: dict[str, StoredGrade] = {}
    for chunk in session.scan(GRADE_RESULT.kind, _CHANGE_COLUMNS, until=until):
        for customer_id, name, grade, previous, at in zip(
                chunk["customer_id"], chunk["scheme"], chunk["grade"], chunk["previous"],
                chunk["at"], strict=True):
            if name != scheme:
                continue
            known = latest.get(customer_id)
            if known is None or at > known.at_us:
                latest[customer_id] = StoredGrade(at, grade, previous)
    return latest


def latest_grades(crm: CRM, scheme: str, *, as_of: datetime | None = None) -> dict[str, str]:
    """The latest stored grade of ``scheme`` for every graded customer (up to ``as_of``).

    This is the grade in force: what agendas and service levels follow.
    """
    with crm.storage.transaction() as session:
        return {customer_id: stored.grade
                for customer_id, stored in stored_grades(session, scheme, as_of=as_of).items()}


def stored_runs(session: StorageSession, scheme: str) -> list[tuple[int, str]]:
    """The run records of ``scheme`` as (as-of µs, id), oldest first."""
    runs: list[tuple[int, str]] = []
    for chunk in session.scan(GRADING_RUN.kind, {"id": "text", "scheme": "text", "at": "instant"}):
        runs.extend((at, run_id) for run_id, name, at in zip(
            chunk["id"], chunk["scheme"], chunk["at"], strict=True) if name == scheme)
    return sorted(runs)
