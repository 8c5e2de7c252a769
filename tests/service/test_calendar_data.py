"""Loading business calendars from TOML and plain mappings (rule S4 configuration)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmcore.errors import ConfigError
from crmcore.service import (
    BusinessCalendar,
    ExtraWorkingDay,
    WorkingInterval,
    calendar_from_mapping,
    calendar_from_toml,
)

DOCUMENT = """
name = "cn-office"
time_zone = "Asia/Shanghai"
holidays = [2026-10-01, "2026-10-02"]

[week]
monday = ["09:00-12:00", "13:00-18:00"]
friday = ["13:00-18:00", "09:00-12:00", "22:00-06:00"]
sunday = ["18:00-24:00"]

[[extra_working_days]]
date = "2026-09-27"
hours = ["09:00-12:00"]

[[extra_working_days]]
date = 2026-10-10
like_weekday = "monday"
"""


def test_s4_calendar_from_toml_reads_every_key() -> None:
    calendar = calendar_from_toml(DOCUMENT)
    office = [WorkingInterval.parse("09:00-12:00"), WorkingInterval.parse("13:00-18:00")]
    assert calendar == BusinessCalendar(
        name="cn-office",
        time_zone="Asia/Shanghai",
        week={
            "monday": office,
            "friday": [*office, WorkingInterval.parse("22:00-06:00")],
            "sunday": ["18:00-24:00"],
        },
        holidays=[date(2026, 10, 1), date(2026, 10, 2)],
        extra_working_days=[
            ExtraWorkingDay(date(2026, 9, 27), ["09:00-12:00"]),
            ExtraWorkingDay(date(2026, 10, 10), like_weekday=0),
        ],
    )
    friday = datetime(2026, 10, 9, 17, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert calendar.add(friday, timedelta(hours=10)) == datetime(
        2026, 10, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai")
    )


def test_s4_calendar_from_mapping_accepts_plain_data() -> None:
    data = {"name": "x", "time_zone": "UTC", "week": {"monday": ["09:00-17:00"]}}
    assert calendar_from_mapping(data) == BusinessCalendar("x", "UTC", [["09:00-17:00"]] + [[]] * 6)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\nmonday = ["09:00-12:00", "25:00-26:00"]',
            "week.monday[1]: '25:00-26:00' is not a time range HH:MM-HH:MM",
        ),
        (
            'name = "x"\ntime_zone = "Mars/Base"\n[week]',
            "time_zone: 'Mars/Base' is not an IANA time zone",
        ),
        ('time_zone = "UTC"\n[week]', "name: is required"),
        ('name = "x"\ntime_zone = "UTC"', "week: is required"),
        (
            'name = "x"\ntime_zone = "UTC"\nweekend = []\n[week]',
            "weekend: is not a known key (known: name, time_zone, week, holidays,",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\nholidays = ["2026-10-01"]',
            "week.holidays: 'holidays' is not a weekday (monday..sunday or 0..6)",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\nholidays = ["2026-02-30"]\n[week]',
            "holidays[0]: '2026-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\nholidays = "2026-10-01"\n[week]',
            "holidays: '2026-10-01' is not a list of dates",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\ndate = "10/10"'
            '\nhours = ["09:00-10:00"]',
            "extra_working_days[0].date: '10/10' is not a date (YYYY-MM-DD)",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\ndate = 2026-10-10'
            '\nhours = ["09:00-10:00"]\n[[extra_working_days]]\ndate = 2026-10-11'
            '\nhours = ["09:00-10:00", "9:00"]',
            "extra_working_days[1].hours[1]: '9:00' is not a time range HH:MM-HH:MM",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\ndate = 2026-10-10'
            '\nlike = "monday"',
            "extra_working_days[0].like: is not a known key (known: date, hours, like_weekday)",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\nhours = []',
            "extra_working_days[0].date: is required",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\ndate = 2026-10-10'
            '\nlike_weekday = "someday"',
            "extra_working_days[0].like_weekday: 'someday' is not a weekday",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\n[[extra_working_days]]\ndate = 2026-10-10',
            "extra_working_days[0]: '2026-10-10' needs either hours or like_weekday",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\nextra_working_days = ["2026-10-10"]\n[week]',
            "extra_working_days[0]: '2026-10-10' is not a table",
        ),
        (
            'name = "x"\ntime_zone = "UTC"\n[week]\nfriday = ["20:00-08:00"]'
            '\nsaturday = ["07:00-09:00"]',
            "week.friday: '20:00-08:00' overlaps 07:00-09:00 on saturday",
        ),
        ('name = "x"\ntime_zone = "UTC"\nweek = 5', "week: 5 is not a mapping"),
        ('name = "x\n', "calendar document is not valid TOML: "),
    ],
)
def test_s4_calendar_document_errors_name_key_and_value(document: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        calendar_from_toml(document)
    assert str(caught.value).startswith(message)


def test_s4_calendar_from_mapping_rejects_a_non_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^calendar document: \['x'\] is not a table"):
        calendar_from_mapping(["x"])  # type: ignore[arg-type]
