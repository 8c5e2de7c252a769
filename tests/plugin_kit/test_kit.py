"""The plugin kit itself: light to import, listed in the slim extra, and able to fail."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import crmcore.testing
from crmcore.model import Transaction
from crmcore.service import BusinessCalendar
from crmcore.testing.calendar_contract import CalendarContract
from crmcore.testing.scoring_contract import ScoringContract

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("sqlalchemy", "psycopg", "matplotlib", "scipy", "apprise", "pandas", "numpy")

KIT_MODULES = (
    "crmcore.testing", "crmcore.testing.pytest_plugin", "crmcore.testing.factories",
    "crmcore.testing.strategies", "crmcore.testing.storage_contract",
    "crmcore.testing.notifier_contract", "crmcore.testing.scoring_contract",
    "crmcore.testing.calendar_contract",
)


def test_the_kit_imports_none_of_the_heavy_extras() -> None:
    """Every module of the kit loads with pytest and hypothesis alone (the plugin-kit extra)."""
    code = ("import importlib, json, sys\n"
            f"for name in {KIT_MODULES!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    loaded = json.loads(done.stdout)
    assert "crmcore.testing.calendar_contract" in loaded
    assert [name for name in loaded if name.split(".")[0] in HEAVY] == []


def test_plugin_kit_extra_is_pytest_and_hypothesis_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    kit = project["optional-dependencies"]["plugin-kit"]
    assert sorted(requirement.split(">")[0] for requirement in kit) == ["hypothesis", "pytest"]
    assert "crmcore.testing.pytest_plugin" in project["entry-points"]["pytest11"].values()


def test_every_contract_is_exported_lazily() -> None:
    assert crmcore.testing.ScoringContract is ScoringContract
    assert crmcore.testing.CalendarContract is CalendarContract


class LooksAhead:
    """A broken strategy: it scores purchases made after ``as_of`` too."""

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> dict[str, float]:
        return {t.customer_id: 1.0 for t in transactions}


class Infinite:
    """A broken strategy: an infinite score."""

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> dict[str, float]:
        return {t.customer_id: float("inf") for t in transactions if t.occurred_at < as_of}


def test_the_scoring_contract_fails_a_broken_strategy() -> None:
    contract = ScoringContract()
    with pytest.raises(AssertionError):
        contract.test_no_purchases_no_scores(LooksAhead())
    with pytest.raises((AssertionError, ExceptionGroup)):  # hypothesis may find several
        contract.test_scores_every_buyer_finite_and_deterministic(Infinite())


class Hasty(BusinessCalendar):
    """A broken calendar: its next working moment is an hour early."""

    def next_working_moment(self, moment: datetime) -> datetime:
        return super().next_working_moment(moment) - timedelta(hours=1)


def test_the_calendar_contract_fails_a_broken_calendar() -> None:
    hasty = Hasty(name="hasty", time_zone="Europe/Paris", week={"monday": ["09:00-17:00"]})
    contract = CalendarContract()
    span = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises((AssertionError, ExceptionGroup)):  # hypothesis may find several
        contract.test_next_working_moment_is_working_and_never_earlier(hasty, span)
