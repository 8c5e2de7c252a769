"""Rules S1-S3, S4 escalation, S5-S7 and G6, on the pure policies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from tests.policies.helpers import OFFICE, at, ticket

from crmcore.errors import ValidationError
from crmcore.grading import load_scheme
from crmcore.model import (
    Celebration,
    Channel,
    Commitment,
    ContactPreferences,
    Customer,
    Priority,
    QuietHours,
    TicketKind,
)
from crmcore.policies import (
    DEFAULT_CHAIN,
    Appointment,
    AppointmentPolicy,
    BulkSendError,
    CarePlan,
    ContactRefusedError,
    ContactRules,
    Contract,
    EscalationAction,
    EscalationChain,
    EscalationStep,
    Holiday,
    RecurrenceRule,
    ReportingLines,
    Signature,
    Task,
    Warranty,
    appointment_actions,
    choose_channel,
    complaint_priority,
    complaint_queue,
    compose_message,
    confirm_by,
    contact_due,
    escalation,
    expiry_reminder,
    find_recurring,
    greetings_due,
    link_incidents,
    personal_message_due,
    plan_contact,
    plan_return_visit,
    task_of_commitment,
)
from crmcore.policies.complaints import priorities_from_followup

LINES = ReportingLines({"li.wei": "zhang.min", "zhang.min": "anna.berg"})


def customer(customer_id: str = "C1", **preferences: object) -> Customer:
    return Customer(id=customer_id, name=f"Customer {customer_id}", owner="li.wei",
                    acquired_at=datetime(2025, 1, 1, tzinfo=UTC),
                    preferences=ContactPreferences(**preferences))  # type: ignore[arg-type]


# -- S1, S3: channel and suitable local time -------------------------------------------

def test_s1_the_customers_channel_order_is_followed() -> None:
    preferences = ContactPreferences(channels=(Channel.FAX, Channel.PHONE))
    assert choose_channel(preferences)[0] is Channel.FAX
    channel, why = choose_channel(preferences, available={Channel.PHONE, Channel.EMAIL})
    assert channel is Channel.PHONE
    assert "choice 2" in why
    assert choose_channel(ContactPreferences())[0] is Channel.EMAIL  # default


def test_s3_contact_at_a_suitable_local_hour_in_the_customers_time_zone() -> None:
    shanghai = customer(channels=(Channel.PHONE,), time_zone="Asia/Shanghai",
                        quiet_hours=(QuietHours(time(12), time(14)),))
    slot = plan_contact(shanghai, at(2, 3, 30))  # 11:30 in Shanghai, Monday
    assert slot.local.isoformat() == "2026-03-02T11:30:00+08:00"
    slot = plan_contact(shanghai, at(2, 4, 30))  # 12:30: quiet until 14:00
    assert slot.local.isoformat() == "2026-03-02T14:00:00+08:00"
    assert slot.at == at(2, 6)
    slot = plan_contact(shanghai, at(2, 11))  # 19:00: after contact hours
    assert slot.local.isoformat() == "2026-03-03T09:00:00+08:00"
    assert "Asia/Shanghai" in slot.why
    assert "12:00-14:00" in slot.why


def test_s3_best_weekdays_and_email_tuesday_to_thursday() -> None:
    picky = customer(channels=(Channel.PHONE,), best_weekdays=(4,))
    assert plan_contact(picky, at(2, 10)).local.date() == date(2026, 3, 6)  # Friday
    mailer = customer(channels=(Channel.EMAIL,))
    assert plan_contact(mailer, at(6, 10)).local.date() == date(2026, 3, 10)  # Fri -> Tue
    assert plan_contact(mailer, at(5, 8)).local == at(5, 9)  # Thursday
    assert ContactRules(email_weekdays=(0,)).email_weekdays == (0,)


def test_s3_quiet_hours_across_midnight_and_do_not_contact() -> None:
    night = customer(channels=(Channel.PHONE,), quiet_hours=(QuietHours(time(17), time(10)),))
    assert plan_contact(night, at(2, 17, 30)).local == at(3, 10)
    with pytest.raises(ContactRefusedError, match="asked not to be contacted"):
        plan_contact(customer(do_not_contact=True), at(2))
    always_quiet = customer(quiet_hours=(QuietHours(time(8), time(19)),))
    with pytest.raises(ContactRefusedError, match="no suitable moment"):
        plan_contact(always_quiet, at(2), rules=ContactRules(horizon_days=10))


# -- S2, G6: care ------------------------------------------------------------------------

def test_s2_cadence_per_grade_and_the_customers_own_wish() -> None:
    plain = customer()
    assert contact_due(plain, "B", at(1), as_of=at(20)) is None
    due = contact_due(plain, "B", datetime(2026, 1, 1, tzinfo=UTC), as_of=at(2))
    assert due is not None
    assert due.due_at == datetime(2026, 1, 31, tzinfo=UTC)
    assert contact_due(plain, None, at(1), as_of=at(20)) is None  # ungraded: D, 182 days
    chatty = customer(contact_every_days=3)
    due = contact_due(chatty, "D", at(1), as_of=at(5))
    assert due is not None
    assert "asked to hear from us every 3 days" in due.why
    assert contact_due(customer(do_not_contact=True), "A", None, as_of=at(5)) is None


def test_g6_cadence_follows_the_grading_schemes_followup() -> None:
    plan = CarePlan().from_followup(load_scheme("pareto-abc").followup)
    assert plan.cadence("B") == 14
    assert plan.cadence("C") == 60
    assert plan.cadence("D") == 182
    priorities = priorities_from_followup(load_scheme("value-matrix").followup)
    assert priorities["D"] is Priority.LOW
    assert priorities["A"] is Priority.URGENT


def test_s2_key_customers_get_a_personal_message_every_week() -> None:
    key = customer()
    assert personal_message_due(key, "B", None, as_of=at(9)) is None
    assert personal_message_due(key, "A", at(3), as_of=at(9)) is None
    due = personal_message_due(key, "A", at(2), as_of=at(9))
    assert due is not None
    assert due.kind == "personal_message"


def test_s2_greetings_on_the_customers_celebrations_and_holidays() -> None:
    leap = customer(celebrations=(Celebration("birthday", 2, 29, 1992),
                                  Celebration("founding day", 3, 4, 2006)),
                    religion="islam", time_zone="Asia/Singapore")
    holidays = {"islam": [Holiday("Hari Raya Puasa", date(2026, 3, 3))]}
    found = greetings_due(leap, as_of=datetime(2026, 2, 27, 1, tzinfo=UTC),
                          plan=CarePlan(greeting_lead_days=5), holidays=holidays)
    assert [(g.occasion, g.due_at.isoformat()) for g in found] == [
        ("birthday", "2026-02-27T16:00:00+00:00"),
        ("Hari Raya Puasa", "2026-03-02T16:00:00+00:00"),
        ("founding day", "2026-03-03T16:00:00+00:00"),
    ]
    assert "20 years" in found[2].why


def test_s2_messages_are_addressed_one_by_one_never_in_bulk() -> None:
    anna, ben = customer("C1", channels=(Channel.SMS,)), customer("C2")
    signed = Signature("Li Wei", "Acme Ltd", "account manager")
    message = compose_message(anna, subject="Your visit", body="Dear Anna, thank you.",
                              signature=signed)
    assert message.recipient_id == "C1"
    assert message.channel is Channel.SMS
    assert message.text().endswith("Li Wei\naccount manager\nAcme Ltd\n")
    with pytest.raises(BulkSendError, match="2 customers given"):
        compose_message([anna, ben], subject="Hi", body="Hello", signature=signed)  # type: ignore[arg-type]
    with pytest.raises(BulkSendError, match="never a bulk send"):
        type(message)(("C1", "C2"), "x", "Hi", "Hello", signed)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unfilled placeholder"):
        compose_message(anna, subject="Hi", body="Dear {name},", signature=signed)


# -- S4: escalation ----------------------------------------------------------------------

def test_s4_tasks_escalate_up_the_chain_with_business_delays() -> None:
    task = Task("commitment", "P1", "C1", "li.wei", due_at=at(2, 16))
    assert escalation(task, DEFAULT_CHAIN, OFFICE, LINES, as_of=at(2, 15)) is None
    owner = escalation(task, DEFAULT_CHAIN, OFFICE, LINES, as_of=at(2, 16, 30))
    assert owner is not None
    assert (owner.level, owner.person) == (0, "li.wei")
    assert owner.next_at == at(3, 10)
    manager = escalation(task, DEFAULT_CHAIN, OFFICE, LINES, as_of=at(4, 9))
    assert manager is not None
    assert (manager.step.role, manager.person) == ("manager",
                                                                           "anna.berg")
    assert manager.assignee == "li.wei"  # escalation informs, the owner keeps the task
    done = Task("commitment", "P1", "C1", "li.wei", due_at=at(2, 16), done_at=at(3, 9))
    assert escalation(done, DEFAULT_CHAIN, OFFICE, LINES, as_of=at(4, 9)) is None


def test_s4_a_transfer_step_hands_the_task_over() -> None:
    chain = EscalationChain((EscalationStep("owner", timedelta(0), EscalationAction.NOTIFY),
                             EscalationStep("backup", timedelta(hours=1),
                                            EscalationAction.TRANSFER)))
    promise = Commitment(id="P1", customer_id="C1", made_at=at(2, 9), due_at=at(2, 12),
                         description="call back with a price", owner="li.wei")
    found = escalation(task_of_commitment(promise), chain, OFFICE, LINES, as_of=at(2, 14))
    assert found is not None
    assert found.assignee == "zhang.min"
    assert "transfer to backup" in found.why
    with pytest.raises(ValidationError, match="earlier than the step before"):
        EscalationChain((EscalationStep("a", timedelta(hours=2)),
                         EscalationStep("b", timedelta(hours=1))))


# -- S5: appointments ---------------------------------------------------------------------

def test_s5_confirm_five_working_days_ahead_to_the_hour() -> None:
    visit = Appointment(id="V1", customer_id="C1", starts_at=at(13, 14), purpose="repair",
                        owner="li.wei")
    assert confirm_by(visit, OFFICE) == at(5, 14)  # the holiday Friday 6 March is skipped
    actions = appointment_actions(visit, OFFICE, as_of=at(5, 8))
    assert [(a.kind, a.due_at) for a in actions] == [("confirmation", at(5, 14))]


def test_s5_remind_one_hour_before_and_return_visit_after_service() -> None:
    visit = Appointment(id="V1", customer_id="C1", starts_at=at(13, 14), purpose="repair",
                        confirmed_at=at(4))
    assert [(a.kind, a.due_at) for a in appointment_actions(visit, OFFICE, as_of=at(13, 9))
            ] == [("reminder", at(13, 13))]
    done = Appointment(id="V1", customer_id="C1", starts_at=at(13, 14), purpose="repair",
                       confirmed_at=at(4), reminded_at=at(13, 13), completed_at=at(13, 16))
    actions = appointment_actions(done, OFFICE, as_of=at(20, 9))
    assert [(a.kind, a.due_at) for a in actions] == [("return_visit", at(20, 16))]
    assert appointment_actions(done, OFFICE, as_of=at(20, 9), followed_up={"V1"}) == []
    again = plan_return_visit(done, OFFICE)
    assert (again.follows_up, again.starts_at) == ("V1", at(20, 16))
    late = plan_return_visit(done, OFFICE, policy=AppointmentPolicy(
        return_visit_after=timedelta(days=7, hours=2)))
    assert late.starts_at == at(23, 9)  # Friday 18:00 is after hours: Monday 09:00


# -- S6: expiry ----------------------------------------------------------------------------

def test_s6_remind_n_days_before_expiry_and_go_up_when_nobody_acts() -> None:
    deal = Contract(id="K1", customer_id="C1", title="maintenance", owner="li.wei",
                    expires_at=datetime(2026, 4, 30, tzinfo=UTC))
    assert expiry_reminder(deal, OFFICE, LINES, as_of=at(30)) is None
    first = expiry_reminder(deal, OFFICE, LINES, as_of=at(31, 10))
    assert first is not None
    assert (first.person, first.level) == ("li.wei", 0)
    later = expiry_reminder(deal, OFFICE, LINES, as_of=datetime(2026, 4, 6, tzinfo=UTC))
    assert later is not None
    assert (later.person, later.level) == ("zhang.min", 1)
    acted = Contract(id="K1", customer_id="C1", title="maintenance", owner="li.wei",
                     expires_at=datetime(2026, 4, 30, tzinfo=UTC), acted_at=at(31, 12))
    assert expiry_reminder(acted, OFFICE, LINES, as_of=datetime(2026, 4, 6, tzinfo=UTC)) \
        is None
    cover = Warranty(id="W1", customer_id="C1", product="pump", owner="li.wei",
                     expires_at=datetime(2026, 4, 1, tzinfo=UTC))
    found = expiry_reminder(cover, OFFICE, LINES, as_of=at(3, 9))
    assert found is not None
    assert "warranty 'pump' expires 2026-04-01" in found.task.what


# -- S7: complaints -------------------------------------------------------------------------

def test_s7_complaints_of_a_customers_go_first() -> None:
    low = ticket("K1", customer_id="C1", kind=TicketKind.COMPLAINT, priority=Priority.LOW)
    assert complaint_priority(low, "A")[0] is Priority.URGENT
    assert complaint_priority(low, "D")[0] is Priority.LOW
    urgent = ticket("K2", customer_id="C2", kind=TicketKind.COMPLAINT,
                    priority=Priority.URGENT)
    assert complaint_priority(urgent, "C")[0] is Priority.URGENT  # never lowered
    request = ticket("R1", customer_id="C1", priority=Priority.LOW)
    assert complaint_priority(request, "A")[0] is Priority.LOW
    early_c = ticket("K3", customer_id="C3", kind=TicketKind.COMPLAINT, opened=at(1))
    queue = complaint_queue([early_c, low, urgent, request], {"C1": "A", "C2": "C",
                                                              "C3": "C"})
    assert [t.id for t in queue] == ["K1", "K2", "K3"]


def test_s7_recurring_incidents_open_a_problem_record_linking_them() -> None:
    complaints = [ticket(f"K{n}", customer_id=f"C{n % 2}", kind=TicketKind.COMPLAINT,
                         category="billing error", opened=at(2 + 10 * n)) for n in range(3)]
    problems = find_recurring(complaints, as_of=at(31))
    assert [(p.key, p.incident_ids, p.customer_ids) for p in problems] == [
        ("category:billing error", ("K0", "K1", "K2"), ("C0", "C1"))]
    assert find_recurring(complaints, as_of=at(31),
                          rule=RecurrenceRule(window=timedelta(days=5))) == []
    linked = link_incidents(complaints, problems[0])
    assert {t.problem_id for t in linked} == {problems[0].id}
    assert find_recurring(linked, as_of=at(31)) == []
    assert find_recurring(complaints, as_of=at(31), rule=RecurrenceRule(by=("customer",))) \
        == []
