"""``crmcore pdca warnings`` (P7) and ``crmcore pdca knowledge`` (P6), and the argument
helpers every ``pdca`` subcommand shares.

``warnings`` evaluates the early-warning rules over the latest complete periods,
stores and emits each new warning (``improvement.warning``) and prints every
warning the rules raise, with why. ``knowledge`` runs the customer-knowledge loop
through the transition door: ``start`` a loop, ``step`` it by an event of the
loop's flow with the fields that event requires, ``show`` one loop's history and
``list`` the loops.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
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
from crmcore.errors import ConfigError
from crmcore.i18n import N_, tr
from crmcore.i18n_help import help_text
from crmcore.i18n_terms import event_term, term
from crmcore.improvement import (
    EarlyWarning,
    ImprovementService,
    WarningRule,
    configured_warning_rules,
    knowledge_flow,
    loop_history,
    parse_period,
    rules_from_targets,
    rules_from_toml,
    start_loop,
    step_loop,
    warning_periods,
)
from crmcore.lifecycle.measures import Period
from crmcore.transitions import FlowDefinition, states_of

WORDS = (
    # events of the shipped PDCA cycle and knowledge loop (P1, P6), shown with term()
    N_("start"), N_("revise_plan"), N_("track"), N_("record_results"), N_("record_act"),
    N_("abandon"), N_("abandoned"), N_("closed"), N_("focus"), N_("elicit"),
    N_("edit"), N_("share"), N_("apply"), N_("next_turn"),
)
"""Flow events and steps these commands show as words (stored as codes)."""

DEFAULT_ACTOR = "crmcore-cli"
"""Who the history names when ``--actor`` is not given."""


def recording_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                     text: str, *, subject: str | None = "cycle",
                     description: str | None = None, epilog: str | None = None
                     ) -> argparse.ArgumentParser:
    """A subcommand that records something: ``SUBJECT``, storage, ``--actor``, ``--at``."""
    parser = sub.add_parser(name, help=text, description=description, epilog=epilog)
    if subject is not None:
        parser.add_argument(subject, metavar=subject.upper(),
                            help="the cycle id" if subject == "cycle" else "the loop id")
    add_storage_arguments(parser)
    parser.add_argument("--actor", default=DEFAULT_ACTOR, metavar="WHO",
                        help="who records it (default: %(default)s)")
    parser.add_argument("--at", metavar="DATE", help="when (default: now)")
    return parser


def show_help(parser: argparse.ArgumentParser) -> int:
    """Print ``parser``'s help; exit status 2 (an action is missing)."""
    parser.print_help()
    return 2


def pair(text: str, option: str) -> tuple[str, str]:
    """``KEY=TEXT`` split in two, or a :class:`CommandError` naming ``option``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise CommandError(tr("{option}: {value!r} is not KEY=TEXT").format(option=option,
                                                                            value=text))
    return key.strip(), value.strip()


def period(text: str, option: str = "--period") -> Period:
    """A period from its label, or a :class:`CommandError` naming ``option``."""
    try:
        return parse_period(text)
    except ValueError as error:
        raise CommandError(tr("{option}: {error}").format(option=option, error=error)
                           ) from None


def when(arguments: argparse.Namespace) -> datetime | None:
    """``--at`` as a time (None: now)."""
    return parse_as_of(arguments.at)


# -- warnings (P7) -----------------------------------------------------------------------------

def add_warnings(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pdca warnings``."""
    parser = sub.add_parser(
        "warnings", help="raise the early warnings the rules find, with why (P7)",
        description="Evaluate the early-warning rules over the latest complete periods; "
                    "store and emit each new warning as an improvement.warning event (the "
                    "notifiers receive it) and print every warning the rules raise. Rules "
                    "come from [[improvement.warnings]] in the configuration, --rules files "
                    "and the targets of --targets cycles.")
    add_storage_arguments(parser)
    parser.add_argument("--rules", action="append", default=[], metavar="FILE",
                        help="a TOML file of [[warnings]] rules (repeatable)")
    parser.add_argument("--targets", action="append", default=[], metavar="CYCLE",
                        help="warn when a measure is outside this cycle's target "
                             "--consecutive periods in a row (repeatable)")
    parser.add_argument("--consecutive", type=int, default=2, metavar="N",
                        help="periods in a row for the --targets rules (default: 2)")
    parser.add_argument("--period", action="append", metavar="PERIOD",
                        help="a period to read, oldest first (repeatable; default: the "
                             "complete quarters before --as-of, as many as the longest "
                             "rule needs)")
    parser.add_argument("--as-of", metavar="T",
                        help="when the warnings are raised (default: now)")
    add_format_argument(parser, "table", "json")
    parser.set_defaults(run=run_warnings)


