"""``crmcore pdca open|plan|do|check|act|abandon|show|list|report|warnings|knowledge``
and ``crmcore measures``.

Each phase command moves the cycle into its phase first when it stands in
the phase before (``do`` moves ``plan -> do``...), then records that
phase's data; the transition door refuses anything out of order.
``abandon`` gives up an open cycle with the reason why; ``warnings`` runs the
early-warning rules (P7); ``knowledge`` runs the customer-knowledge loop (P6).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.cli.improvement_loops import add_knowledge, add_warnings
from crmcore.cli.improvement_loops import pair as _pair
from crmcore.cli.improvement_loops import period as _period
from crmcore.cli.improvement_loops import recording_parser as _recording
from crmcore.cli.improvement_loops import show_help as _help
from crmcore.cli.improvement_loops import when as _when
from crmcore.i18n import tr
from crmcore.i18n_terms import event_term, term
from crmcore.improvement import (
    MEASURES,
    Better,
    Cause,
    Countermeasure,
    Cycle,
    ImprovementService,
    KeyFactor,
    MeasureKind,
    MeasureSettings,
    MeasureValue,
    Problem,
    Target,
    countermeasure,
    pareto,
    pareto_chart,
    run_chart,
    run_points,
)
from crmcore.improvement.report import describe_cycle, describe_result, format_value
from crmcore.lifecycle.measures import Period, periods
from crmcore.serialization import unstructure


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pdca`` and its subcommands, and ``measures``."""
    parser = commands.add_parser("pdca", help="run PDCA improvement cycles (P1-P4)")
    sub = parser.add_subparsers(title="pdca commands", metavar="ACTION")

    opened = _recording(sub, "open", "open a cycle from a problem shown by a measure",
                        subject=None)
    opened.add_argument("--measure", required=True, choices=list(MEASURES),
                        help="the measure that shows the problem (its baseline)")
    opened.add_argument("--period", required=True, metavar="PERIOD",
                        help="baseline period: 2026-Q1, 2026-03, 2026 or 2026-01-01..2026-03-31")
    opened.add_argument("--problem", required=True, metavar="TEXT", help="the problem")
    opened.add_argument("--goal", type=float, metavar="VALUE",
                        help="the target of the measure (rates as fractions: 0.05)")
    opened.add_argument("--key", metavar="KEY", help="the problem's key (default: the measure)")
    opened.add_argument("--id", metavar="CYCLE", help="the cycle id (default: PDCA-NNN)")
    opened.add_argument("--title", metavar="TEXT", help="the cycle's title (default: problem)")
    opened.set_defaults(run=run_open)

    plan = _recording(sub, "plan", "record plan items: causes, key factors, countermeasures, "
                                   "targets (P1)")
    plan.add_argument("--problem", action="append", default=[], metavar="KEY=TEXT",
                      help="a further problem")
    plan.add_argument("--pareto", choices=("complaints", "churn"),
                      help="causes from a Pareto analysis; its vital few become key factors")
    plan.add_argument("--pareto-period", metavar="PERIOD",
                      help="the period the Pareto analysis counts (default: the baseline period)")
    plan.add_argument("--cause", action="append", default=[], metavar="KEY=TEXT",
                      help="an analysed cause (team experience)")
    plan.add_argument("--key-factor", action="append", default=[], metavar="CAUSE",
                      help="a cause with one of the largest effects")
    plan.add_argument("--countermeasure", action="append", default=[],
                      metavar="KEY|OWNER|DUE|ACTION[|FACTOR]",
                      help="a countermeasure with its owner and due date (YYYY-MM-DD)")
    plan.add_argument("--target", action="append", default=[],
                      metavar="MEASURE<=GOAL or MEASURE>=GOAL[@PROBLEM]",
                      help="a target; the measure's baseline is taken over the baseline period "
                           "if the plan has none")
    plan.set_defaults(run=run_plan)

    do = _recording(sub, "do", "enter do; record countermeasures done or dropped (P2)")
    do.add_argument("--done", action="append", default=[], metavar="KEY",
                    help="a countermeasure carried out")
    do.add_argument("--drop", action="append", default=[], metavar="KEY=REASON",
                    help="a countermeasure dropped, and why")
    do.set_defaults(run=run_do)

    check = _recording(sub, "check", "enter check; measure every target with a test (P3)")
    check.add_argument("--period", required=True, metavar="PERIOD",
                       help="the period the results are measured over")
    check.set_defaults(run=run_check)

    act = _recording(sub, "act", "enter act; record the standards, carry unsolved problems "
                                 "over and close (P4)")
    act.add_argument("--standard", action="append", default=[], metavar="TEXT",
                     help="a practice that becomes the standard")
    act.add_argument("--note", default="", metavar="TEXT", help="a note on the decision")
    act.add_argument("--next-id", metavar="CYCLE", help="the id of the carried-over cycle")
    act.add_argument("--keep-open", action="store_true", help="record the act, do not close")
    act.set_defaults(run=run_act)

    show = sub.add_parser("show", help="print a cycle, its history and its chain of cycles")
    show.add_argument("cycle", metavar="CYCLE")
    add_storage_arguments(show)
    add_format_argument(show, "table", "json")
    show.set_defaults(run=run_show)

    listing = sub.add_parser("list", help="list the cycles with their phase")
    add_storage_arguments(listing)
    add_format_argument(listing, "table", "json")
    listing.set_defaults(run=run_list)

    abandon = _recording(sub, "abandon", "give up a cycle still open, with the reason why")
    abandon.add_argument("--reason", required=True, metavar="TEXT",
                         help="why the cycle is given up (required, recorded)")
    abandon.set_defaults(run=run_abandon)

    add_warnings(sub)
    add_knowledge(sub)

    report = sub.add_parser("report", help="write a cycle's Pareto and run charts "
                                           "(needs crmcore[charts])")
    report.add_argument("cycle", metavar="CYCLE")
    add_storage_arguments(report)
    report.add_argument("--out", required=True, metavar="DIR", help="the output directory")
    report.add_argument("--image", choices=("svg", "png"), default="svg",
                        help="image format (default: svg)")
    report.set_defaults(run=run_report)
    parser.set_defaults(run=lambda arguments: _help(parser))

    measures = commands.add_parser("measures", help="satisfaction measures with sample sizes "
                                                    "(P5)")
    add_storage_arguments(measures)
    measures.add_argument("--period", action="append", metavar="PERIOD",
                          help="a period (repeatable; default: the 4 quarters up to --as-of)")
    measures.add_argument("--as-of", metavar="DATE", help="the default periods' end "
                                                          "(default: now)")
    measures.add_argument("--minimum-sample", type=int, metavar="N",
                          help="flag samples smaller than N (default: 30)")
    add_format_argument(measures, "table", "json")
    measures.set_defaults(run=run_measures)


