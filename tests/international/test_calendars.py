"""Issue 13 item 4, calendars and time zones by name (S3: the customer's local time,
S4: definite times on a business calendar).

Done when: ``calendar = "CN"`` gives every 2018-2026 make-up working day (调休).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crmcore.config import parse_config
from crmcore.errors import ConfigError
from crmcore.policies import PolicySet

holidays = pytest.importorskip("holidays", reason="the holidays extra is not installed")

# Every make-up working day (调休上班) of 2018-2026 with the holiday block it pays for,
# from the General Office of the State Council's yearly notices on public holidays
# (国务院办公厅关于20xx年部分节假日安排的通知), independent of the holidays package:
#   2018 国办发明电〔2017〕12号;  2019 国办发明电〔2018〕15号 and 〔2019〕2号 (May Day);
#   2020 国办发明电〔2019〕16号 and 〔2020〕1号 (Spring Festival extended to 2 February,
#        so 1 February was no longer worked);  2021 国办发明电〔2020〕27号;
#   2022 国办发明电〔2021〕11号;  2023 国办发明电〔2022〕16号;  2024 国办发明电〔2023〕7号;
#   2025 国办发明电〔2024〕12号;  2026 国办发明电〔2025〕7号.
# https://www.gov.cn/zhengce/ (the notices are published there each autumn)
D = date
MAKE_UP_DAYS: dict[date, tuple[date, date]] = {
    D(2018, 2, 11): (D(2018, 2, 15), D(2018, 2, 21)),
    D(2018, 2, 24): (D(2018, 2, 15), D(2018, 2, 21)),
    D(2018, 4, 8): (D(2018, 4, 5), D(2018, 4, 7)),
    D(2018, 4, 28): (D(2018, 4, 29), D(2018, 5, 1)),
    D(2018, 9, 29): (D(2018, 10, 1), D(2018, 10, 7)),
    D(2018, 9, 30): (D(2018, 10, 1), D(2018, 10, 7)),
    D(2018, 12, 29): (D(2018, 12, 30), D(2019, 1, 1)),
    D(2019, 2, 2): (D(2019, 2, 4), D(2019, 2, 10)),
    D(2019, 2, 3): (D(2019, 2, 4), D(2019, 2, 10)),
    D(2019, 4, 28): (D(2019, 5, 1), D(2019, 5, 4)),
    D(2019, 5, 5): (D(2019, 5, 1), D(2019, 5, 4)),
    D(2019, 9, 29): (D(2019, 10, 1), D(2019, 10, 7)),
    D(2019, 10, 12): (D(2019, 10, 1), D(2019, 10, 7)),
    D(2020, 1, 19): (D(2020, 1, 24), D(2020, 2, 2)),
    D(2020, 4, 26): (D(2020, 5, 1), D(2020, 5, 5)),
    D(2020, 5, 9): (D(2020, 5, 1), D(2020, 5, 5)),
    D(2020, 6, 28): (D(2020, 6, 25), D(2020, 6, 27)),
    D(2020, 9, 27): (D(2020, 10, 1), D(2020, 10, 8)),
    D(2020, 10, 10): (D(2020, 10, 1), D(2020, 10, 8)),
    D(2021, 2, 7): (D(2021, 2, 11), D(2021, 2, 17)),
    D(2021, 2, 20): (D(2021, 2, 11), D(2021, 2, 17)),
    D(2021, 4, 25): (D(2021, 5, 1), D(2021, 5, 5)),
    D(2021, 5, 8): (D(2021, 5, 1), D(2021, 5, 5)),
    D(2021, 9, 18): (D(2021, 9, 19), D(2021, 9, 21)),
    D(2021, 9, 26): (D(2021, 10, 1), D(2021, 10, 7)),
    D(2021, 10, 9): (D(2021, 10, 1), D(2021, 10, 7)),
    D(2022, 1, 29): (D(2022, 1, 31), D(2022, 2, 6)),
    D(2022, 1, 30): (D(2022, 1, 31), D(2022, 2, 6)),
    D(2022, 4, 2): (D(2022, 4, 3), D(2022, 4, 5)),
    D(2022, 4, 24): (D(2022, 4, 30), D(2022, 5, 4)),
    D(2022, 5, 7): (D(2022, 4, 30), D(2022, 5, 4)),
    D(2022, 10, 8): (D(2022, 10, 1), D(2022, 10, 7)),
    D(2022, 10, 9): (D(2022, 10, 1), D(2022, 10, 7)),
    D(2023, 1, 28): (D(2023, 1, 21), D(2023, 1, 27)),
    D(2023, 1, 29): (D(2023, 1, 21), D(2023, 1, 27)),
    D(2023, 4, 23): (D(2023, 4, 29), D(2023, 5, 3)),
    D(2023, 5, 6): (D(2023, 4, 29), D(2023, 5, 3)),
    D(2023, 6, 25): (D(2023, 6, 22), D(2023, 6, 24)),
    D(2023, 10, 7): (D(2023, 9, 29), D(2023, 10, 6)),
    D(2023, 10, 8): (D(2023, 9, 29), D(2023, 10, 6)),
    D(2024, 2, 4): (D(2024, 2, 10), D(2024, 2, 17)),
    D(2024, 2, 18): (D(2024, 2, 10), D(2024, 2, 17)),
    D(2024, 4, 7): (D(2024, 4, 4), D(2024, 4, 6)),
    D(2024, 4, 28): (D(2024, 5, 1), D(2024, 5, 5)),
    D(2024, 5, 11): (D(2024, 5, 1), D(2024, 5, 5)),
    D(2024, 9, 14): (D(2024, 9, 15), D(2024, 9, 17)),
    D(2024, 9, 29): (D(2024, 10, 1), D(2024, 10, 7)),
    D(2024, 10, 12): (D(2024, 10, 1), D(2024, 10, 7)),
    D(2025, 1, 26): (D(2025, 1, 28), D(2025, 2, 4)),
    D(2025, 2, 8): (D(2025, 1, 28), D(2025, 2, 4)),
    D(2025, 4, 27): (D(2025, 5, 1), D(2025, 5, 5)),
    D(2025, 9, 28): (D(2025, 10, 1), D(2025, 10, 8)),
    D(2025, 10, 11): (D(2025, 10, 1), D(2025, 10, 8)),
    D(2026, 1, 4): (D(2026, 1, 1), D(2026, 1, 3)),
    D(2026, 2, 14): (D(2026, 2, 15), D(2026, 2, 23)),
    D(2026, 2, 28): (D(2026, 2, 15), D(2026, 2, 23)),
    D(2026, 5, 9): (D(2026, 5, 1), D(2026, 5, 5)),
    D(2026, 9, 20): (D(2026, 10, 1), D(2026, 10, 7)),
    D(2026, 10, 10): (D(2026, 10, 1), D(2026, 10, 7)),
}


def _policies(text: str, tmp_path: Path | None = None) -> PolicySet:
    return PolicySet.from_config(parse_config(text, base_dir=tmp_path))


CN = '[policies]\ncalendar = "CN"\ntime_zone = "Asia/Shanghai"\ncalendar_years = [2018, 2026]\n'


def test_s4_cn_calendar_has_every_2018_2026_make_up_day_and_not_the_holidays() -> None:
    """The issue's "done when": each 调休 day is worked, the days off it pays for are not."""
    calendar = _policies(CN).calendar
    for day, (first, last) in MAKE_UP_DAYS.items():
        assert day.weekday() >= 5, day  # a make-up day is a weekend day
        assert calendar.intervals_on(day), f"{day} is a make-up working day"
        off = first
        while off <= last:
            assert not calendar.intervals_on(off), f"{off} is a day off ({first}..{last})"
            off += timedelta(days=1)


