"""Territories (M2): rules as data, overlaps shown, authorisation checked, assignment."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.config import parse_config
from crmcore.errors import ConfigError, ValidationError
from crmcore.model import Customer
from crmcore.sales.territories import (
    DIMENSIONS,
    NoTerritoryError,
    OverlappingTerritoriesError,
    Territories,
    TerritoryRule,
    UnauthorisedOwnerError,
)


def customer(customer_id: str = "C1", owner: str | None = None, **attributes: str) -> Customer:
    return Customer(id=customer_id, name=customer_id, owner=owner, attributes=attributes)


EAST = TerritoryRule("east", provinces=["Zhejiang", "Jiangsu"], industries=["retail"],
                     salespeople=["li.wei", "tom.hart"])
SOUTH = TerritoryRule("south", provinces=["Guangdong"], salespeople=["zhang.min"])
KEY = TerritoryRule("key-accounts", sizes=["large"], postcode_prefixes=["31"],
                    provinces=["Zhejiang"],
                    industries=["media"], salespeople=["anna.berg"])


def test_m2_a_customer_is_assigned_to_the_one_territory_its_attributes_match() -> None:
    territories = Territories((EAST, SOUTH, KEY))
    placed = territories.assign(customer(province="zhejiang", industry="Retail"))
    assert (placed.territory, placed.owner) == ("east", "li.wei")
    assert "matches territory 'east'" in placed.why
    assert territories.assign(customer(province="Guangdong")).territory == "south"
    big = customer(postcode="310012", province="Zhejiang", industry="media", size="large")
    assert territories.assign(big).territory == "key-accounts"


def test_m2_the_customers_own_owner_keeps_it_when_authorised_there() -> None:
    territories = Territories((EAST,))
    placed = territories.assign(customer(owner="tom.hart", province="Jiangsu",
                                         industry="retail"))
    assert placed.owner == "tom.hart"
    placed = territories.assign(customer(owner="zhang.min", province="Jiangsu",
                                         industry="retail"))
    assert placed.owner == "li.wei"  # not authorised for east: the default owner


def test_m2_an_owner_not_authorised_for_the_territory_is_refused() -> None:
    territories = Territories((EAST, SOUTH))
    with pytest.raises(UnauthorisedOwnerError) as caught:
        territories.assign(customer(province="Zhejiang", industry="retail"), owner="zhang.min")
    assert str(caught.value) == ("owner: 'zhang.min' is not authorised for territory 'east' "
                                 "(authorised: li.wei, tom.hart)")


def test_m2_an_unknown_owner_is_refused_naming_the_known_ones() -> None:
    territories = Territories((EAST, SOUTH))
    with pytest.raises(UnauthorisedOwnerError, match=r"owner: 'nobody' is not a known "
                                                     r"salesperson \(known: li.wei, tom.hart, "
                                                     r"zhang.min\)"):
        territories.assign(customer(province="Guangdong"), owner="nobody")


def test_m2_a_customer_outside_every_territory_is_an_error_naming_its_attributes() -> None:
    with pytest.raises(NoTerritoryError, match=r"customer_id: 'C9' falls in no territory "
                                               r"\(province 'Hainan'\)"):
        Territories((EAST, SOUTH)).assign(customer("C9", province="Hainan"))


def test_m2_a_missing_attribute_does_not_match_a_rule_that_tests_it() -> None:
    assert not EAST.matches({"province": "Zhejiang"})
    assert EAST.matches({"province": "Zhejiang", "industry": "retail"})


def test_m2_overlapping_territories_are_refused_showing_the_overlap() -> None:
    everything_retail = TerritoryRule("retail", industries=["retail", "media"],
                                      salespeople=["ann"])
    with pytest.raises(OverlappingTerritoriesError) as caught:
        Territories((EAST, SOUTH, everything_retail))
    message = str(caught.value)
    assert "territories 'east' and 'retail' overlap: a customer with region any, province " \
           "'Zhejiang' or 'Jiangsu', city any, postcode any, industry 'retail', size any " \
           "is covered by both" in message
    assert "'south' and 'retail'" in message  # every overlap is shown, not just the first
    assert len(caught.value.overlaps) == 2


def test_m2_postcode_prefixes_overlap_when_one_extends_the_other() -> None:
    wide = TerritoryRule("zj", postcode_prefixes=["31"], salespeople=["a"])
    narrow = TerritoryRule("hz", postcode_prefixes=["3100", "20"], salespeople=["b"])
    assert wide.overlap(narrow) == {"region": "any", "province": "any", "city": "any",
                                    "postcode": "starting with '3100'", "industry": "any",
                                    "size": "any"}
    assert TerritoryRule("sh", postcode_prefixes=["20"], salespeople=["c"]).overlap(wide) is None


def test_m2_territory_rules_are_read_from_the_sales_table() -> None:
    config = parse_config("""
