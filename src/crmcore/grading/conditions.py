"""Threshold conditions on metrics and attributes (G2), as data: no eval.

A condition is one of:

* a comparison ``{ metric = "revenue", op = ">=", value = 50000 }`` (ops
  ``==  !=  >  >=  <  <=``; ordered ops need a number);
* a range ``{ attribute = "annual_turnover", between = [10e6, 50e6],
  bounds = "[)" }``: ``bounds`` is required and says which ends are included
  (``[`` ``]`` inclusive, ``(`` ``)`` exclusive);
* a choice ``{ attribute = "industry", in = ["retail", "media"] }``;
* ``{ all = [...] }`` (every one holds) or ``{ any = [...] }`` (at least one).

A metric or attribute that is missing, or not a number where a number is
compared, makes its condition false. :func:`check_ranges` rejects threshold
rules whose intervals on one field overlap or leave a gap between them.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._document import Table
from crmcore.i18n import N_, tr

Scalar = str | int | float | bool
"""A value a condition compares with."""

Lookup = Callable[["FieldRef"], Scalar | None]
"""Gives a field's value for one customer, or None when it is missing."""


class Source(StrEnum):
    """Where a field's value comes from."""

    METRIC = "metric"
    ATTRIBUTE = "attribute"


@attrs.frozen
class FieldRef:
    """A metric (``revenue``) or a customer attribute (``attributes.industry``)."""

    source: Source
    name: str

    def __str__(self) -> str:
        return self.name if self.source is Source.METRIC else f"attributes.{self.name}"


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le,
}
_ORDERED = (">", ">=", "<", "<=")
_SYMBOL = {">=": "≥", "<=": "≤", "!=": "≠", "==": "=", ">": ">", "<": "<"}
BOUNDS = ("[)", "[]", "(]", "()")
"""Range bounds: ``[`` and ``]`` include the end, ``(`` and ``)`` exclude it."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def format_value(value: object) -> str:
    """A value as people read it: ``50,000,000``, ``0.35``, ``'high'``, ``true``."""
    if type(value) is float:
        return float_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return float_text(value)
    return repr(value)


def float_text(value: float) -> str:
    """A float as :func:`format_value` shows it: ``1,200``, ``12.35``, ``0.35``, ``∞``."""
    if value.is_integer() and -1e15 < value < 1e15:
        return f"{int(value):,}"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"


@attrs.frozen
class Interval:
    """A numeric interval with open or closed ends (infinite ends are open)."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool

    @classmethod
    def everything(cls) -> Interval:
        """The whole number line."""
        return cls(-math.inf, math.inf, False, False)

    def intersect(self, other: Interval) -> Interval:
        """The values in both intervals."""
        low, low_closed = max((self.low, not self.low_closed), (other.low, not other.low_closed))
        high, high_closed = min((self.high, self.high_closed), (other.high, other.high_closed))
        return Interval(low, high, not low_closed, high_closed)

    def __str__(self) -> str:
        if self.low == self.high:
            return format_value(self.low)
        return (f"{'[' if self.low_closed else '('}{format_value(self.low)}, "
                f"{format_value(self.high)}{']' if self.high_closed else ')'}")


@attrs.frozen
class Compare:
    """``field op value``; a missing field or a type mismatch is false."""

    field: FieldRef
    op: str
    value: Scalar

    def test(self, lookup: Lookup) -> bool:
        """Whether the condition holds for the customer ``lookup`` describes."""
        actual = lookup(self.field)
        if actual is None:
            return False
        if self.op in _ORDERED or _is_number(self.value):
            if not (_is_number(actual) and _is_number(self.value)):
                return False
        elif type(actual) is not type(self.value):
            return False
        return _OPS[self.op](actual, self.value)

    def describe(self) -> str:
        """The condition as text, e.g. ``revenue ≥ 50,000``."""
        return f"{self.field} {_SYMBOL[self.op]} {format_value(self.value)}"

    def fields(self) -> tuple[FieldRef, ...]:
        """The fields the condition reads."""
        return (self.field,)

    def interval(self) -> Interval | None:
        """The numbers that satisfy an ordered comparison, else None."""
        if self.op not in _ORDERED or not _is_number(self.value):
            return None
        value = float(self.value)
        return {
            ">": Interval(value, math.inf, False, False),
            ">=": Interval(value, math.inf, True, False),
            "<": Interval(-math.inf, value, False, False),
            "<=": Interval(-math.inf, value, False, True),
        }[self.op]