def test_s4_cn_calendar_has_no_other_weekend_working_days() -> None:
    calendar = _policies(CN).calendar
    day = date(2018, 1, 1)
    while day <= date(2026, 12, 31):
        if day.weekday() >= 5 and calendar.intervals_on(day):
            assert day in MAKE_UP_DAYS, f"{day} is worked but is no make-up day of the notices"
        day += timedelta(days=1)


def test_s3_cn_calendar_is_local_and_named_with_its_data_version() -> None:
    calendar = _policies(CN).calendar
    assert calendar.time_zone == "Asia/Shanghai"
    assert calendar.name == f"holidays-CN@{holidays.__version__}"


def test_s4_year_beyond_the_data_is_a_warning_naming_the_release(
        caplog: pytest.LogCaptureFixture) -> None:
    last = max(d.year for d in holidays.country_holidays("CN", years=range(2018, 2040))
               .weekend_workdays)
    with caplog.at_level(logging.INFO, logger="crmcore.calendars"):
        _policies(CN.replace("[2018, 2026]", f"[2018, {last + 1}]"))
    assert f"has no published schedule for {last + 1}" in caplog.text
    assert f"holidays {holidays.__version__}, schedule announced through {last}" in caplog.text
    # a year already begun without its schedule warns; next year's (published in the last
    # weeks of this one) is only noted, so every December command does not warn
    expected = logging.WARNING if last + 1 <= datetime.now(UTC).year else logging.INFO
    assert [r.levelno for r in caplog.records if "no published schedule" in r.message] == [
        expected]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crmcore.calendars"):
        _policies(CN)
    assert caplog.text == ""


