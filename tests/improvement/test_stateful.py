"""hypothesis stateful tests: no phase is skipped, and carry-over keeps every unsolved problem.

Abandoning (P4, P7) is one of the operations: it ends a cycle from any open phase, only with a
reason, and nothing happens to the cycle after it.

Random sequences of every service operation (plan edits, progress, checks
with random results, acts, and every phase event at any moment) run against
memory storage; refusals are expected, broken invariants are not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmcore import CRM
from crmcore.errors import CrmError
from crmcore.improvement import (
    ABANDONED,
    Cause,
    Cycle,
    ImprovementService,
    KeyFactor,
    Problem,
    Target,
    countermeasure,
    parse_period,
)
from crmcore.improvement.measures import proportion
from crmcore.transitions import replay

PHASES = ("plan", "do", "check", "act", "closed")
MEASURES = ("complaint_rate", "return_rate", "awareness")
BASELINE = parse_period("2026-Q1")
T0 = datetime(2026, 4, 1, tzinfo=UTC)


class CycleMachine(RuleBasedStateMachine):
    """Every service operation, in any order, on any cycle."""

    def __init__(self) -> None:
        super().__init__()
        self.service = ImprovementService(CRM.open("memory"))
        self.now = T0
        self.opened = 0

    def _tick(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now

    def _ids(self) -> list[str]:
        return sorted(c.id for c in self.service.crm.find(Cycle))

    def _pick(self, index: int) -> str:
        ids = self._ids()
        return ids[index % len(ids)]

    def _try(self, action: Callable[[], object]) -> None:
        # refusals are part of the game; the invariants say what must hold
        with contextlib.suppress(CrmError):
            action()

    @precondition(lambda self: self.opened < 3)
    @rule(problems=st.lists(st.sampled_from(MEASURES), min_size=1, max_size=3, unique=True))
    def open_cycle(self, problems: list[str]) -> None:
        self.opened += 1
        cycle_id = f"T-{self.opened}"
        self.service.open_cycle(measure=problems[0], period=BASELINE, problem="found",
                                cycle_id=cycle_id, actor="ann", at=self._tick())
        self._try(lambda: self.service.revise_plan(
            cycle_id, problems=[Problem(m, f"problem {m}") for m in problems], actor="ann",
            at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), measures=st.lists(st.sampled_from(MEASURES), max_size=3,
                                                      unique=True),
          successes=st.integers(0, 40), countermeasures=st.integers(1, 3),
          goal=st.floats(0.05, 0.95))
    def plan(self, index: int, measures: list[str], successes: int, countermeasures: int,
             goal: float) -> None:
        cycle_id = self._pick(index)
        cycle = self.service.cycle(cycle_id)
        planned = {b.measure for b in cycle.plan.baselines}
        self._try(lambda: self.service.revise_plan(
            cycle_id, causes=[Cause("late", "late delivery", 7)],
            key_factors=[KeyFactor("late")],
            countermeasures=[countermeasure(f"cm-{i}", "act", "li", "2026-05-01", "late")
                             for i in range(countermeasures)],
            baselines=[proportion(m, BASELINE, successes, 40) for m in measures],
            targets=[Target(m, goal, p.key) for m in {*measures, *planned}
                     for p in cycle.plan.problems],
            actor="ann", at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), key=st.integers(0, 3),
          status=st.sampled_from(["done", "dropped", "planned"]), note=st.sampled_from(["", "x"]))
    def track(self, index: int, key: int, status: str, note: str) -> None:
        self._try(lambda: self.service.track(self._pick(index), f"cm-{key}", status, note=note,
                                             actor="li", at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), event=st.sampled_from(["do", "check", "act", "close"]))
    def move(self, index: int, event: str) -> None:
        cycle_id = self._pick(index)
        step = {"do": self.service.start_do, "check": self.service.start_check,
                "act": self.service.start_act, "close": self.service.close}[event]
        self._try(lambda: step(cycle_id, actor="ann", at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), successes=st.integers(0, 40))
    def check(self, index: int, successes: int) -> None:
        cycle_id = self._pick(index)
        period = parse_period("2026-Q2")
        values = {m: proportion(m, period, successes, 40) for m in MEASURES}
        self._try(lambda: self.service.check(cycle_id, period, values=values, actor="ann",
                                             at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), close=st.booleans())
    def act(self, index: int, close: bool) -> None:
        self._try(lambda: self.service.act(self._pick(index), standardised=["keep it"],
                                           close=close, actor="ann", at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), reason=st.sampled_from(["", "  ", "merged elsewhere"]))
    def abandon(self, index: int, reason: str) -> None:
        self._try(lambda: self.service.abandon(self._pick(index), reason=reason, actor="zhang",
                                               at=self._tick()))

    @precondition(lambda self: self.opened)
    @rule(index=st.integers(0, 20), successes=st.integers(0, 40))
    def next_step(self, index: int, successes: int) -> None:
        """Take the natural next step, so that sequences also reach the later phases."""
        cycle_id = self._pick(index)
        phase = self.service.state(cycle_id).state
        if phase == "do":
            for item in self.service.cycle(cycle_id).unsettled():
                self.service.track(cycle_id, item.key, "done", actor="li", at=self._tick())
        if phase == "check":
            self.check(index, successes)
        if phase not in ("closed", ABANDONED):
            self.move(index, {"plan": "do", "do": "check", "check": "act", "act": "close"}[phase])
        if phase == "act":
            self.act(index, close=True)

    @invariant()
    def no_phase_is_skipped(self) -> None:
        for cycle_id in self._ids():
            history = self.service.history(cycle_id)
            entered = [e.to_state for e in history if e.from_state != e.to_state]
            if entered[-1] == ABANDONED:
                last = history[-1]
                assert (last.event, last.reason) == ("abandon", "merged elsewhere")
                assert last.from_state not in ("closed", ABANDONED)
                entered.pop()
            assert ABANDONED not in entered
            assert tuple(entered) == PHASES[: len(entered)], (cycle_id, entered)
            assert replay(self.service.flow, history) == self.service.state(cycle_id)

    @invariant()
    def each_phase_has_what_it_needs(self) -> None:
        for cycle_id in self._ids():
            cycle = self.service.cycle(cycle_id)
            last = self.service.history(cycle_id)[-1]
            phase = PHASES.index(last.from_state if last.to_state == ABANDONED else last.to_state)
            if phase >= PHASES.index("do"):
                assert cycle.plan.missing() == []
            if phase >= PHASES.index("check"):
                assert cycle.unsettled() == ()
            if phase >= PHASES.index("act"):
                assert cycle.unchecked() == ()

    @invariant()
    def carry_over_keeps_every_unsolved_problem(self) -> None:
        for cycle_id in self._ids():
            cycle = self.service.cycle(cycle_id)
            if cycle.act is None:
                continue
            unsolved = {p.key for p in cycle.unsolved()}
            assert set(cycle.act.carried_over) == unsolved
            if unsolved:
                following = self.service.cycle(cycle.act.next_cycle or "")
                assert following.parent_id == cycle.id
                assert unsolved <= {p.key for p in following.plan.problems
                                    if p.carried_from == cycle.id}

    @invariant()
    def every_cycle_is_in_the_flow_once(self) -> None:
        children = [c.parent_id for c in self.service.crm.find(Cycle) if c.parent_id]
        assert len(children) == len(set(children))


CycleMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30,
                                          deadline=None)
test_p1_p4_no_phase_skipped_and_carry_over_keeps_unsolved = CycleMachine.TestCase