@attrs.frozen
class Between:
    """``low .. high`` with the stated ``bounds`` (``"[)"`` includes low, excludes high)."""

    field: FieldRef
    low: float
    high: float
    bounds: str

    def test(self, lookup: Lookup) -> bool:
        """Whether the field's value lies in the range."""
        actual = lookup(self.field)
        if not _is_number(actual):
            return False
        value = float(actual)  # type: ignore[arg-type]
        above = value >= self.low if self.bounds[0] == "[" else value > self.low
        below = value <= self.high if self.bounds[1] == "]" else value < self.high
        return above and below

    def describe(self) -> str:
        """The condition as text, e.g. ``attributes.turnover in [10,000,000, 50,000,000)``."""
        return tr("{field} in {values}").format(field=self.field, values=self.interval())

    def fields(self) -> tuple[FieldRef, ...]:
        """The fields the condition reads."""
        return (self.field,)

    def interval(self) -> Interval:
        """The numbers the range accepts."""
        return Interval(self.low, self.high, self.bounds[0] == "[", self.bounds[1] == "]")


@attrs.frozen
class OneOf:
    """The field equals one of ``values``."""

    field: FieldRef
    values: tuple[Scalar, ...]

    def test(self, lookup: Lookup) -> bool:
        """Whether the field's value is one of the listed values (same type)."""
        actual = lookup(self.field)
        return actual is not None and any(
            type(actual) is type(value) or (_is_number(actual) and _is_number(value))
            for value in self.values if value == actual
        )

    def describe(self) -> str:
        """The condition as text."""
        values = ", ".join(format_value(v) for v in self.values)
        return tr("{field} in {values}").format(field=self.field, values=f"{{{values}}}")

    def fields(self) -> tuple[FieldRef, ...]:
        """The fields the condition reads."""
        return (self.field,)

    def interval(self) -> None:
        """Choices are not intervals."""
        return None


@attrs.frozen
class AllOf:
    """Every item holds."""

    items: tuple[Condition, ...]

    def test(self, lookup: Lookup) -> bool:
        """Whether every item holds."""
        return all(item.test(lookup) for item in self.items)

    def describe(self) -> str:
        """The items joined with "and"."""
        return _joined(N_("{left} and {right}"), self.items)

    def fields(self) -> tuple[FieldRef, ...]:
        """The fields the items read."""
        return tuple(field for item in self.items for field in item.fields())

    def interval(self) -> None:
        """A conjunction is checked item by item."""
        return None


@attrs.frozen
class AnyOf:
    """At least one item holds."""

    items: tuple[Condition, ...]

    def test(self, lookup: Lookup) -> bool:
        """Whether at least one item holds."""
        return any(item.test(lookup) for item in self.items)

    def describe(self) -> str:
        """The items joined with "or"."""
        return _joined(N_("{left} or {right}"), self.items)

    def fields(self) -> tuple[FieldRef, ...]:
        """The fields the items read."""
        return tuple(field for item in self.items for field in item.fields())

    def interval(self) -> None:
        """A disjunction is not an interval."""
        return None


@attrs.frozen
class Always:
    """The explicit catch-all (``otherwise = true``)."""

    def test(self, lookup: Lookup) -> bool:
        """Always true."""
        return True

    def describe(self) -> str:
        """``otherwise``."""
        return tr("otherwise")

    def fields(self) -> tuple[FieldRef, ...]:
        """None."""
        return ()

    def interval(self) -> None:
        """Not an interval."""
        return None


Condition = Compare | Between | OneOf | AllOf | AnyOf | Always
"""Any condition."""


def _grouped(item: Condition) -> str:
    text = item.describe()
    return f"({text})" if isinstance(item, AllOf | AnyOf) and len(item.items) > 1 else text


def _joined(template: str, items: Sequence[Condition]) -> str:
    """``items`` described and joined by :func:`join_pairwise`."""
    return join_pairwise(template, [_grouped(item) for item in items])


def join_pairwise(template: str, texts: Sequence[str]) -> str:
    """``texts`` joined left to right by the catalogue's ``template`` (``{left} and
    {right}``): ``a and b and c`` in the current language; empty without texts."""
    if not texts:
        return ""
    joined, worded = texts[0], tr(template)
    for text in texts[1:]:
        joined = worded.format(left=joined, right=text)
    return joined


# -- reading --------------------------------------------------------------------------------

def parse_condition(table: Table) -> Condition:
    """Read one condition from a scheme document table (errors name the key path)."""
    for combinator, cls in (("all", AllOf), ("any", AnyOf)):
        if table.has(combinator):
            items = table.children(combinator)
            if not items:
                raise table.fail(combinator, [], tr("must list at least one condition"))
            table.check_all_used()
            return cls(tuple(parse_condition(item) for item in items))
    field = _field(table)
    if table.has("between"):
        condition: Condition = _between(table, field)
    elif table.has("in"):
        values = table.array("in")
        if not values or not all(isinstance(v, str | int | float | bool) for v in values):
            raise table.fail("in", values, tr("must be a non-empty list of texts, numbers or "
                                              "true/false values"))
        condition = OneOf(field, tuple(values))
    else:
        op = table.choice("op", tuple(_OPS))
        value = table.scalar("value")
        if op in _ORDERED and not _is_number(value):
            raise table.fail("value", value, tr("is not a number (needed by op {op!r})").format(
                op=op))
        condition = Compare(field, op, value)
    table.check_all_used()
    return condition


