"""``crmcore agenda``, ``escalate`` and ``compliance``: the service policies (CCPR) of a
stored book.

``agenda`` prints each owner's due actions as of a time, most urgent first, each with
why it is due; ``escalate`` applies the escalation steps reached (S4, S6) once and
prints what moved and why; ``compliance`` prints, per customer, each promise kept or
broken with the evidence (S8). Grades are each customer's latest stored grade of the
scheme followed (``--scheme``, else the configuration's ``[run] scheme``, else the scheme
stored last; graded on the fly only when that scheme has nothing stored), with that
scheme's follow-up principles per grade (G6); working time follows ``--calendar`` (a
calendar TOML file) or Monday to Friday 09:00-12:00 and 13:00-18:00 UTC.

Opened with ``--config``, the commands use the policies of the file's ``[policies]``
table (:mod:`crmcore.policies.configuration`); ``--calendar`` replaces its calendar and
each ``--reports-to`` its reporting line for that person.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from functools import cache
from typing import Any

import attrs

from crmcore.app import CRM
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
from crmcore.i18n_terms import term
from crmcore.options import Options

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: keep reading the stored agenda light
if TYPE_CHECKING:
    from crmcore.policies import PolicyService

_WHY_WIDTH = 110


def _common(parser: argparse.ArgumentParser) -> None:
    add_storage_arguments(parser)
    parser.add_argument("--as-of", metavar="TIME",
                        help="a date or ISO date-time (default: now)")
    parser.add_argument("--scheme", metavar="NAME",
                        help="grading scheme (built-in name or scheme file) whose stored "
                             "grades and follow-up principles to use (default: [run] scheme "
                             "of the configuration, else the scheme stored last)")
    parser.add_argument("--calendar", metavar="FILE.toml",
                        help="business calendar file, over the configuration's "
                             "policies.calendar (default: Mon-Fri 09:00-12:00 and "
                             "13:00-18:00 UTC)")
    parser.add_argument("--reports-to", action="append", default=[], metavar="PERSON=BOSS",
                        help="a reporting line for escalations (repeatable), over the "
                             "configuration's policies.lines for that person")
    add_format_argument(parser, "table", "json")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``agenda``, ``escalate``, ``problems`` and ``compliance``."""
    agenda = commands.add_parser(
        "agenda", help="each owner's due actions, most urgent first, with why",
        description="Due actions as of a time: SLA breaches and escalations, warnings, "
                    "promises, appointment confirmations and reminders, expiring contracts, "
                    "recurring complaints, contacts, personal messages and greetings.")
    _common(agenda)
    agenda.add_argument("--owner", metavar="NAME", help="only this owner's actions")
    agenda.set_defaults(run=run_agenda)

    escalate = commands.add_parser(
        "escalate", help="apply the escalation steps overdue tasks reached, once each",
        description="Store each escalation step reached by --as-of (owner reminded, "
                    "escalated to the next level, or transferred), emit its task.* event "
                    "and print what moved and why. Running it again does nothing until "
                    "the next step is due.")
    _common(escalate)
    escalate.set_defaults(run=run_escalate)

    problems = commands.add_parser(
        "problems", help="open a problem record for each new cluster of recurring complaints",
        description="S7: incidents that recur (same customer or same category, N times "
                    "within a window) become one problem record linked to its incidents, "
                    "with a problem.opened event. Running it again opens nothing new.")
    _common(problems)
    problems.set_defaults(run=run_problems)

    compliance = commands.add_parser(
        "compliance", help="per customer: each CCPR promise kept or broken, with evidence")
    _common(compliance)
    compliance.add_argument("--customer", metavar="ID", help="only this customer")
    compliance.add_argument("--since", metavar="TIME",
                            help="start of the period (default: 90 days before --as-of)")
    compliance.add_argument("--broken", action="store_true",
                            help="list only customers with a broken promise")
    compliance.set_defaults(run=run_compliance)


def _service(crm: CRM, arguments: argparse.Namespace) -> PolicyService:
    """The policies of the configuration's ``[policies]`` table (defaults with ``--db``),
    with ``--calendar`` and ``--reports-to`` over them."""
    from crmcore.policies import PolicyService, PolicySet, ReportingLines

    superiors = {}
    for item in arguments.reports_to:
        person, equals, boss = item.partition("=")
        if not equals or not person.strip() or not boss.strip():
            raise CommandError(tr("--reports-to: {value!r} is not PERSON=BOSS").format(
                value=item))
        superiors[person.strip()] = boss.strip()
    policies = PolicySet.from_config(crm.config)
    if superiors:
        configured = (dict(policies.lines.superiors)
                      if isinstance(policies.lines, ReportingLines) else {})
        policies = attrs.evolve(policies, lines=ReportingLines({**configured, **superiors}))
    if arguments.calendar:
        factory = crm.plugins.calendars().get("toml", key="--calendar")
        policies = attrs.evolve(policies, calendar=factory(Options({"path": arguments.calendar},
                                                                   "calendar")))
    return PolicyService(crm, policies, scheme=arguments.scheme)


