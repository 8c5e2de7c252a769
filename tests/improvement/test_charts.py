"""Pictures (P1, P3): a Pareto chart of causes and a run chart across cycles."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmcore.errors import ValidationError
from crmcore.improvement import (
    ChartsUnavailableError,
    Cycle,
    Problem,
    Target,
    judge,
    pareto,
    pareto_chart,
    parse_period,
    record_results,
    revise_plan,
    run_chart,
    run_points,
)
from crmcore.improvement.measures import proportion

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
TABLE = pareto({"late delivery": 18, "billing": 8, "price": 4})


def _chain() -> list[Cycle]:
    q1, q2 = parse_period("2026-Q1"), parse_period("2026-Q2")
    target = Target("complaint_rate", 0.15, "complaints")
    cycle = revise_plan(
        Cycle(id="PDCA-001", title="t", opened_at=datetime(2026, 4, 1, tzinfo=UTC),
              opened_by="ann", baseline_period=q1),
        problems=[Problem("complaints", "too many")],
        baselines=[proportion("complaint_rate", q1, 30, 100)], targets=[target])
    baseline = cycle.plan.baseline("complaint_rate")
    cycle = record_results(cycle, [judge(target, baseline,
                                         proportion("complaint_rate", q2, 20, 100))])
    return [cycle]


def test_p1_run_points_follow_the_chain() -> None:
    points = run_points(_chain(), "complaint_rate")
    assert [(p.label, p.kind, p.value, p.target) for p in points] == [
        ("2026-Q1", "baseline", 0.3, 0.15), ("2026-Q2", "result", 0.2, 0.15)]
    assert points[1].verdict == "missed"
    assert run_points(_chain(), "nps") == []


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_p1_pareto_and_run_charts_are_valid_images(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    written = [pareto_chart(TABLE, tmp_path / f"pareto.{suffix}"),
               run_chart(run_points(_chain(), "complaint_rate"), tmp_path / f"run.{suffix}",
                         measure="complaint_rate")]
    for path in written:
        data = path.read_bytes()
        if suffix == "png":
            assert data.startswith(PNG_MAGIC)
        else:
            assert ElementTree.fromstring(data).tag == SVG_ROOT
            assert b"late delivery" in data or b"complaint rate" in data


def test_p1_svg_charts_are_reproducible(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    first = pareto_chart(TABLE, tmp_path / "a.svg").read_bytes()
    assert pareto_chart(TABLE, tmp_path / "b.svg").read_bytes() == first


def test_p1_chart_format_follows_the_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"\.svg or \.png"):
        pareto_chart(TABLE, tmp_path / "chart.gif")


def test_p1_missing_matplotlib_says_which_extra_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ChartsUnavailableError, match=r"pip install 'crmcore\[charts\]'"):
        pareto_chart(TABLE, tmp_path / "chart.svg")
