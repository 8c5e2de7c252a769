"""The grading run through a :class:`~crmcore.CRM`: grade, remember changes, announce.

:func:`run_grading` reads the stored book as columns (:mod:`crmcore.book`),
grades it as of a date and hands the grades to :func:`record_grades`, which
— in ONE transaction, with set-based writes — applies hysteresis against the
grades in force and stores:

* a :class:`~crmcore.grading.GradeResult` for every customer whose grade in
  force changed, or who is graded for the first time, naming its run and
  carrying its explanation (the complete history of grades);
* a :class:`~crmcore.grading.records.GradingRunRecord` for the run (the
  oldest beyond ``keep_runs`` are removed; changes never are);
* the downgrades hysteresis holds back, with their streak of runs;

and emits ``grade.changed`` for every change of a grade in force (a first
grade is not a change) and one ``grading.completed``. A second run for the
same scheme and as-of time stores and emits nothing (the daily run relies
on it); a run older than the latest stored one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import overload

import attrs

from crmcore.app import CRM
from crmcore.columns import micros_of
from crmcore.errors import ConfigError
from crmcore.events import DomainEvent
from crmcore.grading.engine import (
    columnar_potential,
    grade_book,
    grade_metrics,
    metrics_needed,
)
from crmcore.grading.history import StoredGrade, stored_grades, stored_runs
from crmcore.grading.hysteresis import Hysteresis, decide
from crmcore.grading.metrics import compute_metrics
from crmcore.grading.ranked import RankedRules
from crmcore.grading.records import (
    GRADE_PENDING,
    GRADING_RUN,
    GradingRunRecord,
    pending_body,
    pending_id,
    run_id,
)
from crmcore.grading.results import (
    GRADE_RESULT,
    Explanation,
    GradeResult,
    GradeTable,
    explanation_data,
    result_id,
)
from crmcore.grading.schemes import GradeScheme, SchemeKind
from crmcore.i18n import tr
from crmcore.model import Opportunity, Transaction
from crmcore.ports import ColumnType, StorageSession, StoredRecord
from crmcore.unit_of_work import UnitOfWork, to_record

GRADE_CHANGED = "grade.changed"
"""Event type: a customer's grade in force changed (data: scheme, from, to, explanation)."""

GRADING_COMPLETED = "grading.completed"
"""Event type: a grading run was stored (data: scheme, as_of, counts, changed)."""


@attrs.frozen
class GradingRun:
    """What a grading run produced, aligned with ``table.ids``.

    ``grades`` are the grades in force after the run, ``previous`` those
    before it (None: first grade), ``held`` why hysteresis kept a grade (by
    position). ``changed`` are the changes of a grade in force; ``stored``
    counts the grade records written (first grades included); ``repeated``
    says the as-of time was already graded, so nothing was stored.
    """

    scheme: GradeScheme
    as_of: datetime
    table: GradeTable
    grades: tuple[str, ...]
    previous: tuple[str | None, ...]
    held: Mapping[int, str] = attrs.field(factory=dict)
    changed: tuple[GradeResult, ...] = ()
    stored: int = 0
    repeated: bool = False
    run_id: str | None = None
    in_force: Mapping[str, str] | None = attrs.field(default=None, repr=False)
    """Customer id -> the stored grade in force after this run: what
    :func:`~crmcore.grading.latest_grades` reads as of :attr:`as_of` (set by
    :func:`record_grades`, so the daily run's policies need not read it back)."""

    @property
    def results(self) -> GradeResults:
        """Every customer's :class:`GradeResult`, built when read."""
        return GradeResults(self)

    def counts(self) -> dict[str, int]:
        """Customers per grade in force, best grade first."""
        counted = dict.fromkeys(self.scheme.grade_names, 0)
        for grade in self.grades:
            counted[grade] = counted.get(grade, 0) + 1
        return counted

    def explanation(self, position: int) -> Explanation:
        """The explanation of the customer at ``position``, with the hysteresis note."""
        explanation = self.table.explainer.explain(position)
        note = self.held.get(position)
        return explanation if note is None else attrs.evolve(explanation, held=note)

    def result_at(self, position: int) -> GradeResult:
        """The :class:`GradeResult` of the customer at ``position``."""
        table = self.table
        customer_id = table.ids[position]
        return GradeResult(
            id=result_id(self.scheme.name, self.as_of, customer_id), customer_id=customer_id,
            scheme=self.scheme.name, version=self.scheme.version, as_of=self.as_of,
            grade=self.grades[position], proposed=table.grade_list[position],
            explanation=self.explanation(position), previous=self.previous[position],
            value=table.value_of(position), run=self.run_id)

    def result(self, customer_id: str) -> GradeResult:
        """The result of one customer (``KeyError`` if not graded)."""
        return self.result_at(self._positions[customer_id])

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {customer_id: position for position, customer_id in enumerate(self.table.ids)}


