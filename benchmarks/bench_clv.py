"""Benchmark the CLV fits against the ``lifetimes`` package.

Simulates a cohort of BG/NBD customers with Gamma-Gamma spend (parameters near
the published CDNOW estimates, in weeks), turns the purchases into one summary
with :func:`summarize_purchases`, then times the BG/NBD and Gamma-Gamma fits of
this package and, when importable, of ``lifetimes`` (``pip install
lifetimes==0.11.3``). Both maxima are evaluated with our exact log-likelihood
and must agree to 1e-6 relative.

The pipeline benchmark (``--pipeline-customers``, default 1,000,000, about
ten purchases each) goes from raw purchase columns (customer id, day, amount)
to probability alive, expected purchases and CLV per customer: with
:func:`analyse_purchases`, and with lifetimes' documented route (pandas
DataFrame, ``summary_data_from_transaction_data``, ``BetaGeoFitter``,
``GammaGammaFitter.customer_lifetime_value``). Each side runs in a process of
its own that generates the same purchases and reports its peak resident
memory during the pipeline (``peak_memory.measure``); the ratio of the peaks
is the figure to watch (target: at most 1). "columns" is the same analysis
through the ``clv`` scoring strategy's columnar entry
(``ClvScoring.analyse_columns``), as the CRM runs it on a stored book.

Both run single-threaded (BLAS thread pools are limited to one thread before
numpy is imported): on a small, busy machine idle BLAS threads spin and made
timings swing tenfold from run to run.

Run: ``PYTHONPATH=src python benchmarks/bench_clv.py [--customers N]
[--pipeline-customers N] [--smoke]`` (``--smoke``: a few seconds, for CI).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from peak_memory import measure  # noqa: E402

from crmcore_plugins.clv import (  # noqa: E402
    RfmSummary,
    analyse_purchases,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    summarize_purchases,
)

START = dt.date(1997, 1, 1)
CALIBRATION_END = dt.date(1997, 9, 30)
TRUE_BGNBD = (0.243, 4.414, 0.793, 2.426)  # r, alpha (per week), a, b
TRUE_SPEND = (6.25, 3.74, 15.44)  # p, q, gamma
PIPELINE_BGNBD = (2.0, 10.0, 0.8, 8.0)  # regular buyers: about ten purchases in two years
PIPELINE_END = dt.date(1998, 12, 31)
PERIOD_DAYS = 4.345 * 7  # lifetimes' month in weeks, so that both CLVs use one period
HORIZON_DAYS = 12 * PERIOD_DAYS


def simulate(customers: int, seed: int) -> RfmSummary:
    """Simulate first purchases in the first 12 weeks and repeat buying to the end."""
    ids, dates, amounts = simulate_purchases(customers, seed, TRUE_BGNBD, CALIBRATION_END)
    return summarize_purchases(ids, dates, amounts, calibration_end=CALIBRATION_END,
                               unit_days=7.0)


def simulate_purchases(customers: int, seed: int, bgnbd: tuple[float, float, float, float],
                       end: dt.date) -> tuple[Any, Any, Any]:
    """Raw purchases (int64 ids, datetime64 days, float amounts) of a BG/NBD cohort."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = bgnbd
    p, q, gamma = TRUE_SPEND
    rate = rng.gamma(r, 1 / alpha, customers) / 7.0  # per day
    drop = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1 / gamma, customers)
    horizon = (end - START).days + 1
    now = rng.integers(0, 84, customers).astype(float)
    ids, days, amounts = [], [], []
    active = np.ones(customers, dtype=bool)
    first = True  # BG/NBD: dropout can follow repeat purchases only
    while np.any(active):
        who = np.flatnonzero(active)
        ids.append(who)
        days.append(np.floor(now[who]).astype(np.int64))
        amounts.append(rng.gamma(p, 1 / nu[who]))
        now[who] += rng.exponential(1 / rate[who])
        survives = first | (rng.random(who.size) >= drop[who])
        active[who] = (now[who] < horizon) & survives
        first = False
    dates = np.datetime64(START, "D") + np.concatenate(days)
    return np.concatenate(ids), dates, np.concatenate(amounts)