def test_s4_subdivision_calendar_by_code() -> None:
    calendar = _policies('[policies]\ncalendar = "DE-BY"\ntime_zone = "Europe/Berlin"\n'
                         'calendar_years = [2026, 2026]\n').calendar
    assert not calendar.intervals_on(date(2026, 1, 6))   # Epiphany, a Bavarian holiday
    assert calendar.intervals_on(date(2026, 1, 7))


@pytest.mark.parametrize(("table", "message"), [
    ('calendar = "XX"\ntime_zone = "UTC"',
     "policies.calendar: 'XX' is not a country code known to holidays (available: AD, AE,"),
    ('calendar = "CN-ZZ"\ntime_zone = "Asia/Shanghai"',
     "policies.calendar: 'CN-ZZ' is not a subdivision of CN (available: none)"),
    ('calendar = "CN"', "policies.time_zone: is required with calendar = 'CN'"),
    ('calendar = "CN"\ntime_zone = "Asia/Beijing"',
     "policies.time_zone: 'Asia/Beijing' is not a time zone"),
    ('calendar = "CN"\ntime_zone = "Asia/Shanghai"\ncalendar_years = [2026, 2018]',
     "policies.calendar_years: [2026, 2018] is not [first, last] years"),
    ('customer_time_zone = "Mars/Olympus"',
     "policies.customer_time_zone: 'Mars/Olympus' is not a time zone"),
])
def test_s4_bad_calendar_options_name_the_key(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        _policies(f"[policies]\n{table}\n")
    assert message in str(error.value)


def test_s3_default_time_zones_for_company_and_customers() -> None:
    policies = _policies('[policies]\ntime_zone = "Asia/Shanghai"\n'
                         'customer_time_zone = "Asia/Shanghai"\n')
    assert policies.calendar.time_zone == "Asia/Shanghai"
    assert policies.contact.default_time_zone == "Asia/Shanghai"
    assert _policies("").contact.default_time_zone == "UTC"


def test_s3_a_calendar_file_keeps_its_own_zone(tmp_path: Path) -> None:
    (tmp_path / "office.toml").write_text(
        'name = "office"\ntime_zone = "Europe/Berlin"\n[week]\nmonday = ["09:00-17:00"]\n',
        encoding="utf-8")
    with pytest.raises(ConfigError, match="policies.time_zone: the calendar 'office.toml' "
                                          "names its own time zone"):
        _policies('[policies]\ncalendar = "office.toml"\ntime_zone = "Asia/Shanghai"\n',
                  tmp_path)