def _rules(service: ImprovementService, arguments: argparse.Namespace) -> list[WarningRule]:
    rules = list(configured_warning_rules(service.crm))
    for path in arguments.rules:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(tr("--rules: cannot read {path!r}: {error}").format(
                path=path, error=error.strerror)) from None
        rules.extend(rules_from_toml(text, source=path))
    for cycle_id in arguments.targets:
        rules.extend(rules_from_targets(service.cycle(cycle_id),
                                        consecutive=arguments.consecutive))
    names = [rule.name for rule in rules]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(tr("warning rules: {names} declared more than once").format(
            names=", ".join(twice)))
    if not rules:
        raise CommandError(tr("no warning rules: give --rules FILE or --targets CYCLE, or "
                              "[[improvement.warnings]] in the --config file"))
    return rules


def run_warnings(arguments: argparse.Namespace) -> int:
    """Evaluate the rules; store and emit the new warnings; print every warning raised."""
    with open_crm(arguments) as crm:
        service = ImprovementService(crm)
        rules = _rules(service, arguments)
        at = parse_as_of(arguments.as_of) or crm.now()
        spans = ([period(p) for p in arguments.period] if arguments.period
                 else warning_periods(rules, at))
        reviewed = service.review_warnings(rules, spans, at=at)
    if arguments.format == "json":
        print_json([{**_warning_json(w), "new": new} for w, new in reviewed])
        return 0
    labels = ", ".join(span.label for span in spans)
    if not reviewed:
        print(tr("no warnings: {count} rules over {periods}").format(count=len(rules),
                                                                     periods=labels))
        return 0
    print_table([(w.id, tr("yes") if new else tr("no"), term(w.measure), _readings(w), w.text)
                 for w, new in reviewed],
                (tr("warning"), tr("new"), tr("measure"), tr("values"), tr("why")))
    return 0


def _readings(warning: EarlyWarning) -> str:
    small = tr(" (small sample)") if warning.small_sample else ""
    return ", ".join(f"{label} {value:.4g} (n={n})" for label, value, n in
                     zip(warning.periods, warning.values, warning.sample_sizes, strict=False)
                     ) + small


def _warning_json(warning: EarlyWarning) -> dict[str, Any]:
    return {"id": warning.id, "rule": warning.rule, "measure": warning.measure,
            "text": warning.text, "periods": list(warning.periods),
            "values": list(warning.values), "sample_sizes": list(warning.sample_sizes),
            "small_sample": warning.small_sample, "raised_at": warning.raised_at.isoformat()}


# -- the customer-knowledge loop (P6) ----------------------------------------------------------