def _target(text: str, default_problem: str) -> Target:
    body, _, problem = text.partition("@")
    for operator, better in (("<=", Better.LOWER), (">=", Better.HIGHER)):
        measure, sep, goal = body.partition(operator)
        if sep:
            try:
                return Target(measure.strip(), float(goal), problem.strip() or default_problem,
                              better)
            except ValueError as error:
                raise CommandError(tr("--target: {value!r}: {error}").format(
                    value=text, error=error)) from None
    raise CommandError(tr("--target: {value!r} is not MEASURE<=GOAL or MEASURE>=GOAL[@PROBLEM]"
                          ).format(value=text))


def _countermeasure(text: str) -> Countermeasure:
    parts = [part.strip() for part in text.split("|")]
    if len(parts) not in (4, 5):
        raise CommandError(tr("--countermeasure: {value!r} is not KEY|OWNER|DUE|ACTION[|FACTOR]"
                              ).format(value=text))
    key, owner, due, action = parts[:4]
    return countermeasure(key, action, owner, due, parts[4] if len(parts) == 5 else None)


def run_open(arguments: argparse.Namespace) -> int:
    """Open a cycle from a measure over a baseline period."""
    with open_crm(arguments) as crm:
        cycle = ImprovementService(crm).open_cycle(
            measure=arguments.measure, period=_period(arguments.period), problem=arguments.problem,
            goal=arguments.goal, problem_key=arguments.key, cycle_id=arguments.id,
            title=arguments.title, actor=arguments.actor, at=_when(arguments))
    baseline = cycle.plan.baselines[0]
    print(tr("opened {cycle}: baseline {measure} over {period} {value}").format(
        cycle=cycle.id, measure=term(baseline.measure), period=baseline.period.label,
        value=format_value(baseline)))
    return 0


