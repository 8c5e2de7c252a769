"""The customer lifecycle through the application service: advance, list, explain.

:class:`LifecycleService` gathers each customer's facts from storage, asks
the pure evidence rules (:mod:`crmcore.lifecycle.evidence`) what should
move, and applies every move through the transition door. The evidence is
read as columns for the whole book at once (:mod:`crmcore.lifecycle.reading`);
the moves of a batch of customers go through the door together
(:class:`~crmcore.transitions.door.BatchDoor`) and are stored set-wise, one
transaction per batch (:func:`~crmcore.transitions.batch.store_flow_runs`). A
customer enters the lifecycle (``identified``) at its acquisition date, or its
first purchase if earlier.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.lifecycle.definitions import customer_flow
from crmcore.lifecycle.evidence import Move, Thresholds, plan_moves
from crmcore.lifecycle.leads import LeadPolicy
from crmcore.lifecycle.reading import (
    EvidenceBook,
    EvidenceReader,
    in_batches,
    read_evidence,
    read_transactions,
)
from crmcore.lifecycle.taxonomy import ChurnTaxonomy
from crmcore.model import Customer
from crmcore.options import Options
from crmcore.ports import ScoringStrategy, StorageSession
from crmcore.transitions import (
    FlowDefinition,
    FlowState,
    HistoryEntry,
    Transition,
    current_state,
    history_of,
    states_of,
    transition,
)
from crmcore.transitions.batch import FlowRun, collection_paused, load_states, store_flow_runs
from crmcore.transitions.door import BatchDoor, Made, Step
from crmcore.vocabulary import lifecycle_fields

_log = logging.getLogger(__name__)

DEFAULT_ACTOR = "crmcore.lifecycle"
"""Who the history names for moves made by :meth:`LifecycleService.advance`."""

DEFAULT_BATCH_SIZE = 5_000
"""Customers whose moves :meth:`LifecycleService.advance` stores per transaction."""


@attrs.frozen
class AdvanceReport:
    """What :meth:`LifecycleService.advance` did.

    ``moves`` in order per customer (empty when they were handed to an
    ``on_moves`` callback instead); ``moved`` how many moves were stored;
    ``started`` the customers who entered the lifecycle; ``evidence`` notes
    which evidence sources were available; ``refused`` the (customer id,
    message) pairs the door refused.
    """

    as_of: datetime
    moves: tuple[Move, ...]
    started: tuple[str, ...]
    evidence: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()
    moved: int = 0


@attrs.frozen
class StageRow:
    """One customer's current stage (``stage`` None: not in the lifecycle yet)."""

    customer_id: str
    name: str
    stage: str | None
    phase: str | None
    since: datetime | None
    fields: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define
class _Outcome:
    """What an advance did so far, customer by customer."""

    moves: list[Move] = attrs.Factory(list)
    started: list[str] = attrs.Factory(list)
    refused: list[tuple[str, str]] = attrs.Factory(list)


