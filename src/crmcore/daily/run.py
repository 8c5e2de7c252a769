"""The day's work in one call: grade, advance, escalate, problems, agenda, deliver.

:func:`run_daily` runs the steps in order for one ``as_of``. After each
step it stores the step's outcome in the run's :class:`DailyRunRecord`, so a
run killed half-way resumes with the first unfinished step, and a second run
for the same ``as_of`` stores and sends nothing. Every step is itself
idempotent for a given ``as_of`` (a step killed before its outcome was
stored is simply run again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from crmcore.app import CRM
from crmcore.daily.agenda_store import store_agendas
from crmcore.daily.records import DailyRunRecord, StepOutcome
from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.transitions.batch import collection_paused
from crmcore.unit_of_work import unit_of_work

DEFAULT_SCHEME = "pareto-abc"
"""The grading scheme of the daily run when ``[run] scheme`` does not name one."""

StepRunner = Callable[["RunContext"], Mapping[str, Any]]
"""A step: does its work for the context's ``as_of``, returns what it did (counts)."""

StepListener = Callable[[str, int, int, StepOutcome | None], None]
"""Told ``(step, position, total, outcome)`` before (outcome None) and after each step."""


@attrs.frozen
class RunSettings:
    """The ``[run]`` table: the grading ``scheme``, its ``window_months`` and the ``steps``."""

    scheme: str = DEFAULT_SCHEME
    window_months: int = 12
    steps: tuple[str, ...] = ()

    @classmethod
    def from_crm(cls, crm: CRM) -> RunSettings:
        """The settings of the CRM's configuration (defaults for absent keys)."""
        options = crm.settings("run")
        steps = tuple(options.texts("steps")) if options.has("steps") else tuple(STEP_NAMES)
        unknown = [step for step in steps if step not in STEP_NAMES]
        if unknown:
            raise ConfigError(tr("run.steps: {value!r} is not a step of the daily run (steps: "
                                 "{steps})").format(value=unknown[0], steps=", ".join(STEP_NAMES)))
        settings = cls(options.text("scheme", DEFAULT_SCHEME),
                       options.integer("window_months", 12, minimum=1), steps)
        options.check_all_used()
        return settings


@attrs.define
class RunContext:
    """What every step of one run shares (:attr:`shared`: the book read once)."""

    crm: CRM
    as_of: datetime
    settings: RunSettings
    shared: dict[str, Any] = attrs.field(factory=dict)
    """What the steps of this call share (``policies``: the one PolicyService; ``grades``:
    the grades in force the grade step stored)."""


