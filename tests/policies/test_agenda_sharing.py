"""The agenda computes what customers share once (issue 10): contact cadence texts by wanted
frequency and grade, greetings by preferences, nurture goals by grade. Whatever customers
share, each one's items must be those of an agenda computed for that customer alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.model import (
    Celebration,
    Channel,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
)
from crmcore.policies import PolicySet
from crmcore.policies.agenda import Book, build_agenda, order_agenda
from crmcore.policies.care import CarePlan, Holiday

AS_OF = datetime(2026, 3, 18, 9, tzinfo=UTC)
POLICIES = PolicySet(
    care=CarePlan(message_weekday=4, message_time=time(17)),
    holidays={"*": [Holiday("Spring festival", date(2026, 3, 20))],
              "islam": [Holiday("Hari Raya Puasa", date(2026, 3, 19))]},
    nurture={"B": "A", "C": "B"})
PREFERENCES = (
    ContactPreferences(),
    ContactPreferences(contact_every_days=3, channels=(Channel.PHONE,)),
    ContactPreferences(contact_every_days=3, time_zone="Asia/Shanghai"),
    ContactPreferences(religion="islam", time_zone="Asia/Kuala_Lumpur",
                       celebrations=(Celebration("birthday", 3, 19, 1980),)),
    ContactPreferences(do_not_contact=True),
)


@st.composite
def care_books(draw: st.DrawFn) -> Book:
    """Customers sharing preferences and grades, some contacted before ``AS_OF``."""
    customers = [Customer(id=f"C{i}", name=f"Customer {i}",
                          owner=draw(st.sampled_from(("li.wei", None))),
                          acquired_at=AS_OF - timedelta(days=draw(st.integers(0, 400))),
                          preferences=draw(st.sampled_from(PREFERENCES)),
                          tags=draw(st.sampled_from(((), ("signed",)))))
                 for i in range(draw(st.integers(1, 8)))]
    interactions = [Interaction(id=f"I{i}", customer_id=draw(st.sampled_from(customers)).id,
                                occurred_at=AS_OF - timedelta(days=draw(st.integers(0, 200))),
                                kind=draw(st.sampled_from((InteractionKind.CALL,
                                                           InteractionKind.EMAIL))),
                                direction=Direction.OUTBOUND,
                                channel=draw(st.sampled_from((Channel.PHONE, Channel.EMAIL))))
                    for i in range(draw(st.integers(0, 10)))]
    grades = {c.id: grade for c in customers
              if (grade := draw(st.sampled_from(("A", "B", "C", "D", None)))) is not None}
    return Book(customers=customers, grades=grades, interactions=interactions)


@settings(max_examples=60, deadline=None)
@given(book=care_books())
def test_s2_g6_shared_care_texts_give_each_customer_its_own_agenda(book: Book) -> None:
    alone = [item for customer in book.customers
             for item in build_agenda(Book(
                 customers=[customer], grades=book.grades,
                 interactions=[i for i in book.interactions if i.customer_id == customer.id]),
                 as_of=AS_OF, policies=POLICIES)]
    assert build_agenda(book, as_of=AS_OF, policies=POLICIES) == \
        order_agenda(alone, POLICIES.grade_order)