def group_by_customer(items: Iterable[Any]) -> dict[str, list[Any]]:
    """Records (anything with ``customer_id``) grouped by customer, order kept."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.customer_id].append(item)
    return grouped


class LifecycleService:
    """Advance and query the customer lifecycle stored in a :class:`~crmcore.CRM`.

    ``scoring`` names the lifetime-value scoring strategy whose
    ``probability_alive`` measure is used as at-risk evidence when it is
    registered (None: never). Without ``thresholds``, they are read from the
    configuration's ``[lifecycle]`` table (defaults for absent keys).
    ``evidence`` reads the customers and their evidence (default: crmcore's
    storage; :func:`crmcore_plugins.pushdown.service.source_evidence` reads
    an ERP's customers and purchases where they live).
    """

    def __init__(self, crm: CRM, *, flow: FlowDefinition | None = None,
                 thresholds: Thresholds | None = None, taxonomy: ChurnTaxonomy | None = None,
                 scoring: str | None = "clv", actor: str = DEFAULT_ACTOR,
                 evidence: EvidenceReader = read_evidence) -> None:
        self.crm = crm
        self.evidence = evidence
        self.flow = flow or customer_flow(taxonomy)
        self.thresholds = thresholds or _configured_thresholds(crm)
        self.scoring = scoring
        self.actor = actor

    # -- advancing -----------------------------------------------------------------------------

    def advance(self, as_of: datetime | None = None, *,
                customer_ids: Sequence[str] | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE,
                on_moves: Callable[[Sequence[Move]], None] | None = None) -> AdvanceReport:
        """Apply the evidence rules to every customer (or ``customer_ids``) as of ``as_of``.

        ``as_of`` defaults to the service's clock. The evidence of the whole
        book is read as columns; the moves of ``batch_size`` customers are
        stored per transaction, each customer's all in one, so a run killed
        mid-way leaves every customer before or after its moves and running
        it again finishes the job. Running it again for the same date moves
        nothing. With ``on_moves``, each batch's moves are handed to it once
        stored and not kept in the report (a big book's moves need not fit
        in memory together).
        """
        moment = as_of or self.crm.now()
        # The collector stays paused for the whole advance, between batches too: the book
        # read first lives to the end, and each pass over it (hundreds, as every batch
        # allocates) cost more than an eighth of an advance; the rest is acyclic.
        with collection_paused():
            return self._advance(moment, customer_ids, batch_size, on_moves)

    def _advance(self, moment: datetime, customer_ids: Sequence[str] | None, batch_size: int,
                 on_moves: Callable[[Sequence[Move]], None] | None) -> AdvanceReport:
        until = moment + timedelta(microseconds=1)
        with self.crm.storage.transaction() as session:
            book = self.evidence(session, until, customer_ids=customer_ids)
            p_alive, source = self._probability_alive(session, until, moment)
        book = attrs.evolve(book, response_due=self._response_due(book, moment))
        door = BatchDoor(self.flow, self.actor)
        entered = tr("entered the customer lifecycle")
        total = _Outcome()
        moved = 0
        for chunk in in_batches(book.ids, batch_size):
            outcome = _Outcome()
            with self.crm.transaction() as work:
                stored = load_states(work, self.flow.name, chunk)
                runs = [self._advance_one(door, book, customer_id, stored.get(customer_id),
                                          p_alive.get(customer_id), source, moment, entered,
                                          outcome)
                        for customer_id in chunk]
                store_flow_runs(work, door, [run for run in runs if run is not None])
            moved += len(outcome.moves)
            total.started.extend(outcome.started)
            total.refused.extend(outcome.refused)
            if on_moves is None:
                total.moves.extend(outcome.moves)
            elif outcome.moves:
                on_moves(outcome.moves)
        return AdvanceReport(moment, tuple(total.moves), tuple(total.started), (source,),
                             tuple(total.refused), moved)

    def _advance_one(self, door: BatchDoor, book: EvidenceBook, customer_id: str,
                     stored: tuple[FlowState, int] | None, p_alive: float | None, source: str,
                     as_of: datetime, entered: str, outcome: _Outcome) -> FlowRun | None:
        """One customer's moves through the door (its start first when it is new)."""
        facts = book.facts(customer_id, p_alive=p_alive, p_alive_source=source)
        made: list[Made] = []
        if stored is None:
            begin = min([m for m in (facts.acquired_at, *facts.purchases[:1]) if m],
                        default=as_of)
            if begin > as_of:
                return None
            state, start = door.start(customer_id, customer_id=customer_id, at=begin,
                                      reason=entered)
            made.append(start)
            outcome.started.append(customer_id)
            version = None
        else:
            state, version = stored
        moves = plan_moves(state.state, state.entered_at, facts, as_of, self.thresholds)
        applied = door.apply(state, [Step(move.event, move.at, f"{move.rule}: {move.reason}",
                                          move.fields, move.facts) for move in moves])
        made.extend(applied.made)
        outcome.moves.extend(moves[:len(applied.made)])
        if applied.refused is not None:
            outcome.refused.append((customer_id, str(applied.refused)))
        return FlowRun(version, applied.state, made) if made else None

    def _response_due(self, book: EvidenceBook, as_of: datetime
                      ) -> Mapping[str, datetime | None]:
        """The complaints' first-response due times on the graded SLA clock of the
        configured ``[policies]`` (S7: the one clock the agenda reads too)."""
        complaints = book.all_complaints()
        if not complaints:
            return {}
        from crmcore.policies.service import PolicyService  # policies import the lifecycle
        from crmcore.policies.settings import PolicySet
        return PolicyService(self.crm, PolicySet.from_config(self.crm.config)).response_due(
            complaints, as_of)

    def _probability_alive(self, session: StorageSession, until: datetime, as_of: datetime
                           ) -> tuple[dict[str, float], str]:
        """Scores of the scoring strategy, if one is chosen and available, and their source.

        A strategy with ``score_columns`` (the ``clv`` one) reads the purchases
        as columns; any other takes :class:`~crmcore.model.Transaction`
        objects, built (one per purchase) only then. An evidence reader with a
        ``scores`` method (a ``[source]``'s) scores the purchases where they live.
        """
        name = self.scoring
        if name is None:
            return {}, tr("probability alive: not used (no scoring strategy chosen)")
        registry = self.crm.plugins.scoring_strategies()
        if name not in registry:
            return {}, tr("probability alive: skipped (no {name!r} scoring strategy "
                          "registered)").format(name=name)
        try:
            strategy = registry.get(name)(Options({"measure": "probability_alive"},
                                                  f"lifecycle.scoring.{name}"))
        except ConfigError as error:  # e.g. its optional extra is not installed
            _log.info("scoring strategy %r is not available: %s", name, error)
            return {}, tr("probability alive: skipped ({name!r} not available: {error})")\
                .format(name=name, error=error)
        try:
            scorer = getattr(self.evidence, "scores", None) or _scores
            scores = scorer(strategy, session, until, as_of)
        except Exception as error:  # a plugin's failure must not stop the lifecycle
            _log.warning("scoring strategy %r failed (%s); lifecycle continues without it",
                         name, error)
            _log.debug("scoring strategy %r failure", name, exc_info=True)
            return {}, tr("probability alive: skipped ({name!r} failed: {error})").format(
                name=name, error=error)
        if not all(isinstance(v, float | int) and math.isfinite(v) and 0 <= v <= 1
                   for v in scores.values()):
            return {}, tr("probability alive: skipped ({name!r} did not return "
                          "probabilities)").format(name=name)
        return ({k: float(v) for k, v in scores.items()},
                tr("probability alive from the {name!r} scoring strategy").format(name=name))

    # -- manual moves and queries ----------------------------------------------------------------

    def move(self, customer_id: str, event: str, *, actor: str, reason: str = "",
             at: datetime | None = None, fields: Mapping[str, Any] | None = None,
             facts: Mapping[str, Any] | None = None, override: bool = False) -> Transition:
        """Apply ``event`` to a customer by hand (e.g. ``select`` or ``churn`` with reasons).

        Churn and loyalty fields may name their values by Chinese term (竞争流失); they
        are stored as codes (:func:`crmcore.vocabulary.lifecycle_fields`).
        """
        return transition(self.crm, self.flow, customer_id, event, at=at, actor=actor,
                          reason=reason, fields=lifecycle_fields(fields), facts=facts,
                          override=override)

    def stage(self, customer_id: str) -> FlowState | None:
        """The customer's stored lifecycle state, or None."""
        return current_state(self.crm, self.flow, customer_id)

    def states(self) -> list[FlowState]:
        """Every stored lifecycle state record, by customer id."""
        return states_of(self.crm, self.flow)

    def stages(self) -> list[StageRow]:
        """Every customer with its current stage, by customer id."""
        states = {state.subject_id: state for state in self.states()}
        rows = []
        for customer in sorted(self.crm.find(Customer), key=lambda c: c.id):
            state = states.get(customer.id)
            rows.append(StageRow(
                customer.id, customer.name, state.state if state else None,
                self.flow.state(state.state).phase if state else None,
                state.entered_at if state else None, dict(state.fields) if state else {}))
        return rows

    def history(self, customer_id: str) -> list[HistoryEntry]:
        """The customer's lifecycle history, oldest first."""
        return history_of(self.crm, self.flow, customer_id)

    def histories(self) -> dict[str, list[HistoryEntry]]:
        """Every customer's lifecycle history, by customer id, oldest first."""
        grouped: dict[str, list[HistoryEntry]] = defaultdict(list)
        for entry in self.crm.find(HistoryEntry):
            if entry.flow == self.flow.name:
                grouped[entry.subject_id].append(entry)
        return {key: sorted(items, key=lambda e: e.sequence)
                for key, items in sorted(grouped.items())}


def _scores(strategy: ScoringStrategy, session: StorageSession, until: datetime,
            as_of: datetime) -> dict[str, float]:
    by_columns = getattr(strategy, "score_columns", None)
    if callable(by_columns):
        from crmcore.book import read_purchases  # it imports grading, which imports us
        return dict(by_columns(read_purchases(session, until=until), as_of=as_of))
    return dict(strategy.score(read_transactions(session, until), as_of=as_of))


def configured_policies(crm: CRM) -> tuple[Thresholds, LeadPolicy]:
    """The configuration's ``[lifecycle]`` table: customer thresholds and ``lead_`` keys.

    Both are read from one reader before unknown keys are refused, so a table
    may hold both kinds.
    """
    options = crm.settings("lifecycle")
    thresholds = Thresholds.from_options(options)
    leads = LeadPolicy.from_options(options)
    options.check_all_used()
    return thresholds, leads


def _configured_thresholds(crm: CRM) -> Thresholds:
    """The ``[lifecycle]`` thresholds of the configuration; unknown keys are refused."""
    return configured_policies(crm)[0]
