"""``crmcore survey``: the service-quality survey form and its importance/performance ranks (P5)."""

from __future__ import annotations

import argparse

from crmcore.cli.common import (
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.i18n import N_, SOURCE_LANGUAGE, current_language, tr
from crmcore.i18n_terms import term

WORDS = (N_("concentrate_here"), N_("keep_up"), N_("low_priority"), N_("possible_overkill"))
"""The importance/performance quadrants, shown as words with :func:`term`."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``survey`` and its subcommands ``template`` and ``ipa``."""
    parser = commands.add_parser(
        "survey", help="the service-quality survey and its importance/performance ranking (P5)")
    sub = parser.add_subparsers(title="survey commands", metavar="ACTION")
    template = sub.add_parser(
        "template", help="print the service-quality survey form (five dimensions)",
        description="Print the handbook's service-quality survey: its items on reliability, "
                    "tangibles, responsiveness, empathy and assurance, each rated for "
                    "importance and performance, with the answer keys responses use.")
    add_format_argument(template, "table", "json")
    template.set_defaults(run=run_template)
    ipa = sub.add_parser(
        "ipa", help="rank the survey's items by importance and performance, with quadrants",
        description="Importance/performance analysis of the stored responses to the "
                    "service-quality survey: each item's mean importance and performance, "
                    "ranks, gap and quadrant, in order of action (concentrate here first).")
    add_storage_arguments(ipa)
    ipa.add_argument("--from", dest="since", metavar="T", help="first answer time (a date)")
    ipa.add_argument("--to", dest="until", metavar="T", help="answers before this time")
    ipa.add_argument("--crosshair", choices=("mean", "scale"), default="mean",
                     help="split the quadrants at the grand means or the scale's middle "
                          "(default: mean)")
    add_format_argument(ipa, "table", "json")
    ipa.set_defaults(run=run_ipa)
    parser.set_defaults(run=lambda arguments: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_template(arguments: argparse.Namespace) -> int:
    """Print the survey form."""
    from crmcore.improvement.service_quality import SERVICE_QUALITY

    form = SERVICE_QUALITY.as_dict()
    if arguments.format == "json":
        print_json(form)
        return 0
    print(tr("survey {survey}: rate each item {low}-{high} for importance and for "
             "performance").format(survey=form["survey"], low=form["scale"][0],
                                   high=form["scale"][1]))
    if current_language() == SOURCE_LANGUAGE:
        print_table([(i["dimension"], i["dimension_zh"], i["key"], i["text"], i["text_zh"])
                     for i in form["items"]], ("dimension", "維度", "item", "statement", "陳述"))
    else:  # the form's own Chinese wording, without the English beside it
        print_table([(i["dimension_zh"], i["key"], i["text_zh"]) for i in form["items"]],
                    (tr("dimension"), tr("item"), tr("statement")))
    return 0


def run_ipa(arguments: argparse.Namespace) -> int:
    """Print the importance/performance ranking of the stored responses."""
    from crmcore.improvement.service_quality import importance_performance
    from crmcore.model import SurveyResponse

    with open_crm(arguments) as crm:
        responses = crm.find(SurveyResponse, since=parse_as_of(arguments.since),
                             until=parse_as_of(arguments.until))
    analysis = importance_performance(responses, crosshair=arguments.crosshair)
    if arguments.format == "json":
        print_json({"survey": analysis.survey, "responses": analysis.responses,
                    "crosshair": list(analysis.crosshair),
                    "items": [s.as_dict() for s in analysis.priorities],
                    "dimensions": [{"dimension": d.dimension.value, "importance": d.importance,
                                    "performance": d.performance, "gap": d.gap}
                                   for d in analysis.dimensions]})
        return 0
    print(tr("{count} response(s); crosshair importance {importance}, performance "
             "{performance}").format(count=analysis.responses,
                                     importance=f"{analysis.crosshair[0]:.2f}",
                                     performance=f"{analysis.crosshair[1]:.2f}"))
    print_table([(term(s.quadrant.value), s.item.key, f"{s.importance:.2f}", s.importance_rank,
                  f"{s.performance:.2f}", s.performance_rank, f"{s.gap:+.2f}",
                  min(s.n_importance, s.n_performance),
                  tr("small sample") if s.small_sample else "")
                 for s in analysis.priorities],
                (tr("quadrant"), tr("item"), tr("importance"), tr("rank"), tr("performance"),
                 tr("rank"), tr("gap"), "n", tr("sample")))
    return 0
