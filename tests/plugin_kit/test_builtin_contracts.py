"""The built-in scoring strategies and calendars pass the plugin kit's contract suites.

Each component is built as configuration builds it: its factory, found by name in
a plugin manager, given its options.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.ports import ScoringStrategy
from crmcore.service import BusinessCalendar
from crmcore.testing.calendar_contract import CalendarContract, Span
from crmcore.testing.scoring_contract import ScoringContract

# Working hours with a lunch break, an overnight Friday shift and a Sunday evening up
# to midnight, a holiday and a make-up working Saturday: every shape the format has.
OFFICE = """\
name = "cn-office"
time_zone = "Asia/Shanghai"
holidays = [2026-10-01, "2026-10-02"]

[week]
monday = ["09:00-12:00", "13:00-18:00"]
tuesday = ["09:00-12:00", "13:00-18:00"]
wednesday = ["09:00-18:00"]
thursday = ["09:00-18:00"]
friday = ["09:00-12:00", "13:00-18:00", "22:00-06:00"]
sunday = ["18:00-24:00"]

[[extra_working_days]]
date = "2026-09-26"
like_weekday = "monday"
"""


@pytest.fixture(scope="module")
def host() -> PluginHost:
    """The built-in plugins only."""
    return PluginHost(make_plugin_manager(load_entry_points=False))


def scoring(host: PluginHost, name: str, options: dict[str, Any]) -> ScoringStrategy:
    """Scoring strategy ``name`` from its registered factory and ``options``."""
    built = host.scoring_strategies().get(name)(Options(options, "scoring"))
    return built


class TestRfm(ScoringContract):
    """``rfm``: RFM quintile means, from objects only."""

    @pytest.fixture
    def strategy(self, host: PluginHost) -> ScoringStrategy:
        return scoring(host, "rfm", {"window_months": 12})


class TestRecentGrowth(ScoringContract):
    """``recent-growth``: revenue change between two periods."""

    @pytest.fixture
    def strategy(self, host: PluginHost) -> ScoringStrategy:
        return scoring(host, "recent-growth", {})


class TestClv(ScoringContract):
    """``clv``: BG/NBD + Gamma-Gamma fitted on each call, with ``score_columns``."""

    max_examples = 15  # a model fit per call
    may_refuse = True  # a book without a repeat purchase has nothing to fit

    @pytest.fixture
    def strategy(self, host: PluginHost) -> ScoringStrategy:
        pytest.importorskip("scipy", reason="the clv strategy needs the clv extra")
        return scoring(host, "clv", {"measure": "probability_alive"})


class TestTomlCalendar(CalendarContract):
    """``toml``: every shape of the calendar document."""

    @pytest.fixture
    def calendar(self, host: PluginHost, tmp_path: Path) -> BusinessCalendar:
        (tmp_path / "office.toml").write_text(OFFICE, encoding="utf-8")
        factory = host.calendars().get("toml")
        return factory(Options({"path": "office.toml"}, "calendar", base_dir=tmp_path))


class TestHolidaysCalendar(CalendarContract):
    """``holidays``: official holidays and make-up days of China, in its years only."""

    @pytest.fixture
    def calendar_span(self) -> Span:
        return datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)

    @pytest.fixture
    def calendar(self, host: PluginHost) -> BusinessCalendar:
        pytest.importorskip("holidays", reason="the holidays calendar needs the holidays extra")
        factory = host.calendars().get("holidays")
        options = {"country": "CN", "time_zone": "Asia/Shanghai", "first_year": 2025,
                   "last_year": 2026}
        return factory(Options(options, "calendar"))


class TestNewYorkDaylightSaving(CalendarContract):
    """A 24x7 desk and a night shift across New York's DST changes (built in code)."""

    @pytest.fixture
    def calendar(self) -> BusinessCalendar:
        week = {"monday": ["00:00-24:00"], "tuesday": ["01:00-04:00", "22:00-02:00"],
                "saturday": ["01:30-03:30"], "sunday": ["01:00-04:00"]}
        return BusinessCalendar(name="ny", time_zone="America/New_York", week=week)