def best_time(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Return the fastest of ``repeat`` runs and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def report(name: str, ours: float, theirs: float | None) -> None:
    """Print the timings and the speed ratio."""
    line = f"{name:12s} ours {ours * 1e3:9.2f} ms"
    if theirs is not None:
        line += f"   lifetimes {theirs * 1e3:9.2f} ms   ratio {theirs / ours:6.1f}x"
    print(line)


def load_lifetimes() -> Any:
    """Return the ``lifetimes`` module, or None with a message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        print("lifetimes is not importable: timing this package only")
        return None
    return lifetimes


def bench_bgnbd(summary: RfmSummary, lifetimes: Any, repeat: int) -> bool:
    """Time the BG/NBD fits; return whether the maxima agree."""
    x, t_x, t_cal = summary.frequency.astype(float), summary.recency, summary.T
    ours_time, ours = best_time(lambda: fit_bgnbd(x, t_x, t_cal), repeat)
    print(f"BG/NBD ours:      r={ours.r:.4f} alpha={ours.alpha:.4f} a={ours.a:.4f} "
          f"b={ours.b:.4f} LL={ours.log_likelihood:.4f}")
    if lifetimes is None:
        report("BG/NBD", ours_time, None)
        return True
    theirs_time, theirs = best_time(
        lambda: lifetimes.BetaGeoFitter().fit(x, t_x, t_cal), repeat
    )
    params = tuple(float(theirs.params_[k]) for k in ("r", "alpha", "a", "b"))
    their_ll = bgnbd_log_likelihood(params, x, t_x, t_cal)  # type: ignore[arg-type]
    print("BG/NBD lifetimes: r={:.4f} alpha={:.4f} a={:.4f} b={:.4f}".format(*params)
          + f" LL={their_ll:.4f}")
    report("BG/NBD", ours_time, theirs_time)
    return _agree("BG/NBD", ours.log_likelihood, their_ll)


def bench_gamma_gamma(summary: RfmSummary, lifetimes: Any, repeat: int) -> bool:
    """Time the Gamma-Gamma fits; return whether the maxima agree."""
    x, m = summary.frequency.astype(float), summary.monetary_value
    ours_time, ours = best_time(lambda: fit_gamma_gamma(x, m), repeat)
    print(f"Gamma-Gamma ours:      p={ours.p:.4f} q={ours.q:.4f} gamma={ours.gamma:.4f} "
          f"LL={ours.log_likelihood:.4f} (n={ours.n_customers})")
    if lifetimes is None:
        report("Gamma-Gamma", ours_time, None)
        return True
    repeat_buyers = (x > 0) & (m > 0)
    theirs_time, theirs = best_time(
        lambda: lifetimes.GammaGammaFitter().fit(x[repeat_buyers], m[repeat_buyers]), repeat
    )
    p, q, gamma = (float(theirs.params_[k]) for k in ("p", "q", "v"))
    their_ll = gamma_gamma_log_likelihood((p, q, gamma), x, m)
    print(f"Gamma-Gamma lifetimes: p={p:.4f} q={q:.4f} gamma={gamma:.4f} LL={their_ll:.4f}")
    report("Gamma-Gamma", ours_time, theirs_time)
    return _agree("Gamma-Gamma", ours.log_likelihood, their_ll)


def _agree(name: str, ours: float, theirs: float) -> bool:
    """Print and return whether two log-likelihoods agree to 1e-6 relative."""
    relative = abs(ours - theirs) / abs(ours)
    verdict = "OK" if relative <= 1e-6 else "MISMATCH"
    print(f"{name} log-likelihood relative difference {relative:.2e}: {verdict}")
    return relative <= 1e-6


def pipeline_ours(ids: Any, dates: Any, amounts: Any) -> dict[str, Any]:
    """Raw purchases to P(alive), expected purchases and CLV with this package."""
    analysis = analyse_purchases(ids, dates, amounts, calibration_end=PIPELINE_END,
                                 unit_days=7.0, horizon_days=HORIZON_DAYS,
                                 period_days=PERIOD_DAYS, discount_rate_per_period=0.01)
    return means(analysis.probability_alive, analysis.expected_purchases, analysis.clv)


def means(alive: Any, expected: Any, clv: Any) -> dict[str, Any]:
    """The number of customers and the mean of each prediction, to compare the sides."""
    assert clv is not None, "CLV unavailable"
    return {"customers": len(alive), "mean_alive": float(np.nanmean(alive)),
            "mean_expected": float(np.nanmean(expected)), "mean_clv": float(np.nanmean(clv))}


def pipeline_columns(ids: Any, dates: Any, amounts: Any) -> dict[str, Any]:
    """The same through the ``clv`` scoring strategy's columnar entry, as the CRM reads a book."""
    from crmcore.grading.columns import US_PER_DAY, TransactionColumns
    from crmcore_plugins.scoring_clv import ClvScoring

    columns = TransactionColumns(
        ids=tuple(f"c{code}" for code in range(int(ids.max()) + 1)), customer=ids,
        at_us=dates.astype(np.int64) * US_PER_DAY,
        amount_cents=np.round(amounts * 100).astype(np.int64))
    as_of = dt.datetime.combine(PIPELINE_END, dt.time(23, 59), dt.UTC)  # T to that day
    strategy = ClvScoring(horizon_days=HORIZON_DAYS, period_days=PERIOD_DAYS)
    analysis = strategy.analyse_columns(columns, as_of=as_of)
    assert analysis is not None
    return means(analysis.probability_alive, analysis.expected_purchases, analysis.clv)


def pipeline_lifetimes(ids: Any, dates: Any, amounts: Any) -> dict[str, Any]:
    """The same with lifetimes' documented route (pandas summary, fitters, CLV)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    frame = pd.DataFrame({"id": ids, "date": dates, "amount": amounts})
    summary = summary_data_from_transaction_data(
        frame, "id", "date", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(PIPELINE_END), freq="D", freq_multiplier=7)
    del frame
    x, t_x, t_cal = summary["frequency"], summary["recency"], summary["T"]
    counts = BetaGeoFitter().fit(x, t_x, t_cal)
    alive = counts.conditional_probability_alive(x, t_x, t_cal)
    expected = counts.conditional_expected_number_of_purchases_up_to_time(
        HORIZON_DAYS / 7.0, x, t_x, t_cal)
    repeat = summary[(x > 0) & (summary["monetary_value"] > 0)]
    spend = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    clv = spend.customer_lifetime_value(counts, x, t_x, t_cal, summary["monetary_value"],
                                        time=12, discount_rate=0.01, freq="W")
    return means(alive, expected, clv)


PIPELINES = {"crmcore": pipeline_ours, "columns": pipeline_columns,
             "lifetimes": pipeline_lifetimes}


def pipeline_worker(side: str, customers: int, seed: int) -> None:
    """Subprocess: generate purchases, warm up, run one pipeline, print its memory (JSON)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = PIPELINES[side]
        run(*simulate_purchases(500, seed + 1, PIPELINE_BGNBD, PIPELINE_END))  # imports
        purchases = simulate_purchases(customers, seed, PIPELINE_BGNBD, PIPELINE_END)
        result: dict[str, Any] = {}
        report = measure(lambda: result.update(run(*purchases)))
    print(json.dumps({**report, **result, "purchases": int(purchases[0].size)}))


def bench_pipeline(customers: int, seed: int, with_lifetimes: bool) -> None:
    """Run each pipeline in its own process; print times, peak memory and the ratio."""
    reports = {}
    for side in PIPELINES if with_lifetimes else ("crmcore", "columns"):
        done = subprocess.run(
            [sys.executable, __file__, "--pipeline-worker", side,
             "--pipeline-customers", str(customers), "--seed", str(seed)],
            check=True, capture_output=True, text=True)
        reports[side] = json.loads(done.stdout.strip().splitlines()[-1])
    first = next(iter(reports.values()))
    print(f"pipeline: {first['customers']:,} customers, {first['purchases']:,} purchases "
          "-> P(alive), expected purchases, CLV")
    print(f"{'':10}{'seconds':>9}{'peak MiB':>10}{'extra MiB':>10}{'mean P(alive)':>15}"
          f"{'mean E[Y]':>11}{'mean CLV':>10}")
    for side, report in reports.items():
        extra = (report["peak_kib"] - report["baseline_kib"]
                 if report["baseline_kib"] is not None else float("nan"))
        print(f"{side:10}{report['seconds']:>9.2f}{report['peak_kib'] / 1024:>10.0f}"
              f"{extra / 1024:>10.0f}{report['mean_alive']:>15.4f}"
              f"{report['mean_expected']:>11.4f}{report['mean_clv']:>10.2f}")
    if "lifetimes" in reports:
        ours, theirs = reports["crmcore"], reports["lifetimes"]
        print(f"peak memory ratio crmcore/lifetimes: {ours['peak_kib'] / theirs['peak_kib']:.2f}"
              " (target <= 1)")
        if ours["baseline_kib"] is not None:
            ratio = ((ours["peak_kib"] - ours["baseline_kib"])
                     / max(theirs["peak_kib"] - theirs["baseline_kib"], 1))
            print(f"extra memory ratio crmcore/lifetimes: {ratio:.2f}")
        print(f"time ratio crmcore/lifetimes: {ours['seconds'] / theirs['seconds']:.2f}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, simulate, benchmark; exit status 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=23_570, help="cohort size")
    parser.add_argument("--smoke", action="store_true", help="tiny run (500 customers)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions")
    parser.add_argument("--seed", type=int, default=1997)
    parser.add_argument("--pipeline-customers", type=int, default=1_000_000,
                        help="customers of the raw-purchases-to-CLV pipeline (0: skip it)")
    parser.add_argument("--pipeline-worker", choices=tuple(PIPELINES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pipeline_worker:
        pipeline_worker(args.pipeline_worker, args.pipeline_customers, args.seed)
        return 0
    customers = 500 if args.smoke else args.customers
    start = time.perf_counter()
    summary = simulate(customers, args.seed)
    print(f"{len(summary)} customers, {int((summary.frequency > 0).sum())} repeat buyers, "
          f"simulated and summarised in {time.perf_counter() - start:.2f} s")
    lifetimes = load_lifetimes()
    ok = bench_bgnbd(summary, lifetimes, args.repeat)
    ok = bench_gamma_gamma(summary, lifetimes, args.repeat) and ok
    pipeline_customers = 2_000 if args.smoke else args.pipeline_customers
    if pipeline_customers:
        bench_pipeline(pipeline_customers, args.seed, lifetimes is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