def _field(table: Table) -> FieldRef:
    given = [source for source in Source if table.has(source.value)]
    if len(given) != 1:
        raise ConfigError(tr("{key}: give exactly one of metric = NAME, attribute = NAME, "
                             "all = [...], any = [...]").format(
                                 key=table.key("")[:-1] or "condition"))
    source = given[0]
    name = table.text(source.value)
    if not name.strip():
        raise table.fail(source.value, name, tr("is not a field name"))
    return FieldRef(source, name)


def _between(table: Table, field: FieldRef) -> Between:
    ends = table.array("between")
    if len(ends) != 2 or not all(_is_number(end) for end in ends):
        raise table.fail("between", ends, tr("is not a list of two numbers [low, high]"))
    bounds = table.choice("bounds", BOUNDS)
    low, high = float(ends[0]), float(ends[1])
    if low > high or (low == high and bounds != "[]"):
        raise table.fail("between", ends, tr("with bounds {bounds!r} contains no number").format(
            bounds=bounds))
    return Between(field, low, high, bounds)


# -- checking ----------------------------------------------------------------------------------

def _conjuncts(condition: Condition) -> Sequence[Condition]:
    return condition.items if isinstance(condition, AllOf) else (condition,)


def check_ranges(rules: Sequence[tuple[str, Condition]]) -> None:
    """Reject rules whose intervals on a ranged field overlap or leave a gap.

    ``rules`` are ``(label, condition)`` pairs. A field is *ranged* when some
    rule gives it an explicit range (``between``); on a ranged field, every
    rule's interval (the intersection of its top-level ranges and ordered
    comparisons on it; conditions inside ``any`` do not count) must meet the
    next one exactly. One-sided thresholds on other fields (spend ≥ 150,000
    for A, ≥ 80,000 for B) are ordinary first-match cascades and are not
    checked. The catch-all covers what lies beyond the outermost intervals.
    Raises :class:`~crmcore.errors.ConfigError` showing the gap or overlap.
    """
    by_field: dict[str, list[tuple[Interval, str]]] = {}
    ranged: set[str] = set()
    for label, condition in rules:
        own: dict[str, Interval] = {}
        for item in _conjuncts(condition):
            interval = item.interval()
            if interval is not None:
                name = str(item.fields()[0])
                own[name] = own.get(name, Interval.everything()).intersect(interval)
                if isinstance(item, Between):
                    ranged.add(name)
        for name, interval in own.items():
            by_field.setdefault(name, []).append((interval, label))
    for name, intervals in by_field.items():
        if name not in ranged:
            continue
        ordered = sorted(intervals, key=lambda item: (item[0].low, not item[0].low_closed))
        for (first, first_label), (second, second_label) in itertools.pairwise(ordered):
            _check_pair(name, first, first_label, second, second_label)


def _check_pair(name: str, first: Interval, first_label: str, second: Interval,
                second_label: str) -> None:
    touching = first.high == second.low
    if first.high > second.low or (touching and first.high_closed and second.low_closed):
        shared = first.intersect(second)
        raise ConfigError(tr("{first_label} and {second_label} overlap on {name}: {shared} is "
                             "covered by both ({first} and {second}); make the ranges meet "
                             "without overlapping").format(
            first_label=first_label, second_label=second_label, name=name, shared=shared,
            first=first, second=second))
    if first.high < second.low or (touching and not first.high_closed
                                   and not second.low_closed):
        gap = Interval(first.high, second.low, not first.high_closed, not second.low_closed)
        raise ConfigError(tr("{first_label} and {second_label} leave a gap on {name}: {gap} is "
                             "covered by neither ({first} and {second}); make the ranges "
                             "meet").format(first_label=first_label, second_label=second_label,
                                            name=name, gap=gap, first=first, second=second))


def mapping_lookup(metrics: Mapping[str, float], attributes: Mapping[str, Scalar]) -> Lookup:
    """A :data:`Lookup` over one customer's metrics (NaN is missing) and attributes."""

    def lookup(field: FieldRef) -> Scalar | None:
        if field.source is Source.METRIC:
            value = metrics.get(field.name)
            return None if value is None or value != value else value
        return attributes.get(field.name)

    return lookup
