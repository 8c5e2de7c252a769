"""``crmcore lifecycle advance|stages|show|measures|leads|move|diagram``."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
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
from crmcore.i18n import tr
from crmcore.i18n_help import help_text
from crmcore.i18n_terms import field_text, term
from crmcore.lifecycle import (
    FLOW_FILES,
    LeadService,
    LifecycleService,
    RetentionRow,
    acquisition_cohorts,
    builtin_flow,
    periods,
    retention,
)
from crmcore.lifecycle.definitions import lifecycle_checks
from crmcore.lifecycle.evidence import Move
from crmcore.lifecycle.measures import UNITS
from crmcore.lifecycle.service import DEFAULT_BATCH_SIZE
from crmcore.model import Customer
from crmcore.transitions import load_flow, time_in_state, to_dot, to_mermaid, to_svg


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``lifecycle`` and its subcommands."""
    parser = commands.add_parser("lifecycle", help="advance and inspect the customer lifecycle")
    sub = parser.add_subparsers(title="lifecycle commands", metavar="ACTION")

    advance = sub.add_parser("advance", help="apply the evidence rules; print what moved and why")
    add_storage_arguments(advance)
    advance.add_argument("--as-of", metavar="DATE", help="the date to judge as of (default: now)")
    advance.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                         help="customers stored per transaction (default: %(default)s)")
    add_format_argument(advance, "table", "json")
    advance.set_defaults(run=run_advance)

    stages = sub.add_parser("stages", help="list every customer's current stage")
    add_storage_arguments(stages)
    add_format_argument(stages, "table", "json")
    stages.set_defaults(run=run_stages)

    show = sub.add_parser("show", help="print one customer's lifecycle history")
    show.add_argument("customer", metavar="CUSTOMER")
    add_storage_arguments(show)
    add_format_argument(show, "table", "json")
    show.set_defaults(run=run_show)

    measures = sub.add_parser("measures", help="churn, retention and win-back per period (L5)")
    add_storage_arguments(measures)
    measures.add_argument("--as-of", metavar="DATE", help="end of the last period (default: now)")
    measures.add_argument("--period", choices=UNITS, default="quarter",
                          help="period length (default: quarter)")
    measures.add_argument("--periods", type=int, default=4, metavar="N",
                          help="how many periods back (default: 4)")
    measures.add_argument("--by-cohort", action="store_true",
                          help="also per acquisition cohort")
    add_format_argument(measures, "table", "json")
    measures.set_defaults(run=run_measures)

    leads = sub.add_parser("leads", help="start and advance leads (L2); print each open "
                                          "lead's clock")
    add_storage_arguments(leads)
    leads.add_argument("--as-of", metavar="TIME", help="the time to judge as of (default: now)")
    add_format_argument(leads, "table", "json")
    leads.set_defaults(run=run_leads)

    move = sub.add_parser("move", help="apply an event to one customer by hand, e.g. churn "
                                       "with type, cause and reasons (L3)")
    move.add_argument("customer", metavar="CUSTOMER")
    move.add_argument("event", metavar="EVENT", help="e.g. churn, explain_churn, select")
    move.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="an entry field, e.g. churn_type=竞争流失 or churn_reasons=价格太高 "
                           "(codes or Chinese terms; TOML value or text; repeatable)")
    move.add_argument("--reason", default="", metavar="TEXT", help="why (recorded)")
    move.add_argument("--actor", default="cli", metavar="NAME", help="who (default: cli)")
    move.add_argument("--as-of", metavar="T", help="when (default: now)")
    add_storage_arguments(move)
    move.set_defaults(run=run_move)

    diagram = sub.add_parser("diagram", help="draw a flow definition (generated, not drawn)")
    diagram.add_argument("flow", nargs="?", default="customer",
                         help=help_text("a shipped flow ({flows}) or a TOML file "
                                        "(default: customer)", flows=", ".join(FLOW_FILES)))
    add_format_argument(diagram, "mermaid", "dot", "svg")
    diagram.set_defaults(run=run_diagram)
    parser.set_defaults(run=lambda arguments: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _moment(arguments: argparse.Namespace, now: datetime) -> datetime:
    return parse_as_of(arguments.as_of) or now


def run_move(arguments: argparse.Namespace) -> int:
    """Apply one event to one customer; print the stored entry fields."""
    from crmcore.cli.grading import parse_overrides

    with open_crm(arguments) as crm:
        crm.require(Customer, arguments.customer)
        moved = LifecycleService(crm).move(
            arguments.customer, arguments.event, actor=arguments.actor,
            reason=arguments.reason, at=parse_as_of(arguments.as_of),
            fields=parse_overrides(arguments.set))
    entry = moved.entry
    print(f"{arguments.customer}: {term(entry.from_state or '-')} -> {term(entry.to_state)}"
          + "".join(f"; {field_text(key, value)}" for key, value in entry.fields.items()))
    return 0


def run_advance(arguments: argparse.Namespace) -> int:
    """Advance every customer as of ``--as-of`` and print the moves, batch by batch."""
    if arguments.batch_size < 1:
        raise CommandError(tr("--batch-size: {value} must be at least 1").format(
            value=arguments.batch_size))
    printer = _MovePrinter(arguments.format == "json")
    with open_crm(arguments) as crm:
        from crmcore_plugins.pushdown.service import configured_source, source_evidence

        source = configured_source(crm)  # [source]: the ERP's customers and purchases
        service = (LifecycleService(crm) if source is None else LifecycleService(
            crm, evidence=source_evidence(source)))
        report = service.advance(_moment(arguments, crm.now()), batch_size=arguments.batch_size,
                                 on_moves=printer.print)
    printer.close()
    if arguments.format == "json":
        return 1 if report.refused else 0
    print("\n" + tr("{moved} moves, {started} customers entered the lifecycle as of {as_of}; "
                    "{evidence}").format(moved=report.moved, started=len(report.started),
                                         as_of=report.as_of.isoformat(),
                                         evidence="; ".join(report.evidence)))
    for customer_id, message in report.refused:
        print(tr("refused for {id}: {message}").format(id=customer_id, message=message))
    return 1 if report.refused else 0


class _MovePrinter:
    """Prints each stored batch of moves at once: a table per batch, or one JSON array.

    The JSON is what :func:`print_json` prints for the whole list; nothing
    but the current batch is held in memory.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.printed = 0

    def print(self, moves: Sequence[Move]) -> None:
        if self.as_json:
            rows = ({"customer_id": m.customer_id, "from": m.from_state, "to": m.to_state,
                     "event": m.event, "at": m.at.isoformat(), "rule": m.rule,
                     "reason": m.reason, "evidence": list(m.evidence)} for m in moves)
            items = (textwrap.indent(json.dumps(row, indent=2, ensure_ascii=False), "  ")
                     for row in rows)
            sys.stdout.write(("[\n" if not self.printed else ",\n") + ",\n".join(items))
        else:  # the table shows the date in the move's own offset, as its text begins
            words = {code: term(code) for code in {m.from_state for m in moves}
                     | {m.to_state for m in moves}}  # a few stages, looked up once a batch
            print_table([(m.customer_id, m.at.date().isoformat(), words[m.from_state],
                          words[m.to_state], f"{m.rule}: {m.reason}") for m in moves],
                        (tr("customer"), tr("at"), tr("from"), tr("to"), tr("why")))
        self.printed += len(moves)

    def close(self) -> None:
        if self.as_json:
            sys.stdout.write("\n]\n" if self.printed else "[]\n")


def run_stages(arguments: argparse.Namespace) -> int:
    """Print every customer's current stage."""
    with open_crm(arguments) as crm:
        rows = LifecycleService(crm).stages()
    if arguments.format == "json":
        print_json([{"customer_id": r.customer_id, "name": r.name, "stage": r.stage,
                     "phase": r.phase, "since": r.since.isoformat() if r.since else None,
                     "fields": dict(r.fields)} for r in rows])
        return 0
    print_table([(r.customer_id, r.name, term(r.stage or "-"), term(r.phase or "-"),
                  r.since.date() if r.since else "-",
                  ", ".join(field_text(k, v) for k, v in r.fields.items())) for r in rows],
                (tr("customer"), tr("name"), tr("stage"), tr("phase"), tr("since"),
                 tr("details")))
    return 0


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f}"


