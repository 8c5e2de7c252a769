"""Benchmark and honest evaluation of M1 win probability against the naive Bayes baseline.

Generates a book of closed opportunities whose true win probability is known
(:func:`crmcore.sales.evaluation_book.generate_book`: continuous effects the models
see as bands, correlated features), fits the learned model and the Odoo-style naive
Bayes on the earlier 75 % (by closing day) and scores both, and the known truth, on
the later 25 %: Brier score, expected calibration error, AUC, and the reliability
curve. The same comparison runs on the demo book (``crmcore demo``: at most 150
opportunities, whose outcomes were drawn from a win rate per source), averaged over
``--demo-seeds`` demos because its held-out period holds only about 35 of them.
Then times a full fit, an incremental update (the last 10 % of the history
added to a model of the first 90 %) and the predictions, single-threaded pure Python.

Run: ``PYTHONPATH=src python benchmarks/bench_win_probability.py [--size N]
[--seeds K] [--demo-seeds K] [--smoke]`` (``--smoke``: a small book, for CI).
"""

from __future__ import annotations

import argparse
import statistics
import time

from crmcore.sales.evaluation_book import Comparison, compare_on_book, generate_book
from crmcore.sales.evaluation_demo import demo_truth_book
from crmcore.sales.win_probability import WinProbabilityModel

MODELS = ("win probability", "naive Bayes", "known truth")


def _table(comparisons: list[Comparison]) -> None:
    print(f"{'model':<16} {'Brier':>8} {'ECE':>8} {'AUC':>8}   (mean over {len(comparisons)} "
          "seeds; lower Brier/ECE and higher AUC are better)")
    for name in MODELS:
        scores = [c.score(name) for c in comparisons]
        print(f"{name:<16} {statistics.fmean(s.brier for s in scores):8.4f} "
              f"{statistics.fmean(s.calibration_error for s in scores):8.4f} "
              f"{statistics.fmean(s.auc for s in scores):8.4f}")


def _reliability(comparison: Comparison) -> None:
    print("\nreliability curve of the first seed (bin: n, mean predicted -> observed)")
    for name in MODELS[:2]:
        cells = [f"{b.low:.1f}-{b.high:.1f}: {b.count} {b.mean_predicted:.2f}->{b.observed:.2f}"
                 for b in comparison.score(name).reliability]
        print(f"  {name}: " + "; ".join(cells))


def _timings(size: int) -> None:
    history = [o.closed for o in generate_book(size, seed=1).opportunities]
    split = int(len(history) * 0.9)
    started = time.perf_counter()
    full = WinProbabilityModel.fit(history)
    fit_s = time.perf_counter() - started
    first = WinProbabilityModel.fit(history[:split])
    started = time.perf_counter()
    updated = first.update(history[split:])
    update_s = time.perf_counter() - started
    features = [o.features for o in history]
    started = time.perf_counter()
    full.predict_many(features)
    predict_s = time.perf_counter() - started
    gap = max(abs(full.coefficients[k] - updated.coefficients[k]) for k in full.coefficients)
    print(f"\n{size:,} closed opportunities, {len(full.patterns):,} distinct level patterns, "
          f"{len(full.coefficients)} coefficients")
    print(f"  full fit        {fit_s:8.3f} s  ({full.iterations} Newton steps)")
    print(f"  update (+10 %)  {update_s:8.3f} s  ({updated.iterations} Newton steps from the "
          f"previous fit; largest coefficient gap to the full fit {gap:.1e})")
    print(f"  predict {size:,}  {predict_s:8.3f} s  ({predict_s / size * 1e6:.1f} us each, "
          "with factors)")


def main() -> None:
    """Run the evaluation and the timings; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="closed opportunities")
    parser.add_argument("--seeds", type=int, default=3, help="books to average over")
    parser.add_argument("--demo-seeds", type=int, default=20, help="demo books to average over")
    parser.add_argument("--smoke", action="store_true", help="a small book, for CI")
    arguments = parser.parse_args()
    size, seeds, demos = ((2_000, 1, 1) if arguments.smoke
                          else (arguments.size, arguments.seeds, arguments.demo_seeds))
    comparisons = [compare_on_book(generate_book(size, seed=seed)) for seed in range(1, seeds + 1)]
    print(f"known-truth book: {size:,} closed opportunities; fitted on "
          f"{comparisons[0].fitted_on:,}, scored on the later {comparisons[0].scored_on:,}\n")
    _table(comparisons)
    _reliability(comparisons[0])
    on_demo = []
    for seed in range(7, 7 + demos):
        try:
            on_demo.append(compare_on_book(demo_truth_book(seed)))
        except ValueError as error:  # a demo the generator cannot make: say so, go on
            print(f"demo seed {seed} skipped: {error}")
    print(f"\ndemo book: about {on_demo[0].fitted_on + on_demo[0].scored_on} closed "
          f"opportunities each; fitted on about {on_demo[0].fitted_on}, scored on the later "
          f"{on_demo[0].scored_on}")
    _table(on_demo)
    _timings(size)


if __name__ == "__main__":
    main()
