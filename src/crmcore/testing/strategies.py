"""Hypothesis strategies for every entity of :mod:`crmcore.model` and for domain events.

Every strategy builds *valid* objects (they pass the attrs validators) whose
values survive a JSON round trip through :func:`crmcore.serialization.unstructure`
and :func:`crmcore.serialization.structure`:

* datetimes are timezone-aware, in fixed offsets (``-12:00`` to ``+14:00``) and
  IANA zones, and never fall in a daylight-saving gap or fold (Python never
  calls a folded time equal to the same instant in another zone, PEP 495);
* amounts are finite :class:`~decimal.Decimal` with at most two decimal places;
* ids come from :data:`ID_ALPHABET`; texts contain no lone surrogates;
* attribute and JSON floats are finite.

Strategies of entities that belong to a customer take ``customer_id`` to pin
it, so related entities can be drawn for one customer::

    @given(customer=customers(), data=st.data())
    def test_something(customer, data):
        purchase = data.draw(transactions(customer_id=customer.id))
"""

from __future__ import annotations

import calendar
import string
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from crmcore.events import DomainEvent
from crmcore.model import (
    ENTITY_TYPES,
    AttributeValue,
    Celebration,
    Channel,
    Commitment,
    ContactPerson,
    ContactPreferences,
    Customer,
    Direction,
    Interaction,
    InteractionKind,
    Opportunity,
    OpportunityStatus,
    Outcome,
    PartyKind,
    Priority,
    QuietHours,
    SurveyResponse,
    Ticket,
    TicketKind,
    TicketStatus,
    Transaction,
)
from crmcore.validation import is_time_zone

T = TypeVar("T")

ID_ALPHABET = string.ascii_letters + string.digits + "-_.:"
"""The characters of generated ids: safe in URLs, file names and SQL literals."""

ZONE_NAMES: tuple[str, ...] = tuple(
    name for name in (
        "UTC", "Asia/Shanghai", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu",
        "Europe/Berlin", "Europe/London", "America/New_York", "America/St_Johns",
        "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Kiritimati",
        "Africa/Casablanca",
    )
    if is_time_zone(name)
)
"""IANA zones drawn by :func:`time_zones` (those known to this machine): odd offsets,
half-hour daylight saving, the date line and both hemispheres."""

EARLIEST = datetime(1950, 1, 1)
"""Default lower bound (wall clock) of :func:`aware_datetimes`."""

LATEST = datetime(2100, 12, 31, 23, 59, 59)
"""Default upper bound (wall clock) of :func:`aware_datetimes`."""

_MAX_MONEY = Decimal("1000000000")
_TEXT_CHARACTERS = st.characters(exclude_categories=["Cs"])


# -- scalars -------------------------------------------------------------------------


def identifiers() -> st.SearchStrategy[str]:
    """Entity ids: 1-24 characters from :data:`ID_ALPHABET`."""
    return st.text(alphabet=ID_ALPHABET, min_size=1, max_size=24)


