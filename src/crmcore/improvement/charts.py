"""Pictures of an improvement loop: a Pareto chart of causes, a run chart across cycles.

matplotlib is an optional extra (``pip install 'crmcore[charts]'``); it is
imported only when a chart is drawn, and its absence raises
:class:`ChartsUnavailableError` saying so. The format follows the file's
suffix (``.svg`` or ``.png``). SVG output is reproducible: the same data
gives the same file, so generated charts can be committed.

:func:`run_points` (no matplotlib needed) turns a chain of carried-over
cycles into the points of a run chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from crmcore.errors import CrmError, ValidationError
from crmcore.i18n import N_, SOURCE_LANGUAGE, current_language, tr
from crmcore.i18n_terms import term
from crmcore.improvement.cycle import Cycle
from crmcore.improvement.measures import MeasureKind, measure_definition
from crmcore.improvement.pareto import ParetoTable

if TYPE_CHECKING:
    from matplotlib.figure import Figure

POINT_KINDS = (N_("baseline"), N_("result"))
"""The kinds of run-chart point, shown as words under each point."""

FORMATS = ("svg", "png")
"""The image formats the charts are written in."""

_VITAL = "#c0392b"
_TRIVIAL = "#95a5a6"
_LINE = "#2c3e50"
_TARGET = "#27ae60"


class ChartsUnavailableError(CrmError):
    """matplotlib is not installed."""


@attrs.frozen
class RunPoint:
    """One point of a run chart: a measured value, the target in force, and its origin.

    ``kind`` is ``baseline`` or ``result``; ``cycle`` the cycle it belongs to;
    ``verdict`` the check verdict of a result.
    """

    label: str
    value: float | None
    n: int
    small_sample: bool
    target: float | None
    cycle: str
    kind: str
    verdict: str | None = None


def run_points(chain: Sequence[Cycle], measure: str) -> list[RunPoint]:
    """The first baseline of ``measure`` and every checked result along ``chain``.

    A carried-over cycle's baseline is its parent's result, so it is not
    repeated.
    """
    measure_definition(measure)
    points: list[RunPoint] = []
    for cycle in chain:
        goal = next((t.goal for t in cycle.plan.targets if t.measure == measure), None)
        baseline = cycle.plan.baseline(measure)
        if not points and baseline is not None:
            points.append(RunPoint(baseline.period.label, baseline.value, baseline.n,
                                   baseline.small_sample, goal, cycle.id, "baseline"))
        for result in cycle.results:
            if result.target.measure == measure and not any(
                    p.cycle == cycle.id and p.kind == "result" for p in points):
                value = result.result
                points.append(RunPoint(value.period.label, value.value, value.n,
                                       value.small_sample, result.target.goal, cycle.id,
                                       "result", result.verdict.value))
    return points


def _figure() -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ChartsUnavailableError(
            "charts need matplotlib, which is not installed: pip install 'crmcore[charts]'"
        ) from error
    return Figure(figsize=(7.5, 4.2), layout="constrained")


def _format(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValidationError("path", str(path), "must end in .svg or .png")
    return kind


def _save(figure: Figure, path: Path) -> Path:
    import warnings

    import matplotlib

    kind = _format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "crmcore", "svg.fonttype": "none"}), \
            warnings.catch_warnings():
        if kind == "svg" and current_language() != SOURCE_LANGUAGE:
            # SVG keeps its texts as text: the viewer's fonts show the Chinese, whether
            # or not matplotlib has a font with those glyphs to measure them
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        figure.savefig(path, format=kind, dpi=110,
                       metadata={"Date": None} if kind == "svg" else {"Software": None})
    return path


def pareto_chart(table: ParetoTable, path: str | Path, *, title: str | None = None) -> Path:
    """Draw ``table``: bars by count (the vital few marked), the cumulative share line; the
    texts in the current language (``title`` default: "Pareto chart of causes")."""
    target = Path(path)
    _format(target)
    figure = _figure()
    bars = figure.add_subplot()
    labels = [term(row.category) for row in table.rows]  # a code's word, else as written
    positions = list(range(len(labels)))
    bars.bar(positions, [row.count for row in table.rows],
             color=[_VITAL if row.vital else _TRIVIAL for row in table.rows])
    bars.set_xticks(positions, labels, rotation=30, ha="right")
    bars.set_ylabel(tr("count"))
    figure.suptitle(title or tr("Pareto chart of causes"))
    vital = ", ".join(table.vital_few) or tr("none")
    bars.set_title(tr("vital few (cumulative share to {threshold:.0%}): {vital}").format(
        threshold=table.threshold, vital=vital), fontsize=8)
    share = bars.twinx()
    share.plot(positions, [100 * row.cumulative for row in table.rows], color=_LINE,
               marker="o")
    share.axhline(100 * table.threshold, color=_LINE, linestyle=":", linewidth=1)
    share.set_ylim(0, 105)
    share.set_ylabel(tr("cumulative share (%)"))
    return _save(figure, target)


def run_chart(points: Sequence[RunPoint], path: str | Path, *, measure: str,
              title: str | None = None) -> Path:
    """Draw ``points`` in order, the target in force as a step line, small samples hollow."""
    target_path = Path(path)
    _format(target_path)
    definition = measure_definition(measure)
    scale = 100.0 if definition.kind is MeasureKind.PROPORTION else 1.0
    figure = _figure()
    axes = figure.add_subplot()
    positions = list(range(len(points)))
    values = [p.value * scale if p.value is not None else float("nan") for p in points]
    axes.plot(positions, values, color=_LINE, linewidth=1.5)
    for position, point, value in zip(positions, points, values, strict=True):
        axes.plot([position], [value], marker="o", markersize=7, color=_LINE,
                  markerfacecolor="white" if point.small_sample else _LINE)
        note = f"n={point.n}" + (f", {term(point.verdict)}" if point.verdict else "")
        axes.annotate(note, (position, value), textcoords="offset points",
                      xytext=(0, 9), ha="center", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    goals = [p.target * scale if p.target is not None else float("nan") for p in points]
    axes.step(positions, goals, where="mid", color=_TARGET, linestyle="--", label=tr("target"))
    axes.set_xticks(positions, [f"{p.label}\n{p.cycle} {term(p.kind)}" for p in points],
                    fontsize=7)
    unit = " (%)" if scale == 100.0 else ""
    axes.margins(x=0.08, y=0.2)
    label = term(definition.label)
    axes.set_ylabel(f"{label}{unit}")
    axes.set_title(title or tr("{measure} across cycles").format(measure=label))
    axes.legend(loc="best", fontsize=8)
    return _save(figure, target_path)
