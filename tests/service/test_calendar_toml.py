"""The ``toml`` business calendar: a plain-data file chosen by name (S4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import ConfigError
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager

OFFICE = """\
name = "cn-office"
time_zone = "Asia/Shanghai"
holidays = ["2026-10-01", "2026-10-02"]

[week]
monday = ["09:00-12:00", "13:00-18:00"]
tuesday = ["09:00-12:00", "13:00-18:00"]
wednesday = ["09:00-12:00", "13:00-18:00"]
thursday = ["09:00-12:00", "13:00-18:00"]
friday = ["09:00-12:00", "13:00-18:00"]

[[extra_working_days]]
date = "2026-09-27"
like_weekday = "monday"
"""


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(make_plugin_manager(load_entry_points=False))


def test_s4_toml_calendar_is_chosen_by_name_and_counts_business_time(
    host: PluginHost, tmp_path: Path
) -> None:
    (tmp_path / "office.toml").write_text(OFFICE)
    factory = host.calendars().get("toml")
    calendar = factory(Options({"path": "office.toml"}, "calendar", base_dir=tmp_path))
    friday_5pm = datetime(2026, 9, 25, 9, tzinfo=UTC)  # 17:00 in Shanghai
    # one hour on Friday, then the make-up Sunday 27 Sept (调休) counts as a working day
    assert calendar.add(friday_5pm, timedelta(hours=2)) == datetime(2026, 9, 27, 2, tzinfo=UTC)


def test_toml_calendar_errors_name_the_file_and_key(host: PluginHost, tmp_path: Path) -> None:
    factory = host.calendars().get("toml")
    with pytest.raises(ConfigError, match=r"calendar.path: cannot read"):
        factory(Options({"path": str(tmp_path / "absent.toml")}, "calendar"))
    bad = OFFICE.replace('"09:00-12:00", "13:00', '"25:00-26:00", "13:00', 1)
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ConfigError, match=r"bad.toml: week.monday\[0\]: '25:00-26:00'"):
        factory(Options({"path": str(tmp_path / "bad.toml")}, "calendar"))