def run_plan(arguments: argparse.Namespace) -> int:
    """Record plan items (in plan)."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        cycle = service.cycle(arguments.cycle)
        default_problem = cycle.plan.problems[0].key if cycle.plan.problems else "problem"
        targets = [_target(text, default_problem) for text in arguments.target]
        causes = [Cause(key, text) for key, text in
                  (_pair(item, "--cause") for item in arguments.cause)]
        factors = [KeyFactor(key) for key in arguments.key_factor]
        when = _when(arguments)
        if arguments.pareto:
            span = (_period(arguments.pareto_period, "--pareto-period")
                    if arguments.pareto_period else cycle.baseline_period)
            table = (service.complaint_pareto(span) if arguments.pareto == "complaints"
                     else service.churn_pareto(span))
            service.plan_from_pareto(cycle.id, table, source=arguments.pareto,
                                     actor=arguments.actor, at=when)
        have = {b.measure for b in cycle.plan.baselines}
        baselines: list[MeasureValue] = []
        if any(t.measure not in have for t in targets):
            measured = service.measures(cycle.baseline_period)
            baselines = [measured[m] for m in sorted({t.measure for t in targets} - have)]
        cycle = service.revise_plan(
            cycle.id, problems=[Problem(*_pair(p, "--problem")) for p in arguments.problem],
            causes=causes, key_factors=factors,
            countermeasures=[_countermeasure(c) for c in arguments.countermeasure],
            targets=targets, baselines=baselines, actor=arguments.actor, at=when)
    missing = cycle.plan.missing()
    print(tr("{cycle}: plan recorded; still lacking: {missing}").format(
        cycle=cycle.id, missing="; ".join(missing)) if missing else
        tr("{cycle}: plan recorded; complete (next: crmcore pdca do)").format(cycle=cycle.id))
    return 0


def _enter(service: ImprovementService, cycle_id: str, previous: str, event: str,
           arguments: argparse.Namespace) -> None:
    if service.state(cycle_id).state == previous:
        {"do": service.start_do, "check": service.start_check, "act": service.start_act}[event](
            cycle_id, actor=arguments.actor, at=_when(arguments))


def run_do(arguments: argparse.Namespace) -> int:
    """Enter do if in plan; record countermeasures done or dropped."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        _enter(service, arguments.cycle, "plan", "do", arguments)
        for key in arguments.done:
            service.track(arguments.cycle, key, "done", actor=arguments.actor,
                          at=_when(arguments))
        for key, reason in (_pair(item, "--drop") for item in arguments.drop):
            service.track(arguments.cycle, key, "dropped", note=reason, actor=arguments.actor,
                          at=_when(arguments))
        open_items = service.cycle(arguments.cycle).unsettled()
    print(tr("{cycle}: in do; open countermeasures: {open}").format(
        cycle=arguments.cycle, open=", ".join(c.key for c in open_items)
        or tr("none (next: crmcore pdca check)")))
    return 0