def run_agenda(arguments: argparse.Namespace) -> int:
    """Print the agenda: an owner's stored one when the daily run made it, else computed."""
    with open_crm(arguments) as crm:
        requested = parse_as_of(arguments.as_of)
        stored = _materialised(crm, arguments, requested)
        if stored is not None:
            as_of, rows = stored
            source = tr(" (stored by the daily run of {as_of})").format(as_of=as_of.isoformat())
        else:
            as_of = requested or crm.now()
            items = _service(crm, arguments).agenda(as_of, owner=arguments.owner)
            rows = [item.as_dict() for item in sorted(items, key=lambda i: i.owner)]
            source = ""
    if arguments.format == "json":
        print_json(rows)
        return 0
    print(tr("agenda as of {as_of}: {count} due action(s){source}").format(
        as_of=as_of.isoformat(), count=len(rows), source=source))
    if rows:
        word, due = cache(term), cache(_utc_text)  # few kinds, grades and due times repeat
        print_table([(row["owner"], word(row["kind"]), word(row["grade"] or "-"),
                      row["customer_id"], row["subject"], due(row["due_at"]), _cut(row["why"]))
                     for row in rows],
                    (tr("owner"), tr("action"), tr("grade"), tr("customer"), tr("subject"),
                     tr("due (UTC)"), tr("why")))
    return 0


def _materialised(crm: CRM, arguments: argparse.Namespace, requested: datetime | None
                  ) -> tuple[datetime, list[dict[str, Any]]] | None:
    """The owner's agenda as the last daily run stored it, when it answers the question:
    an ``--owner`` asked for, no other ``--as-of`` and no option that changes the policies."""
    if not arguments.owner or arguments.scheme or arguments.calendar or arguments.reports_to:
        return None
    from crmcore.daily import stored_agenda

    stored = stored_agenda(crm, arguments.owner)
    if stored is None or (requested is not None and stored[0] != requested):
        return None
    return stored


def run_escalate(arguments: argparse.Namespace) -> int:
    """Apply the escalation steps and print them."""
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        report = _service(crm, arguments).apply_escalations(as_of)
    if arguments.format == "json":
        print_json(report.as_dict())
        return 0
    print(tr("escalations as of {as_of}: {applied} step(s) applied, {transferred} "
             "transfer(s), {conflicts} conflict(s)").format(
        as_of=as_of.isoformat(), applied=len(report.applied),
        transferred=len(report.transferred), conflicts=len(report.conflicts)))
    rows = [(r.subject, r.step, term(r.role), term(r.action.value), r.from_owner or "-",
             r.to_owner or "-", r.person or "-", _utc(r.at),
             _cut(r.reason)) for r in report.applied]
    rows += [(c.record.subject, c.record.step, term(c.record.role), tr("CONFLICT"),
              c.record.from_owner or "-", c.record.to_owner or "-", c.record.person or "-",
              _utc(c.record.at), _cut(c.error))
             for c in report.conflicts]
    if rows:
        print_table(rows, (tr("task"), tr("step"), tr("role"), tr("action"), tr("from"),
                           tr("to"), tr("tells"), tr("reached (UTC)"), tr("why")))
    return 0


def run_problems(arguments: argparse.Namespace) -> int:
    """Open and print the problem records of recurring complaints."""
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        opened = _service(crm, arguments).record_problems(as_of)
    if arguments.format == "json":
        print_json([{"id": p.id, "customer_id": p.customer_id, "key": p.key,
                     "opened_at": p.opened_at.isoformat(), "incidents": list(p.incident_ids),
                     "summary": p.summary} for p in opened])
        return 0
    print(tr("problems opened as of {as_of}: {count}").format(as_of=as_of.isoformat(),
                                                             count=len(opened)))
    if opened:
        from crmcore.policies.complaints import key_text

        print_table([(p.id, key_text(p.key), len(p.incident_ids), _cut(p.summary))
                     for p in opened],
                    (tr("problem"), tr("recurring"), tr("incidents"), tr("summary")))
    return 0


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _utc_text(moment: str) -> str:
    """:func:`_utc` of an ISO date-time text (a stored item's ``due_at``)."""
    return _utc(datetime.fromisoformat(moment))


def _cut(text: str) -> str:
    return text if len(text) <= _WHY_WIDTH else text[:_WHY_WIDTH - 3] + "..."


def run_compliance(arguments: argparse.Namespace) -> int:
    """Print the compliance report."""
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        reports = _service(crm, arguments).compliance(
            as_of, customer_id=arguments.customer, since=parse_as_of(arguments.since))
    if arguments.broken:
        reports = [report for report in reports if report.broken]
    if arguments.format == "json":
        print_json([report.as_dict() for report in reports])
        return 0
    rows = []
    for report in reports:
        for check in report.checks:
            verdict = {True: tr("kept"), False: tr("BROKEN"), None: "-"}[check.kept]
            rows.append((report.customer_id, check.rule, verdict, check.promise,
                         "; ".join(check.evidence)))
    if rows:
        print_table(rows, (tr("customer"), tr("rule"), tr("verdict"), tr("promise"),
                           tr("evidence")))
    kept = sum(len(r.kept) for r in reports)
    broken = sum(len(r.broken) for r in reports)
    print(tr("{customers} customer(s): {kept} promise(s) kept, {broken} broken").format(
        customers=len(reports), kept=kept, broken=broken))
    return 0
