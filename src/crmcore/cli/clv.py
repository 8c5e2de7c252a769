"""``crmcore clv TRANSACTIONS``: fit lifetime-value models and predict per customer."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from crmcore.cli.common import (
    CommandError,
    Progress,
    add_format_argument,
    print_json,
    print_table,
)
from crmcore.cli.importing import add_layout_arguments, layout_from, open_input
from crmcore.csv_import import read_transactions
from crmcore.i18n import N_, display_width, tr

MODEL_LABELS = {"calibration_end": N_("calibration_end"), "unit_days": N_("unit_days"),
                "horizon_days": N_("horizon_days"), "customers": N_("customers"),
                "bgnbd": N_("bgnbd"), "gamma_gamma": N_("gamma_gamma"),
                "clv_unavailable": N_("clv_unavailable")}
"""The label of each model line of the table (the JSON keys, words of the catalogue)."""
TABLE_HEADERS = (N_("customer"), N_("frequency"), N_("recency"), "T", N_("p_alive"),
                 N_("expected"), N_("clv"))
"""The columns of the customer table (``T`` is the model's own symbol)."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``clv``."""
    parser = commands.add_parser(
        "clv", help="fit BG/NBD + Gamma-Gamma to purchases and predict value per customer")
    parser.add_argument("file", metavar="TRANSACTIONS",
                        help="a CSV of purchases, or a CDNOW-format text file with --cdnow")
    parser.add_argument("--cdnow", action="store_true",
                        help="read the CDNOW sample format (id, sample id, YYYYMMDD, CDs, $)")
    parser.add_argument("--calibration-end", metavar="DATE",
                        help="fit on purchases up to this date (default: the last purchase)")
    parser.add_argument("--horizon", type=float, default=365.0, metavar="DAYS",
                        help="days ahead for expected purchases and CLV (default: 365)")
    parser.add_argument("--unit-days", type=float, default=7.0, metavar="DAYS",
                        help="the model's time unit in days (default: 7, weeks)")
    parser.add_argument("--discount", type=float, default=0.01, metavar="RATE",
                        help="discount rate per 30-day period for CLV (default: 0.01)")
    parser.add_argument("--limit", type=int, default=20, metavar="N",
                        help="table: show the N customers of highest CLV (default: 20)")
    add_format_argument(parser, "table", "json")
    add_layout_arguments(parser)
    parser.set_defaults(run=run_clv)


def _purchases(arguments: argparse.Namespace) -> tuple[list[str], list[dt.date], list[float]]:
    if arguments.cdnow:
        from crmcore_plugins.clv import read_cdnow

        cdnow = read_cdnow(arguments.file)
        return ([str(i) for i in cdnow.customer_ids], list(cdnow.dates.astype(object)),
                [float(a) for a in cdnow.amounts])
    progress = Progress(tr("reading {file}").format(file=arguments.file))
    layout = layout_from(arguments)
    rows = list(read_transactions(open_input(arguments, arguments.file, layout).lines(),
                                  layout, progress=progress))
    progress.done()
    return ([t.customer_id for t in rows], [t.occurred_at.date() for t in rows],
            [float(t.amount) for t in rows])


def run_clv(arguments: argparse.Namespace) -> int:
    """Fit, predict and print."""
    try:
        from crmcore_plugins.clv import analyse_purchases
    except ImportError:
        raise CommandError(tr("crmcore clv needs numpy and scipy: {install}").format(
            install="pip install 'crmcore[clv]'")) from None
    ids, dates, amounts = _purchases(arguments)
    if not ids:
        raise CommandError(tr("{file!r} holds no purchases").format(file=arguments.file))
    end = (dt.date.fromisoformat(arguments.calibration_end) if arguments.calibration_end
           else max(dates))
    analysis = analyse_purchases(ids, dates, amounts, calibration_end=end,
                                 unit_days=arguments.unit_days, horizon_days=arguments.horizon,
                                 discount_rate_per_period=arguments.discount)
    model = _model(analysis, end)
    customers = _customers(analysis)
    if arguments.format == "json":
        print_json({"model": model, "customers": customers})
        return 0
    for key, value in model.items():
        label = tr(MODEL_LABELS[key])
        print(f"{label}{' ' * max(24 - display_width(label), 0)} {value}")
    print()
    ranked = sorted(customers, key=lambda c: (-(c["clv"] or 0.0), c["customer_id"]))
    print_table([(c["customer_id"], c["frequency"], f"{c['recency']:.2f}", f"{c['T']:.2f}",
                  f"{c['probability_alive']:.3f}", f"{c['expected_purchases']:.3f}",
                  "-" if c["clv"] is None else f"{c['clv']:,.2f}")
                 for c in ranked[: arguments.limit]],
                tuple(map(tr, TABLE_HEADERS)))
    return 0


def _model(analysis: Any, end: dt.date) -> dict[str, Any]:
    counts, spend = analysis.counts, analysis.spend
    model: dict[str, Any] = {
        "calibration_end": end.isoformat(), "unit_days": analysis.summary.unit_days,
        "horizon_days": analysis.horizon_days, "customers": len(analysis.summary),
        "bgnbd": {"r": counts.r, "alpha": counts.alpha, "a": counts.a, "b": counts.b,
                  "log_likelihood": counts.log_likelihood},
    }
    if spend is not None:
        model["gamma_gamma"] = {"p": spend.p, "q": spend.q, "gamma": spend.gamma,
                                "log_likelihood": spend.log_likelihood,
                                "repeat_buyers": spend.n_customers,
                                "zero_spend_excluded": spend.n_zero_spend_excluded}
    if analysis.clv_unavailable:
        model["clv_unavailable"] = analysis.clv_unavailable
    return model


def _customers(analysis: Any) -> list[dict[str, Any]]:
    summary = analysis.summary
    return [
        {"customer_id": str(summary.customer_ids[i]), "frequency": int(summary.frequency[i]),
         "recency": float(summary.recency[i]), "T": float(summary.T[i]),
         "probability_alive": float(analysis.probability_alive[i]),
         "expected_purchases": float(analysis.expected_purchases[i]),
         "clv": None if analysis.clv is None else float(analysis.clv[i])}
        for i in range(len(summary))
    ]
