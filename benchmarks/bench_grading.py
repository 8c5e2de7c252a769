"""Benchmark grading against the pandas script an analyst would write.

Generates ``--transactions`` purchases of ``--customers`` customers in memory
(numpy; nothing is written to disk), then grades them with pareto-abc,
pyramid and rfm twice: with crmcore's columnar fast path and with a plain
pandas script (groupby, rank, cut). It first checks that both give the same
grade to every customer, then prints the times of that same run and the
ratios.

Peak memory: each side runs once more in a subprocess of its own that
generates the same data, resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``), grades and reports ``VmHWM`` (the peak resident
set) from ``/proc/self/status``; "extra" is that peak minus the resident set
just before grading, i.e. what grading itself needed on top of the input.
Where ``/proc`` is unavailable, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
(which includes data generation) is reported instead.

The pandas script keeps amounts in integer cents, as crmcore does, so both
sum money exactly and agree on ties; rank(method="min") is crmcore's tie rule
and the cut-off ranks are rounded half up as crmcore documents.

Run: ``python benchmarks/bench_grading.py [--customers N] [--transactions N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from peak_memory import status_kib

from crmcore.grading import (
    TransactionColumns,
    compute_metrics,
    grade_metrics,
    load_scheme,
    window_start,
)
from crmcore.grading.columns import to_micros

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
SCHEMES = ("pareto-abc", "pyramid", "rfm")
HISTORY_SECONDS = 730 * 86_400


def generate(customers: int, transactions: int, seed: int) -> dict[str, Any]:
    """Skewed purchase counts, two years of history, log-normal amounts in cents."""
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, customers)
    cumulative = np.cumsum(activity)
    codes = np.searchsorted(cumulative, rng.random(transactions) * cumulative[-1])
    codes = np.minimum(codes, customers - 1).astype(np.int64)
    seconds = rng.integers(1, HISTORY_SECONDS, transactions)
    at_us = to_micros(AS_OF) - seconds * 1_000_000
    scale = rng.lognormal(4.0, 1.0, customers)
    amounts = scale[codes] * rng.lognormal(0.0, 0.4, transactions)
    cents = (np.round(amounts * 2) * 50).astype(np.int64)  # half units: some ties
    return {"customers": customers, "codes": codes, "at_us": at_us, "cents": cents}


# -- crmcore ------------------------------------------------------------------------------

def crmcore_grades(data: dict[str, Any]) -> dict[str, list[str]]:
    """crmcore's fast path: columns -> metrics -> three schemes."""
    columns = TransactionColumns(data["ids"], data["codes"], data["at_us"], data["cents"])
    metrics = compute_metrics(columns, AS_OF, window_months=12)
    return {name: _names(grade_metrics(load_scheme(name), metrics)) for name in SCHEMES}


def _names(table: Any) -> Any:
    """Grade codes mapped to names as a numpy array of strings (cheap)."""
    names = np.asarray(table.scheme.grade_names, dtype=object)
    return names[np.asarray(table.codes)]


# -- pandas: what an analyst would write ----------------------------------------------------

def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def pandas_grades(data: dict[str, Any]) -> dict[str, Any]:
    """The analyst's script: groupby, rank(method="min"), cut."""
    import pandas as pd

    n = data["customers"]
    as_of = pd.Timestamp(AS_OF)
    start = pd.Timestamp(window_start(AS_OF, 12))
    df = pd.DataFrame({"customer": data["codes"],
                       "at": pd.to_datetime(data["at_us"], unit="us", utc=True),
                       "amount": data["cents"]})
    df = df[df["at"] < as_of]
    df["day"] = df["at"].dt.floor("D")
    window = df[df["at"] >= start]
    per_customer = window.groupby("customer").agg(revenue=("amount", "sum"),
                                                  frequency=("day", "nunique"))
    last = df.groupby("customer")["day"].max()
    m = pd.DataFrame(index=pd.RangeIndex(n)).join(per_customer).join(last.rename("last"))
    m["revenue"] = m["revenue"].fillna(0) / 100
    m["frequency"] = m["frequency"].fillna(0)
    m["recency"] = (as_of.floor("D") - m["last"]).dt.days

    def by_rank(values: pd.Series, shares: list[float], labels: list[Any],
                eligible: pd.Series) -> pd.Series:
        rank = values.rank(method="min", ascending=False)
        edges, total = [0], 0.0
        for share in shares:
            total += share
            edges.append(_round_half_up(total * n))
        edges.append(n + 1)
        graded = pd.cut(rank, bins=edges, labels=labels, right=True)
        return graded.where(eligible, labels[-1])

    out = {
        "pareto-abc": by_rank(m["revenue"], [0.05, 0.20], ["A", "B", "C"], m["revenue"] > 0),
        "pyramid": by_rank(m["revenue"], [0.01, 0.04, 0.15],
                           ["VIP", "major", "ordinary", "small"], m["revenue"] > 0),
    }
    fifths = [0.2] * 4
    scores = [5, 4, 3, 2, 1]
    r = by_rank(-m["recency"], fifths, scores, m["recency"].notna()).astype(int)
    f = by_rank(m["frequency"], fifths, scores, m["frequency"] > 0).astype(int)
    mon = by_rank(m["revenue"], fifths, scores, m["revenue"] > 0).astype(int)
    fm = (f + mon) / 2
    conditions = [
        (r >= 4) & (fm >= 4), (r >= 3) & (fm >= 3.5), (r == 1) & (fm >= 4),
        (r <= 2) & (fm >= 3), (r >= 4) & (f == 1), (r >= 4) & (fm >= 2.5), r >= 4,
        (r == 3) & (fm >= 2.5), r >= 2,
    ]
    segments = ["Champions", "Loyal", "Can't lose", "At risk", "New", "Potential loyalists",
                "Promising", "Need attention", "About to sleep"]
    out["rfm"] = pd.Series(np.select(conditions, segments, default="Hibernating"))
    return {name: np.asarray(series.astype(object)) for name, series in out.items()}