def run_show(arguments: argparse.Namespace) -> int:
    """Print one customer's history: from, to, when, who, why, time in the previous stage."""
    with open_crm(arguments) as crm:
        crm.require(Customer, arguments.customer)
        entries = LifecycleService(crm).history(arguments.customer)
    if arguments.format == "json":
        print_json([{"sequence": e.sequence, "at": e.at.isoformat(), "event": e.event,
                     "from": e.from_state, "to": e.to_state, "actor": e.actor,
                     "reason": e.reason, "days_in_previous": e.seconds_in_previous / 86400,
                     "fields": e.fields, "override": e.override} for e in entries])
        return 0
    if not entries:
        print(tr("{customer} has not entered the lifecycle yet (run `crmcore lifecycle "
                 "advance`)").format(customer=arguments.customer))
        return 0
    override = tr(" [override]")
    print_table([(e.sequence, e.at.date(), term(e.from_state or "-"), term(e.to_state),
                  _days(e.seconds_in_previous) if e.from_state else "-", e.actor,
                  e.reason + (override if e.override else ""))
                 for e in entries], ("#", tr("at"), tr("from"), tr("to"), tr("days in from"),
                                     tr("who"), tr("why")))
    return 0


def run_measures(arguments: argparse.Namespace) -> int:
    """Print churn rate, retention rate and won-back count per period (and cohort)."""
    if arguments.periods < 1:
        raise CommandError(tr("--periods: {value} must be at least 1").format(
            value=arguments.periods))
    with open_crm(arguments) as crm:
        as_of = _moment(arguments, crm.now())
        service = LifecycleService(crm)
        histories = service.histories()
        cohorts = acquisition_cohorts(crm.find(Customer), arguments.period) \
            if arguments.by_cohort else None
        ongoing = {s.subject_id: s for s in service.states()}
    length = {"month": 31, "quarter": 92, "year": 366}[arguments.period]
    spans = periods(as_of - timedelta(days=length * arguments.periods - 1), as_of,
                    arguments.period)[-arguments.periods:]
    rows = retention(histories, spans, cohort_of=cohorts)
    stays = time_in_state([e for entries in histories.values() for e in entries],
                          as_of=as_of, ongoing=ongoing)
    if arguments.format == "json":
        print_json({"periods": [_row_json(row) for row in rows],
                    "time_in_stage": [{"stage": s.state, "stays": s.stays,
                                       "mean_days": s.mean_days, "median_days": s.median_days,
                                       "max_days": s.max_days} for s in stays.values()]})
        return 0
    print_table([(r.period.label, term(r.cohort), r.customers_at_start, r.churned,
                  _percent(r.churn_rate), r.retained, _percent(r.retention_rate), r.won_back)
                 for r in rows],
                (tr("period"), tr("cohort"), tr("at start"), tr("churned"), tr("churn rate"),
                 tr("retained"), tr("retention"), tr("won back")))
    print()
    print_table([(term(s.state), s.stays, f"{s.mean_days:.1f}", f"{s.median_days:.1f}",
                  f"{s.max_days:.1f}") for s in stays.values()],
                (tr("stage"), tr("stays"), tr("mean days"), tr("median days"), tr("max days")))
    return 0


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row_json(row: RetentionRow) -> dict[str, Any]:
    return {"period": row.period.label, "start": row.period.start.isoformat(),
            "end": row.period.end.isoformat(), "cohort": row.cohort,
            "customers_at_start": row.customers_at_start, "churned": row.churned,
            "retained": row.retained, "won_back": row.won_back, "churn_rate": row.churn_rate,
            "retention_rate": row.retention_rate}


