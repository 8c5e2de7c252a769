"""Improvement loops through the application service: measures, cycles, warnings.

:class:`ImprovementService` computes the satisfaction measures from stored
data, opens PDCA cycles from a measure, records each phase's data and moves
cycles through the one transition door: every change is one transaction
holding the new :class:`~crmcore.improvement.cycle.Cycle` record, the flow
state, the history entry and the event. Cycles, their flow records and
early warnings are filed under :data:`~crmcore.improvement.cycle.IMPROVEMENT_FILE`.

:func:`start_loop` and :func:`step_loop` run any other loop definition
(the customer-knowledge loop, P6, or a host's own) the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.i18n_terms import term
from crmcore.improvement.cycle import (
    DEFAULT_ALPHA,
    IMPROVEMENT_FILE,
    Cause,
    CheckResult,
    Countermeasure,
    CountermeasureStatus,
    Cycle,
    KeyFactor,
    Problem,
    Target,
    carry_over,
    judge,
    record_act,
    record_results,
    revise_plan,
    settle,
)
from crmcore.improvement.definitions import pdca_flow, require_events
from crmcore.improvement.early_warning import (
    EarlyWarning,
    WarningRule,
    evaluate,
    rules_from_data,
    warning_event,
)
from crmcore.improvement.measures import (
    MeasureData,
    MeasureSettings,
    MeasureValue,
    as_period,
    data_window,
    measure_definition,
    measure_values,
)
from crmcore.improvement.pareto import ParetoTable, churn_reasons, complaint_categories, pareto
from crmcore.lifecycle.definitions import CUSTOMER_FLOW
from crmcore.lifecycle.measures import Period
from crmcore.model import SurveyResponse, Ticket, Transaction
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.serialization import unstructure
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    HistoryEntry,
    Transition,
    current_state,
    history_of,
    start,
    start_in,
    states_of,
    transition,
    transition_in,
)
from crmcore.unit_of_work import UnitOfWork

CYCLE_KIND = register_entity_type(EntityType("pdca_cycle", Cycle, "filed_under", "opened_at"))
"""The entity kind of :class:`~crmcore.improvement.cycle.Cycle` records."""

WARNING_KIND = register_entity_type(
    EntityType("improvement_warning", EarlyWarning, "filed_under", "raised_at"))
"""The entity kind of :class:`~crmcore.improvement.early_warning.EarlyWarning` records."""

ABANDONED = "abandoned"
"""The final phase of a cycle given up before it closed (event ``abandon``)."""

DEFAULT_ACTOR = "crmcore.improvement"
"""Who the history names when no actor is given."""

_Edit = Callable[[Cycle], Cycle]


@attrs.frozen
class CycleRow:
    """One cycle in a listing: its phase and its links (and why it was abandoned, if it was)."""

    id: str
    title: str
    phase: str
    since: datetime
    opened_at: datetime
    parent_id: str | None
    next_cycle: str | None
    problems: int
    unsolved: int
    abandoned_because: str | None = None


def cause_key(category: str) -> str:
    """A cause key from a category name (slashes become dashes)."""
    key = category.strip().replace("/", "-").replace("\\", "-")[:128]
    return key or "unnamed"


def causes_from_pareto(table: ParetoTable, *, source: str) -> tuple[list[Cause], list[KeyFactor]]:
    """Causes (with counts) from a Pareto table, and its vital few as key factors."""
    causes = [Cause(cause_key(row.category), row.category, row.count, source)
              for row in table.rows]
    factors = [KeyFactor(cause_key(row.category),
                         f"vital few: {row.share:.0%} of {source} (cumulative "
                         f"{row.cumulative:.0%})")
               for row in table.rows if row.vital]
    return causes, factors


class ImprovementService:
    """PDCA cycles and satisfaction measures stored in a :class:`~crmcore.CRM`.

    ``flow`` defaults to the shipped PDCA cycle (a host's variant must
    declare :data:`~crmcore.improvement.definitions.PDCA_EVENTS`);
    ``settings`` are the measure definitions' open numbers; ``alpha`` the
    significance level of the check phase.
    """

    def __init__(self, crm: CRM, *, flow: FlowDefinition | None = None,
                 settings: MeasureSettings | None = None, alpha: float = DEFAULT_ALPHA) -> None:
        self.crm = crm
        self.flow = flow or pdca_flow()
        require_events(self.flow)
        self.settings = settings or MeasureSettings()
        self.alpha = alpha

    # -- measures --------------------------------------------------------------------------------

    def measure_data(self, since: datetime, until: datetime) -> MeasureData:
        """The stored transactions, tickets and survey responses of ``[since, until)``."""
        return MeasureData(self.crm.find(Transaction, since=since, until=until),
                           self.crm.find(Ticket, since=since, until=until),
                           self.crm.find(SurveyResponse, since=since, until=until))

    def measures(self, period: Period | str) -> dict[str, MeasureValue]:
        """Every satisfaction measure (P5) over ``period``, by name."""
        span = as_period(period)
        return measure_values(self.measure_data(*data_window(span, self.settings)), span,
                              self.settings)

    def series(self, periods: Sequence[Period | str]) -> dict[str, list[MeasureValue]]:
        """Every measure over each of ``periods`` (in the order given), by name."""
        spans = [as_period(p) for p in periods]
        if not spans:
            return {}
        windows = [data_window(span, self.settings) for span in spans]
        data = self.measure_data(min(w[0] for w in windows), max(w[1] for w in windows))
        made: dict[str, list[MeasureValue]] = {}
        for span in spans:
            for name, value in measure_values(data, span, self.settings).items():
                made.setdefault(name, []).append(value)
        return made

    def measure(self, name: str, period: Period | str) -> MeasureValue:
        """Measure ``name`` over ``period``."""
        measure_definition(name)
        return self.measures(period)[name]

    def complaint_pareto(self, period: Period | str) -> ParetoTable:
        """Pareto analysis of complaint categories opened in ``period`` (P1, S7)."""
        span = as_period(period)
        return pareto(complaint_categories(self.crm.find(Ticket, since=span.start,
                                                         until=span.end)))

    def churn_pareto(self, period: Period | str) -> ParetoTable:
        """Pareto analysis of the churn reasons recorded in ``period`` (P1, L3)."""
        span = as_period(period)
        entries = [e for e in self.crm.find(HistoryEntry, since=span.start, until=span.end)
                   if e.flow == CUSTOMER_FLOW]
        return pareto(churn_reasons(entries, span))

    def raise_warnings(self, rules: Iterable[WarningRule], periods: Sequence[Period | str], *,
                       at: datetime | None = None) -> list[EarlyWarning]:
        """Evaluate ``rules`` over ``periods`` (oldest first); store and emit the new warnings.

        A warning already raised for the same rule and last period is not
        raised again. The ``improvement.warning`` events go to the notifiers.
        """
        return [warning for warning, new in self.review_warnings(rules, periods, at=at) if new]

    def review_warnings(self, rules: Iterable[WarningRule], periods: Sequence[Period | str], *,
                        at: datetime | None = None) -> list[tuple[EarlyWarning, bool]]:
        """Every warning ``rules`` raise over ``periods``, and whether it is new (P7).

        New warnings are stored and emitted as :meth:`raise_warnings` does; a
        warning raised before is returned as stored (with its first
        ``raised_at``), flagged not new, and not emitted again.
        """
        found = evaluate(rules, self.series(periods), at=at or self.crm.now())
        reviewed = []
        with self.crm.transaction() as work:
            stored = work.repository(EarlyWarning)
            for warning in found:
                earlier = stored.get(warning.id)
                if earlier is None:
                    stored.add(warning)
                    work.emit(warning_event(warning))
                reviewed.append((earlier or warning, earlier is None))
        return reviewed

    def warnings(self) -> list[EarlyWarning]:
        """Every stored early warning, oldest first."""
        return self.crm.find(EarlyWarning)

    # -- cycles: plan --------------------------------------------------------------------------

    def next_cycle_id(self) -> str:
        """A free cycle id: ``PDCA-001``, ``PDCA-002``..."""
        return _free_id(cycle.id for cycle in self.crm.find(Cycle))

    def open_cycle(self, *, measure: str, period: Period | str, problem: str,
                   goal: float | None = None, problem_key: str | None = None,
                   cycle_id: str | None = None, title: str | None = None,
                   actor: str = DEFAULT_ACTOR, at: datetime | None = None) -> Cycle:
        """Open a cycle (in ``plan``) from a problem shown by ``measure`` over ``period``.

        The measured value is the baseline; with ``goal`` the target is set
        too. ``problem_key`` defaults to the measure name.
        """
        baseline = self.measure(measure, period)
        key = problem_key or measure
        moment = at or self.crm.now()
        cycle = Cycle(id=cycle_id or self.next_cycle_id(), title=title or problem,
                      opened_at=moment, opened_by=actor, baseline_period=baseline.period)
        cycle = revise_plan(cycle, problems=[Problem(key, problem)], baselines=[baseline],
                            targets=[] if goal is None else [Target(measure, goal, key)])
        with self.crm.transaction() as work:
            self._create_in(work, cycle, actor=actor, at=moment,
                            reason=tr("opened from {measure} over {period}").format(
                                measure=term(measure), period=baseline.period.label))
        return cycle

    def _create_in(self, work: UnitOfWork, cycle: Cycle, *, actor: str, at: datetime,
                   reason: str) -> None:
        start_in(work, self.flow, cycle.id, customer_id=IMPROVEMENT_FILE, at=at, actor=actor,
                 reason=reason)
        work.repository(Cycle).add(cycle)

    def revise_plan(self, cycle_id: str, *, problems: Iterable[Problem] = (),
                    baselines: Iterable[MeasureValue] = (), causes: Iterable[Cause] = (),
                    key_factors: Iterable[KeyFactor] = (),
                    countermeasures: Iterable[Countermeasure] = (),
                    targets: Iterable[Target] = (), actor: str = DEFAULT_ACTOR,
                    at: datetime | None = None, reason: str = "") -> Cycle:
        """Add or replace plan items (only in ``plan``); see :func:`~.cycle.revise_plan`."""
        items: dict[str, list[Any]] = {
            "problems": list(problems), "baselines": list(baselines), "causes": list(causes),
            "key_factors": list(key_factors), "countermeasures": list(countermeasures),
            "targets": list(targets)}
        given = {name: unstructure(values) for name, values in items.items() if values}
        return self._change(cycle_id, "revise_plan", lambda c: revise_plan(c, **items),
                            actor=actor, at=at, reason=reason, fields=given)[0]

    def plan_from_pareto(self, cycle_id: str, table: ParetoTable, *, source: str,
                         actor: str = DEFAULT_ACTOR, at: datetime | None = None) -> Cycle:
        """Record a Pareto table's categories as causes and its vital few as key factors."""
        causes, factors = causes_from_pareto(table, source=source)
        return self.revise_plan(cycle_id, causes=causes, key_factors=factors, actor=actor, at=at,
                                reason=tr("Pareto analysis of {source}: vital few {few}").format(
                                    source=term(source),
                                    few=", ".join(map(term, table.vital_few)) or tr("none")))

    # -- cycles: do, check, act ----------------------------------------------------------------

    def start_do(self, cycle_id: str, *, actor: str = DEFAULT_ACTOR, at: datetime | None = None,
                 reason: str = "") -> Transition:
        """Move ``plan -> do``: refused unless the plan is complete."""
        return self._change(cycle_id, "do", None, actor=actor, at=at, reason=reason)[1]

    def track(self, cycle_id: str, countermeasure: str, status: CountermeasureStatus | str, *,
              note: str = "", actor: str = DEFAULT_ACTOR, at: datetime | None = None) -> Cycle:
        """Record a countermeasure done or dropped (with ``note``), only in ``do`` (P2)."""
        moment = at or self.crm.now()
        try:
            state = CountermeasureStatus(status)
        except ValueError:
            raise ValidationError("status", status, "is not one of planned, done, dropped"
                                  ) from None
        return self._change(cycle_id, "track",
                            lambda c: settle(c, countermeasure, state, at=moment, note=note),
                            actor=actor, at=moment, reason=note,
                            fields={"countermeasure": countermeasure, "status": state.value,
                                    "note": note})[0]

    def start_check(self, cycle_id: str, *, actor: str = DEFAULT_ACTOR,
                    at: datetime | None = None, reason: str = "") -> Transition:
        """Move ``do -> check``: refused while a countermeasure is open."""
        return self._change(cycle_id, "check", None, actor=actor, at=at, reason=reason)[1]

    def check(self, cycle_id: str, period: Period | str, *,
              values: Mapping[str, MeasureValue] | None = None, actor: str = DEFAULT_ACTOR,
              at: datetime | None = None) -> Cycle:
        """Measure every target over ``period`` and record it with its verdict (P3).

        ``values`` (by measure name) replace the stored-data measures, for
        results measured elsewhere. Only in ``check``.
        """
        span = as_period(period)
        measured = dict(values) if values is not None else self.measures(span)

        def results(cycle: Cycle) -> list[CheckResult]:
            return [judge(t, cycle.plan.baseline(t.measure), self._value(measured, t.measure),
                          alpha=self.alpha) for t in cycle.plan.targets]

        summary: list[dict[str, Any]] = []

        def edit(cycle: Cycle) -> Cycle:
            made = results(cycle)
            summary.extend({"target": r.target.describe(), "value": r.result.value,
                            "n": r.result.n, "verdict": r.verdict.value,
                            "p_value": r.test.p_value if r.test else None} for r in made)
            return record_results(cycle, made)

        return self._change(cycle_id, "record_results", edit, actor=actor, at=at,
                            reason=tr("measured over {period}").format(period=span.label),
                            fields=lambda: {"period": span.label, "results": summary})[0]

    @staticmethod
    def _value(measured: Mapping[str, MeasureValue], name: str) -> MeasureValue:
        if name not in measured:
            raise ValidationError("values", name, "has no measured value")
        return measured[name]

    def start_act(self, cycle_id: str, *, actor: str = DEFAULT_ACTOR,
                  at: datetime | None = None, reason: str = "") -> Transition:
        """Move ``check -> act``: refused while a target has no result."""
        return self._change(cycle_id, "act", None, actor=actor, at=at, reason=reason)[1]

    def act(self, cycle_id: str, *, standardised: Iterable[str] = (), note: str = "",
            next_cycle_id: str | None = None, close: bool = True, actor: str = DEFAULT_ACTOR,
            at: datetime | None = None) -> Cycle:
        """Record the act (P4) and carry every unsolved problem into a new cycle.

        In one transaction: the new cycle (``next_cycle_id`` or the next
        free id) is opened holding the unsolved problems, the act is
        recorded, and with ``close`` the cycle is closed. Only in ``act``;
        recording the act again keeps the cycle opened the first time.
        """
        moment = at or self.crm.now()
        with self.crm.transaction() as work:
            cycles = work.repository(Cycle)
            cycle = cycles.require(cycle_id)
            following: Cycle | None = None
            earlier = cycle.act.next_cycle if cycle.act is not None else None
            if cycle.unsolved() and earlier is not None:  # recorded before: keep that cycle
                following = cycles.require(earlier, field="act.next_cycle")
            elif cycle.unsolved():
                new_id = next_cycle_id or _free_id(c.id for c in cycles.find())
                following = carry_over(cycle, new_id, at=moment, actor=actor)
            acted = record_act(cycle, standardised=standardised, note=note,
                               next_cycle=following.id if following else None)
            assert acted.act is not None
            self._change_in(work, cycle_id, "record_act", lambda _: acted, actor=actor,
                            at=moment, reason=note, fields=unstructure(acted.act))
            if following is not None and following.id != earlier:
                self._create_in(work, following, actor=actor, at=moment,
                                reason=tr("carries the unsolved problems of {cycle}").format(
                                    cycle=cycle_id))
            if close:
                self._close_in(work, acted, following, actor=actor, at=moment)
        return acted

    def close(self, cycle_id: str, *, actor: str = DEFAULT_ACTOR,
              at: datetime | None = None) -> Transition:
        """Move ``act -> closed``: refused unless every unsolved problem was carried over."""
        with self.crm.transaction() as work:
            cycle = work.repository(Cycle).require(cycle_id)
            following = (work.repository(Cycle).get(cycle.act.next_cycle)
                         if cycle.act and cycle.act.next_cycle else None)
            return self._close_in(work, cycle, following, actor=actor, at=at or self.crm.now())

    def _close_in(self, work: UnitOfWork, cycle: Cycle, following: Cycle | None, *, actor: str,
                  at: datetime) -> Transition:
        facts: dict[str, Any] = {} if following is None else {"next_cycle": following}
        _, made = self._change_in(work, cycle.id, "close", None, actor=actor, at=at,
                                  fields={"next_cycle": following.id if following else None},
                                  facts=facts)
        return made

    def abandon(self, cycle_id: str, *, reason: str, actor: str = DEFAULT_ACTOR,
                at: datetime | None = None) -> Transition:
        """Give up a cycle still open (in plan, do, check or act): refused without a reason.

        The cycle moves to the final ``abandoned`` phase; the history entry
        records who abandoned it, when, from which phase and why. Its record
        is kept as it was. A host flow without an ``abandon`` event refuses.
        """
        return self._change(cycle_id, "abandon", None, actor=actor, at=at, reason=reason)[1]

    # -- the door ------------------------------------------------------------------------------

    def _change(self, cycle_id: str, event: str, edit: _Edit | None, *, actor: str,
                at: datetime | None, reason: str = "",
                fields: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None
                ) -> tuple[Cycle, Transition]:
        with self.crm.transaction() as work:
            return self._change_in(work, cycle_id, event, edit, actor=actor,
                                   at=at or self.crm.now(), reason=reason, fields=fields)

    def _change_in(self, work: UnitOfWork, cycle_id: str, event: str, edit: _Edit | None, *,
                   actor: str, at: datetime, reason: str = "",
                   fields: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
                   facts: Mapping[str, Any] | None = None) -> tuple[Cycle, Transition]:
        cycles = work.repository(Cycle)
        cycle = cycles.require(cycle_id)
        version = cycles.version(cycle_id)
        changed = edit(cycle) if edit is not None else cycle
        given = fields() if callable(fields) else fields
        made = transition_in(work, self.flow, cycle_id, event, at=at, actor=actor, reason=reason,
                             fields=given, facts={"cycle": changed, **(facts or {})})
        if changed != cycle:
            cycles.replace(changed, expected_version=version)
        return changed, made

    # -- queries ---------------------------------------------------------------------------------

    def cycle(self, cycle_id: str) -> Cycle:
        """The stored cycle; :class:`~crmcore.errors.NotFoundError` if there is none."""
        return self.crm.require(Cycle, cycle_id)

    def state(self, cycle_id: str) -> FlowState:
        """The cycle's flow state (its phase is ``state.state``)."""
        found = current_state(self.crm, self.flow, cycle_id)
        if found is None:
            self.cycle(cycle_id)
            raise ValidationError("cycle", cycle_id, tr("is not in flow {flow!r}").format(
                flow=self.flow.name))
        return found

    def history(self, cycle_id: str) -> list[HistoryEntry]:
        """The cycle's history through the door, oldest first."""
        return history_of(self.crm, self.flow, cycle_id, customer_id=IMPROVEMENT_FILE)

    def cycles(self) -> list[CycleRow]:
        """Every cycle with its phase, by id."""
        states = {s.subject_id: s for s in states_of(self.crm, self.flow)}
        why = self._abandoned_reasons(
            {subject for subject, state in states.items() if state.state == ABANDONED})
        rows = []
        for cycle in sorted(self.crm.find(Cycle), key=lambda c: c.id):
            state = states.get(cycle.id)
            rows.append(CycleRow(
                cycle.id, cycle.title, state.state if state else "-",
                state.entered_at if state else cycle.opened_at, cycle.opened_at,
                cycle.parent_id, cycle.act.next_cycle if cycle.act else None,
                len(cycle.plan.problems), len(cycle.unsolved()), why.get(cycle.id)))
        return rows

    def abandoned_because(self, cycle_id: str) -> str | None:
        """Why the cycle was abandoned (its history's reason), or None if it was not."""
        if self.state(cycle_id).state != ABANDONED:
            return None
        return self._abandoned_reasons({cycle_id}).get(cycle_id)

    def _abandoned_reasons(self, cycle_ids: set[str]) -> dict[str, str]:
        if not cycle_ids:
            return {}
        entries = self.crm.find(HistoryEntry, customer_id=IMPROVEMENT_FILE)
        return {e.subject_id: e.reason
                for e in sorted(entries, key=lambda entry: entry.sequence)
                if e.flow == self.flow.name and e.subject_id in cycle_ids
                and e.to_state == ABANDONED}

    def chain(self, cycle_id: str) -> list[Cycle]:
        """The cycle's chain of carried-over cycles, first to last (it included)."""
        known = {cycle.id: cycle for cycle in self.crm.find(Cycle)}
        if cycle_id not in known:
            self.cycle(cycle_id)
        first = known[cycle_id]
        seen = {first.id}
        while first.parent_id in known and first.parent_id not in seen:
            first = known[first.parent_id]
            seen.add(first.id)
        chain = [first]
        while (following := chain[-1].act.next_cycle if chain[-1].act else None) in known:
            if following in {c.id for c in chain}:
                break
            chain.append(known[following])
        return chain


