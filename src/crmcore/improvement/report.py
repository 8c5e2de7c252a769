"""The demo report's improvement section: one whole PDCA cycle run on the demo data.

:func:`run_demo_cycle` opens cycle :data:`DEMO_CYCLE` from the complaint
rate of the quarter before the last 91 days, plans from a Pareto analysis
of complaint categories, carries out and checks the countermeasures over the
last 91 days, and acts. Every step happens at a time derived from the report
date, and only when the cycle has not taken it yet, so running the demo
again changes nothing (and an interrupted run is resumed). The section
prints the stored cycle. A small book may have no complaint in the year the
Pareto analysis looks at: with no cause to analyse there is no plan, so no
cycle is opened and the section says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.improvement.cycle import CheckResult, CountermeasureStatus, Cycle, Problem, Target
from crmcore.improvement.measures import (
    COMPLAINT_RATE,
    CSAT,
    MeasureKind,
    MeasureValue,
    span,
)
from crmcore.improvement.pareto import ParetoTable
from crmcore.improvement.service import ImprovementService, countermeasure
from crmcore.lifecycle.measures import Period

if TYPE_CHECKING:
    from crmcore.app import CRM
    from crmcore.demo.report import ReportContext, ReportSection

DEMO_CYCLE = "demo-complaints"
"""The id of the demo's cycle; the cycle it carries problems into gets ``-2``."""

DEMO_ACTOR = "demo"
"""Who the demo cycle's history names."""

CHECK_DAYS = 91
"""The check period: the last 91 days before the report date; the baseline the 91 before."""

OWNERS = ("li.wei", "zhang.min", "anna.berg")
"""The demo countermeasures' owners, in turn."""


def pareto_period(as_of: datetime) -> Period:
    """The year before the demo cycle's baseline period, whose complaints it analyses."""
    check_start = as_of - timedelta(days=CHECK_DAYS)
    return span(check_start - timedelta(days=365), check_start)


def run_demo_cycle(crm: CRM, as_of: datetime) -> Cycle | None:
    """Run (or finish) the demo cycle as of ``as_of``; return it as stored.

    None, and nothing stored, when no complaint was opened in :func:`pareto_period`:
    a plan needs an analysed cause.
    """
    service = ImprovementService(crm)
    check_start = as_of - timedelta(days=CHECK_DAYS)
    baseline = span(check_start - timedelta(days=CHECK_DAYS), check_start)
    checked = span(check_start, as_of)
    if crm.get(Cycle, DEMO_CYCLE) is None:
        table = service.complaint_pareto(pareto_period(as_of))
        if not table.vital_few:
            return None
        _plan(service, baseline, table, check_start)
    steps: dict[str, Callable[[], object]] = {
        "plan": lambda: service.start_do(DEMO_CYCLE, actor=DEMO_ACTOR,
                                         at=check_start + timedelta(days=1)),
        "do": lambda: _carry_out(service, check_start),
        "check": lambda: _check(service, checked, as_of),
        "act": lambda: service.act(DEMO_CYCLE, actor=DEMO_ACTOR, at=as_of,
                                   next_cycle_id=f"{DEMO_CYCLE}-2",
                                   standardised=_standards(service.cycle(DEMO_CYCLE)),
                                   note=tr("demo: what worked is kept, the rest goes on")),
    }
    while (phase := service.state(DEMO_CYCLE).state) in steps:
        steps[phase]()
    return service.cycle(DEMO_CYCLE)


def _plan(service: ImprovementService, baseline_period: Period, table: ParetoTable,
          at: datetime) -> None:
    cycle = service.open_cycle(
        measure=COMPLAINT_RATE, period=baseline_period, cycle_id=DEMO_CYCLE,
        problem=N_("Too many customers complain"), problem_key="complaints",
        title=N_("Complaints and satisfaction"), actor=DEMO_ACTOR, at=at)
    rate = cycle.plan.baselines[0]
    csat = service.measure(CSAT, baseline_period)
    service.plan_from_pareto(DEMO_CYCLE, table, source="complaints", actor=DEMO_ACTOR, at=at)
    targets = [Target(COMPLAINT_RATE, round(0.8 * (rate.value or 0.0), 4), "complaints")]
    problems = []
    if csat.value is not None:
        problems.append(Problem("satisfaction", N_("Satisfaction must not fall meanwhile")))
        targets.append(Target(CSAT, math.floor(100 * csat.value) / 100, "satisfaction"))
    service.revise_plan(
        DEMO_CYCLE, problems=problems, baselines=[csat] if csat.value is not None else [],
        targets=targets, actor=DEMO_ACTOR, at=at,
        countermeasures=[countermeasure(f"cm-{i + 1}", tr("remove the causes of '{factor}'")
                                        .format(factor=term(factor)),
                                        OWNERS[i % len(OWNERS)],
                                        (at + timedelta(days=45)).date(), factor)
                         for i, factor in enumerate(table.vital_few[:3])],
        reason=tr("countermeasures for the vital few, a 20% cut in the complaint rate"))


