"""Advancing the stored lifecycle through the door, on memory and SQLite storage."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from crmcore import CRM, ConfigError, Customer, FixedClock, Transaction, hookimpl
from crmcore.lifecycle import LifecycleService
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.transitions import FLOW_TRANSITIONED, replay

T0 = datetime(2024, 1, 1, 10, tzinfo=UTC)


def _book(crm: CRM) -> None:
    crm.record_many([
        Customer(id="C1", name="Regular", acquired_at=T0),
        Customer(id="C2", name="Gone", acquired_at=T0),
        Customer(id="C3", name="Prospect", acquired_at=T0),
        Customer(id="C4", name="Later", acquired_at=T0 + timedelta(days=900)),
    ])
    purchases = [("C1", d) for d in range(0, 720, 20)] + [("C2", 0), ("C2", 10)]
    crm.record_many(Transaction(id=f"{c}-{d}", customer_id=c, occurred_at=T0 + timedelta(days=d),
                                amount=Decimal(100)) for c, d in purchases)


def test_l1_advance_moves_customers_and_explains_each_move(crm: CRM) -> None:
    _book(crm)
    service = LifecycleService(crm, scoring=None)
    as_of = T0 + timedelta(days=720)
    report = service.advance(as_of)
    assert report.started == ("C1", "C2", "C3")  # C4 is acquired after the date
    assert report.evidence == ("probability alive: not used (no scoring strategy chosen)",)
    moves = {(m.customer_id, m.to_state): m for m in report.moves}
    assert set(moves) == {("C1", "active"), ("C2", "active"), ("C2", "at-risk"),
                          ("C2", "churned")}
    assert moves["C2", "churned"].rule == "L3"
    stages = {row.customer_id: row.stage for row in service.stages()}
    assert stages == {"C1": "active", "C2": "churned", "C3": "identified", "C4": None}
    for customer_id in ("C1", "C2", "C3"):
        assert replay(service.flow, service.history(customer_id)) == \
            service.stage(customer_id)
    churned = service.history("C2")[-1]
    assert churned.reason.startswith("L3: silent for")
    assert churned.fields["churn_reasons"] == ["unknown"]
    assert sum(e.event.type == FLOW_TRANSITIONED for e in crm.events()) == 4


def test_advancing_twice_for_the_same_date_moves_nothing(crm: CRM) -> None:
    _book(crm)
    service = LifecycleService(crm, scoring=None)
    service.advance(T0 + timedelta(days=720))
    before = (service.states(), len(crm.events()))
    again = service.advance(T0 + timedelta(days=720))
    assert again.moves == ()
    assert again.started == ()
    assert (service.states(), len(crm.events())) == before


def test_advance_defaults_to_the_clock(crm: CRM, clock: FixedClock) -> None:
    _book(crm)
    clock.now = T0 + timedelta(days=15)
    report = LifecycleService(crm, scoring=None).advance()
    assert report.as_of == clock.now
    assert {m.customer_id for m in report.moves} == {"C1", "C2"}


def test_a_manual_move_goes_through_the_same_door(crm: CRM) -> None:
    _book(crm)
    service = LifecycleService(crm, scoring=None)
    service.advance(T0 + timedelta(days=1))
    made = service.move("C3", "select", actor="ann", reason="big in our region",
                        at=T0 + timedelta(days=2))
    assert made.state.state == "selected"
    assert service.history("C3")[-1].actor == "ann"


class _AliveScores:
    """A scoring plugin giving every customer the same probability alive."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.options: list[Any] = []

    @hookimpl
    def crmcore_register_scoring(self, register: Any) -> None:
        register("test-alive", self._factory)

    def _factory(self, options: Any) -> Any:
        self.options.append(options.choice("measure", ("clv", "probability_alive")))
        value = self.value

        class Strategy:
            def score(self, transactions: Sequence[Transaction], *, as_of: datetime
                      ) -> Mapping[str, float]:
                return {t.customer_id: value for t in transactions}

        return Strategy()


def _with_scores(value: float) -> tuple[CRM, _AliveScores]:
    plugin = _AliveScores(value)
    host = PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[plugin]))
    return CRM.open("memory", plugins=host), plugin


def test_l3_probability_alive_from_a_registered_lifetime_value_strategy() -> None:
    crm, plugin = _with_scores(0.05)
    with crm:
        _book(crm)
        report = LifecycleService(crm, scoring="test-alive").advance(T0 + timedelta(days=700))
        assert plugin.options == ["probability_alive"]
        assert report.evidence == ("probability alive from the 'test-alive' scoring strategy",)
        [move] = [m for m in report.moves if m.customer_id == "C1" and m.to_state == "at-risk"]
        assert move.reason.startswith("probability alive 0.05 below 0.3")


def test_scores_that_are_not_probabilities_are_not_used() -> None:
    crm, _ = _with_scores(1234.5)
    with crm:
        _book(crm)
        report = LifecycleService(crm, scoring="test-alive").advance(T0 + timedelta(days=700))
    assert "did not return probabilities" in report.evidence[0]
    assert not any(m.to_state == "at-risk" and m.customer_id == "C1" for m in report.moves)


class _UnavailableScores:
    """A scoring plugin whose optional dependency is not installed."""

    @hookimpl
    def crmcore_register_scoring(self, register: Any) -> None:
        register("test-missing-extra", self._factory)

    def _factory(self, options: Any) -> Any:
        raise ConfigError("needs numpy: pip install 'crmcore[clv]'")


def test_l3_a_strategy_missing_its_extra_is_skipped_quietly_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[_UnavailableScores()]))
    with CRM.open("memory", plugins=host) as crm:
        _book(crm)
        with caplog.at_level(logging.INFO, logger="crmcore.lifecycle.service"):
            report = LifecycleService(crm, scoring="test-missing-extra").advance(
                T0 + timedelta(days=700))
    assert report.evidence == ("probability alive: skipped ('test-missing-extra' not "
                               "available: needs numpy: pip install 'crmcore[clv]')",)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("not available" in r.getMessage() for r in caplog.records)


def test_moves_handed_over_batch_by_batch_are_not_kept(crm: CRM) -> None:
    _book(crm)
    kept = LifecycleService(crm, scoring=None).advance(T0 + timedelta(days=720),
                                                       customer_ids=["C1"])
    batches: list[list[str]] = []
    report = LifecycleService(crm, scoring=None).advance(
        T0 + timedelta(days=720), batch_size=1,
        on_moves=lambda moves: batches.append([m.customer_id for m in moves]))
    assert report.moves == ()
    assert report.moved == 3
    assert kept.moved == len(kept.moves) == 1
    assert batches == [["C2", "C2", "C2"]]  # C1 moved before; C3 had nothing to do
    assert report.started == ("C2", "C3")
