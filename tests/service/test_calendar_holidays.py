"""The ``holidays`` adapter builds business calendars for countries (rule S4)."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crmcore.errors import ConfigError, ValidationError
from crmcore.options import Options
from crmcore.service import WorkingInterval

calendar_holidays = pytest.importorskip("crmcore_plugins.calendar_holidays")
calendar_from_holidays = calendar_holidays.calendar_from_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_s4_china_calendar_has_public_holidays_and_make_up_days() -> None:
    china = calendar_from_holidays("CN", [2026], time_zone="Asia/Shanghai")
    assert china.name == "holidays-CN"
    assert date(2026, 10, 1) in china.holidays  # National Day
    assert date(2026, 10, 6) in china.holidays  # a day off moved from a weekend
    make_up = {extra.day for extra in china.extra_working_days}
    assert {date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)} <= make_up
    assert all(day.year == 2026 and day.weekday() >= 5 for day in make_up)
    assert china.intervals_on(date(2026, 10, 10)) == china.week[0]
    assert china.intervals_on(date(2026, 10, 17)) == ()  # an ordinary Saturday


def test_s4_china_make_up_saturday_is_worked_by_the_sla_clock() -> None:
    china = calendar_from_holidays("CN", range(2026, 2027), time_zone="Asia/Shanghai")
    friday_evening = datetime(2026, 10, 9, 17, tzinfo=SHANGHAI)
    assert china.add(friday_evening, timedelta(hours=2)) == datetime(
        2026, 10, 10, 10, tzinfo=SHANGHAI
    )
    national_day_eve = datetime(2026, 9, 30, 17, tzinfo=SHANGHAI)
    assert china.add(national_day_eve, timedelta(hours=2)) == datetime(
        2026, 10, 8, 10, tzinfo=SHANGHAI
    )


def test_s4_germany_holidays_follow_the_subdivision() -> None:
    bavaria = calendar_from_holidays("DE", [2026], subdiv="BY", time_zone="Europe/Berlin")
    berlin = calendar_from_holidays(
        "DE", [2026], subdiv="BE", time_zone="Europe/Berlin", hours=["08:00-16:00"]
    )
    corpus_christi = date(2026, 6, 4)
    assert corpus_christi in bavaria.holidays
    assert corpus_christi not in berlin.holidays
    assert date(2026, 12, 25) in berlin.holidays
    assert berlin.extra_working_days == ()
    assert berlin.week == (((WorkingInterval.parse("08:00-16:00"),),) * 5 + ((), ()))
    wednesday = datetime(2026, 6, 3, 17, tzinfo=BERLIN)
    assert bavaria.add(wednesday, timedelta(hours=2)) == datetime(2026, 6, 5, 10, tzinfo=BERLIN)
    assert bavaria.name == "holidays-DE-BY"


def test_s4_years_outside_the_range_are_not_included() -> None:
    china = calendar_from_holidays("CN", [2025], time_zone="Asia/Shanghai")
    assert all(day.year == 2025 for day in china.holidays)
    assert all(extra.day.year == 2025 for extra in china.extra_working_days)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"country": "XX"}, "country: 'XX' is not a country known to holidays"),
        ({"subdiv": "ZZ"}, "subdiv: 'ZZ' is not a subdivision of DE"),
        ({"categories": ("lunar",)}, "categories: ('lunar',) Category is not supported"),
        ({"time_zone": "Europe/Bayern"}, "time_zone: 'Europe/Bayern' is not an IANA time zone"),
    ],
)
def test_s4_bad_arguments_raise_validation_errors(
    arguments: dict[str, object], message: str
) -> None:
    call: dict[str, object] = {"country": "DE", "years": [2026], "time_zone": "Europe/Berlin"}
    call.update(arguments)
    with pytest.raises(ValidationError) as caught:
        calendar_from_holidays(**call)
    assert str(caught.value).startswith(message)


def test_s4_holidays_calendar_is_registered_with_options() -> None:
    factories: dict[str, object] = {}
    calendar_holidays.crmcore_register_calendars(factories.__setitem__)
    factory = factories["holidays"]
    options = {"country": "DE", "subdivision": "BY", "time_zone": "Europe/Berlin",
               "first_year": 2026, "last_year": 2027}
    calendar = factory(Options(options, "calendar"))  # type: ignore[operator]
    assert date(2027, 6, 4) not in calendar.holidays  # Corpus Christi 2027 is 27 May
    assert date(2027, 5, 27) in calendar.holidays
    with pytest.raises(ConfigError, match=r"^calendar.subdivision: 'ZZ' is not a subdivision"):
        factory(Options({**options, "subdivision": "ZZ"}, "calendar"))  # type: ignore[operator]


@pytest.mark.parametrize("version", ["0.50", "0.91", "0.9", "0.91.1"])
def test_s4_holidays_older_than_0_92_is_refused_naming_both_versions(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr("holidays.__version__", version)
    message = (rf"needs holidays>=0\.92 .* but holidays {re.escape(version)} is installed: "
               r"pip install -U 'crmcore\[holidays\]'")
    with pytest.raises(ConfigError, match=message):
        calendar_from_holidays("CN", [2026], time_zone="Asia/Shanghai")
    factories: dict[str, object] = {}
    calendar_holidays.crmcore_register_calendars(factories.__setitem__)
    options = {"country": "CN", "time_zone": "Asia/Shanghai", "first_year": 2026,
               "last_year": 2026}
    with pytest.raises(ConfigError, match=message):
        factories["holidays"](Options(options, "calendar"))  # type: ignore[operator]


@pytest.mark.parametrize("version", ["0.92", "0.92.dev1", "0.109", "1.0"])
def test_s4_holidays_0_92_and_later_are_accepted(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr("holidays.__version__", version)
    china = calendar_from_holidays("CN", [2026], time_zone="Asia/Shanghai")
    assert date(2026, 10, 10) in {extra.day for extra in china.extra_working_days}


def test_s4_every_holidays_requirement_has_the_0_92_floor() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    extras = project["project"]["optional-dependencies"]
    floors = {name: requirement for name, requirements in extras.items()
              for requirement in requirements if requirement.startswith("holidays")}
    assert floors == {"holidays": "holidays>=0.92", "test": "holidays>=0.92"}
    assert calendar_holidays.MINIMUM_HOLIDAYS_VERSION == "0.92"
