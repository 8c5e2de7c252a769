"""Sales territories as data, who is authorised for them, and assignment by the rules (M2).

A :class:`TerritoryRule` says which customers a territory covers: by region,
province, city, postcode prefix, industry and company size, each a list of
accepted values (an empty list accepts any). The customer's values are its
attributes of the same names (``region``, ``province``, ``city``,
``postcode``, ``industry``, ``size``). Each territory lists the salespeople
authorised for it; the first is its default owner.

:class:`Territories` refuses rules that overlap: two territories overlap when
some customer could match both, and the error shows that customer, as grading
shows the gap between two thresholds. :meth:`Territories.assign` finds the one
territory of a customer and checks the owner's authorisation.

In the configuration::

    [[sales.territories]]
    name = "east-retail"
    provinces = ["Zhejiang", "Jiangsu"]
    industries = ["retail"]
    salespeople = ["li.wei", "tom.hart"]   # authorised; the first is the default owner
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.model import Customer
from crmcore.options import Options
from crmcore.validation import as_tuple

__all__ = [
    "DIMENSIONS",
    "Assignment",
    "NoTerritoryError",
    "OverlappingTerritoriesError",
    "Territories",
    "TerritoryRule",
    "UnauthorisedOwnerError",
]

DIMENSIONS: dict[str, str] = {
    "regions": "region", "provinces": "province", "cities": "city",
    "postcode_prefixes": "postcode", "industries": "industry", "sizes": "size",
}
"""Rule field -> the customer attribute it tests."""

_RULE_KEYS = ("name", *DIMENSIONS, "salespeople", "description")


def _fold(value: str) -> str:
    return value.strip().casefold()


@attrs.frozen
class TerritoryRule:
    """One territory: the customers it covers and the salespeople authorised for it.

    Every dimension is a tuple of accepted values (case does not matter);
    empty accepts any value, a non-empty one needs the customer's attribute to
    be one of them (for ``postcode_prefixes``: to start with one of them).
    """

    name: str
    regions: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    provinces: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    cities: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    postcode_prefixes: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    industries: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    sizes: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    salespeople: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        where = f"territory {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip() or "/" in self.name:
            raise ValidationError("name", self.name, "is not a territory name")
        for field in (*DIMENSIONS, "salespeople"):
            values = getattr(self, field)
            for value in values:
                if not isinstance(value, str) or not value.strip():
                    raise ValidationError(f"{where}.{field}", value,
                                          "must be a non-empty text")
            if len({_fold(value) for value in values}) != len(values):
                raise ValidationError(f"{where}.{field}", list(values), "lists a value twice")
        if not self.salespeople:
            raise ValidationError(f"{where}.salespeople", [],
                                  "must name at least one authorised salesperson")

    def values(self, dimension: str) -> tuple[str, ...]:
        """The accepted values of ``dimension`` (a key of :data:`DIMENSIONS`)."""
        values: tuple[str, ...] = getattr(self, dimension)
        return values

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether a customer with attribute values ``facts`` is in this territory."""
        for dimension, attribute in DIMENSIONS.items():
            accepted = self.values(dimension)
            if not accepted:
                continue
            value = facts.get(attribute)
            if value is None or isinstance(value, bool):
                return False
            text = _fold(str(value))
            if dimension == "postcode_prefixes":
                if not any(text.startswith(_fold(prefix)) for prefix in accepted):
                    return False
            elif text not in {_fold(item) for item in accepted}:
                return False
        return True

    def overlap(self, other: TerritoryRule) -> dict[str, str] | None:
        """The customers both rules cover, by attribute (None: they do not overlap)."""
        shared: dict[str, str] = {}
        for dimension, attribute in DIMENSIONS.items():
            common = _common(dimension, self.values(dimension), other.values(dimension))
            if common is not None and not common:
                return None
            if common is None:
                shared[attribute] = tr("any")
                continue
            values = tr(" or ").join(repr(value) for value in common)
            shared[attribute] = (tr("starting with {values}").format(values=values)
                                 if dimension == "postcode_prefixes" else values)
        return shared

    def authorises(self, person: str) -> bool:
        """Whether ``person`` is authorised for this territory."""
        return person in self.salespeople

    @property
    def default_owner(self) -> str:
        """The first authorised salesperson."""
        return self.salespeople[0]


def _common(dimension: str, first: Sequence[str], second: Sequence[str]
            ) -> list[str] | None:
    """The values both accept (None: both accept any)."""
    if not first and not second:
        return None
    if not first or not second:
        return list(first or second)
    if dimension == "postcode_prefixes":
        return sorted({longer for a, b in itertools.product(first, second)
                       for shorter, longer in [sorted((a, b), key=len)]
                       if _fold(longer).startswith(_fold(shorter))})
    folded = {_fold(value) for value in second}
    return [value for value in first if _fold(value) in folded]


class OverlappingTerritoriesError(ConfigError):
    """Two or more territory rules cover the same customers; ``overlaps`` shows each."""

    def __init__(self, overlaps: Sequence[tuple[str, str, Mapping[str, str]]]) -> None:
        self.overlaps = tuple(overlaps)
        lines = [tr("  - territories {first!r} and {second!r} overlap: a customer with {shared} "
                    "is covered by both").format(
                     first=first, second=second,
                     shared=", ".join(f"{name} {value}" for name, value in shared.items()))
                 for first, second, shared in self.overlaps]
        super().__init__(tr("sales.territories: rules overlap; narrow them so each customer falls "
                            "in one territory:\n{overlaps}").format(overlaps="\n".join(lines)))