def _carry_out(service: ImprovementService, check_start: datetime) -> None:
    for index, item in enumerate(service.cycle(DEMO_CYCLE).unsettled()):
        at = check_start + timedelta(days=20 + index)
        if index == 2:
            service.track(DEMO_CYCLE, item.key, "dropped", actor=DEMO_ACTOR, at=at,
                          note=N_("covered by cm-1"))
        else:
            service.track(DEMO_CYCLE, item.key, "done", actor=DEMO_ACTOR, at=at)
    service.start_check(DEMO_CYCLE, actor=DEMO_ACTOR, at=check_start + timedelta(days=60))


def _check(service: ImprovementService, checked: Period, as_of: datetime) -> None:
    service.check(DEMO_CYCLE, checked, actor=DEMO_ACTOR, at=as_of)
    service.start_act(DEMO_CYCLE, actor=DEMO_ACTOR, at=as_of)


def _standards(cycle: Cycle) -> list[str]:
    """The done countermeasures become the standard if the complaints problem was solved."""
    if not any(p.key == "complaints" and cycle.solved(p) for p in cycle.plan.problems):
        return []
    return [c.action for c in cycle.plan.countermeasures
            if c.status is CountermeasureStatus.DONE]


def describe_cycle(service: ImprovementService, cycle: Cycle) -> list[str]:
    """Text lines about a cycle: phase, baselines, causes, countermeasures, results, act."""
    state = service.state(cycle.id)
    lines = [tr("cycle {id} ({title}): phase {phase} since {date}").format(
        id=cycle.id, title=term(cycle.title), phase=term(state.state),
        date=state.entered_at.date())]
    for problem in cycle.plan.problems:
        origin = tr(" (carried from {cycle})").format(cycle=problem.carried_from) \
            if problem.carried_from else ""
        lines.append(tr("  problem {key}: {statement}{origin}").format(
            key=term(problem.key), statement=term(problem.statement), origin=origin))
    lines.extend(tr("  baseline {measure} over {period}: {value}").format(
        measure=term(b.measure), period=b.period.label, value=format_value(b))
        for b in cycle.plan.baselines)
    counted = [c for c in cycle.plan.causes if c.count is not None]
    if counted:
        lines.append(tr("  causes: {causes}").format(
            causes=", ".join(f"{term(c.description)} {c.count}" for c in counted)))
    if cycle.plan.key_factors:
        lines.append(tr("  key factors: {factors}").format(
            factors=", ".join(term(f.cause) for f in cycle.plan.key_factors)))
    for item in cycle.plan.countermeasures:
        why = f" ({term(item.note)})" if item.note else ""
        lines.append(tr("  countermeasure {key} [{status}{why}] {action}, {owner}, due {due}")
                     .format(key=item.key, status=term(item.status.value), why=why,
                             action=item.action, owner=item.owner, due=item.due))
    lines.extend(tr("  target {target}").format(target=describe_target(t))
                 for t in cycle.plan.targets if cycle.result_for(t) is None)
    lines.extend(tr("  check {result}").format(result=describe_result(r))
                 for r in cycle.results)
    if cycle.act is not None:
        kept = "; ".join(cycle.act.standardised) or tr("nothing")
        lines.append(tr("  act: standardised {kept}").format(kept=kept))
        if cycle.act.carried_over:
            lines.append(tr("  act: carried {problems} into {cycle}").format(
                problems=", ".join(map(term, cycle.act.carried_over)),
                cycle=cycle.act.next_cycle))
    return lines


def describe_target(target: Target) -> str:
    """:meth:`Target.describe` with the measure's name in the current language."""
    return term(target.measure) + target.describe()[len(target.measure):]


def describe_result(result: CheckResult) -> str:
    """``complaint_rate <= 0.05 over 2026-Q2: 6.7% (n=163): missed (two-proportion z, p=0.75)``."""
    test = (f", {term(result.test.test)}, p={result.test.p_value:.3g}"
            if result.test is not None else tr(", no test"))
    return tr("{target} over {period}: {value}: {verdict}{test}").format(
        target=describe_target(result.target), period=result.result.period.label,
        value=format_value(result.result), verdict=term(result.verdict.value), test=test)


def format_value(value: MeasureValue) -> str:
    """A measure value for people: percent for rates, sample size, small-sample flag."""
    if value.value is None:
        shown = tr("no data")
    elif value.kind is MeasureKind.PROPORTION:
        shown = f"{value.value:.1%}"
    elif value.kind is MeasureKind.NPS:
        shown = f"{value.value:+.0f}"
    else:
        shown = f"{value.value:,.2f}"
    small = tr(", small sample") if value.small_sample else ""
    return f"{shown} (n={value.n}{small})"


def improvement_section(context: ReportContext) -> ReportSection:
    """One PDCA cycle run on the demo data (P1-P4), and the chain it started."""
    from crmcore.demo.report import ReportSection

    cycle = run_demo_cycle(context.crm, context.as_of)
    if cycle is None:
        return ReportSection(tr("Improvement (PDCA)"), (
            tr("no complaint opened over {period}: no cause to analyse, so no PDCA cycle is "
               "run").format(period=pareto_period(context.as_of).label),))
    service = ImprovementService(context.crm)
    lines = describe_cycle(service, cycle)
    for following in service.chain(cycle.id)[1:]:
        lines.extend(describe_cycle(service, following))
    return ReportSection(tr("Improvement (PDCA)"), tuple(lines))
