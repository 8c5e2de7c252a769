"""The records of a PDCA cycle (P1-P4) and the pure changes made to them.

A :class:`Cycle` holds what each phase produced: the :class:`Plan`
(problems, baseline measures, analysed causes, key factors, countermeasures
with owner and due date, and targets), the countermeasures' progress (Do),
one :class:`CheckResult` per target (Check) and the :class:`ActRecord`
(Act). The phase itself is not stored here: it is the cycle's state in the
PDCA flow, changed only through :func:`crmcore.transitions.apply_transition`.

A problem is *solved* when every target set for it was :attr:`Verdict.ACHIEVED`;
every other problem is carried into a new cycle (:func:`carry_over`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import N_, tr
from crmcore.improvement.comparison import compare
from crmcore.improvement.measures import Better, MeasureValue, measure_definition
from crmcore.improvement.statistics import TestResult
from crmcore.lifecycle.measures import Period
from crmcore.validation import (
    aware_datetime,
    identifier,
    non_empty_text,
    optional_aware_datetime,
    optional_identifier,
)

IMPROVEMENT_FILE = "(improvement)"
"""The owner id cycles and their flow records are filed under (they concern no one customer)."""

DEFAULT_ALPHA = 0.05
"""The significance level of the check phase's tests."""

T = TypeVar("T")


class CountermeasureStatus(StrEnum):
    """Where a countermeasure stands (P2)."""

    PLANNED = "planned"
    DONE = "done"
    DROPPED = "dropped"


class Verdict(StrEnum):
    """What the check phase concluded about one target (P3).

    ``achieved``: the target is reached and the change from the baseline is
    statistically real (or the baseline already met it); ``not-proven``: the
    target is reached but the change may be noise; ``missed``: not reached;
    ``no-data``: nothing to measure in the check period.
    """

    ACHIEVED = "achieved"
    NOT_PROVEN = "not-proven"
    MISSED = "missed"
    NO_DATA = "no-data"


@attrs.frozen
class Problem:
    """A problem found in customer service (P1); ``carried_from`` names its earlier cycle."""

    key: str = attrs.field(validator=identifier)
    statement: str = attrs.field(validator=non_empty_text)
    carried_from: str | None = attrs.field(default=None, validator=optional_identifier)


@attrs.frozen
class Cause:
    """An analysed cause; ``count`` is how often it occurred (from a Pareto analysis)."""

    key: str = attrs.field(validator=identifier)
    description: str = attrs.field(validator=non_empty_text)
    count: int | None = None
    source: str = "team"


@attrs.frozen
class KeyFactor:
    """A cause with one of the largest effects, chosen to act on (P1)."""

    cause: str = attrs.field(validator=identifier)
    why: str = ""


@attrs.frozen
class Countermeasure:
    """An action against a key factor, with an owner and a due date, and its progress (P2).

    A dropped countermeasure needs a ``note`` saying why.
    """

    key: str = attrs.field(validator=identifier)
    action: str = attrs.field(validator=non_empty_text)
    owner: str = attrs.field(validator=non_empty_text)
    due: date = attrs.field(validator=attrs.validators.instance_of(date))
    factor: str | None = attrs.field(default=None, validator=optional_identifier)
    status: CountermeasureStatus = CountermeasureStatus.PLANNED
    note: str = ""
    settled_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)

    def __attrs_post_init__(self) -> None:
        if self.status is CountermeasureStatus.DROPPED and not self.note.strip():
            raise ValidationError(f"countermeasures[{self.key}].note", self.note,
                                  "must give the reason for dropping it")

    @property
    def settled(self) -> bool:
        """Done, or dropped with a reason."""
        return self.status is not CountermeasureStatus.PLANNED


