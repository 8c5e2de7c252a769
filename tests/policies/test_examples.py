"""The examples in the policy modules' docstrings run, and the SLA benchmark's smoke run agrees."""

from __future__ import annotations

import doctest
import importlib
import runpy
import sys
from pathlib import Path

import pytest

MODULES = ("appointments", "care", "complaints", "contact", "escalation", "expiry", "sla")
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_sla.py"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"crmcore.policies.{name}")
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted
    assert not failed


def test_s4_benchmark_smoke_run_agrees_with_the_plain_loop(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", [str(BENCHMARK), "--smoke"])
    with pytest.raises(SystemExit) as exit_status:
        runpy.run_path(str(BENCHMARK), run_name="__main__")
    assert exit_status.value.code == 0
    assert "both agree on every ticket" in capsys.readouterr().out
