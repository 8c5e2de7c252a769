"""``crmcore pipeline``: add, move, assign and list opportunities; sample clocks (M1, M2, L2).

``add`` needs ``--close`` (a date, or ``unknown`` said out loud: never a
default); ``move`` names the stage to reach and the flow decides whether it
may; ``assign`` places an opportunity by the territory rules of the
configuration's ``[sales]`` table (``--all`` resets every open one);
``list`` shows stage, owner, territory, days in stage and the win
probability with why; ``show`` is one opportunity's stage report (stage, time
still needed, probability, stage history); ``samples`` lists the sample
opinions due (L2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
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
from crmcore.csv_output import SafeDictWriter
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import event_term, term

DEFAULT_ACTOR = "crmcore-cli"
"""Who the history names when ``--actor`` is not given."""

LIST_COLUMNS = ("id", "customer_id", "stage", "owner", "territory", "amount", "currency",
                "expected_close", "days_in_stage", "probability", "why")
"""The columns of ``pipeline list`` (CSV header, JSON keys)."""

EVENTS = (N_("analyse_needs"), N_("propose"), N_("negotiate"), N_("win"), N_("lose"),
          N_("requalify"))
"""The sales flow's events, shown as words by ``pipeline move``."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pipeline`` and its subcommands."""
    parser = commands.add_parser("pipeline",
                                 help="opportunities by stage, owner and territory, with "
                                      "win probability (M1, M2)")
    sub = parser.add_subparsers(title="pipeline commands", metavar="ACTION")
    _add(sub)
    _move(sub)
    _assign(sub)
    _list(sub)
    _show(sub)
    _samples(sub)
    parser.set_defaults(run=lambda arguments: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _common(parser: argparse.ArgumentParser, *, actor: bool = True) -> None:
    add_storage_arguments(parser)
    if actor:
        parser.add_argument("--actor", default=DEFAULT_ACTOR, metavar="NAME",
                            help="who does it (recorded; default: %(default)s)")


def _add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = sub.add_parser("add", help="record an opportunity in the first stage",
                         description="Record opportunity ID for CUSTOMER in the first stage. "
                                     "Nothing is stored when a value is refused.")
    add.add_argument("opportunity", metavar="ID", help="the opportunity id")
    add.add_argument("--customer", required=True, metavar="ID", help="the customer's id")
    add.add_argument("--title", required=True, metavar="TEXT", help="what the deal is")
    add.add_argument("--close", required=True, metavar="DATE|unknown",
                     help="expected close date (YYYY-MM-DD), or 'unknown'")
    add.add_argument("--amount", metavar="N", help="the amount (needs --currency)")
    add.add_argument("--currency", metavar="CODE", help="ISO 4217 code, e.g. EUR, CNY")
    add.add_argument("--source", metavar="TEXT", help="where it came from (trade show...)")
    add.add_argument("--owner", metavar="NAME", help="owner (must be authorised)")
    add.add_argument("--territory", metavar="NAME", help="territory (default: by the rules)")
    add.add_argument("--no-assign", action="store_true",
                     help="do not place it by the territory rules")
    add.add_argument("--at", metavar="T", help="when it was created (default: now)")
    _common(add)
    add.set_defaults(run=run_add)


def _move(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    move = sub.add_parser("move", help="move an opportunity to a stage through the flow",
                          description="Move ID to STAGE. Refused, and nothing stored, when "
                                      "the flow does not allow it; lost needs --lost-reason.")
    move.add_argument("opportunity", metavar="ID", help="the opportunity id")
    move.add_argument("stage", metavar="STAGE", help="the stage to move to")
    move.add_argument("--reason", default="", metavar="TEXT", help="why (recorded)")
    move.add_argument("--lost-reason", metavar="REASON", help="from the lost-reason catalogue")
    move.add_argument("--lost-note", metavar="TEXT", help="what 'other' means")
    move.add_argument("--override", action="store_true",
                      help="allow a backward move (needs --reason)")
    move.add_argument("--as-of", metavar="T", help="when it moved (default: now)")
    _common(move)
    move.set_defaults(run=run_move)


def _assign(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    assign = sub.add_parser("assign", help="place an opportunity in a territory with an owner",
                            description="Place ID by the territory rules of [sales] (or the "
                                        "territory named); an owner must be authorised there. "
                                        "--all assigns every open opportunity again.")
    assign.add_argument("opportunity", metavar="ID", nargs="?", help="the opportunity id")
    assign.add_argument("--all", action="store_true",
                        help="reset territories: reassign every open opportunity")
    assign.add_argument("--owner", metavar="NAME", help="the owner")
    assign.add_argument("--territory", metavar="NAME", help="the territory")
    _common(assign)
    assign.set_defaults(run=run_assign)


def _list(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser("list", help="opportunities with stage, owner, territory, days "
                                          "in stage and win probability")
    listing.add_argument("--stage", metavar="STAGE", help="only this stage")
    listing.add_argument("--owner", metavar="NAME", help="only this owner's")
    listing.add_argument("--territory", metavar="NAME", help="only this territory's")
    listing.add_argument("--closed", action="store_true", help="include won and lost ones")
    listing.add_argument("--as-of", metavar="T", help="the date to count days to (default: now)")
    add_format_argument(listing, "table", "json", "csv")
    _common(listing, actor=False)
    listing.set_defaults(run=run_list)


def _show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    show = sub.add_parser("show", help="one opportunity's stage report: stage, time still "
                                       "needed, win probability with why, stage history")
    show.add_argument("opportunity", metavar="ID", help="the opportunity id")
    show.add_argument("--as-of", metavar="T", help="as of (default: now)")
    add_format_argument(show, "table", "json")
    _common(show, actor=False)
    show.set_defaults(run=run_show)


def _samples(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    samples = sub.add_parser("samples", help="sample opinions to ask, due or overdue (L2)")
    samples.add_argument("--owner", metavar="NAME", help="only this owner's")
    samples.add_argument("--as-of", metavar="T", help="as of (default: now)")
    add_format_argument(samples, "table", "json", "csv")
    _common(samples, actor=False)
    samples.set_defaults(run=run_samples)


def _close(text: str) -> date | None:
    if text.strip().lower() == "unknown":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(tr("--close: {value!r} is not a date (YYYY-MM-DD) or 'unknown'"
                              ).format(value=text)) from None


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CommandError(tr("--amount: {value!r} is not a number").format(value=text)
                           ) from None
    if not value.is_finite():
        raise CommandError(tr("--amount: {value!r} is not a finite number").format(value=text))
    return value


def run_add(arguments: argparse.Namespace) -> int:
    """Store the opportunity, or say which value was refused (nothing stored)."""
    from crmcore.sales.pipeline import PipelineService

    close = _close(arguments.close)
    amount = _amount(arguments.amount)
    with open_crm(arguments) as crm:
        made = PipelineService(crm).add(
            arguments.opportunity, arguments.customer, arguments.title, amount=amount,
            currency=arguments.currency, expected_close=close, actor=arguments.actor,
            created_at=parse_as_of(arguments.at), source=arguments.source,
            owner=arguments.owner, territory=arguments.territory,
            assign=not arguments.no_assign)
    print(tr("opportunity {id}: {stage}, {amount}, close {close}, owner {owner}, "
             "territory {territory}").format(
        id=made.id, stage=term(made.stage), amount=_label(made.amount_label()),
        close=_label(made.close_label()), owner=made.owner or "-",
        territory=made.territory or "-"))
    return 0


def run_move(arguments: argparse.Namespace) -> int:
    """Move the opportunity, or explain why not (nothing stored)."""
    from crmcore.sales.pipeline import PipelineService

    with open_crm(arguments) as crm:
        made = PipelineService(crm).move(
            arguments.opportunity, arguments.stage, actor=arguments.actor,
            at=parse_as_of(arguments.as_of), reason=arguments.reason,
            lost_reason=arguments.lost_reason, lost_note=arguments.lost_note,
            override=arguments.override)
    entry = made.entry
    days = entry.seconds_in_previous / 86400
    print(tr("opportunity {id}: {source} -> {target} ({event}) at {at} by {actor}, after "
             "{days} days in {source}").format(
        id=entry.subject_id, source=term(entry.from_state or ""), target=term(entry.to_state),
        event=event_term(entry.event), at=entry.at.isoformat(), actor=entry.actor,
        days=f"{days:.1f}"))
    return 0


def run_assign(arguments: argparse.Namespace) -> int:
    """Assign one opportunity, or every open one with ``--all``."""
    from crmcore.sales.pipeline import PipelineService

    if arguments.all == (arguments.opportunity is not None):
        raise CommandError(tr("ID: give one opportunity id, or --all (not both)"))
    with open_crm(arguments) as crm:
        service = PipelineService(crm)
        if arguments.all:
            if arguments.owner or arguments.territory:
                raise CommandError(tr("--all: assigns by the rules; --owner and "
                                      "--territory apply to one opportunity"))
            changed = service.reassign_open(actor=arguments.actor)
            for opportunity_id, placed in changed:
                print(tr("opportunity {id}: {territory}, {owner} ({why})").format(
                    id=opportunity_id, territory=term(placed.territory), owner=placed.owner,
                    why=placed.why))
            print((tr("{count} opportunity reassigned") if len(changed) == 1 else
                   tr("{count} opportunities reassigned")).format(count=len(changed)))
            return 0
        placed = service.assign(arguments.opportunity, actor=arguments.actor,
                                owner=arguments.owner, territory=arguments.territory)
    print(tr("opportunity {id}: territory {territory}, owner {owner} ({why})").format(
        id=arguments.opportunity, territory=term(placed.territory), owner=placed.owner,
        why=placed.why))
    return 0


def _rows(arguments: argparse.Namespace, as_of: datetime) -> tuple[list[dict[str, Any]],
                                                                   list[str]]:
    from crmcore.sales.money import totals_by_currency
    from crmcore.sales.pipeline import PipelineService
    from crmcore.sales.pipeline_probability import pipeline_probabilities

    with open_crm(arguments) as crm:
        service = PipelineService(crm)
        if arguments.stage is not None and arguments.stage not in service.stage_names():
            raise CommandError(tr("--stage: {value!r} is not a stage (known: {known})").format(
                value=arguments.stage, known=", ".join(service.stage_names())))
        items = service.opportunities() if arguments.closed else service.open()
        predictions = pipeline_probabilities(service, as_of)
    chosen = [item for item in items
              if arguments.stage in (None, item.stage) and arguments.owner in (None, item.owner)
              and arguments.territory in (None, item.territory)]
    rows = []
    for item in chosen:
        made = item.as_json(as_of)
        predicted = predictions.get(item.id)
        made["probability"] = None if predicted is None else round(predicted.probability, 3)
        made["why"] = "n/a" if predicted is None else predicted.why
        rows.append({column: made[column] for column in LIST_COLUMNS})
    totals = totals_by_currency((item.amount, item.currency) for item in chosen).lines()
    return rows, totals


def run_list(arguments: argparse.Namespace) -> int:
    """Print the opportunities; totals per currency (never mixed)."""
    as_of = parse_as_of(arguments.as_of) or datetime.now(UTC)
    rows, totals = _rows(arguments, as_of)
    if arguments.format == "json":
        print_json({"as_of": as_of.isoformat(), "opportunities": rows,
                    "totals": totals})
        return 0
    if arguments.format == "csv":
        _csv(rows, LIST_COLUMNS)
        return 0
    print((tr("pipeline as of {date}: {count} opportunity") if len(rows) == 1 else
           tr("pipeline as of {date}: {count} opportunities")).format(
        date=as_of.date().isoformat(), count=len(rows)))
    print_table([[r["id"], r["customer_id"], term(r["stage"]), r["owner"] or "-",
                  term(r["territory"] or "-"), _money(r), _label(r["expected_close"]),
                  f"{r['days_in_stage']:.0f}",
                  tr("n/a") if r["probability"] is None else f"{r['probability']:.0%}"]
                 for r in rows],
                [tr("id"), tr("customer"), tr("stage"), tr("owner"), tr("territory"),
                 tr("amount"), tr("close"), tr("days in stage"), tr("win prob.")])
    print(tr("totals: {totals}").format(totals="; ".join(totals) or tr("none")))
    _print_why(rows)
    return 0


def _label(text: str) -> str:
    """A date or amount label as people read it: ``unknown`` in words."""
    return term(text) if text == "unknown" else text


def _money(row: dict[str, Any]) -> str:
    if row["amount"] == "unknown":
        return term("unknown")
    return f"{Decimal(row['amount']):,.2f} {row['currency']}"


def _print_why(rows: Sequence[dict[str, Any]]) -> None:
    explained = [row for row in rows if row["why"] != "n/a"]
    if not explained:
        print(tr("win probability: n/a (crmcore.sales.win_probability is not available)"))
        return
    print(tr("why:"))
    for row in explained:
        print(f"  {row['id']}: {row['why']}")


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    writer = SafeDictWriter(sys.stdout, list(columns))
    writer.writeheader()
    writer.writerows(rows)


def run_show(arguments: argparse.Namespace) -> int:
    """Print the stage report of one opportunity (M1)."""
    from crmcore.sales.pipeline import PipelineService
    from crmcore.sales.pipeline_probability import pipeline_probabilities

    as_of = parse_as_of(arguments.as_of) or datetime.now(UTC)
    with open_crm(arguments) as crm:
        service = PipelineService(crm)
        item = service.get(arguments.opportunity)
        stays = service.stays(arguments.opportunity)
        predicted = pipeline_probabilities(service, as_of).get(item.id)
    left = item.days_to_close(as_of)
    report = {**item.as_json(as_of),
              "days_to_close": "unknown" if left is None else left,
              "probability": None if predicted is None else round(predicted.probability, 3),
              "why": "n/a" if predicted is None else predicted.why,
              "history": [{"stage": stay.stage, "entered_at": stay.entered_at.isoformat(),
                           "left_at": None if stay.left_at is None
                           else stay.left_at.isoformat(),
                           "days": round(stay.days(as_of), 1)} for stay in stays]}
    if arguments.format == "json":
        print_json(report)
        return 0
    probability = tr("n/a") if predicted is None else f"{predicted.probability:.0%}"
    print(tr("opportunity {id} ({title}) for {customer}: {stage} for {days} days; {amount}; "
             "owner {owner}, territory {territory}").format(
        id=item.id, title=item.title, customer=item.customer_id, stage=term(item.stage),
        days=f"{item.days_in_stage(as_of):.0f}", amount=_label(item.amount_label()),
        owner=item.owner or "-", territory=term(item.territory or "-")))
    needed = term("unknown") if left is None else tr("{days} days").format(days=left)
    print(tr("expected close {close}; time still needed: {needed}").format(
        close=_label(item.close_label()), needed=needed))
    if predicted is None:
        print(tr("win probability: {probability}").format(probability=probability))
    else:
        print(tr("win probability: {probability}; why: {why}").format(
            probability=probability, why=predicted.why))
    print_table([[term(r["stage"]), r["entered_at"][:10], (r["left_at"] or "-")[:10],
                  f"{r['days']:.1f}"] for r in report["history"]],
                [tr("stage"), tr("entered"), tr("left"), tr("days")])
    return 0


def run_samples(arguments: argparse.Namespace) -> int:
    """Print the sample opinions due or overdue (L2)."""
    from crmcore.sales.leads import sample_agenda

    as_of = parse_as_of(arguments.as_of) or datetime.now(UTC)
    with open_crm(arguments) as crm:
        items = sample_agenda(crm, as_of, owner=arguments.owner)
    rows = [{"owner": i.owner, "kind": i.kind.value, "customer_id": i.customer_id,
             "subject": i.subject, "due_at": i.due_at.isoformat(), "why": i.why}
            for i in items]
    if arguments.format == "json":
        print_json({"as_of": as_of.isoformat(), "samples": rows})
    elif arguments.format == "csv":
        _csv(rows, ("owner", "kind", "customer_id", "subject", "due_at", "why"))
    else:
        print(tr("sample opinions to ask as of {date}: {count}").format(
            date=as_of.date().isoformat(), count=len(rows)))
        print_table([[r["owner"], term(r["kind"]), r["subject"], r["due_at"][:10], r["why"]]
                     for r in rows], [tr("owner"), tr("kind"), tr("lead"), tr("due"),
                                      tr("why")])
    return 0