class NoTerritoryError(ValidationError):
    """No territory rule covers a customer."""


class UnauthorisedOwnerError(ValidationError):
    """An owner is unknown, or not authorised for the territory asked."""


@attrs.frozen
class Assignment:
    """Where a customer or opportunity goes: the territory, its owner, and why."""

    territory: str
    owner: str
    why: str


def _facts(customer: Customer) -> dict[str, Any]:
    return {attribute: customer.attributes.get(attribute) for attribute in DIMENSIONS.values()}


@attrs.frozen
class Territories:
    """Every territory rule; building one refuses duplicate names and overlaps."""

    rules: tuple[TerritoryRule, ...] = attrs.field(default=(), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ConfigError(tr("{key}: {value!r} is defined twice").format(
                    key="sales.territories", value=rule.name))
            seen.add(rule.name)
        overlaps = list(self.overlaps())
        if overlaps:
            raise OverlappingTerritoriesError(overlaps)

    def overlaps(self) -> Iterator[tuple[str, str, dict[str, str]]]:
        """Every pair of rules that overlap, with the customers both cover."""
        for first, second in itertools.combinations(self.rules, 2):
            shared = first.overlap(second)
            if shared is not None:
                yield first.name, second.name, shared

    @classmethod
    def from_options(cls, options: Options) -> Territories:
        """Read the ``territories`` tables of a ``[sales]`` table (none when absent).

        A key a territory table does not know is refused with its full path.
        """
        tables = options.sections("territories") or []
        rules = []
        for table in tables:
            table.refuse_unknown(_RULE_KEYS)
            values: dict[str, Any] = {"name": table.text("name"),
                                      "description": table.text("description", "")}
            for key in (*DIMENSIONS, "salespeople"):
                values[key] = table.texts(key) if table.has(key) else ()
            try:
                rules.append(TerritoryRule(**values))
            except ValidationError as error:
                raise ConfigError(tr("{field}: {value!r} {reason}").format(
                    field=table.key(error.field.split(".")[-1]), value=error.value,
                    reason=tr(error.reason))) from None
        return cls(tuple(rules))

    def names(self) -> tuple[str, ...]:
        """The territory names, in definition order."""
        return tuple(rule.name for rule in self.rules)

    def salespeople(self) -> tuple[str, ...]:
        """Everyone authorised for some territory, sorted."""
        return tuple(sorted({person for rule in self.rules for person in rule.salespeople}))

    def rule(self, name: str) -> TerritoryRule:
        """The territory called ``name``; :class:`ValidationError` naming it if none."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ValidationError("territory", name, tr("is not a territory (known: {known})").format(
            known=", ".join(self.names()) or tr("none")))

    def territory_of(self, customer: Customer) -> TerritoryRule:
        """The one territory covering ``customer``; :class:`NoTerritoryError` if none."""
        facts = _facts(customer)
        for rule in self.rules:
            if rule.matches(facts):
                return rule
        shown = ", ".join(f"{key} {value!r}" for key, value in facts.items()
                          if value is not None) or tr("no territory attributes")
        raise NoTerritoryError("customer_id", customer.id,
                               tr("falls in no territory ({facts}); add a rule covering it or "
                                  "name the territory").format(facts=shown))

    def check_owner(self, owner: str, territory: TerritoryRule) -> None:
        """Refuse an unknown ``owner`` or one not authorised for ``territory``."""
        if owner not in self.salespeople():
            raise UnauthorisedOwnerError(
                "owner", owner, tr("is not a known salesperson (known: {known})").format(
                    known=", ".join(self.salespeople()) or tr("none")))
        if not territory.authorises(owner):
            raise UnauthorisedOwnerError(
                "owner", owner, tr("is not authorised for territory {territory!r} (authorised: "
                                   "{authorised})").format(
                    territory=territory.name, authorised=", ".join(territory.salespeople)))

    def assign(self, customer: Customer, *, owner: str | None = None,
               territory: str | None = None) -> Assignment:
        """The territory and owner for ``customer`` (or one of its opportunities).

        ``territory`` overrides the rules; ``owner`` must be authorised for it.
        Without an owner: the customer's own owner when authorised there, else
        the territory's default owner.
        """
        rule = self.rule(territory) if territory is not None else self.territory_of(customer)
        how = (tr("territory {territory!r} named").format(territory=rule.name)
               if territory is not None else
               tr("customer {customer} matches territory {territory!r}").format(
                   customer=customer.id, territory=rule.name))
        if owner is not None:
            self.check_owner(owner, rule)
            return Assignment(rule.name, owner, tr("{how}; owner {owner} given, authorised"
                                                   ).format(how=how, owner=owner))
        if customer.owner is not None and rule.authorises(customer.owner):
            return Assignment(rule.name, customer.owner,
                              tr("{how}; the customer's owner {owner} is authorised").format(
                                  how=how, owner=customer.owner))
        return Assignment(rule.name, rule.default_owner,
                          tr("{how}; its default owner {owner}").format(
                              how=how, owner=rule.default_owner))
