"""What the daily run stores: its own progress, and each owner's materialised agenda."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from crmcore.daily.agenda_read import AGENDA_SNAPSHOT_KIND
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.validation import aware_datetime

RUN_FILE = "(daily-run)"
"""The customer id storage files daily-run records and agenda snapshots under."""


@attrs.frozen
class StepOutcome:
    """One finished step of a daily run: its name, when it ended and what it did (counts)."""

    name: str
    finished_at: datetime = attrs.field(validator=aware_datetime)
    seconds: float
    summary: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class DailyRunRecord:
    """The progress of the daily run for one ``as_of``: the steps finished so far.

    Its id is the ``as_of`` instant in UTC, so a second run for the same
    ``as_of`` finds it and does only the steps not yet finished.
    """

    id: str
    as_of: datetime = attrs.field(validator=aware_datetime)
    started_at: datetime = attrs.field(validator=aware_datetime)
    steps: tuple[StepOutcome, ...] = ()
    filed_under: str = RUN_FILE

    def finished(self, step: str) -> StepOutcome | None:
        """The outcome of ``step`` if it has finished, else None."""
        return next((outcome for outcome in self.steps if outcome.name == step), None)


@attrs.frozen
class AgendaSnapshot:
    """One owner's agenda as the daily run computed it for ``as_of``.

    ``items`` are the JSON form of :class:`~crmcore.policies.agenda.AgendaItem`
    (:meth:`~crmcore.policies.agenda.AgendaItem.as_dict`), most urgent first:
    reading an owner's agenda is one look-up and no recomputation.
    """

    id: str
    owner: str
    as_of: datetime = attrs.field(validator=aware_datetime)
    items: tuple[Mapping[str, Any], ...] = ()
    filed_under: str = RUN_FILE


DAILY_RUN = register_entity_type(EntityType("daily_run", DailyRunRecord, "filed_under", "as_of"))
AGENDA_SNAPSHOT = register_entity_type(
    EntityType(AGENDA_SNAPSHOT_KIND, AgendaSnapshot, "filed_under", "as_of"))