# -- running ----------------------------------------------------------------------------

METHODS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "crmcore": crmcore_grades, "pandas": pandas_grades,
}


def prepare(customers: int, transactions: int, seed: int) -> dict[str, Any]:
    data = generate(customers, transactions, seed)
    data["ids"] = tuple(str(i) for i in range(customers))
    return data


def timed(method: str, data: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = METHODS[method](data)
    return time.perf_counter() - start, result


def worker(method: str, customers: int, transactions: int, seed: int) -> None:
    """Subprocess: generate, reset the peak mark, grade, report peak memory (KiB)."""
    data = prepare(customers, transactions, seed)
    METHODS[method](prepare(2_000, 20_000, seed))  # warm up: imports, caches
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        reset = True
    except OSError:
        reset = False
    baseline = status_kib("VmRSS") if reset else None
    seconds, _ = timed(method, data)
    peak = status_kib("VmHWM") if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kib": peak, "baseline_kib": baseline, "seconds": seconds}))


def measure_memory(method: str, arguments: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", method,
               "--customers", str(arguments.customers),
               "--transactions", str(arguments.transactions), "--seed", str(arguments.seed)]
    done = subprocess.run(command, check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--worker", choices=tuple(METHODS), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.customers, arguments.transactions = 2_000, 20_000
    if arguments.worker:
        worker(arguments.worker, arguments.customers, arguments.transactions, arguments.seed)
        return
    print(f"{arguments.customers:,} customers, {arguments.transactions:,} transactions, "
          f"as of {AS_OF.date()}, schemes {', '.join(SCHEMES)}")
    data = prepare(arguments.customers, arguments.transactions, arguments.seed)
    for method in METHODS:  # warm up: imports, caches
        timed(method, prepare(2_000, 20_000, arguments.seed))
    pandas_seconds, expected = timed("pandas", data)
    crm_seconds, got = timed("crmcore", data)
    for name in SCHEMES:
        same = np.array_equal(np.asarray(expected[name], dtype=object),
                              np.asarray(got[name], dtype=object))
        if not same:
            differ = np.flatnonzero(np.asarray(expected[name]) != np.asarray(got[name]))
            raise SystemExit(f"{name}: grades differ for {differ.size} customers, e.g. "
                             f"customer {differ[0]}: pandas {expected[name][differ[0]]}, "
                             f"crmcore {got[name][differ[0]]}")
    print("grades identical for every customer and scheme")
    memory = {method: measure_memory(method, arguments) for method in METHODS}
    print(f"{'':10}{'seconds':>10}{'peak MiB':>12}{'extra MiB':>12}")
    for method, seconds in (("pandas", pandas_seconds), ("crmcore", crm_seconds)):
        report = memory[method]
        extra = (report["peak_kib"] - report["baseline_kib"]
                 if report["baseline_kib"] is not None else math.nan)
        print(f"{method:10}{seconds:>10.2f}{report['peak_kib'] / 1024:>12.0f}"
              f"{extra / 1024:>12.0f}")
    pandas_peak, crm_peak = memory["pandas"]["peak_kib"], memory["crmcore"]["peak_kib"]
    print(f"time ratio crmcore/pandas: {crm_seconds / pandas_seconds:.2f} "
          f"(target <= 1)")
    print(f"peak memory ratio crmcore/pandas: {crm_peak / pandas_peak:.2f} (target <= 2)")
    if memory["pandas"]["baseline_kib"] is not None:
        pandas_extra = pandas_peak - memory["pandas"]["baseline_kib"]
        crm_extra = crm_peak - memory["crmcore"]["baseline_kib"]
        print(f"extra memory ratio crmcore/pandas: {crm_extra / max(pandas_extra, 1):.2f}")


if __name__ == "__main__":
    main()