def texts(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text without lone surrogates (it can be encoded as UTF-8), possibly empty."""
    return st.text(alphabet=_TEXT_CHARACTERS, max_size=max_size)


def non_empty_texts(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Texts with at least one non-blank character."""
    return st.text(alphabet=_TEXT_CHARACTERS, min_size=1, max_size=max_size).filter(
        str.strip
    )


def fixed_offsets() -> st.SearchStrategy[tzinfo]:
    """Fixed UTC offsets in steps of 15 minutes, from ``-12:00`` to ``+14:00``."""
    return st.integers(-48, 56).map(lambda quarters: timezone(timedelta(minutes=15 * quarters)))


def time_zones() -> st.SearchStrategy[tzinfo]:
    """Fixed offsets, :data:`datetime.UTC` and the IANA zones of :data:`ZONE_NAMES`."""
    return st.one_of(
        st.just(UTC), fixed_offsets(), st.sampled_from(ZONE_NAMES).map(ZoneInfo)
    )


def is_unambiguous(moment: datetime) -> bool:
    """Whether ``moment``'s wall time names exactly one instant (no DST gap or fold)."""
    return moment.replace(fold=1 - moment.fold).utcoffset() == moment.utcoffset()


def aware_datetimes(
    *, min_value: datetime = EARLIEST, max_value: datetime = LATEST
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes (microseconds included) in :func:`time_zones`.

    ``min_value`` and ``max_value`` are naive wall-clock bounds.
    """
    return st.datetimes(
        min_value=min_value, max_value=max_value, timezones=time_zones(), allow_imaginary=False
    ).filter(is_unambiguous)


def _in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` seen in ``zone``, or in UTC when that wall time would be ambiguous."""
    local = moment.astimezone(zone)
    return local if is_unambiguous(local) else moment.astimezone(UTC)


def later_datetimes(
    start: datetime, *, within: timedelta = timedelta(days=400)
) -> st.SearchStrategy[datetime]:
    """Instants from ``start`` to ``start + within``, each in a drawn time zone."""
    return st.builds(
        lambda delta, zone: _in_zone(start.astimezone(UTC) + delta, zone),
        st.timedeltas(min_value=timedelta(0), max_value=within),
        time_zones(),
    )


def money(*, allow_negative: bool = False) -> st.SearchStrategy[Decimal]:
    """Finite Decimals with at most two decimal places, non-negative unless allowed."""
    return st.decimals(
        min_value=-_MAX_MONEY if allow_negative else Decimal(0), max_value=_MAX_MONEY,
        places=2, allow_nan=False, allow_infinity=False,
    )


def local_times() -> st.SearchStrategy[time]:
    """Naive local times of day (minutes, seconds or microseconds)."""
    return st.one_of(
        st.builds(time, st.integers(0, 23), st.integers(0, 59)),
        st.times(),
    )


def language_tags() -> st.SearchStrategy[str]:
    """BCP 47 style tags such as ``zh``, ``zh-CN`` or ``sr-Latn-RS``."""
    return st.from_regex(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?", fullmatch=True)


def attribute_values() -> st.SearchStrategy[AttributeValue]:
    """Custom attribute values: text, whole number, finite float or bool."""
    return st.one_of(
        texts(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
    )


def attributes() -> st.SearchStrategy[dict[str, AttributeValue]]:
    """Custom attribute dicts, keyed by non-blank names."""
    return st.dictionaries(non_empty_texts(max_size=20), attribute_values(), max_size=5)


def json_values() -> st.SearchStrategy[Any]:
    """Values :func:`json.dumps` writes and :func:`json.loads` reads back equal.

    None, bools, integers within ``±2**53``, finite floats, texts, and lists and
    dicts of them.
    """
    scalars: st.SearchStrategy[Any] = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False), texts(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(texts(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def _owner(customer_id: str | None) -> st.SearchStrategy[str]:
    return identifiers() if customer_id is None else st.just(customer_id)


# -- value objects ----------------------------------------------------------------------


@st.composite
def quiet_hours(draw: st.DrawFn) -> QuietHours:
    """:class:`~crmcore.model.QuietHours`, some crossing midnight."""
    start = draw(local_times())
    return QuietHours(start, draw(local_times().filter(lambda end: end != start)))


@st.composite
def celebrations(draw: st.DrawFn) -> Celebration:
    """:class:`~crmcore.model.Celebration` on days that exist (29 February in leap years)."""
    year = draw(_optional(st.integers(1, 9999)))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year or 2000, month)[1]))
    return Celebration(name=draw(non_empty_texts()), month=month, day=day, year=year)


def contact_preferences() -> st.SearchStrategy[ContactPreferences]:
    """:class:`~crmcore.model.ContactPreferences` with every field exercised."""
    return st.builds(
        ContactPreferences,
        channels=st.lists(st.sampled_from(Channel), unique=True, max_size=4).map(tuple),
        language=_optional(language_tags()),
        time_zone=_optional(st.sampled_from(ZONE_NAMES)),
        quiet_hours=st.lists(quiet_hours(), max_size=2).map(tuple),
        contact_every_days=_optional(st.integers(1, 3660)),
        best_weekdays=st.lists(st.integers(0, 6), max_size=7).map(tuple),
        religion=_optional(texts()),
        celebrations=st.lists(celebrations(), max_size=2).map(tuple),
        do_not_contact=st.booleans(),
    )


# -- entities ------------------------------------------------------------------------------


def customers() -> st.SearchStrategy[Customer]:
    """:class:`~crmcore.model.Customer` with preferences, attributes and tags."""
    return st.builds(
        Customer,
        id=identifiers(),
        name=non_empty_texts(),
        kind=st.sampled_from(PartyKind),
        owner=_optional(texts()),
        acquired_at=_optional(aware_datetimes()),
        parent_id=_optional(identifiers()),
        attributes=attributes(),
        preferences=contact_preferences(),
        tags=st.lists(texts(max_size=12), max_size=3).map(tuple),
    )


def _email_addresses() -> st.SearchStrategy[str]:
    local = st.text(alphabet=string.ascii_lowercase + string.digits + "._+-", min_size=1,
                    max_size=12)
    domain = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,6}){1,2}", fullmatch=True)
    return st.builds(lambda user, host: f"{user}@{host}", local, domain)


def contact_persons(*, customer_id: str | None = None) -> st.SearchStrategy[ContactPerson]:
    """:class:`~crmcore.model.ContactPerson`, optionally of one customer."""
    return st.builds(
        ContactPerson,
        id=identifiers(),
        customer_id=_owner(customer_id),
        name=non_empty_texts(),
        title=_optional(texts()),
        department=_optional(texts()),
        phone=_optional(st.from_regex(r"\+?[0-9 ]{3,15}", fullmatch=True)),
        email=_optional(_email_addresses()),
        reports_to=_optional(identifiers()),
        is_primary=st.booleans(),
    )


def transactions(*, customer_id: str | None = None) -> st.SearchStrategy[Transaction]:
    """:class:`~crmcore.model.Transaction`, optionally of one customer."""
    return st.builds(
        Transaction,
        id=identifiers(),
        customer_id=_owner(customer_id),
        occurred_at=aware_datetimes(),
        amount=money(),
        quantity=st.integers(0, 10_000),
        cost=_optional(money()),
        reference=_optional(texts()),
    )


def interactions(*, customer_id: str | None = None) -> st.SearchStrategy[Interaction]:
    """:class:`~crmcore.model.Interaction` of every kind, direction, channel and outcome."""
    return st.builds(
        Interaction,
        id=identifiers(),
        customer_id=_owner(customer_id),
        occurred_at=aware_datetimes(),
        kind=st.sampled_from(InteractionKind),
        direction=st.sampled_from(Direction),
        channel=st.sampled_from(Channel),
        outcome=st.sampled_from(Outcome),
        contact_id=_optional(identifiers()),
        owner=_optional(texts()),
        subject=_optional(texts()),
    )


@st.composite
def tickets(draw: st.DrawFn, *, customer_id: str | None = None) -> Ticket:
    """:class:`~crmcore.model.Ticket`; response and resolution never before opening."""
    opened_at = draw(aware_datetimes())
    return Ticket(
        id=draw(identifiers()),
        customer_id=draw(_owner(customer_id)),
        opened_at=opened_at,
        kind=draw(st.sampled_from(TicketKind)),
        category=draw(non_empty_texts()),
        priority=draw(st.sampled_from(Priority)),
        status=draw(st.sampled_from(TicketStatus)),
        owner=draw(_optional(texts())),
        subject=draw(_optional(texts())),
        first_response_at=draw(_optional(later_datetimes(opened_at))),
        resolved_at=draw(_optional(later_datetimes(opened_at))),
        problem_id=draw(_optional(identifiers())),
    )


@st.composite
def opportunities(draw: st.DrawFn, *, customer_id: str | None = None) -> Opportunity:
    """:class:`~crmcore.model.Opportunity`; expected close never before it was received."""
    received_at = draw(aware_datetimes())
    days = draw(_optional(st.integers(0, 3650)))
    expected_close: date | None = (
        None if days is None else received_at.date() + timedelta(days=days)
    )
    return Opportunity(
        id=draw(identifiers()),
        customer_id=draw(_owner(customer_id)),
        title=draw(non_empty_texts()),
        received_at=received_at,
        source=draw(_optional(texts())),
        owner=draw(_optional(texts())),
        expected_close=expected_close,
        estimated_value=draw(_optional(money())),
        estimated_profit=draw(_optional(money(allow_negative=True))),
        status=draw(st.sampled_from(OpportunityStatus)),
        concerns=tuple(draw(st.lists(texts(), max_size=3))),
        poor_credit=draw(st.booleans()),
        low_loyalty=draw(st.booleans()),
    )


def survey_responses(*, customer_id: str | None = None) -> st.SearchStrategy[SurveyResponse]:
    """:class:`~crmcore.model.SurveyResponse` with CSAT, NPS and free answers."""
    return st.builds(
        SurveyResponse,
        id=identifiers(),
        customer_id=_owner(customer_id),
        answered_at=aware_datetimes(),
        survey=non_empty_texts(),
        csat=_optional(st.integers(1, 5)),
        nps=_optional(st.integers(0, 10)),
        answers=st.dictionaries(
            non_empty_texts(max_size=20), st.one_of(st.integers(), texts()), max_size=4
        ),
        comment=_optional(texts()),
    )


@st.composite
def commitments(draw: st.DrawFn, *, customer_id: str | None = None) -> Commitment:
    """:class:`~crmcore.model.Commitment`; due and fulfilled never before it was made."""
    made_at = draw(aware_datetimes())
    return Commitment(
        id=draw(identifiers()),
        customer_id=draw(_owner(customer_id)),
        made_at=made_at,
        due_at=draw(later_datetimes(made_at)),
        description=draw(non_empty_texts()),
        owner=draw(_optional(texts())),
        ticket_id=draw(_optional(identifiers())),
        fulfilled_at=draw(_optional(later_datetimes(made_at))),
    )


def domain_events(*, customer_id: str | None = None) -> st.SearchStrategy[DomainEvent]:
    """:class:`~crmcore.events.DomainEvent` with JSON data; ``customer_id`` may be None."""
    return st.builds(
        DomainEvent,
        type=st.from_regex(r"[a-z_]{1,12}\.[a-z_]{1,12}", fullmatch=True),
        occurred_at=aware_datetimes(),
        subject=non_empty_texts(),
        customer_id=_optional(identifiers()) if customer_id is None else st.just(customer_id),
        data=st.dictionaries(texts(max_size=10), json_values(), max_size=4),
        id=identifiers(),
    )


# -- by type ----------------------------------------------------------------------------------

STRATEGIES: Mapping[type[Any], Callable[[], st.SearchStrategy[Any]]] = {
    Customer: customers,
    ContactPreferences: contact_preferences,
    QuietHours: quiet_hours,
    Celebration: celebrations,
    ContactPerson: contact_persons,
    Transaction: transactions,
    Interaction: interactions,
    Ticket: tickets,
    Opportunity: opportunities,
    SurveyResponse: survey_responses,
    Commitment: commitments,
    DomainEvent: domain_events,
}
"""The strategy function of every model class and of :class:`~crmcore.events.DomainEvent`."""

STORED_TYPES: tuple[type[Any], ...] = tuple(entity.cls for entity in ENTITY_TYPES)
"""The entity classes that are stored on their own, from :data:`crmcore.model.ENTITY_TYPES`."""


def for_type(cls: type[T]) -> st.SearchStrategy[T]:
    """The strategy of ``cls``, one of the keys of :data:`STRATEGIES`.

    Raises :class:`KeyError` naming the class when it has none.
    """
    try:
        factory = STRATEGIES[cls]
    except KeyError:
        raise KeyError(f"crmcore.testing.strategies has no strategy for {cls.__name__}") from None
    return cast(st.SearchStrategy[T], factory())


def entities() -> st.SearchStrategy[Any]:
    """Any stored entity: one of :data:`STORED_TYPES`, drawn from its strategy."""
    return st.one_of(*(for_type(cls) for cls in STORED_TYPES))
