"""Differentiation reports (G9, 客户差异分析) from the stored book, read as columns.

Four reports, as of a moment ``as_of`` (year ``Y``); "last year" is the
calendar year ``Y - 1``, "the last 12 months" the 12 calendar months before
``as_of``:

``complained``
    last year's large customers (the top ``large_share`` of last year's
    buyers by revenue, ties kept) who complained at least
    ``repeated_complaints`` times last year (多次提出了抱怨).
``still-ordering``
    last year's ``largest`` customers by revenue, and whether they still
    order this year: revenue so far this year against the same span of last
    year, ``ordering``, ``ordering less`` (under ``less_than`` of it) or
    ``stopped`` (nothing this year).
``narrow``
    customers whose invoices of the last 12 months name only one or two
    products (只订购一两种产品), with how many they buy elsewhere and their
    share of wallet when the customer's attributes say so
    (``products_elsewhere``, ``share_of_wallet``), otherwise ``unknown``.
    Customers whose invoices name no product are counted as unknown in the
    notes, never as narrow.
``costly``
    customers who caused cost in the last 12 months (哪些客户导致了企业成本的发生):
    complaints, returns (tickets of a ``return_categories`` category), hours
    of service (opened to resolved, of the tickets resolved by ``as_of``) and late
    payments (invoices paid after their due date, or open past it); listed
    when at least one crosses its threshold, most signals first.

:func:`stored_inputs` reads customers, purchases, tickets and invoices
through :meth:`~crmcore.ports.StorageSession.scan` (ADR 0007) and
:func:`entity_inputs` builds the same columns from entity objects (the
reference a property test compares with); :func:`differentiation_report`
computes a report from either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from crmcore.book import read_purchases
from crmcore.columns import micros_of
from crmcore.errors import ConfigError
from crmcore.grading.columns import US_PER_DAY, to_cents
from crmcore.grading.metrics import window_start
from crmcore.i18n import N_, tr
from crmcore.model import Customer, Ticket, TicketKind, Transaction
from crmcore.ports import StorageSession
from crmcore.sales.receivables import Receivable, cents_text
from crmcore.sales.receivables_columns import (
    ReceivableColumns,
    read_receivables,
    receivable_columns,
)

__all__ = [
    "REPORTS",
    "UNKNOWN",
    "DifferentiationInputs",
    "DifferentiationRules",
    "Report",
    "differentiation_report",
    "entity_inputs",
    "stored_inputs",
]

REPORTS = ("complained", "still-ordering", "narrow", "costly")
"""The G9 report names, in display order."""

UNKNOWN = "unknown"
"""What a cell says when the book holds no data for it."""

US_PER_HOUR = 3_600_000_000


def _positive_share(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(tr("{key}: {value!r} must be a share in (0, 1]").format(
            key=attribute.name, value=value))


def _count(low: int) -> Any:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(tr("{key}: {value!r} must be a whole number of at least {low}")
                              .format(key=attribute.name, value=value, low=low))
    return check


def _hours(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0 or \
            math.isinf(value):
        raise ConfigError(tr("{key}: {value!r} must be a number of hours, at least 0").format(
            key=attribute.name, value=value))


@attrs.frozen
class DifferentiationRules:
    """The numbers the G9 reports use; every one names itself when it is bad."""

    large_share: float = attrs.field(default=0.2, validator=_positive_share)
    repeated_complaints: int = attrs.field(default=2, validator=_count(1))
    largest: int = attrs.field(default=10, validator=_count(1))
    less_than: float = attrs.field(default=0.5, validator=_positive_share)
    many_elsewhere: int = attrs.field(default=3, validator=_count(1))
    elsewhere_attribute: str = "products_elsewhere"
    wallet_attribute: str = "share_of_wallet"
    return_categories: frozenset[str] = attrs.field(
        default=frozenset({"return", "returns", "退货"}), converter=frozenset)
    complaints_from: int = attrs.field(default=2, validator=_count(1))
    returns_from: int = attrs.field(default=1, validator=_count(1))
    service_hours_from: float = attrs.field(default=8.0, validator=_hours)
    late_payments_from: int = attrs.field(default=1, validator=_count(1))


@attrs.frozen
class DifferentiationInputs:
    """What the reports read, as plain columns (times in microseconds since the epoch).

    Purchases and tickets cover what the reports need (from the start of
    last year, or of the last 12 months if earlier, up to ``as_of``).
    """

    customer_ids: list[str]
    names: list[str]
    attributes: list[Mapping[str, Any]]
    buyer: list[str]
    bought_us: list[int]
    amount_cents: list[int]
    ticket_customer: list[str]
    opened_us: list[int]
    ticket_kind: list[str]
    category: list[str]
    resolved_us: list[int | None]
    invoices: ReceivableColumns


@attrs.frozen
class Report:
    """A G9 report: a table (``columns`` and ``rows`` of plain values) and notes."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    notes: tuple[str, ...] = ()

    def as_dicts(self) -> list[dict[str, Any]]:
        """Each row as a mapping of column to value."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _span(as_of: datetime) -> tuple[datetime, datetime, datetime]:
    """Start of last year, start of this year, the start of the last 12 months."""
    this_year = datetime(as_of.astimezone(UTC).year, 1, 1, tzinfo=UTC)
    return this_year.replace(year=this_year.year - 1), this_year, window_start(as_of, 12)


def stored_inputs(session: StorageSession, as_of: datetime) -> DifferentiationInputs:
    """The inputs read from storage as columns (no entity object per row)."""
    last_year, _, twelve = _span(as_of)
    since = min(last_year, twelve)
    ids: list[str] = []
    names: list[str] = []
    attributes: list[Mapping[str, Any]] = []
    for chunk in session.scan("customer", {"id": "text", "name": "text", "attributes": "json"}):
        ids.extend(chunk["id"])
        names.extend(chunk["name"])
        attributes.extend(value or {} for value in chunk["attributes"])
    purchases = read_purchases(session, since=since, until=as_of, fast=False)
    codes = list(purchases.customer)
    buyer = [purchases.ids[code] for code in codes]
    tickets: dict[str, list[Any]] = {name: [] for name in _TICKET_COLUMNS}
    for chunk in session.scan("ticket", _TICKET_COLUMNS, since=since, until=as_of):
        for name, values in chunk.items():
            tickets[name].extend(values)
    return DifferentiationInputs(
        ids, names, attributes, buyer, list(purchases.at_us), list(purchases.amount_cents),
        tickets["customer_id"], tickets["at"], tickets["kind"], tickets["category"],
        tickets["resolved_at"], read_receivables(session, products=True))


_TICKET_COLUMNS: dict[str, Any] = {"customer_id": "text", "at": "instant", "kind": "text",
                                   "category": "text", "resolved_at": "instant"}


def entity_inputs(as_of: datetime, customers: Iterable[Customer],
                  transactions: Iterable[Transaction], tickets: Iterable[Ticket],
                  receivables: Iterable[Receivable]) -> DifferentiationInputs:
    """The same inputs from entity objects: the plain reference of :func:`stored_inputs`."""
    last_year, _, twelve = _span(as_of)
    since = min(last_year, twelve)
    people = list(customers)
    bought = [t for t in transactions if since <= t.occurred_at < as_of]
    opened = [t for t in tickets if since <= t.opened_at < as_of]
    return DifferentiationInputs(
        [c.id for c in people], [c.name for c in people], [dict(c.attributes) for c in people],
        [t.customer_id for t in bought], [micros_of(t.occurred_at) for t in bought],
        [to_cents(t.amount) for t in bought],
        [t.customer_id for t in opened], [micros_of(t.opened_at) for t in opened],
        [t.kind.value for t in opened], [t.category for t in opened],
        [None if t.resolved_at is None else micros_of(t.resolved_at) for t in opened],
        receivable_columns(receivables))


def _sums(keys: Sequence[str], values: Sequence[int], keep: Sequence[bool]) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, value, kept in zip(keys, values, keep, strict=True):
        if kept:
            found[key] = found.get(key, 0) + value
    return found


def _money(cents: int) -> str:
    return cents_text(cents, grouped=True)


class _Book:
    """One computation over the inputs; a method per report."""

    def __init__(self, data: DifferentiationInputs, as_of: datetime,
                 rules: DifferentiationRules) -> None:
        self.data, self.rules = data, rules
        last_year, this_year, twelve = (micros_of(moment) for moment in _span(as_of))
        self.as_of_us = micros_of(as_of)
        self.last_year, self.this_year, self.twelve = last_year, this_year, twelve
        self.names = dict(zip(data.customer_ids, data.names, strict=True))
        self.attributes = dict(zip(data.customer_ids, data.attributes, strict=True))
        times = data.bought_us
        self.revenue_last = _sums(data.buyer, data.amount_cents,
                                  [last_year <= t < this_year for t in times])
        self.revenue_now = _sums(data.buyer, data.amount_cents, [t >= this_year for t in times])
        self.revenue_span = _sums(data.buyer, data.amount_cents,  # twelve: a year before as_of
                                  [last_year <= t < twelve for t in times])
        self.revenue_twelve = _sums(data.buyer, data.amount_cents, [t >= twelve for t in times])

    def _ranked_last_year(self) -> list[tuple[str, int]]:
        return sorted(((who, cents) for who, cents in self.revenue_last.items() if cents > 0),
                      key=lambda item: (-item[1], item[0]))

    def _complaints(self, since: int, until: int) -> dict[str, int]:
        data = self.data
        keep = [kind == TicketKind.COMPLAINT.value and since <= at < until
                for kind, at in zip(data.ticket_kind, data.opened_us, strict=True)]
        return _sums(data.ticket_customer, [1] * len(keep), keep)

    def complained(self) -> Report:
        ranked = self._ranked_last_year()
        count = max(1, math.ceil(len(ranked) * self.rules.large_share)) if ranked else 0
        cutoff = ranked[count - 1][1] if count else 0
        large = [(who, cents) for who, cents in ranked if cents >= cutoff]
        last = self._complaints(self.last_year, self.this_year)
        now = self._complaints(self.this_year, self.as_of_us)
        rows = [(who, self.names.get(who, UNKNOWN), _money(cents), last[who], now.get(who, 0))
                for who, cents in large if last.get(who, 0) >= self.rules.repeated_complaints]
        rows.sort(key=lambda row: (-row[3], row[0]))
        return Report("complained", N_("Last year's large customers who complained repeatedly"),
                      ("customer", "name", "revenue_last_year", "complaints_last_year",
                       "complaints_this_year"), tuple(rows),
                      (tr("large: the top {share} of last year's {buyers} buyers ({large} "
                          "customers, ties kept); repeatedly: {repeated} complaints or more"
                          ).format(share=f"{self.rules.large_share:.0%}", buyers=len(ranked),
                                   large=len(large),
                                   repeated=self.rules.repeated_complaints),))

    def still_ordering(self) -> Report:
        rows = []
        for who, cents in self._ranked_last_year()[:self.rules.largest]:
            now, span = self.revenue_now.get(who, 0), self.revenue_span.get(who, 0)
            status = ("stopped" if now <= 0 else "ordering less"
                      if span > 0 and now < span * self.rules.less_than else "ordering")
            change = f"{(now - span) / span:+.0%}" if span > 0 else UNKNOWN
            rows.append((who, self.names.get(who, UNKNOWN), _money(cents), _money(span),
                         _money(now), change, status))
        return Report("still-ordering",
                      N_("Last year's largest customers: do they still order?"),
                      ("customer", "name", "revenue_last_year", "same_span_last_year",
                       "this_year_so_far", "change", "status"), tuple(rows),
                      (tr("ordering less: under {share} of the same span of last year"
                          ).format(share=f"{self.rules.less_than:.0%}"),))

    def narrow(self) -> Report:
        data, rules = self.data, self.rules
        start = self.twelve // US_PER_DAY
        today = self.as_of_us // US_PER_DAY
        products: dict[str, set[str]] = {}
        unnamed: set[str] = set()
        for who, issued, names in zip(data.invoices.customer, data.invoices.issued_day,
                                      data.invoices.products or [], strict=True):
            if not start <= issued <= today:
                continue
            if names:
                products.setdefault(who, set()).update(names)
            else:
                unnamed.add(who)
        rows = []
        for who in sorted(products):
            if len(products[who]) > 2:
                continue
            attributes = self.attributes.get(who, {})
            elsewhere = _number(attributes.get(rules.elsewhere_attribute))
            share = _number(attributes.get(rules.wallet_attribute))
            many = UNKNOWN if elsewhere is None else (
                "yes" if elsewhere >= rules.many_elsewhere else "no")
            rows.append((who, self.names.get(who, UNKNOWN), len(products[who]),
                         ", ".join(sorted(products[who])),
                         UNKNOWN if elsewhere is None else int(elsewhere),
                         UNKNOWN if share is None else f"{share:.0%}", many))
        rows.sort(key=lambda row: (row[6] != "yes", row[6] == UNKNOWN, row[0]))
        unknown = len(unnamed - set(products))
        return Report("narrow", N_("Customers who buy one or two products from us"),
                      ("customer", "name", "products_from_us", "products",
                       "products_elsewhere", "share_of_wallet", "many_elsewhere"), tuple(rows),
                      (tr("products: named on invoices of the last 12 months; elsewhere: "
                          "the attributes {elsewhere!r} and {wallet!r} (unknown when absent); "
                          "many: {many} or more").format(
                          elsewhere=rules.elsewhere_attribute, wallet=rules.wallet_attribute,
                          many=rules.many_elsewhere),
                       tr("{count} invoiced customer(s) whose invoices name no product: "
                          "breadth unknown").format(count=unknown)))

    def costly(self) -> Report:
        data, rules = self.data, self.rules
        complaints = self._complaints(self.twelve, self.as_of_us)
        returns: dict[str, int] = {}
        service_us: dict[str, int] = {}
        for who, at, category, resolved in zip(data.ticket_customer, data.opened_us,
                                               data.category, data.resolved_us, strict=True):
            if not self.twelve <= at < self.as_of_us:
                continue
            if category in rules.return_categories:
                returns[who] = returns.get(who, 0) + 1
            if resolved is not None and resolved <= self.as_of_us:
                service_us[who] = service_us.get(who, 0) + resolved - at
        late, days_late = self._late_payments()
        rows = []
        for who in sorted(set(complaints) | set(returns) | set(service_us) | set(late)):
            hours = service_us.get(who, 0) / US_PER_HOUR
            signals = [name for name, hit in (
                ("complaints", complaints.get(who, 0) >= rules.complaints_from),
                ("returns", returns.get(who, 0) >= rules.returns_from),
                ("service time", hours >= rules.service_hours_from and hours > 0),
                ("late payment", late.get(who, 0) >= rules.late_payments_from)) if hit]
            if signals:
                rows.append((who, self.names.get(who, UNKNOWN), complaints.get(who, 0),
                             returns.get(who, 0), round(hours, 1), late.get(who, 0),
                             days_late.get(who, 0), _money(self.revenue_twelve.get(who, 0)),
                             ", ".join(signals)))
        rows.sort(key=lambda row: (-len(row[8].split(", ")), -row[2], -row[4], -row[6], row[0]))
        return Report("costly", N_("Customers who cause cost"),
                      ("customer", "name", "complaints", "returns", "service_hours",
                       "late_payments", "days_late", "revenue_12_months", "signals"),
                      tuple(rows),
                      (tr("last 12 months; thresholds: complaints {complaints}, returns "
                          "{returns}, service {hours} h, late payments {late}").format(
                          complaints=rules.complaints_from, returns=rules.returns_from,
                          hours=f"{rules.service_hours_from:g}",
                          late=rules.late_payments_from),))

    def _late_payments(self) -> tuple[dict[str, int], dict[str, int]]:
        """Invoices of the last 12 months paid late or open past due, and days late in all."""
        invoices = self.data.invoices
        start, today = self.twelve // US_PER_DAY, self.as_of_us // US_PER_DAY
        count: dict[str, int] = {}
        days: dict[str, int] = {}
        for who, amount, paid, issued, due, paid_day in zip(
                invoices.customer, invoices.amount_cents, invoices.paid_cents,
                invoices.issued_day, invoices.due_day, invoices.paid_day, strict=True):
            if not start <= issued <= today:
                continue
            settled = paid == amount and paid_day <= today
            late = (paid_day if settled else today) - due
            if late > 0:
                count[who] = count.get(who, 0) + 1
                days[who] = days.get(who, 0) + late
        return count, days


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def differentiation_report(data: DifferentiationInputs, name: str, *, as_of: datetime,
                           rules: DifferentiationRules | None = None) -> Report:
    """The G9 report ``name`` (one of :data:`REPORTS`) as of ``as_of``."""
    if name not in REPORTS:
        raise ConfigError(tr("{key}: {value!r} is not a differentiation report (known: {known})"
                             ).format(key="report", value=name, known=", ".join(REPORTS)))
    book = _Book(data, as_of, rules or DifferentiationRules())
    method = {"complained": book.complained, "still-ordering": book.still_ordering,
              "narrow": book.narrow, "costly": book.costly}[name]
    return method()