def configured_warning_rules(crm: CRM) -> tuple[WarningRule, ...]:
    """The ``[[improvement.warnings]]`` rules of ``crm``'s configuration (P7); none if absent.

    Each table has the keys of :class:`~crmcore.improvement.WarningRule`;
    an unknown key of ``[improvement]`` is refused, naming it.
    """
    options = crm.settings("improvement")
    items = options.items("warnings", "a list of tables ([[improvement.warnings]])")
    options.check_all_used()
    return rules_from_data(items or [], source="configuration", path="improvement.warnings")


def _free_id(ids: Iterable[str]) -> str:
    taken = set(ids)
    number = len(taken) + 1
    while f"PDCA-{number:03d}" in taken:
        number += 1
    return f"PDCA-{number:03d}"


# -- any loop definition -------------------------------------------------------------------------

def start_loop(crm: CRM, flow: FlowDefinition, loop_id: str, *, actor: str,
               at: datetime | None = None, reason: str = "") -> Transition:
    """Start ``loop_id`` in ``flow`` (e.g. the customer-knowledge loop, P6)."""
    return start(crm, flow, loop_id, customer_id=IMPROVEMENT_FILE, at=at, actor=actor,
                 reason=reason)


def step_loop(crm: CRM, flow: FlowDefinition, loop_id: str, event: str, *, actor: str,
              at: datetime | None = None, reason: str = "",
              fields: Mapping[str, Any] | None = None) -> Transition:
    """Apply ``event`` to a loop started with :func:`start_loop`."""
    return transition(crm, flow, loop_id, event, at=at, actor=actor, reason=reason,
                      fields=fields)


def loop_history(crm: CRM, flow: FlowDefinition, loop_id: str) -> list[HistoryEntry]:
    """A loop's history, oldest first."""
    return history_of(crm, flow, loop_id, customer_id=IMPROVEMENT_FILE)


def countermeasure(key: str, action: str, owner: str, due: date | str,
                   factor: str | None = None) -> Countermeasure:
    """A planned countermeasure; ``due`` may be an ISO date text."""
    try:
        day = due if isinstance(due, date) else date.fromisoformat(due)
    except ValueError:
        raise ValidationError("due", due, "is not a date (YYYY-MM-DD)") from None
    return Countermeasure(key, action, owner, day, factor)
