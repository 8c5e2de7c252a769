"""G3 potential × contribution matrix and G4 prospects by closing horizon."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest

from crmcore.errors import ConfigError, PluginError
from crmcore.grading import grade_book, grade_metrics, load_scheme, potential_scores
from crmcore.i18n import language
from crmcore.i18n_terms import term
from crmcore.model import Opportunity, OpportunityStatus
from crmcore.plugins import PluginHost, make_plugin_manager

from .helpers import AS_OF, buy, table


def test_g3_matrix_quadrants() -> None:
    scheme = load_scheme("value-matrix")
    metrics = table([100.0, 100.0, 1.0, 1.0, 50.0])
    potential = {"C0": 9.0, "C1": 1.0, "C2": 9.0, "C3": 1.0, "C4": 5.0}
    graded = grade_metrics(scheme, metrics, potential=potential)
    # medians: contribution 50, potential 5; "high" is strictly above
    assert graded.grade_list == ["A", "B", "C", "D", "D"]
    assert "all-out" in scheme.grade("A").label
    with language("zh_CN"):  # the scheme's English label, worded through the catalogue
        assert term(scheme.grade("B").label) == "控制投入时间"
    explanation = graded.explain("C1")
    assert "low potential, high contribution" in explanation.decided_by
    assert explanation.metrics == {"revenue": 100.0, "potential": 1.0}


def test_g3_quantile_and_absolute_splits() -> None:
    metrics = table([10.0, 20.0, 30.0, 40.0])
    potential = {"C0": 1.0, "C1": 1.0, "C2": 1.0, "C3": 1.0}
    by_quantile = load_scheme("value-matrix", overrides={"rules": {
        "contribution_split": {"quantile": 0.75}}})
    assert grade_metrics(by_quantile, metrics, potential=potential).grade_list == \
        ["D", "D", "D", "B"]  # 0.75 quantile = 32.5
    absolute = load_scheme("value-matrix", overrides={"rules": {
        "contribution_split": {"above": 15}, "potential_split": {"above": 0.5}}})
    assert grade_metrics(absolute, metrics, potential=potential).grade_list == \
        ["C", "A", "A", "A"]
    with pytest.raises(ConfigError, match=r"rules\.contribution_split: 'mean' is not"):
        load_scheme("value-matrix", overrides={"rules": {"contribution_split": "mean"}})


def test_g3_potential_comes_from_a_scoring_strategy_chosen_by_name() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    assert {"rfm", "recent-growth"} <= set(host.scoring_strategies().names())
    transactions = [buy("C1", 5, "100.00"), buy("C1", 40, "100.00"), buy("C2", 300, "10.00")]
    scheme = load_scheme("value-matrix")
    scores = potential_scores(scheme, transactions, AS_OF, host)
    assert scores["C1"] > scores["C2"]
    growth = load_scheme("value-matrix", overrides={"rules": {"potential": "recent-growth"}})
    assert potential_scores(growth, transactions, AS_OF, host) == {"C1": 1.0, "C2": -1.0}
    graded = grade_book(scheme, as_of=AS_OF, transactions=transactions, plugins=host)
    assert graded.grade_of("C1") == "A"
    unknown = load_scheme("value-matrix", overrides={"rules": {"potential": "crystal-ball"}})
    with pytest.raises(PluginError, match=r"rules\.potential: 'crystal-ball' is not a "
                                          r"registered scoring strategy"):
        potential_scores(unknown, transactions, AS_OF, host)
    bad = load_scheme("value-matrix", overrides={"rules": {"potential_options": {"x": 1}}})
    with pytest.raises(ConfigError, match=r"rules\.potential_options\.x: is not a known"):
        potential_scores(bad, transactions, AS_OF, host)


def opportunity(customer: str, number: int, close_in_days: int | None, **flags: bool
                ) -> Opportunity:
    received = AS_OF - timedelta(days=10)
    close = None if close_in_days is None else date.fromordinal(AS_OF.toordinal()
                                                                + close_in_days)
    return Opportunity(id=f"{customer}-O{number}", customer_id=customer, title="deal",
                       received_at=received, expected_close=close, **flags)  # type: ignore[arg-type]


def test_g4_prospects_by_closing_horizon_and_flags() -> None:
    scheme = load_scheme("prospect-abcd")
    opportunities = [
        opportunity("A1", 1, 92),  # 2026-09-30: within 3 months
        opportunity("B1", 1, 93),
        opportunity("C1", 1, 365),
        opportunity("D1", 1, 366),
        opportunity("D2", 1, 10, poor_credit=True),
        opportunity("D3", 1, 10, low_loyalty=True),
        opportunity("D4", 1, None),
        opportunity("M1", 1, 300), opportunity("M1", 2, 30),  # the best opportunity counts
        attrs_evolve_status(opportunity("W1", 1, 10)),
    ]
    graded = grade_book(scheme, as_of=AS_OF, opportunities=opportunities)
    assert dict(zip(graded.ids, graded.grade_list, strict=True)) == {
        "A1": "A", "B1": "B", "C1": "C", "D1": "D", "D2": "D", "D3": "D", "D4": "D", "M1": "A"}
    assert "flagged poor credit" in graded.explain("D2").decided_by
    assert "M1-O2" in graded.explain("M1").decided_by
    assert "within 3 months (by 2026-09-30)" in graded.explain("A1").decided_by


def attrs_evolve_status(item: Opportunity) -> Opportunity:
    return attrs.evolve(item, status=OpportunityStatus.WON)


def test_g4_concerns_losses_and_past_dates_do_not_grade_a_and_haggling_is_d() -> None:
    """G4: A is high profit, trusts us, closes within 3 months; B has concerns to resolve;
    D haggles. A date that passed says nothing about when the deal closes."""
    scheme = load_scheme("prospect-abcd")
    received = AS_OF - timedelta(days=400)
    past_due = Opportunity(id="P1-O1", customer_id="P1", title="deal", received_at=received,
                           expected_close=AS_OF.date() - timedelta(days=365))
    opportunities = [
        opportunity("K1", 1, 30, haggles=True),
        attrs.evolve(opportunity("K2", 1, 30), concerns=("price", "delivery time")),
        attrs.evolve(opportunity("K3", 1, 30), estimated_profit=Decimal("-500")),
        past_due,
        attrs.evolve(opportunity("K4", 1, 30), estimated_profit=Decimal("800")),
        attrs.evolve(opportunity("K5", 1, 200), concerns=("price",)),  # C stays C
    ]
    graded = grade_book(scheme, as_of=AS_OF, opportunities=opportunities)
    assert dict(zip(graded.ids, graded.grade_list, strict=True)) == {
        "K1": "D", "K2": "B", "K3": "B", "P1": "B", "K4": "A", "K5": "C"}
    assert "flagged haggles" in graded.explain("K1").decided_by
    assert "concerns to resolve (price, delivery time)" in graded.explain("K2").decided_by
    assert "loss-making (estimated profit -500)" in graded.explain("K3").decided_by
    assert "has passed: confirm a new one" in graded.explain("P1").decided_by