class GradeResults(Sequence[GradeResult]):
    """The results of a :class:`GradingRun` as a sequence; each is built when read."""

    def __init__(self, run: GradingRun) -> None:
        self._run = run

    def __len__(self) -> int:
        return len(self._run.grades)

    @overload
    def __getitem__(self, index: int) -> GradeResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[GradeResult]: ...

    def __getitem__(self, index: int | slice) -> GradeResult | Sequence[GradeResult]:
        if isinstance(index, slice):
            return [self._run.result_at(i) for i in range(len(self))[index]]
        return self._run.result_at(range(len(self))[index])

    def __iter__(self) -> Iterator[GradeResult]:
        return map(self._run.result_at, range(len(self)))


def grade_stored(crm: CRM, scheme: GradeScheme, *, as_of: datetime, window_months: int = 12,
                 fast: bool | None = None) -> GradeTable:
    """Grade what is stored as of ``as_of``, without storing anything.

    Customers and purchases are read as columns (:mod:`crmcore.book`), so
    the grades equal those of the same rows read from a CSV export; a scheme
    naming ``days_to_pay`` or ``days_overdue`` also gets them from the stored
    invoices (:mod:`crmcore.sales.receivables_metrics`).
    prospect-abcd reads the open opportunities; value-matrix reads the
    purchases as objects only for a scoring strategy without ``score_columns``.
    """
    from crmcore.book import read_customers, read_purchases  # crmcore.book imports grading
    from crmcore.sales.receivables_metrics import stored_payment_metrics

    if scheme.kind is SchemeKind.PROSPECT_ABCD:
        return grade_book(scheme, as_of=as_of, opportunities=crm.find(Opportunity))
    with crm.storage.transaction() as session:
        customers = read_customers(session,
                                   attributes=scheme.kind is SchemeKind.THRESHOLDS)
        columns = read_purchases(session, until=as_of, customers=customers, fast=fast)
        payments = stored_payment_metrics(session, scheme, columns.ids, as_of,
                                          window_months=window_months, fast=fast)
    metrics = compute_metrics(columns, as_of, window_months=window_months, fast=fast,
                              only=metrics_needed(scheme))
    for name, values in payments.items():  # days_to_pay, days_overdue (M4)
        metrics = metrics.with_column(name, values)
    potential = None
    if scheme.kind is SchemeKind.VALUE_MATRIX:
        potential = columnar_potential(scheme, columns, as_of,
                                       lambda: crm.find(Transaction, until=as_of), crm.plugins)
    return grade_metrics(scheme, metrics, potential=potential, fast=fast)


def configured_keep_runs(crm: CRM) -> int | None:
    """``[grading] keep_runs`` of the configuration: run records kept per scheme (None: all)."""
    options = crm.settings("grading")
    keep: int | None = options.integer("keep_runs", None, minimum=1)
    options.check_all_used()
    return keep


def run_grading(crm: CRM, scheme: GradeScheme, *, as_of: datetime, window_months: int = 12,
                hysteresis: Hysteresis = Hysteresis(), fast: bool | None = None,  # noqa: B008
                keep_runs: int | None = None) -> GradingRun:
    """Grade every stored customer as of ``as_of`` and record the changes.

    ``keep_runs`` defaults to the configuration's ``[grading] keep_runs``.
    """
    if keep_runs is None:
        keep_runs = configured_keep_runs(crm)
    table = grade_stored(crm, scheme, as_of=as_of, window_months=window_months, fast=fast)
    return record_grades(crm, table, hysteresis=hysteresis, keep_runs=keep_runs)