def add_knowledge(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pdca knowledge start|step|show|list``."""
    flow = knowledge_flow()
    parser = sub.add_parser(
        "knowledge", help="run the customer-knowledge loop (P6)",
        description="The customer-knowledge loop: plan, focus, elicit, edit, share, apply, "
                    "each turn informing the next (next_turn) or closing it (close).")
    actions = parser.add_subparsers(title="knowledge commands", metavar="ACTION")
    start = recording_parser(actions, "start", "start a loop in its first step", subject="loop")
    start.add_argument("--reason", default="", metavar="TEXT", help="why (recorded)")
    start.set_defaults(run=run_knowledge_start)
    step = recording_parser(
        actions, "step", "take a step of a loop, recording what it produced", subject="loop",
        description="Apply EVENT to the loop through the transition door. Each step requires "
                    "the field that records what it produced; a field given twice is a list.",
        epilog=help_text("events (from -> to: the options each needs): {events}",
                         events="; ".join(_event_help(flow))))
    step.add_argument("event", metavar="EVENT", help=help_text("the step: {events}",
                                                          events=", ".join(flow.events())))
    step.add_argument("--field", action="append", default=[], metavar="NAME=TEXT",
                      help="a field recorded with the step (repeatable)")
    step.add_argument("--reason", default="", metavar="TEXT", help="why (recorded)")
    step.set_defaults(run=run_knowledge_step)
    show = actions.add_parser("show", help="print a loop's step and its history")
    show.add_argument("loop", metavar="LOOP", help="the loop id")
    add_storage_arguments(show)
    add_format_argument(show, "table", "json")
    show.set_defaults(run=run_knowledge_show)
    listing = actions.add_parser("list", help="list the loops with their step")
    add_storage_arguments(listing)
    add_format_argument(listing, "table", "json")
    listing.set_defaults(run=run_knowledge_list)
    parser.set_defaults(run=lambda arguments: show_help(parser))


def _event_help(flow: FlowDefinition) -> list[str]:
    made = []
    for transition in flow.transitions:
        needs = [f"--field {name}=..." for name in transition.required_fields]
        needs += ["--reason" for v in transition.validators if v.name == "reason_given"]
        made.append(f"{transition.event} ({', '.join(transition.sources)} -> "
                    f"{transition.target or 'same'}{': ' + ', '.join(needs) if needs else ''})")
    return made


def _fields(items: Sequence[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in (pair(item, "--field") for item in items):
        if name not in fields:
            fields[name] = value
        elif isinstance(fields[name], list):
            fields[name].append(value)
        else:
            fields[name] = [fields[name], value]
    return fields


def run_knowledge_start(arguments: argparse.Namespace) -> int:
    """Start a knowledge loop."""
    with open_crm(arguments) as crm:
        made = start_loop(crm, knowledge_flow(), arguments.loop, actor=arguments.actor,
                          at=when(arguments), reason=arguments.reason)
    print(tr("{loop}: started in {step}").format(loop=arguments.loop,
                                                  step=term(made.state.state)))
    return 0


def run_knowledge_step(arguments: argparse.Namespace) -> int:
    """Apply one event to a knowledge loop."""
    fields = _fields(arguments.field)
    with open_crm(arguments) as crm:
        made = step_loop(crm, knowledge_flow(), arguments.loop, arguments.event,
                         actor=arguments.actor, at=when(arguments), reason=arguments.reason,
                         fields=fields or None)
    print(f"{arguments.loop}: {term(made.entry.from_state or '')} -> "
          f"{term(made.entry.to_state)} ({event_term(made.entry.event)})")
    return 0


def _shown(value: Any) -> str:
    return "; ".join(str(item) for item in value) if isinstance(value, list) else str(value)


def run_knowledge_show(arguments: argparse.Namespace) -> int:
    """Print one loop's current step and its history with the fields of each step."""
    flow = knowledge_flow()
    with open_crm(arguments) as crm:
        history = loop_history(crm, flow, arguments.loop)
    if not history:
        raise CommandError(tr("LOOP: {loop!r} is not a stored {flow} loop").format(
            loop=arguments.loop, flow=flow.name))
    if arguments.format == "json":
        print_json({"loop": arguments.loop, "step": history[-1].to_state,
                    "history": [{"sequence": e.sequence, "at": e.at.isoformat(),
                                 "event": e.event, "from": e.from_state, "to": e.to_state,
                                 "actor": e.actor, "reason": e.reason, "fields": e.fields}
                                for e in history]})
        return 0
    print(tr("loop {loop}: {step} since {date}").format(
        loop=arguments.loop, step=term(history[-1].to_state), date=history[-1].at.date()))
    print_table([(e.sequence, e.at.date(), event_term(e.event), term(e.from_state or "-"),
                  term(e.to_state), e.actor,
                  "; ".join(f"{k}={_shown(v)}" for k, v in e.fields.items()) or e.reason)
                 for e in history],
                ("#", tr("at"), tr("event"), tr("from"), tr("to"), tr("who"), tr("what")))
    return 0


def run_knowledge_list(arguments: argparse.Namespace) -> int:
    """List every knowledge loop with its current step."""
    with open_crm(arguments) as crm:
        states = states_of(crm, knowledge_flow())
    if arguments.format == "json":
        print_json([{"loop": s.subject_id, "step": s.state, "since": s.entered_at.isoformat(),
                     "fields": s.fields} for s in states])
        return 0
    print_table([(s.subject_id, term(s.state), s.entered_at.date(),
                  "; ".join(f"{k}={_shown(v)}" for k, v in s.fields.items()))
                 for s in states], (tr("loop"), tr("step"), tr("since"), tr("last recorded")))
    return 0
