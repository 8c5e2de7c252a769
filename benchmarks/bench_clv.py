"""Benchmark the CLV fits against the ``lifetimes`` package.

Simulates a cohort of BG/NBD customers with Gamma-Gamma spend (parameters near
the published CDNOW estimates, in weeks), turns the purchases into one summary
with :func:`summarize_purchases`, then times the BG/NBD and Gamma-Gamma fits of
this package and, when importable, of ``lifetimes`` (``pip install
lifetimes==0.11.3``). Both maxima are evaluated with our exact log-likelihood
and must agree to 1e-6 relative.

Both run single-threaded (BLAS thread pools are limited to one thread before
numpy is imported): on a small, busy machine idle BLAS threads spin and made
timings swing tenfold from run to run.

Run: ``PYTHONPATH=src python benchmarks/bench_clv.py [--customers N] [--smoke]``.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from crmcore_plugins.clv import (  # noqa: E402
    RfmSummary,
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


def simulate(customers: int, seed: int) -> RfmSummary:
    """Simulate first purchases in the first 12 weeks and repeat buying to the end."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BGNBD
    p, q, gamma = TRUE_SPEND
    rate = rng.gamma(r, 1 / alpha, customers) / 7.0  # per day
    drop = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1 / gamma, customers)
    horizon = (CALIBRATION_END - START).days + 1
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
    return summarize_purchases(
        np.concatenate(ids), dates, np.concatenate(amounts),
        calibration_end=CALIBRATION_END, unit_days=7.0,
    )


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


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, simulate, benchmark; exit status 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=23_570, help="cohort size")
    parser.add_argument("--smoke", action="store_true", help="tiny run (500 customers)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions")
    parser.add_argument("--seed", type=int, default=1997)
    args = parser.parse_args(argv)
    customers = 500 if args.smoke else args.customers
    start = time.perf_counter()
    summary = simulate(customers, args.seed)
    print(f"{len(summary)} customers, {int((summary.frequency > 0).sum())} repeat buyers, "
          f"simulated and summarised in {time.perf_counter() - start:.2f} s")
    lifetimes = load_lifetimes()
    ok = bench_bgnbd(summary, lifetimes, args.repeat)
    ok = bench_gamma_gamma(summary, lifetimes, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
