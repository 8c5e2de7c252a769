"""The sales pipeline (M1, M2): stages through the one door, stored in a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer
from crmcore.config import parse_config
from crmcore.errors import ConfigError, NotFoundError, ValidationError
from crmcore.model import Opportunity, OpportunityStatus
from crmcore.sales.money import MixedCurrencyError, single_total, totals_by_currency
from crmcore.sales.opportunities import UNKNOWN, LostReasons, pipeline_flow
from crmcore.sales.pipeline import OPPORTUNITY_ASSIGNED, PipelineService, event_to_stage
from crmcore.sales.territories import Territories, TerritoryRule, UnauthorisedOwnerError
from crmcore.transitions import (
    HistoryEntry,
    RefusedTransitionError,
    apply_transition,
    replay,
    start_flow,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TERRITORIES = Territories((
    TerritoryRule("east", provinces=["Zhejiang"], salespeople=["li.wei", "tom.hart"]),
    TerritoryRule("south", provinces=["Guangdong"], salespeople=["zhang.min"]),
))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[CRM]:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as opened:
        opened.record_many([
            Customer(id="C1", name="Hangzhou Retail", attributes={"province": "Zhejiang"}),
            Customer(id="C2", name="Shenzhen Media", owner="zhang.min",
                     attributes={"province": "Guangdong"}),
        ])
        yield opened


@pytest.fixture
def pipeline(crm: CRM) -> PipelineService:
    return PipelineService(crm, territories=TERRITORIES)


def add(pipeline: PipelineService, opportunity_id: str = "O1", customer_id: str = "C1",
        **overrides: object) -> object:
    values: dict[str, object] = {"amount": Decimal("12000"), "currency": "EUR",
                                 "expected_close": date(2026, 6, 30), "actor": "li.wei",
                                 "created_at": T0, "source": "trade show"}
    values.update(overrides)
    return pipeline.add(opportunity_id, customer_id, f"deal {opportunity_id}",
                        **values)  # type: ignore[arg-type]


def snapshot(crm: CRM) -> tuple[int, int, int, list[Opportunity]]:
    return (len(crm.events()), crm.count(HistoryEntry), crm.count(Opportunity),
            crm.find(Opportunity))


def test_m1_an_added_opportunity_is_stored_in_the_first_stage_with_its_territory(
        crm: CRM, pipeline: PipelineService) -> None:
    made = add(pipeline)
    stored = crm.require(Opportunity, "O1")
    assert (stored.currency, stored.territory, stored.owner) == ("EUR", "east", "li.wei")
    item = pipeline.get("O1")
    assert item == made
    assert (item.stage, item.stage_entered_at, item.created_at) == ("qualification", T0, T0)
    types = [entry.event.type for entry in crm.events()]
    assert types[-3:] == ["opportunity.recorded", "flow.started", OPPORTUNITY_ASSIGNED]


def test_m1_moves_go_through_the_door_and_record_the_time_spent_in_each_stage(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    pipeline.move("O1", "needs_analysis", actor="li.wei", at=day(3))
    pipeline.move("O1", "proposal", actor="li.wei", at=day(10), reason="quote sent")
    stays = pipeline.stays("O1")
    assert [(s.stage, s.days(day(15))) for s in stays] == [
        ("qualification", 3.0), ("needs_analysis", 7.0), ("proposal", 5.0)]
    entries = sorted(crm.find(HistoryEntry, customer_id="C1"), key=lambda e: e.sequence)
    assert [e.seconds_in_previous / 86400 for e in entries] == [0.0, 3.0, 7.0]
    assert replay(pipeline.flow, entries).state == "proposal"  # type: ignore[union-attr]
    assert pipeline.get("O1").days_in_stage(day(15)) == 5.0


def test_m1_winning_closes_the_stored_opportunity_for_grading_and_leads(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    pipeline.move("O1", "won", actor="li.wei", at=day(20))
    assert crm.require(Opportunity, "O1").status is OpportunityStatus.WON
    assert pipeline.open() == []
    assert pipeline.opportunities()[0].stage == "won"


def test_m1_lost_needs_a_reason_from_the_catalogue_and_nothing_is_stored_without_one(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    before = snapshot(crm)
    with pytest.raises(RefusedTransitionError, match="lost_reason required"):
        pipeline.move("O1", "lost", actor="li.wei", at=day(5))
    with pytest.raises(RefusedTransitionError,
                       match=r"lost_reason: 'weather' is not a lost reason \(known: price, "):
        pipeline.move("O1", "lost", actor="li.wei", at=day(5), lost_reason="weather")
    with pytest.raises(RefusedTransitionError, match="lost_note: None must say what 'other'"):
        pipeline.move("O1", "lost", actor="li.wei", at=day(5), lost_reason="other")
    assert snapshot(crm) == before
    pipeline.move("O1", "lost", actor="li.wei", at=day(5), lost_reason="competitor")
    item = pipeline.opportunities()[0]
    assert (item.stage, item.lost_reason) == ("lost", "competitor")
    assert crm.require(Opportunity, "O1").status is OpportunityStatus.LOST


def test_m1_the_lost_reason_catalogue_comes_from_the_sales_table(tmp_path: Path) -> None:
    path = tmp_path / "crm.toml"
    path.write_text('[storage]\npath = "crm.db"\n\n[sales]\nlost_reasons = ["price", "gone"]\n',
                    encoding="utf-8")
    with CRM.from_file(path) as crm:
        crm.record(Customer(id="C1", name="x"))
        pipeline = PipelineService(crm)
        assert pipeline.lost_reasons == LostReasons(("price", "gone"))
        add(pipeline)
        pipeline.move("O1", "lost", actor="a", at=day(1), lost_reason="gone")
        with pytest.raises(ConfigError, match="lost_reasons: \\['a', 'a'\\] lists a reason"):
            LostReasons.from_options(parse_config(
                '[sales]\nlost_reasons = ["a", "a"]').settings("sales"))


def test_m1_a_stage_not_in_the_flow_is_an_error_naming_it_and_nothing_is_stored(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    before = snapshot(crm)
    with pytest.raises(ValidationError, match=r"stage: 'closing' is not a stage of the "
                                              r"sales-pipeline flow \(known: qualification, "):
        pipeline.move("O1", "closing", actor="li.wei")
    with pytest.raises(RefusedTransitionError, match=r"'negotiation' cannot be reached from "
                                                     r"'qualification' in one move \(allowed "
                                                     r"next: needs_analysis, proposal, won"):
        pipeline.move("O1", "negotiation", actor="li.wei")
    assert snapshot(crm) == before


def test_m1_going_back_a_stage_needs_an_override_with_a_reason(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    pipeline.move("O1", "proposal", actor="li.wei", at=day(1))
    with pytest.raises(RefusedTransitionError, match="goes backward"):
        pipeline.move("O1", "qualification", actor="li.wei", at=day(2))
    made = pipeline.move("O1", "qualification", actor="li.wei", at=day(2), override=True,
                         reason="budget frozen")
    assert made.entry.override


@pytest.mark.parametrize(("overrides", "message"), [
    ({"currency": None}, "currency: None is required with amount 12000"),
    ({"currency": "eur"}, "currency: 'eur' is not an ISO 4217 currency code"),
    ({"amount": None}, "amount: None is required with currency EUR"),
    ({"amount": Decimal(-5)}, "estimated_value: "),
    ({"owner": "nobody"}, "owner: 'nobody' is not a known salesperson"),
    ({"owner": "zhang.min"}, "owner: 'zhang.min' is not authorised for territory 'east'"),
    ({"territory": "west"}, "territory: 'west' is not a territory (known: east, south)"),
])
def test_m1_m2_bad_input_names_the_field_and_value_and_stores_nothing(
        crm: CRM, pipeline: PipelineService, overrides: dict[str, object],
        message: str) -> None:
    before = snapshot(crm)
    with pytest.raises(ValidationError) as caught:
        add(pipeline, **overrides)  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert snapshot(crm) == before


def test_m1_an_unknown_customer_is_refused(crm: CRM, pipeline: PipelineService) -> None:
    with pytest.raises(NotFoundError, match="customer_id: customer 'C404' does not exist"):
        add(pipeline, customer_id="C404")
    assert crm.count(Opportunity) == 0


def test_m1_a_missing_close_date_is_shown_as_unknown_never_a_default(
        pipeline: PipelineService) -> None:
    add(pipeline, expected_close=None, amount=None, currency=None)
    item = pipeline.get("O1")
    assert item.expected_close is None
    assert item.close_label() == UNKNOWN
    assert item.as_json(day(1))["expected_close"] == "unknown"
    assert item.amount_label() == "unknown"


def test_m2_assign_checks_authorisation_and_records_the_change(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    before = snapshot(crm)
    with pytest.raises(UnauthorisedOwnerError):
        pipeline.assign("O1", actor="boss", owner="zhang.min")
    assert snapshot(crm) == before
    placed = pipeline.assign("O1", actor="boss", owner="tom.hart")
    assert (placed.territory, placed.owner) == ("east", "tom.hart")
    assert crm.require(Opportunity, "O1").owner == "tom.hart"
    event = crm.events()[-1].event
    assert event.type == OPPORTUNITY_ASSIGNED
    assert event.data["previous_owner"] == "li.wei"


def test_m2_resetting_territories_reassigns_open_opportunities(
        crm: CRM, pipeline: PipelineService) -> None:
    add(pipeline)
    add(pipeline, "O2", "C2")
    redrawn = Territories((
        TerritoryRule("zhejiang", provinces=["Zhejiang"], salespeople=["tom.hart"]),
        TerritoryRule("south", provinces=["Guangdong"], salespeople=["zhang.min"]),
    ))
    changed = PipelineService(crm, territories=redrawn).reassign_open(actor="boss")
    assert [(oid, a.territory, a.owner) for oid, a in changed] == [
        ("O1", "zhejiang", "tom.hart")]
    assert crm.require(Opportunity, "O2").owner == "zhang.min"  # unchanged


def test_m1_the_pipeline_flow_declares_the_stages_in_order() -> None:
    flow = pipeline_flow()
    assert flow.state_names() == ("qualification", "needs_analysis", "proposal",
                                  "negotiation", "won", "lost")
    assert [s.name for s in flow.states if s.final] == ["won", "lost"]


def test_m1_amounts_in_several_currencies_are_never_summed_silently() -> None:
    amounts = [(Decimal(10), "EUR"), (Decimal(5), "CNY"), (None, None)]
    with pytest.raises(MixedCurrencyError, match=r"currency: \['CNY', 'EUR'\] are several "
                                                 r"currencies"):
        single_total(amounts[:2])
    with pytest.raises(ValidationError, match="amount: None is not stated for 1"):
        single_total([(Decimal(1), "EUR"), (None, "EUR")])
    totals = totals_by_currency(amounts)
    assert totals.lines() == ["CNY 5.00 (1)", "EUR 10.00 (1)",
                              "amount or currency unknown (1)"]
    assert single_total([(Decimal(1), "EUR"), (Decimal(2), "EUR")]) == (Decimal(3), "EUR")


@given(st.lists(st.tuples(st.one_of(st.none(), st.decimals(0, 10**6, places=2)),
                          st.sampled_from([None, "EUR", "CNY", "USD"]))))
def test_m1_totals_per_currency_match_a_plain_sum_per_currency(
        amounts: list[tuple[Decimal | None, str | None]]) -> None:
    totals = totals_by_currency(amounts)
    for code in ("EUR", "CNY", "USD"):
        own = [a for a, c in amounts if c == code and a is not None]
        assert totals.by_currency.get(code, Decimal(0)) == sum(own, Decimal(0))
        assert totals.counts.get(code, 0) == len(own)
    assert totals.unknown == sum(1 for a, c in amounts if a is None or c is None)


ALLOWED_NEXT = {  # the pipeline as a plain table (backward moves need an override)
    "qualification": {"needs_analysis", "proposal", "won", "lost"},
    "needs_analysis": {"proposal", "won", "lost"},
    "proposal": {"negotiation", "won", "lost"},
    "negotiation": {"won", "lost"},
    "won": set(), "lost": set(),
}


@given(st.lists(st.sampled_from([*ALLOWED_NEXT, "closing"]), max_size=8))
def test_m1_the_door_moves_exactly_where_the_table_allows_and_nowhere_else(
        targets: list[str]) -> None:
    """Random stage requests: each is applied iff the reference table allows it."""
    flow = pipeline_flow()
    state = start_flow(flow, "O1", customer_id="C1", at=T0, actor="a").state
    for step, target in enumerate(targets, start=1):
        allowed = target in ALLOWED_NEXT[state.state]
        try:
            event = event_to_stage(flow, "O1", state.state, target)
            moved = apply_transition(flow, state, event, at=day(step), actor="a",
                                     fields={"lost_reason": "price"} if target == "lost"
                                     else None).state
        except (ValidationError, RefusedTransitionError):
            assert not allowed
            continue
        assert allowed
        assert moved.state == target
        state = moved