def record_grades(crm: CRM, table: GradeTable, *,
                  hysteresis: Hysteresis = Hysteresis(),  # noqa: B008 - frozen value
                  keep_runs: int | None = None) -> GradingRun:
    """Store the changes of grades in force that ``table`` brings, and emit their events.

    Everything happens in one transaction: all records and events, or none.
    ``keep_runs`` (at least 1) keeps only the newest run records of the scheme.
    """
    scheme = table.scheme
    if hysteresis.margin and not isinstance(scheme.rules, RankedRules):
        raise ConfigError(tr("margin: hysteresis by margin needs a rank-based scheme "
                             "(pareto-abc, pyramid), not {kind}").format(kind=scheme.kind.value))
    if keep_runs is not None and keep_runs < 1:
        raise ConfigError(tr("{key}: {value!r} must be at least {minimum}").format(
            key="keep_runs", value=keep_runs, minimum=1))
    this_run = run_id(scheme.name, table.as_of)
    as_of_us = micros_of(table.as_of)
    with crm.transaction() as work:
        session = work.session
        before = stored_grades(session, scheme.name, as_of=table.as_of)
        runs = stored_runs(session, scheme.name)
        if runs and runs[-1][0] > as_of_us:
            raise ConfigError(tr("as_of: {as_of} is before the latest stored run of {name}; "
                                 "runs are stored in date order").format(
                                     as_of=table.as_of.isoformat(), name=scheme.name))
        if any(found == this_run for _, found in runs) or any(
                stored.at_us == as_of_us for stored in before.values()):
            return attrs.evolve(_repeated(table, before, as_of_us),
                                in_force=_in_force(before))
        run = _settle_all(session, table, hysteresis, before, this_run)
        return attrs.evolve(_store(crm, work, run, runs, keep_runs),
                            in_force=_in_force(before, run))


def _in_force(before: Mapping[str, StoredGrade], stored: GradingRun | None = None
              ) -> dict[str, str]:
    """The grades in force: those ``before``, then each customer's grade after the
    ``stored`` run (whose every grade is stored, as a change or a first grade, or already
    was)."""
    grades = {customer_id: known.grade for customer_id, known in before.items()}
    if stored is not None:
        grades.update(zip(stored.table.ids, stored.grades, strict=True))
    return grades


def _settle_all(session: StorageSession, table: GradeTable, hysteresis: Hysteresis,
                before: Mapping[str, StoredGrade], this_run: str) -> GradingRun:
    """Grades in force after this run, and the held downgrades written to ``session``."""
    scheme = table.scheme
    order = {name: index for index, name in enumerate(scheme.grade_names)}
    pending = _pending(session, scheme.name)
    proposed_list = table.grade_list
    grades = list(proposed_list)
    previous: list[str | None] = [None] * len(grades)
    held: dict[int, str] = {}
    streaks: dict[str, tuple[int, str]] = {}
    for position, customer_id in enumerate(table.ids):
        proposed = proposed_list[position]
        known = before.get(customer_id)
        if known is None:
            continue
        current = previous[position] = known.grade
        if current == proposed or current not in order or order[proposed] < order[current]:
            continue
        streak = pending[customer_id][0] + 1 if customer_id in pending else 1
        grade, note = decide(scheme, hysteresis, current=current, proposed=proposed,
                             streak=streak, value=table.value_of(position),
                             cutoffs=table.cutoffs)
        grades[position] = grade
        if note is not None:
            held[position] = note
            streaks[customer_id] = (streak, proposed)
    _write_pending(session, scheme.name, table.as_of, pending, streaks)
    changed = tuple(_change(table, position, grades, previous, held, this_run)
                    for position in range(len(grades))
                    if previous[position] is not None and previous[position] != grades[position])
    return GradingRun(scheme, table.as_of, table, tuple(grades), tuple(previous), held,
                      changed, run_id=this_run)


def _pending(session: StorageSession, scheme: str) -> dict[str, tuple[int, int]]:
    """Held downgrades of ``scheme``: customer id -> (streak, stored version)."""
    found = {}
    columns: dict[str, ColumnType] = {"customer_id": "text", "scheme": "text",
                                      "streak": "integer", "version": "integer"}
    for chunk in session.scan(GRADE_PENDING.kind, columns):
        for customer_id, name, streak, version in zip(
                chunk["customer_id"], chunk["scheme"], chunk["streak"], chunk["version"],
                strict=True):
            if name == scheme:
                found[customer_id] = (streak, version)
    return found


