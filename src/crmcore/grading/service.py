"""The grading run through a :class:`~crmcore.CRM`: grade, remember, announce.

:func:`run_grading` reads the stored book, grades it as of a date and hands
the grades to :func:`record_grades`, which — in ONE transaction — stores one
:class:`~crmcore.grading.GradeResult` per customer, applies hysteresis
against the stored history and emits a ``grade.changed`` event for every
customer whose grade in force changed, plus one ``grading.completed`` event
with the counts. A customer's first grade is not a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ConfigError
from crmcore.events import DomainEvent
from crmcore.grading.engine import grade_book
from crmcore.grading.hysteresis import Hysteresis, settle
from crmcore.grading.ranked import RankedRules
from crmcore.grading.results import GradeResult, GradeTable
from crmcore.grading.schemes import GradeScheme, SchemeKind
from crmcore.model import Customer, Opportunity, Transaction

GRADE_CHANGED = "grade.changed"
"""Event type: a customer's grade in force changed (data: scheme, from, to, explanation)."""

GRADING_COMPLETED = "grading.completed"
"""Event type: a grading run was stored (data: scheme, as_of, counts, changed)."""


@attrs.frozen
class GradingRun:
    """What a stored grading run produced."""

    scheme: GradeScheme
    as_of: datetime
    table: GradeTable
    results: tuple[GradeResult, ...]
    changed: tuple[GradeResult, ...]

    def counts(self) -> dict[str, int]:
        """Customers per grade in force, best grade first."""
        return _counts(self.scheme, self.results)

    def result(self, customer_id: str) -> GradeResult:
        """The result of one customer (``KeyError`` if not graded)."""
        for result in self.results:
            if result.customer_id == customer_id:
                return result
        raise KeyError(customer_id)


def run_grading(crm: CRM, scheme: GradeScheme, *, as_of: datetime, window_months: int = 12,
                hysteresis: Hysteresis = Hysteresis(), fast: bool | None = None  # noqa: B008
                ) -> GradingRun:
    """Grade every stored customer as of ``as_of`` and record the results."""
    customers = crm.find(Customer)
    if scheme.kind is SchemeKind.PROSPECT_ABCD:
        table = grade_book(scheme, as_of=as_of, opportunities=crm.find(Opportunity))
    else:
        table = grade_book(scheme, as_of=as_of, customers=customers,
                           transactions=crm.find(Transaction, until=as_of),
                           window_months=window_months, plugins=crm.plugins, fast=fast)
    return record_grades(crm, table, hysteresis=hysteresis)


def _history(crm_work: Any, scheme: str, as_of: datetime) -> dict[str, list[GradeResult]]:
    """Earlier results of ``scheme`` per customer, most recent first."""
    by_customer: dict[str, list[GradeResult]] = {}
    for result in crm_work.repository(GradeResult).find(until=as_of):
        if result.scheme == scheme:
            by_customer.setdefault(result.customer_id, []).append(result)
    for results in by_customer.values():
        results.sort(key=lambda r: r.as_of, reverse=True)
    return by_customer


def record_grades(crm: CRM, table: GradeTable, *,
                  hysteresis: Hysteresis = Hysteresis()  # noqa: B008 - frozen value
                  ) -> GradingRun:
    """Store one result per customer of ``table`` and emit the change events.

    Everything happens in one transaction: all results and events, or none.
    """
    scheme = table.scheme
    if hysteresis.margin and not isinstance(scheme.rules, RankedRules):
        raise ConfigError(f"margin: hysteresis by margin needs a rank-based scheme "
                          f"(pareto-abc, pyramid), not {scheme.kind.value}")
    results: list[GradeResult] = []
    changed: list[GradeResult] = []
    with crm.transaction() as work:
        history = _history(work, scheme.name, table.as_of)
        repository = work.repository(GradeResult)
        for position, fresh in enumerate(table.results()):
            earlier = history.get(fresh.customer_id, [])
            current = earlier[0].grade if earlier else None
            grade, held = settle(scheme, hysteresis, current=current, proposed=fresh.proposed,
                                 earlier=[r.proposed for r in earlier],
                                 value=table.value_of(position), cutoffs=table.cutoffs)
            result = attrs.evolve(fresh, grade=grade, previous=current,
                                  explanation=attrs.evolve(fresh.explanation, held=held))
            _store(repository, result)
            results.append(result)
            if result.changed:
                changed.append(result)
                work.emit(_changed_event(crm, scheme, result))
        work.emit(DomainEvent(
            type=GRADING_COMPLETED, occurred_at=crm.now(),
            subject=f"grading:{scheme.name}@{table.as_of.isoformat()}",
            data={"scheme": scheme.name, "version": scheme.version,
                  "as_of": table.as_of.isoformat(), "customers": len(results),
                  "counts": _counts(scheme, results), "changed": len(changed)},
        ))
    return GradingRun(scheme, table.as_of, table, tuple(results), tuple(changed))


def _store(repository: Any, result: GradeResult) -> None:
    """Add the result; a re-run for the same as-of time replaces a different one."""
    stored = repository.get(result.id)
    if stored is None:
        repository.add(result)
    elif stored != result:
        repository.replace(result)


def _counts(scheme: GradeScheme, results: Sequence[GradeResult]) -> dict[str, int]:
    counted = dict.fromkeys(scheme.grade_names, 0)
    for result in results:
        counted[result.grade] += 1
    return counted


def _changed_event(crm: CRM, scheme: GradeScheme, result: GradeResult) -> DomainEvent:
    assert result.previous is not None
    direction = "up" if scheme.order(result.grade) < scheme.order(result.previous) else "down"
    return DomainEvent(
        type=GRADE_CHANGED, occurred_at=crm.now(), subject=f"customer:{result.customer_id}",
        customer_id=result.customer_id,
        data={"scheme": scheme.name, "version": scheme.version,
              "as_of": result.as_of.isoformat(), "from": result.previous, "to": result.grade,
              "direction": direction, "explanation": result.explanation.text(),
              "result_id": result.id},
    )