def _known_measure(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    try:
        measure_definition(value)
    except ValidationError as error:
        raise ValidationError(attribute.name, value, error.reason) from None


@attrs.frozen
class Target:
    """The value a measure should reach for a problem; ``better`` defaults from the measure."""

    measure: str = attrs.field(validator=_known_measure)
    goal: float = attrs.field(converter=float)
    problem: str = attrs.field(validator=identifier)
    better: Better = attrs.field()

    @better.default
    def _better_of_measure(self) -> Better:
        return measure_definition(self.measure).better

    def met_by(self, value: float) -> bool:
        """Whether ``value`` reaches the goal."""
        return value >= self.goal if self.better is Better.HIGHER else value <= self.goal

    def describe(self) -> str:
        """``complaint_rate <= 0.12`` style text."""
        return f"{self.measure} {'>=' if self.better is Better.HIGHER else '<='} {self.goal:g}"


@attrs.frozen
class CheckResult:
    """A measured result against its target, with its test and verdict (P3)."""

    target: Target
    result: MeasureValue
    verdict: Verdict
    baseline: MeasureValue | None = None
    test: TestResult | None = None


@attrs.frozen
class ActRecord:
    """What the act phase decided (P4): the new standards and the problems carried over."""

    standardised: tuple[str, ...] = ()
    carried_over: tuple[str, ...] = ()
    next_cycle: str | None = attrs.field(default=None, validator=optional_identifier)
    note: str = ""


def _unique(values: Iterable[Any], where: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValidationError(where, value, "is listed twice")
        seen.add(value)


@attrs.frozen
class Plan:
    """What the plan phase holds (P1); every reference inside it must resolve."""

    problems: tuple[Problem, ...] = ()
    baselines: tuple[MeasureValue, ...] = ()
    causes: tuple[Cause, ...] = ()
    key_factors: tuple[KeyFactor, ...] = ()
    countermeasures: tuple[Countermeasure, ...] = ()
    targets: tuple[Target, ...] = ()

    def __attrs_post_init__(self) -> None:
        _unique((p.key for p in self.problems), "problems")
        _unique((b.measure for b in self.baselines), "baselines")
        _unique((c.key for c in self.causes), "causes")
        _unique((f.cause for f in self.key_factors), "key_factors")
        _unique((c.key for c in self.countermeasures), "countermeasures")
        _unique(((t.measure, t.problem) for t in self.targets), "targets")
        causes = {cause.key for cause in self.causes}
        for factor in self.key_factors:
            if factor.cause not in causes:
                raise ValidationError("key_factors", factor.cause, "is not one of the causes")
        factors = {factor.cause for factor in self.key_factors}
        for measure in self.countermeasures:
            if measure.factor is not None and measure.factor not in factors:
                raise ValidationError(f"countermeasures[{measure.key}].factor", measure.factor,
                                      "is not one of the key factors")
        problems = {problem.key for problem in self.problems}
        for target in self.targets:
            if target.problem not in problems:
                raise ValidationError(f"targets[{target.measure}].problem", target.problem,
                                      "is not one of the problems")

    def baseline(self, measure: str) -> MeasureValue | None:
        """The baseline of ``measure``, or None."""
        return next((b for b in self.baselines if b.measure == measure), None)

    def missing(self) -> list[str]:
        """What the plan still lacks before the do phase can start (empty: complete)."""
        lacking = [tr(label) for label, items in (
            (N_("a problem (none yet)"), self.problems),
            (N_("an analysed cause (none yet)"), self.causes),
            (N_("a key factor (none yet)"), self.key_factors),
            (N_("a countermeasure (none yet)"), self.countermeasures)) if not items]
        targeted = {target.problem for target in self.targets}
        lacking.extend(tr("a target for problem {key!r}").format(key=p.key)
                       for p in self.problems if p.key not in targeted)
        measures = {target.measure for target in self.targets}
        lacking.extend(tr("a baseline of {measure!r}").format(measure=m)
                       for m in sorted(measures) if self.baseline(m) is None)
        lacking.extend(tr("a target for the baseline measure {measure!r}").format(
            measure=b.measure) for b in self.baselines if b.measure not in measures)
        return lacking


@attrs.frozen
class Cycle:
    """One PDCA cycle: a title, its baseline period, and what each phase recorded.

    ``parent_id`` names the cycle whose unsolved problems this one carries.
    """

    id: str = attrs.field(validator=identifier)
    title: str = attrs.field(validator=non_empty_text)
    opened_at: datetime = attrs.field(validator=aware_datetime)
    opened_by: str = attrs.field(validator=non_empty_text)
    baseline_period: Period
    plan: Plan = Plan()
    results: tuple[CheckResult, ...] = ()
    act: ActRecord | None = None
    parent_id: str | None = attrs.field(default=None, validator=optional_identifier)

    @property
    def filed_under(self) -> str:
        """The owner id storage files the cycle under (:data:`IMPROVEMENT_FILE`)."""
        return IMPROVEMENT_FILE

    def result_for(self, target: Target) -> CheckResult | None:
        """The check result recorded for ``target``, or None."""
        return next((r for r in self.results if r.target.measure == target.measure
                     and r.target.problem == target.problem), None)

    def unsettled(self) -> tuple[Countermeasure, ...]:
        """The countermeasures neither done nor dropped."""
        return tuple(c for c in self.plan.countermeasures if not c.settled)

    def unchecked(self) -> tuple[Target, ...]:
        """The targets without a check result."""
        return tuple(t for t in self.plan.targets if self.result_for(t) is None)

    def solved(self, problem: Problem) -> bool:
        """Whether every target of ``problem`` was achieved (a problem without targets is not)."""
        targets = [t for t in self.plan.targets if t.problem == problem.key]
        return bool(targets) and all(
            (r := self.result_for(t)) is not None and r.verdict is Verdict.ACHIEVED
            for t in targets)

    def unsolved(self) -> tuple[Problem, ...]:
        """The problems not solved (carried into the next cycle by the act phase)."""
        return tuple(p for p in self.plan.problems if not self.solved(p))


# -- pure changes --------------------------------------------------------------------------------

def _merge(old: Sequence[T], new: Iterable[T], key: str) -> tuple[T, ...]:
    replaced = {getattr(item, key): item for item in new}
    kept = [replaced.pop(getattr(item, key), item) for item in old]
    return (*kept, *replaced.values())


def revise_plan(cycle: Cycle, *, problems: Iterable[Problem] = (),
                baselines: Iterable[MeasureValue] = (), causes: Iterable[Cause] = (),
                key_factors: Iterable[KeyFactor] = (),
                countermeasures: Iterable[Countermeasure] = (),
                targets: Iterable[Target] = ()) -> Cycle:
    """``cycle`` with plan items added or replaced (same key, measure or cause)."""
    plan = cycle.plan
    new_targets = list(targets)
    kept_targets = [t for t in plan.targets
                    if (t.measure, t.problem) not in {(n.measure, n.problem) for n in new_targets}]
    return attrs.evolve(cycle, plan=Plan(
        problems=_merge(plan.problems, problems, "key"),
        baselines=_merge(plan.baselines, baselines, "measure"),
        causes=_merge(plan.causes, causes, "key"),
        key_factors=_merge(plan.key_factors, key_factors, "cause"),
        countermeasures=_merge(plan.countermeasures, countermeasures, "key"),
        targets=(*kept_targets, *new_targets),
    ))


def settle(cycle: Cycle, key: str, status: CountermeasureStatus, *, at: datetime,
           note: str = "") -> Cycle:
    """``cycle`` with countermeasure ``key`` marked done, dropped (needs ``note``) or planned."""
    found = next((c for c in cycle.plan.countermeasures if c.key == key), None)
    if found is None:
        known = ", ".join(c.key for c in cycle.plan.countermeasures) or tr("none")
        raise ValidationError("countermeasure", key, tr("is not in the plan (known: {known})")
                              .format(known=known))
    changed = attrs.evolve(found, status=status, note=note or found.note,
                           settled_at=None if status is CountermeasureStatus.PLANNED else at)
    return revise_plan(cycle, countermeasures=[changed])


def judge(target: Target, baseline: MeasureValue | None, result: MeasureValue, *,
          alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """The :class:`CheckResult` of ``result`` against ``target`` (see :class:`Verdict`)."""
    if result.measure != target.measure:
        raise ValidationError("result", result.measure, tr("is not a value of {measure!r}")
                              .format(measure=target.measure))
    test = compare(baseline, result) if baseline is not None else None
    if result.value is None:
        verdict = Verdict.NO_DATA
    elif not target.met_by(result.value):
        verdict = Verdict.MISSED
    else:
        already = baseline is not None and baseline.value is not None and target.met_by(
            baseline.value)
        improved = test is not None and test.significant(alpha) and (
            (test.difference > 0) == (target.better is Better.HIGHER))
        verdict = Verdict.ACHIEVED if already or improved else Verdict.NOT_PROVEN
    return CheckResult(target, result, verdict, baseline, test)


def record_results(cycle: Cycle, results: Iterable[CheckResult]) -> Cycle:
    """``cycle`` with check results added (a result for the same target replaces the old)."""
    new = list(results)
    targets = set(cycle.plan.targets)
    for result in new:
        if result.target not in targets:
            raise ValidationError("results", result.target.describe(),
                                  "is not a target of the plan")
    keys = {(r.target.measure, r.target.problem) for r in new}
    kept = [r for r in cycle.results if (r.target.measure, r.target.problem) not in keys]
    return attrs.evolve(cycle, results=(*kept, *new))


def record_act(cycle: Cycle, *, standardised: Iterable[str] = (), next_cycle: str | None = None,
               note: str = "") -> Cycle:
    """``cycle`` with its act record: ``standardised`` practices, every unsolved problem carried.

    ``next_cycle`` must be given when a problem is unsolved.
    """
    carried = tuple(p.key for p in cycle.unsolved())
    if carried and next_cycle is None:
        raise ValidationError("next_cycle", None,
                              tr("must be given: problems {problems} are unsolved").format(
                                  problems=", ".join(carried)))
    standards = tuple(s.strip() for s in standardised)
    if not all(standards):
        raise ValidationError("standardised", list(standardised), "must not hold empty texts")
    return attrs.evolve(cycle, act=ActRecord(standards, carried, next_cycle if carried else None,
                                             note))


def carry_over(cycle: Cycle, new_id: str, *, at: datetime, actor: str) -> Cycle:
    """A new cycle holding every unsolved problem of ``cycle``, linked to it.

    The new baselines are the results the check phase measured (or, for a
    target without one, the old baseline); the targets stay the same. Causes
    and countermeasures are for the new plan to find.
    """
    unsolved = cycle.unsolved()
    keys = {p.key for p in unsolved}
    targets = tuple(t for t in cycle.plan.targets if t.problem in keys)
    baselines: dict[str, MeasureValue] = {}
    for target in targets:
        checked = cycle.result_for(target)
        value = checked.result if checked is not None else cycle.plan.baseline(target.measure)
        if value is not None:
            baselines.setdefault(target.measure, value)
    periods = [b.period for b in baselines.values()]
    return Cycle(
        id=new_id, title=cycle.title, opened_at=at, opened_by=actor,
        baseline_period=periods[0] if periods else cycle.baseline_period,
        plan=Plan(problems=tuple(attrs.evolve(p, carried_from=cycle.id) for p in unsolved),
                  baselines=tuple(baselines.values()), targets=targets),
        parent_id=cycle.id,
    )