def run_check(arguments: argparse.Namespace) -> int:
    """Enter check if in do; measure every target and record its verdict."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        _enter(service, arguments.cycle, "do", "check", arguments)
        cycle = service.check(arguments.cycle, _period(arguments.period), actor=arguments.actor,
                              at=_when(arguments))
    for result in cycle.results:
        print(f"{cycle.id}: {describe_result(result)}")
    return 0


def run_act(arguments: argparse.Namespace) -> int:
    """Enter act if in check; record it, carry unsolved problems over, close."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        _enter(service, arguments.cycle, "check", "act", arguments)
        cycle = service.act(arguments.cycle, standardised=arguments.standard,
                            note=arguments.note, next_cycle_id=arguments.next_id,
                            close=not arguments.keep_open, actor=arguments.actor,
                            at=_when(arguments))
        phase = service.state(cycle.id).state
    assert cycle.act is not None
    carried = (tr("carried {problems} into {cycle}").format(
        problems=", ".join(cycle.act.carried_over), cycle=cycle.act.next_cycle)
        if cycle.act.carried_over else tr("every problem solved"))
    print(tr("{cycle}: {phase}; standardised {count}; {carried}").format(
        cycle=cycle.id, phase=term(phase), count=len(cycle.act.standardised), carried=carried))
    return 0


def _chain_json(service: ImprovementService, cycles: Sequence[Cycle]) -> list[dict[str, Any]]:
    return [{"id": c.id, "phase": service.state(c.id).state, "parent_id": c.parent_id,
             "unsolved": [p.key for p in c.unsolved()] if c.results else None} for c in cycles]


def run_abandon(arguments: argparse.Namespace) -> int:
    """Move an open cycle to ``abandoned``; the door refuses a blank reason."""
    with open_crm(arguments) as crm:
        made = ImprovementService(crm).abandon(arguments.cycle, reason=arguments.reason,
                                               actor=arguments.actor, at=_when(arguments))
    print(f"{arguments.cycle}: {term(made.entry.from_state or '')} -> "
          f"{term(made.entry.to_state)}: {made.entry.reason}")
    return 0


def run_show(arguments: argparse.Namespace) -> int:
    """Print one cycle with its history and its chain of carried-over cycles."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        cycle = service.cycle(arguments.cycle)
        state = service.state(cycle.id)
        history = service.history(cycle.id)
        chain = service.chain(cycle.id)
        abandoned = service.abandoned_because(cycle.id)
        if arguments.format == "json":
            print_json({"cycle": unstructure(cycle), "phase": state.state,
                        "abandoned_because": abandoned,
                        "since": state.entered_at.isoformat(),
                        "history": [{"sequence": e.sequence, "at": e.at.isoformat(),
                                     "event": e.event, "from": e.from_state, "to": e.to_state,
                                     "actor": e.actor, "reason": e.reason} for e in history],
                        "chain": _chain_json(service, chain)})
            return 0
        print("\n".join(describe_cycle(service, cycle)))
        if abandoned is not None:
            print(tr("  abandoned: {reason}").format(reason=abandoned))
        print()
        print_table([(e.sequence, e.at.date(), event_term(e.event), term(e.from_state or "-"),
                      term(e.to_state), e.actor, term(e.reason)) for e in history],
                    ("#", tr("at"), tr("event"), tr("from"), tr("to"), tr("who"), tr("why")))
        print("\n" + tr("chain: {cycles}").format(cycles=" -> ".join(
            f"{c.id} ({term(service.state(c.id).state)})" for c in chain)))
    return 0


def run_list(arguments: argparse.Namespace) -> int:
    """List every cycle with its phase."""
    with open_crm(arguments) as crm:
        rows = ImprovementService(crm).cycles()
    if arguments.format == "json":
        print_json([{"id": r.id, "title": r.title, "phase": r.phase,
                     "since": r.since.isoformat(), "opened_at": r.opened_at.isoformat(),
                     "parent_id": r.parent_id, "next_cycle": r.next_cycle,
                     "problems": r.problems, "unsolved": r.unsolved,
                     "abandoned_because": r.abandoned_because} for r in rows])
        return 0
    why = any(r.abandoned_because is not None for r in rows)
    print_table([(r.id, term(r.phase), r.since.date(), r.parent_id or "-",
                  r.next_cycle or "-", term(r.title),
                  *([r.abandoned_because or ""] if why else [])) for r in rows],
                (tr("cycle"), tr("phase"), tr("since"), tr("from"), tr("into"), tr("title"),
                 *([tr("why abandoned")] if why else [])))
    return 0


def run_report(arguments: argparse.Namespace) -> int:
    """Write the cycle's Pareto chart and a run chart per target measure; print the cycle."""
    out = Path(arguments.out)
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        cycle = service.cycle(arguments.cycle)
        chain = service.chain(cycle.id)
        lines = describe_cycle(service, cycle)
    written: list[Path] = []
    counted = {c.description: c.count for c in cycle.plan.causes if c.count}
    if counted:
        written.append(pareto_chart(pareto({k: int(v) for k, v in counted.items() if v}),
                                    out / f"{cycle.id}-pareto.{arguments.image}",
                                    title=tr("Causes of cycle {cycle}").format(
                                        cycle=cycle.id)))
    for measure in dict.fromkeys(t.measure for t in cycle.plan.targets):
        points = run_points(chain, measure)
        if points:
            written.append(run_chart(points, out / f"{cycle.id}-run-{measure}.{arguments.image}",
                                     measure=measure))
    print("\n".join(lines))
    for path in written:
        print(tr("wrote {path}").format(path=path))
    if not written:
        print(tr("no charts: the cycle has no counted causes and no measured targets yet"))
    return 0


