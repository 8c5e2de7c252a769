"""Issue 13 item 5, the zh-CN profile: the sources' defaults for Chinese practice.

Rules touched: S2 (the weekly personal message to key customers on Friday evening by
SMS, signed with company and person; greetings on holidays), S3 (local time), S4 (the
CN calendar).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.config import parse_config
from crmcore.errors import ConfigError
from crmcore.model import Channel, ContactPreferences, Customer, PartyKind
from crmcore.policies import PolicySet
from crmcore.policies.care import EVERYONE, CarePlan, Signature, greetings_due, personal_message_due
from crmcore.profiles import PROFILES, surname

pytest.importorskip("holidays", reason="the holidays extra is not installed")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROFILE = 'profile = "zh-CN"\n[policies]\ncalendar_years = [2025, 2026]\n'


def _policies(text: str = PROFILE) -> PolicySet:
    return PolicySet.from_config(parse_config(text))


def test_item5_zh_cn_profile_fills_in_calendar_zone_language_and_care() -> None:
    config = parse_config(PROFILE)
    policies = PolicySet.from_config(config)
    assert config.lang == "zh_CN"
    assert policies.calendar.name.startswith("holidays-CN@")
    assert policies.calendar.time_zone == "Asia/Shanghai"
    assert policies.contact.default_time_zone == "Asia/Shanghai"
    care = policies.care
    assert (care.message_weekday, care.message_time.isoformat() if care.message_time else None,
            care.message_channel, care.time_zone) == (4, "18:00:00", Channel.SMS,
                                                      "Asia/Shanghai")
    festivals = {(h.name, h.day) for h in policies.holidays[EVERYONE]}
    assert {("春节", date(2026, 2, 17)), ("中秋节", date(2026, 9, 25)),
            ("端午节", date(2026, 6, 19)), ("春节", date(2025, 1, 29))} <= festivals


def test_item5_the_file_s_own_keys_win_over_the_profile() -> None:
    config = parse_config(PROFILE + 'time_zone = "Asia/Urumqi"\n'
                                    '[policies.care]\nmessage_channel = "微信"\n')
    policies = PolicySet.from_config(config)
    assert policies.calendar.time_zone == "Asia/Urumqi"
    assert policies.care.message_channel is Channel.INSTANT_MESSAGE
    assert policies.care.message_weekday == 4
    assert parse_config('lang = "en"\n' + PROFILE).lang == "en"
    assert parse_config('profile = "zh-CN"\n[locale]\nlang = "en"\n').lang == "en"


def test_item5_unknown_profile_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"profile: 'zh-TW' is not a shipped profile "
                                          r"\(available: zh-CN\)"):
        parse_config('profile = "zh-TW"\n')


def _key_customer(**preferences: object) -> Customer:
    return Customer(id="C1", name="华东机电有限公司", tags=frozenset({"重点跟踪"}),
                    attributes={"联系人": "王建国"},
                    preferences=ContactPreferences(**preferences))  # type: ignore[arg-type]


def test_s2_weekly_message_falls_due_on_friday_evening_by_sms() -> None:
    plan = _policies().care
    customer = _key_customer()
    last = datetime(2026, 11, 27, 18, 30, tzinfo=SHANGHAI)      # last Friday's message
    thursday = datetime(2026, 12, 3, 9, tzinfo=SHANGHAI)
    friday = datetime(2026, 12, 4, 9, tzinfo=SHANGHAI)
    assert personal_message_due(customer, None, last, as_of=thursday, plan=plan) is None
    due = personal_message_due(customer, None, last, as_of=friday, plan=plan)
    assert due is not None
    assert due.due_at == datetime(2026, 12, 4, 18, tzinfo=SHANGHAI).astimezone(UTC)
    assert due.channel is Channel.SMS
    assert due.why.endswith("; send it by sms")
    from crmcore.i18n import language

    with language("zh_CN"):
        due = personal_message_due(customer, None, last, as_of=friday, plan=plan)
    assert due is not None
    assert due.why.endswith("；通过短信发送")


def test_s2_s1_the_customer_s_channel_comes_first_and_its_own_zone() -> None:
    plan = _policies().care
    customer = _key_customer(channels=(Channel.EMAIL,), time_zone="Europe/Berlin")
    due = personal_message_due(customer, None, None, as_of=datetime(2026, 12, 4, 20, tzinfo=UTC),
                               plan=plan)
    assert due is not None
    assert due.channel is Channel.EMAIL
    assert due.due_at == datetime(2026, 12, 4, 18, tzinfo=ZoneInfo("Europe/Berlin"))


def test_s2_everyone_is_greeted_on_spring_festival_from_the_lunar_calendar() -> None:
    policies = _policies()
    customer = _key_customer()
    found = greetings_due(customer, as_of=datetime(2026, 2, 15, 9, tzinfo=SHANGHAI),
                          plan=policies.care, holidays=policies.holidays)
    assert [(g.occasion, g.due_at) for g in found] == [
        ("春节", datetime(2026, 2, 17, tzinfo=SHANGHAI).astimezone(UTC))]


def test_s2_weekly_message_is_addressed_and_signed_as_the_handbook_shows() -> None:
    profile = PROFILES["zh-CN"]
    message = profile.weekly_message(_key_customer(), "本周新品已到，欢迎来厂参观。",
                                     Signature("李伟", "华辰科技"), _policies().care)
    assert message.body.startswith("王总,您好!\n本周新品已到")
    assert message.text().rstrip().endswith("李伟\n华辰科技")
    assert message.channel is Channel.SMS
    person = Customer(id="C2", name="欧阳明", kind=PartyKind.PERSON)
    assert profile.address(person) == "欧阳总,您好!"


@pytest.mark.parametrize(("name", "family"), [("王建国", "王"), ("欧阳修", "欧阳"),
                                              ("司马光", "司马"), ("Anna Berg", "Anna Berg")])
def test_item5_surname(name: str, family: str) -> None:
    assert surname(name) == family


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)),
       st.integers(0, 6), st.times(), st.sampled_from(["Asia/Shanghai", "Europe/Berlin",
                                                       "America/New_York"]))
def test_s2_message_slot_is_the_next_such_weekday_at_that_time(
        due: datetime, weekday: int, at: time, zone_name: str) -> None:
    """Property: against a day-by-day reference walk."""
    zone = ZoneInfo(zone_name)
    plan = CarePlan(message_weekday=weekday, message_time=at)
    day = due.astimezone(zone).date()
    while day.weekday() != weekday:
        day += timedelta(days=1)
    # compared as UTC instants: PEP 495 makes a local time in a DST gap unequal to every
    # time of another zone, and a 02:30 slot on a spring-forward night is 03:30 local
    assert plan.message_slot(due, zone) == datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