[[sales.territories]]
name = "east"
provinces = ["Zhejiang"]
salespeople = ["li.wei"]

[[sales.territories]]
name = "south"
provinces = "Guangdong"
salespeople = ["zhang.min", "tom.hart"]
""")
    territories = Territories.from_options(config.settings("sales"))
    assert territories.names() == ("east", "south")
    assert territories.rule("south").salespeople == ("zhang.min", "tom.hart")


@pytest.mark.parametrize(("body", "message"), [
    ('name = "x"\nprovince = ["Zhejiang"]\nsalespeople = ["a"]',
     "sales.territories[0].province: is not a known option"),
    ('name = "x"\nprovinces = ["Zhejiang"]',
     "sales.territories[0].salespeople: [] must name at least one authorised salesperson"),
    ('name = "x"\nregions = ["n", "N"]\nsalespeople = ["a"]',
     "sales.territories[0].regions: ['n', 'N'] lists a value twice"),
    ('provinces = ["Zhejiang"]\nsalespeople = ["a"]',
     "sales.territories[0].name: is required"),
])
def test_m2_bad_territory_tables_name_the_key(body: str, message: str) -> None:
    config = parse_config(f"[[sales.territories]]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        Territories.from_options(config.settings("sales"))
    assert message in str(caught.value)


def test_m2_a_territory_named_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="'east' is defined twice"):
        Territories((EAST, TerritoryRule("east", provinces=["Hainan"], salespeople=["x"])))


def test_m2_an_unknown_territory_name_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"territory: 'west' is not a territory "
                                              r"\(known: east, south\)"):
        Territories((EAST, SOUTH)).rule("west")


# -- property: the overlap check against brute force --------------------------------------

DOMAIN = {"region": ["n", "s"], "province": ["a", "b"], "city": ["x"],
          "postcode": ["10", "11", "20"], "industry": ["retail", "media"], "size": ["s", "l"]}
PREFIXES = ["1", "10", "11", "2", "20"]


@st.composite
def rules(draw: st.DrawFn, name: str) -> TerritoryRule:
    values: dict[str, list[str]] = {}
    for dimension, attribute in DIMENSIONS.items():
        pool = PREFIXES if dimension == "postcode_prefixes" else DOMAIN[attribute]
        values[dimension] = draw(st.lists(st.sampled_from(pool), unique=True, max_size=2))
    return TerritoryRule(name, salespeople=["p"], **values)  # type: ignore[arg-type]


def _customers() -> list[dict[str, str]]:
    keys = list(DOMAIN)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*DOMAIN.values())]


@given(st.lists(st.integers(0, 10**6), min_size=2, max_size=4, unique=True).flatmap(
    lambda ids: st.tuples(*(rules(f"t{i}") for i in ids))))
def test_m2_overlaps_are_found_exactly_when_some_customer_matches_two_rules(
        drawn: tuple[TerritoryRule, ...]) -> None:
    """The per-dimension overlap test agrees with trying every customer of a small domain."""
    clashing = any(sum(rule.matches(facts) for rule in drawn) > 1 for facts in _customers())
    try:
        Territories(drawn)
    except OverlappingTerritoriesError:
        assert clashing
    else:
        assert not clashing
