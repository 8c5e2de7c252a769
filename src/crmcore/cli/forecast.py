"""``crmcore forecast``: expected revenue of the stored pipeline per month, owner or territory (M3).

Each open opportunity counts ``amount x win probability`` in the month of its expected
close date (``unknown`` without one, ``overdue`` when it has passed); currencies stay
apart unless ``--currency`` and ``--rate`` convert them; ``--repeat-months`` adds the
repeat purchases the lifetime-value model expects (``clv`` extra).
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from crmcore.cli.common import (
    CommandError,
    add_format_argument,
    add_storage_arguments,
    open_crm,
    parse_as_of,
    print_json,
    print_table,
)
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term

GROUP_HEADINGS = (N_("period"), N_("owner"), N_("territory"))
"""The ``--by`` groupings, marked for the catalogues (shown with :func:`term`)."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``forecast``."""
    parser = commands.add_parser(
        "forecast", help="expected revenue per month, owner or territory, with an interval (M3)",
        description="Expected revenue of the open opportunities (amount x win probability, "
                    "in the month of the expected close date) with a normal-approximation "
                    "interval, plus repeat purchases from the lifetime-value model.")
    add_storage_arguments(parser)
    parser.add_argument("--by", choices=("period", "owner", "territory"), default="period",
                        help="group by expected-close month, owner or territory "
                             "(default: period)")
    add_format_argument(parser, "table", "json", "csv")
    parser.add_argument("--chart", metavar="FILE.png",
                        help="also draw the forecast to this .png or .svg file (charts extra)")
    parser.add_argument("--as-of", metavar="DATE", help="forecast as of this day (default: now)")
    parser.add_argument("--currency", metavar="CODE",
                        help="convert every amount into this currency (needs --rate)")
    parser.add_argument("--rate", action="append", default=[], metavar="CODE=RATE",
                        help="units of --currency per unit of CODE (repeat per currency)")
    parser.add_argument("--level", type=float, default=0.90, metavar="P",
                        help="the interval's coverage (default: 0.90)")
    parser.add_argument("--repeat-months", type=int, metavar="N",
                        help="add N months of repeat purchases (lifetime-value model, "
                             "clv extra; needs --repeat-currency)")
    parser.add_argument("--repeat-currency", metavar="CODE",
                        help="the currency stored purchases are in")
    parser.add_argument("--why", action="store_true",
                        help="table: also list each opportunity's win probability and why")
    parser.set_defaults(run=run_forecast)


def _rates(arguments: argparse.Namespace) -> dict[str, Decimal] | None:
    if not arguments.rate and arguments.currency is None:
        return None
    if arguments.currency is None or not arguments.rate:
        raise CommandError(tr("--currency and --rate go together: the rates convert into "
                              "the currency"))
    rates: dict[str, Decimal] = {}
    for text in arguments.rate:
        code, _, value = text.partition("=")
        try:
            rates[code.strip()] = Decimal(value)
        except InvalidOperation:
            raise CommandError(tr("--rate {value!r}: not CODE=RATE (e.g. CNY=0.128)").format(
                value=text)) from None
    return rates


def run_forecast(arguments: argparse.Namespace) -> int:
    """Forecast the stored pipeline and print it (and draw it with ``--chart``)."""
    from crmcore.sales.forecast_export import forecast_chart, forecast_json, to_csv
    from crmcore.sales.forecast_pipeline import stored_forecast
    from crmcore.sales.pipeline import PipelineService

    rates = _rates(arguments)
    with open_crm(arguments) as crm:
        as_of = parse_as_of(arguments.as_of) or crm.now()
        made, whys = stored_forecast(
            PipelineService(crm), as_of, by=arguments.by, rates=rates,
            currency=arguments.currency, repeat_months=arguments.repeat_months,
            repeat_currency=arguments.repeat_currency, level=arguments.level)
    if arguments.chart:
        forecast_chart(made, arguments.chart)
    if arguments.format == "json":
        data = forecast_json(made)
        data["why"] = whys
        print_json(data)
        return 0
    if arguments.format == "csv":
        to_csv(made, sys.stdout)
        return 0
    print(tr("forecast by {by} as of {as_of}").format(by=term(made.by),
                                                      as_of=made.as_of.isoformat()))
    print_table([(term(row.key), row.currency, row.opportunities, f"{row.pipeline:,.2f}",
                  f"{row.repeat:,.2f}", f"{row.expected:,.2f}", f"{row.low:,.2f}",
                  f"{row.high:,.2f}") for row in made.rows],
                (term(made.by), tr("currency"), tr("opportunities"), tr("pipeline"),
                 tr("repeat"), tr("expected"), tr("low"), tr("high")))
    print(tr("interval: {method}").format(method=made.method))
    if made.unpriced:
        print(tr("not in the totals (no amount or currency): {ids}").format(
            ids=", ".join(made.unpriced)))
    for note in made.notes:
        print(tr("note: {note}").format(note=note))
    if arguments.why:
        for line in whys:
            print(line)
    return 0
