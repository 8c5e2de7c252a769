"""Loop definitions as data: the PDCA cycle (P1-P4) and the customer-knowledge loop (P6).

Both are TOML files in ``crmcore/improvement/flows`` run by the generic
transition machinery (:mod:`crmcore.transitions`). :func:`improvement_checks`
registers the validators the PDCA flow names; they read the cycle as it
will be after the change from the door's *facts*:

- ``cycle``: the :class:`~crmcore.improvement.cycle.Cycle`;
- ``next_cycle``: on ``close``, the cycle the unsolved problems went to.

A host defines its own loop with :func:`load_loop` (its TOML may use these
validators), or its own PDCA variant as long as it declares
:data:`PDCA_EVENTS` (checked by :func:`require_events`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from crmcore.errors import MISSING, ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.improvement.cycle import Cycle
from crmcore.transitions import CheckRegistry, FlowDefinition, TransitionContext
from crmcore.transitions import load_flow as _load_flow
from crmcore.transitions.loader import load_packaged_flow

LOOP_FILES: dict[str, str] = {"pdca": "pdca.toml", "knowledge": "knowledge.toml"}
"""The shipped loop definitions: short name -> file in ``crmcore/improvement/flows``."""

PDCA_FLOW = "pdca-cycle"
"""The flow name of the shipped PDCA cycle."""

KNOWLEDGE_FLOW = "customer-knowledge"
"""The flow name of the shipped customer-knowledge loop."""

PDCA_EVENTS: tuple[str, ...] = ("revise_plan", "do", "track", "check", "record_results", "act",
                                "record_act", "close")
"""The events :class:`~crmcore.improvement.service.ImprovementService` needs.

It also sends ``abandon`` (:meth:`~crmcore.improvement.ImprovementService.abandon`),
which a host's variant may leave out: its cycles then cannot be abandoned.
"""


def _cycle(context: TransitionContext, name: str = "cycle") -> Cycle:
    value = context.facts.get(name)
    if not isinstance(value, Cycle):
        raise ValidationError(f"facts.{name}", value, "must be the cycle record")
    return value


def plan_complete(context: TransitionContext) -> None:
    """The plan has problems, causes, key factors, countermeasures and a target per measure."""
    missing = _cycle(context).plan.missing()
    if missing:
        raise ValidationError("plan", MISSING, tr("lacks {missing}").format(
            missing="; ".join(missing)))


def all_countermeasures_settled(context: TransitionContext) -> None:
    """Every countermeasure is done, or dropped with a reason."""
    open_ = _cycle(context).unsettled()
    if open_:
        raise ValidationError("countermeasures", [c.key for c in open_],
                              "are neither done nor dropped with a reason")


def every_target_checked(context: TransitionContext) -> None:
    """Every target has a measured result."""
    unchecked = _cycle(context).unchecked()
    if unchecked:
        raise ValidationError("results", [t.describe() for t in unchecked], "are not measured")


def unsolved_carried_over(context: TransitionContext) -> None:
    """The act is recorded and every unsolved problem is in the next cycle."""
    cycle = _cycle(context)
    if cycle.act is None:
        raise ValidationError("act", MISSING, "must be recorded before closing")
    unsolved = sorted(p.key for p in cycle.unsolved())
    if sorted(cycle.act.carried_over) != unsolved:
        raise ValidationError("act.carried_over", list(cycle.act.carried_over),
                              tr("must be the unsolved problems {unsolved}").format(
                                  unsolved=unsolved))
    if not unsolved:
        return
    following = _cycle(context, "next_cycle")
    held = {p.key for p in following.plan.problems if p.carried_from == cycle.id}
    if following.id != cycle.act.next_cycle or following.parent_id != cycle.id or not (
            set(unsolved) <= held):
        raise ValidationError("next_cycle", following.id,
                              tr("must be linked to {cycle} and hold problems {unsolved}")
                              .format(cycle=cycle.id, unsolved=unsolved))


def improvement_checks() -> CheckRegistry:
    """The validators the shipped loops name (plus the generic ``reason_given``)."""
    return CheckRegistry(validators={
        "plan_complete": plan_complete,
        "all_countermeasures_settled": all_countermeasures_settled,
        "every_target_checked": every_target_checked,
        "unsolved_carried_over": unsolved_carried_over,
    })


def builtin_loop(name: str, checks: CheckRegistry | None = None) -> FlowDefinition:
    """Load the shipped loop ``name`` (see :data:`LOOP_FILES`)."""
    return load_packaged_flow("crmcore.improvement", LOOP_FILES, name,
                              checks or improvement_checks(), label="loop")


def pdca_flow() -> FlowDefinition:
    """The shipped PDCA cycle (P1-P4)."""
    return builtin_loop("pdca")


def knowledge_flow() -> FlowDefinition:
    """The shipped customer-knowledge loop (P6)."""
    return builtin_loop("knowledge")


def load_loop(path: str | Path, checks: CheckRegistry | None = None) -> FlowDefinition:
    """A host's own loop from a TOML file; its checks default to :func:`improvement_checks`."""
    return _load_flow(path, checks or improvement_checks())


def require_events(flow: FlowDefinition, events: Iterable[str] = PDCA_EVENTS) -> None:
    """:class:`ConfigError` unless ``flow`` declares every one of ``events``."""
    missing = [event for event in events if event not in flow.events()]
    if missing:
        raise ConfigError(tr("flow {name!r} cannot run a PDCA cycle: it lacks the events "
                             "{events}").format(name=flow.name, events=", ".join(missing)))