@attrs.frozen
class DailyRunReport:
    """What a run did: each step's outcome, and which of them this call ran."""

    as_of: datetime
    steps: tuple[StepOutcome, ...]
    ran: tuple[str, ...]

    @property
    def already_done(self) -> bool:
        """True when every step had finished in an earlier run for this ``as_of``."""
        return not self.ran

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON values."""
        return {"as_of": self.as_of.isoformat(), "already_done": self.already_done,
                "ran": list(self.ran),
                "steps": [{"step": s.name, "finished_at": s.finished_at.isoformat(),
                           "seconds": round(s.seconds, 3), **dict(s.summary)}
                          for s in self.steps]}


def _grade(context: RunContext) -> Mapping[str, Any]:
    from crmcore.grading import load_scheme
    from crmcore.grading.service import run_grading

    scheme = load_scheme(context.settings.scheme)
    source = _source(context.crm)
    if source is not None:  # [source]: grade the ERP where its data lives (pushdown)
        from crmcore_plugins.pushdown.service import run_source_grading

        run = run_source_grading(context.crm, source, scheme, as_of=context.as_of,
                                 window_months=context.settings.window_months)
    else:
        run = run_grading(context.crm, scheme, as_of=context.as_of,
                          window_months=context.settings.window_months)
    context.shared["grades"] = run.in_force  # the policies' grades: not read back
    return {"scheme": run.scheme.name, "customers": len(run.results),
            "changed": len(run.changed)}


def _advance(context: RunContext) -> Mapping[str, Any]:
    from crmcore.lifecycle.service import LifecycleService

    source = _source(context.crm)
    if source is None:
        service = LifecycleService(context.crm)
    else:
        from crmcore_plugins.pushdown.service import source_evidence

        service = LifecycleService(context.crm, evidence=source_evidence(source))
    report = service.advance(context.as_of)
    return {"moves": len(report.moves), "started": len(report.started),
            "refused": len(report.refused)}


def _source(crm: CRM) -> Any:
    """The configured ``[source]`` (see :mod:`crmcore_plugins.pushdown.service`), or None."""
    from crmcore_plugins.pushdown.service import configured_source  # imports no Ibis

    return configured_source(crm)


def _policies(context: RunContext) -> Any:
    """The run's one PolicyService: escalate, problems and agenda share its reads of the
    book (it reads the tasks again after storing escalations or problems) and the grades
    in force the grade step of this call stored (read from storage when it ran earlier)."""
    from crmcore.policies import PolicyService, PolicySet

    if "policies" not in context.shared:
        context.shared["policies"] = PolicyService(
            context.crm, PolicySet.from_config(context.crm.config),
            scheme=context.settings.scheme, grades=context.shared.get("grades"),
            share_reads=True)
    return context.shared["policies"]


def _escalate(context: RunContext) -> Mapping[str, Any]:
    report = _policies(context).apply_escalations(context.as_of)
    return {"applied": len(report.applied), "transferred": len(report.transferred),
            "conflicts": len(report.conflicts)}


def _problems(context: RunContext) -> Mapping[str, Any]:
    return {"opened": len(_policies(context).record_problems(context.as_of))}


def _agenda(context: RunContext) -> Mapping[str, Any]:
    items = _policies(context).agenda(context.as_of)
    owners = store_agendas(context.crm, items, as_of=context.as_of)
    return {"owners": owners, "items": len(items)}


def _deliver(context: RunContext) -> Mapping[str, Any]:
    report = context.crm.deliver_events()
    return {"delivered": report.delivered, "failed": report.failed}


STEPS: dict[str, StepRunner] = {
    "grade": _grade, "lifecycle": _advance, "escalate": _escalate, "problems": _problems,
    "agenda": _agenda, "deliver": _deliver,
}
"""The steps of the daily run, in the order they run."""

STEP_NAMES: tuple[str, ...] = tuple(STEPS)
"""The names of the steps, in the order they run (``[run] steps`` chooses among them)."""

PAUSED_COLLECTOR_STEPS: frozenset[str] = frozenset({"grade", "escalate", "problems", "agenda"})
"""The steps run with the cyclic collector paused
(:func:`~crmcore.transitions.batch.collection_paused`; the lifecycle pauses it per batch):
they build a few acyclic objects per customer and item, and the collector's full passes
over the live book cost 28% of the agenda step's CPU and 13% of the grade step's at
100,000 customers."""


def run_id(as_of: datetime) -> str:
    """The id of the run record for ``as_of`` (the instant in UTC)."""
    return as_of.astimezone(UTC).isoformat()


def run_daily(crm: CRM, as_of: datetime, *, settings: RunSettings | None = None,
              listener: StepListener | None = None) -> DailyRunReport:
    """Run the day's steps for ``as_of`` that have not finished yet; see the module."""
    if as_of.tzinfo is None:
        raise ConfigError(tr("{key}: {value!r} is a naive datetime; give a time zone").format(
            key="as_of", value=as_of.isoformat()))
    chosen = settings or RunSettings.from_crm(crm)
    context = RunContext(crm, as_of, chosen)
    record = crm.get(DailyRunRecord, run_id(as_of))
    if record is None:
        record = DailyRunRecord(run_id(as_of), as_of, crm.now())
        with unit_of_work(crm.storage) as work:  # filed under RUN_FILE, not a customer
            work.repository(DailyRunRecord).add(record)
    ran: list[str] = []
    deliver_after_commit, crm.auto_deliver = crm.auto_deliver, False
    try:
        for position, name in enumerate(chosen.steps, start=1):
            if record.finished(name) is not None:
                continue
            if listener is not None:
                listener(name, position, len(chosen.steps), None)
            started = time.perf_counter()
            if name in PAUSED_COLLECTOR_STEPS:
                with collection_paused():
                    summary = STEPS[name](context)
            else:
                summary = STEPS[name](context)
            outcome = StepOutcome(name, crm.now(), time.perf_counter() - started, dict(summary))
            record = attrs.evolve(record, steps=(*record.steps, outcome))
            with unit_of_work(crm.storage) as work:  # bookkeeping: no event to announce
                work.repository(DailyRunRecord).replace(record)
            ran.append(name)
            if listener is not None:
                listener(name, position, len(chosen.steps), outcome)
    finally:
        crm.auto_deliver = deliver_after_commit
    done = [record.finished(name) for name in chosen.steps]
    return DailyRunReport(as_of, tuple(o for o in done if o is not None), tuple(ran))

