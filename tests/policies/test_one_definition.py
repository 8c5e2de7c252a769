"""One definition per rule: the agenda and the compliance report agree with the customer's
wishes and with each other (S1 vs S2, S2 key customers, S3 hours and days, S7 one clock)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.policies.helpers import OFFICE, ticket

from crmcore import parse_config
from crmcore.model import (
    Channel,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    QuietHours,
    TicketKind,
)
from crmcore.policies import (
    ActionKind,
    Book,
    CarePlan,
    ContactRules,
    PolicySet,
    PromiseCheck,
    build_agenda,
    compliance_report,
    graded_ticket_sla,
    plan_contact,
)
from crmcore.policies.care import counts_as_message, key_customer, message_every
from crmcore.policies.contact import suitable_moment
from crmcore.policies.sla import SlaState

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
START = AS_OF - timedelta(days=120)


def _calls(customer_id: str, every_days: int, kind: InteractionKind, channel: Channel
           ) -> list[Interaction]:
    """Outbound contacts at 10:00 UTC every ``every_days`` days up to AS_OF."""
    moments = [START + timedelta(days=d) for d in range(0, 120, every_days)]
    return [Interaction(id=f"{customer_id}-{n}", customer_id=customer_id,
                        occurred_at=moment.replace(hour=10), kind=kind, channel=channel,
                        direction=Direction.OUTBOUND) for n, moment in enumerate(moments)]


def _check(report_checks: tuple[PromiseCheck, ...], rule: str, word: str) -> PromiseCheck:
    return next(c for c in report_checks if c.rule == rule and word in c.promise)


def test_s1_s2_a_monthly_phone_customer_is_not_broken_for_lacking_a_weekly_message() -> None:
    customer = Customer(id="K1", name="Fax-only key account", owner="li.wei",
                        acquired_at=START - timedelta(days=400), preferences=ContactPreferences(
                            channels=(Channel.WEBSITE, Channel.PHONE, Channel.FAX),
                            contact_every_days=30))
    calls = _calls("K1", 28, InteractionKind.CALL, Channel.PHONE)
    book = Book(customers=[customer], grades={"K1": "A"}, interactions=calls)
    report = compliance_report(customer, book, as_of=AS_OF)
    message = _check(report.checks, "S2", "personal message")
    assert message.kept is True, message
    assert "every 30 days" in message.promise
    assert _check(report.checks, "S2", "contact at least").kept is True
    assert _check(report.checks, "S1", "channels").kept is True
    agenda = build_agenda(book, as_of=AS_OF)
    assert not [i for i in agenda if i.kind is ActionKind.PERSONAL_MESSAGE]


def test_s2_the_same_customer_without_calls_is_due_a_message_on_their_rhythm() -> None:
    customer = Customer(id="K1", name="Key", owner="li.wei", preferences=ContactPreferences(
        channels=(Channel.PHONE,), contact_every_days=30))
    assert message_every(customer) == 30
    call = _calls("K1", 200, InteractionKind.CALL, Channel.PHONE)[0]
    assert counts_as_message(call, customer)
    email = attrs.evolve(call, kind=InteractionKind.EMAIL, channel=Channel.EMAIL)
    assert not counts_as_message(email, customer)  # not on a channel they chose
    written = Customer(id="K2", name="Mail", preferences=ContactPreferences(
        channels=(Channel.EMAIL,)))
    assert message_every(written) == 7
    assert not counts_as_message(attrs.evolve(call, customer_id="K2"), written)
    book = Book(customers=[customer], grades={"K1": "A"}, interactions=[call])
    items = [i for i in build_agenda(book, as_of=AS_OF) if i.kind is ActionKind.PERSONAL_MESSAGE]
    assert [i.due_at for i in items] == [call.occurred_at + timedelta(days=30)]


def test_s2_key_customers_are_the_tagged_statuses_as_configured() -> None:
    plan = CarePlan()
    signing = Customer(id="P1", name="Prospect", owner="li.wei", tags=("即将签单",))
    plain = Customer(id="P2", name="Shop", owner="li.wei", tags=("newsletter",))
    assert key_customer(signing, "C", plan) == "tagged 即将签单"
    assert key_customer(plain, "C", plan) is None
    assert key_customer(plain, "A", plan) == "grade A"
    for tag in ("已经签单", "重点跟踪", "需长期跟踪"):
        assert key_customer(attrs.evolve(plain, tags=(tag,)), None, plan) is not None
    book = Book(customers=[signing, plain], grades={"P1": "C", "P2": "C"})
    due = {i.customer_id for i in build_agenda(book, as_of=AS_OF)
           if i.kind is ActionKind.PERSONAL_MESSAGE}
    assert due == {"P1"}
    report = compliance_report(signing, book, as_of=AS_OF)
    message = _check(report.checks, "S2", "personal message")
    assert "tagged 即将签单" in message.promise
    only_grades = PolicySet(care=CarePlan(key_tags=frozenset()))
    assert not [i for i in build_agenda(book, as_of=AS_OF, policies=only_grades)
                if i.kind is ActionKind.PERSONAL_MESSAGE]


def test_s3_an_evening_thursday_contact_is_not_a_suitable_hour() -> None:
    customer = Customer(id="C1", name="Berg", preferences=ContactPreferences(
        time_zone="Europe/Berlin", best_weekdays=(0, 1)))
    thursday_evening = datetime(2026, 6, 25, 18, tzinfo=UTC)  # 20:00 in Berlin
    suits, why = suitable_moment(customer, thursday_evening, channel=Channel.PHONE)
    assert not suits
    assert "outside contact hours 09:00-18:00" in why
    assert "not on Mon, Tue" in why
    monday_morning = datetime(2026, 6, 29, 8, tzinfo=UTC)  # 10:00 in Berlin
    assert suitable_moment(customer, monday_morning, channel=Channel.PHONE)[0]
    call = Interaction(id="I1", customer_id="C1", occurred_at=thursday_evening,
                       kind=InteractionKind.CALL, direction=Direction.OUTBOUND)
    report = compliance_report(customer, Book(customers=[customer], interactions=[call]),
                               as_of=AS_OF)
    s3 = _check(report.checks, "S3", "suitable")
    assert s3.kept is False
    assert any("Thu 20:00" in line and "outside contact hours" in line
               for line in s3.evidence)


_ZONES = st.sampled_from(["UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York"])
_SPANS = st.lists(st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(
    lambda span: span[0] != span[1]).map(lambda span: QuietHours(time(span[0]), time(span[1]))),
    max_size=2)


@settings(max_examples=150, deadline=None)
@given(zone=_ZONES, quiet=_SPANS,
       days=st.lists(st.integers(0, 6), unique=True, max_size=3).map(tuple),
       channel=st.sampled_from([Channel.EMAIL, Channel.PHONE]),
       after=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                          timezones=st.just(UTC)))
def test_s3_every_planned_moment_is_judged_suitable(zone: str, quiet: list[QuietHours],
                                                    days: tuple[int, ...], channel: Channel,
                                                    after: datetime) -> None:
    customer = Customer(id="C1", name="Any", preferences=ContactPreferences(
        time_zone=zone, quiet_hours=tuple(quiet), best_weekdays=days))
    rules = ContactRules(horizon_days=30)
    try:
        slot = plan_contact(customer, after, rules=rules, channel=channel)
    except Exception:  # no suitable moment within the horizon: nothing to judge
        return
    suits, why = suitable_moment(customer, slot.at, channel=channel, rules=rules)
    assert suits, why


def test_s7_one_clock_for_a_late_complaint_by_grade_on_business_time() -> None:
    """A complaint opened Friday 16:30 with a 1 business-hour target for grade A is not
    late on Saturday (30 business minutes used) but is on Monday afternoon: lateness is
    the SLA clock by grade on business time, which the agenda and compliance both read."""
    policies = PolicySet(calendar=OFFICE)
    complaint = ticket("T1", opened=datetime(2026, 3, 13, 16, 30, tzinfo=UTC),
                       kind=TicketKind.COMPLAINT, priority=Priority.LOW)
    saturday = datetime(2026, 3, 14, 12, tzinfo=UTC)
    as_a = graded_ticket_sla(complaint, "A", policies, saturday)
    assert as_a.priority is Priority.URGENT  # S7: A complaints first
    assert as_a.first_response.state is not SlaState.BREACHED
    monday = datetime(2026, 3, 16, 14, tzinfo=UTC)
    late = graded_ticket_sla(complaint, "A", policies, monday)
    assert late.first_response.state is SlaState.BREACHED
    as_c = graded_ticket_sla(complaint, "C", policies, monday)
    assert as_c.first_response.state is not SlaState.BREACHED
    customer = Customer(id="C1", name="Key", owner="li.wei")
    book = Book(customers=[customer], grades={"C1": "A"}, tickets=[complaint])
    breaches = [i for i in build_agenda(book, as_of=monday, policies=policies)
                if i.kind is ActionKind.BREACH]
    assert breaches
    assert all(i.due_at == late.first_response.due_at for i in breaches
               if "first_response" in i.why)
    report = compliance_report(customer, book, as_of=monday, policies=policies)
    assert _check(report.checks, "S4", "SLA").kept is False


def test_s2_key_tags_come_from_the_configuration() -> None:
    config = parse_config('[policies.care]\nkey_tags = ["VIP-watch"]\nkey_grades = []\n')
    plan = PolicySet.from_config(config).care
    assert plan.key_tags == frozenset({"VIP-watch"})
    watched = Customer(id="W1", name="Watched", tags=("VIP-watch",))
    assert key_customer(watched, "A", plan) == "tagged VIP-watch"
    assert key_customer(attrs.evolve(watched, tags=("重点跟踪",)), "A", plan) is None