def run_leads(arguments: argparse.Namespace) -> int:
    """Start and advance every lead as of ``--as-of``; print each open lead's clock."""
    with open_crm(arguments) as crm:
        service = LeadService(crm)
        report = service.advance(_moment(arguments, crm.now()))
        rows = service.clocks(report.as_of)
    if arguments.format == "json":
        print_json([row.as_json() for row in rows])
        for lead_id, message in report.refused:
            print(tr("refused for {id}: {message}").format(id=lead_id, message=message),
                  file=sys.stderr)
        return 1 if report.refused else 0
    print_table([(r.lead_id, r.customer_id, r.state, r.age_days, r.clock.answer_status,
                  r.clock.next_report_due.date() if r.clock.next_report_due else "-",
                  r.clock.report_status, r.window, r.why) for r in rows],
                (tr("lead"), tr("customer"), tr("state"), tr("days"), tr("answer"),
                 tr("next report"), tr("report"), tr("window"), tr("why")))
    overdue = (sum(r.answer_overdue for r in rows), sum(r.report_overdue for r in rows))
    print("\n" + tr("{open} open leads as of {as_of}: {answers} answers overdue, {reports} "
                    "progress reports overdue; {started} leads started, {moves} moves").format(
        open=len(rows), as_of=report.as_of.isoformat(), answers=overdue[0], reports=overdue[1],
        started=len(report.started), moves=len(report.entries) - len(report.started)))
    for lead_id, note in report.notes:
        print(f"{lead_id}: {note}")
    for lead_id, message in report.refused:
        print(tr("refused for {id}: {message}").format(id=lead_id, message=message))
    return 1 if report.refused else 0


def run_diagram(arguments: argparse.Namespace) -> int:
    """Print a flow definition as Mermaid, DOT or SVG."""
    name = arguments.flow
    flow = builtin_flow(name) if name in FLOW_FILES else load_flow(name, lifecycle_checks())
    render = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[arguments.format]
    print(render(flow), end="")
    return 0