def _write_pending(session: StorageSession, scheme: str, as_of: datetime,
                   pending: Mapping[str, tuple[int, int]],
                   streaks: Mapping[str, tuple[int, str]]) -> None:
    """Store the streaks still running; remove those that ended (set-based)."""
    def record(customer_id: str, version: int) -> StoredRecord:
        streak, proposed = streaks[customer_id]
        return StoredRecord(GRADE_PENDING.kind, pending_id(scheme, customer_id), version,
                            customer_id, as_of,
                            pending_body(scheme, customer_id, streak, proposed, as_of))

    session.delete_many(GRADE_PENDING.kind, [pending_id(scheme, customer_id)
                                             for customer_id in pending
                                             if customer_id not in streaks])
    session.update_many([(record(customer_id, pending[customer_id][1] + 1),
                          pending[customer_id][1])
                         for customer_id in streaks if customer_id in pending])
    session.insert_many([record(customer_id, 1) for customer_id in streaks
                         if customer_id not in pending])


def _change(table: GradeTable, position: int, grades: Sequence[str],
            previous: Sequence[str | None], held: Mapping[int, str], this_run: str
            ) -> GradeResult:
    explanation = table.explainer.explain(position)
    note = held.get(position)
    customer_id = table.ids[position]
    return GradeResult(
        id=result_id(table.scheme.name, table.as_of, customer_id), customer_id=customer_id,
        scheme=table.scheme.name, version=table.scheme.version, as_of=table.as_of,
        grade=grades[position], proposed=table.grade_list[position],
        explanation=explanation if note is None else attrs.evolve(explanation, held=note),
        previous=previous[position], value=table.value_of(position), run=this_run)


def _store(crm: CRM, work: UnitOfWork, run: GradingRun, runs: Sequence[tuple[int, str]],
           keep_runs: int | None) -> GradingRun:
    """Write the changes, first grades and the run record; emit the events."""
    table, scheme = run.table, run.scheme
    as_of_text = table.as_of.isoformat()
    changed = {result.customer_id for result in run.changed}
    records = [to_record(result) for result in run.changed]
    records.extend(_first_grade(table, position, run, as_of_text)
                   for position, previous in enumerate(run.previous) if previous is None)
    session = work.session
    session.insert_many(records)
    counts = run.counts()
    session.insert_many([to_record(GradingRunRecord(
        run.run_id or "", scheme.name, scheme.version, table.as_of, crm.now(), len(table),
        counts, len(changed), len(records)))])
    if keep_runs is not None:
        kept = [*(found for _, found in runs), run.run_id or ""]
        session.delete_many(GRADING_RUN.kind, kept[:max(len(kept) - keep_runs, 0)])
    for result in run.changed:
        work.emit(_changed_event(crm, scheme, result))
    work.emit(DomainEvent(
        type=GRADING_COMPLETED, occurred_at=crm.now(),
        subject=f"grading:{scheme.name}@{as_of_text}",
        data={"scheme": scheme.name, "version": scheme.version, "as_of": as_of_text,
              "customers": len(table), "counts": counts, "changed": len(changed)},
    ))
    return attrs.evolve(run, stored=len(records))


def _first_grade(table: GradeTable, position: int, run: GradingRun, as_of_text: str
                 ) -> StoredRecord:
    """The stored record of a first grade, built as data (the converter's shape)."""
    customer_id = table.ids[position]
    identifier = result_id(table.scheme.name, table.as_of, customer_id)
    explanation = run.explanation(position)
    body = {"id": identifier, "customer_id": customer_id, "scheme": table.scheme.name,
            "version": table.scheme.version, "as_of": as_of_text,
            "grade": run.grades[position], "proposed": table.grade_list[position],
            "explanation": explanation_data(explanation), "previous": None,
            "value": table.value_of(position), "run": run.run_id}
    return StoredRecord(GRADE_RESULT.kind, identifier, 1, customer_id, table.as_of, body)


def _repeated(table: GradeTable, before: Mapping[str, StoredGrade], as_of_us: int
              ) -> GradingRun:
    """The run of an as-of time already stored: the stored grades, nothing new."""
    grades, previous = [], []
    for customer_id, proposed in zip(table.ids, table.grade_list, strict=True):
        stored = before.get(customer_id)
        grades.append(proposed if stored is None else stored.grade)
        previous.append(None if stored is None else
                        stored.previous if stored.at_us == as_of_us else stored.grade)
    return GradingRun(table.scheme, table.as_of, table, tuple(grades), tuple(previous),
                      repeated=True, run_id=run_id(table.scheme.name, table.as_of))


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


__all__ = ["GRADE_CHANGED", "GRADING_COMPLETED", "GradeResults", "GradingRun",
           "configured_keep_runs", "grade_stored", "record_grades", "run_grading"]