def _default_periods(as_of: datetime) -> list[Period]:
    return periods(as_of - timedelta(days=3 * 92), as_of + timedelta(microseconds=1),
                   "quarter")[-4:]


def run_measures(arguments: argparse.Namespace) -> int:
    """Print the satisfaction measures per period with their sample sizes."""
    if arguments.minimum_sample is not None and arguments.minimum_sample < 1:
        raise CommandError(tr("--minimum-sample: {value} must be at least 1").format(
            value=arguments.minimum_sample))
    settings = (MeasureSettings(minimum_sample=arguments.minimum_sample)
                if arguments.minimum_sample else MeasureSettings())
    with open_crm(arguments) as crm:
        spans = ([_period(p) for p in arguments.period] if arguments.period
                 else _default_periods(parse_as_of(arguments.as_of) or crm.now()))
        series = ImprovementService(crm, settings=settings).series(spans)
    rows = [value for values in series.values() for value in values]
    rows.sort(key=lambda v: (v.period.start, list(MEASURES).index(v.measure)))
    if arguments.format == "json":
        print_json([_value_json(v) for v in rows])
        return 0
    print_table([(v.period.label, term(MEASURES[v.measure].label), _shown(v), v.n,
                  _interval(v), tr("yes") if v.small_sample else "") for v in rows],
                (tr("period"), tr("measure"), tr("value"), "n", tr("95% interval"),
                 tr("small sample")))
    return 0


def _shown(value: MeasureValue) -> str:
    return format_value(value).split(" (n=")[0]


def _interval(value: MeasureValue) -> str:
    interval = value.interval()
    if interval is None:
        return "-"
    if value.kind is MeasureKind.PROPORTION:
        return f"{interval.low:.1%} - {interval.high:.1%}"
    if value.kind is MeasureKind.NPS:
        return f"{interval.low:+.0f} - {interval.high:+.0f}"
    return f"{interval.low:,.2f} - {interval.high:,.2f}"


def _value_json(value: MeasureValue) -> dict[str, Any]:
    interval = value.interval()
    return {"period": value.period.label, "start": value.period.start.isoformat(),
            "end": value.period.end.isoformat(), "measure": value.measure,
            "kind": value.kind.value, "value": value.value, "n": value.n,
            "small_sample": value.small_sample,
            "interval": None if interval is None else [interval.low, interval.high]}
