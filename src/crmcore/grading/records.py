"""What grading stores besides the grade changes: a record per run, and held downgrades.

* :class:`GradingRunRecord` (kind ``grading_run``): one per stored run of a
  scheme and as-of time: its counts and how many grades changed. Its id
  makes a second run for the same as-of time a no-op; the configuration's
  ``[grading] keep_runs`` removes the oldest ones (never the changes).
* :class:`PendingDowngrade` (kind ``grade_pending``): a customer whose
  downgrade hysteresis holds back, with the number of consecutive runs that
  proposed it: all that :func:`~crmcore.grading.hysteresis.decide` needs of
  the earlier runs. Removed when the streak ends.

The grade changes themselves are :class:`~crmcore.grading.GradeResult`
records (kind ``grade_result``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from crmcore.csv_import import content_id
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.validation import aware_datetime, identifier, non_empty_text

RUNS_FILE = "(grading)"
"""The customer id storage files run records under (they belong to no customer)."""


@attrs.frozen
class GradingRunRecord:
    """One stored grading run: scheme, version, as-of time and what it found."""

    id: str = attrs.field(validator=identifier)
    scheme: str = attrs.field(validator=non_empty_text)
    version: int
    as_of: datetime = attrs.field(validator=aware_datetime)
    recorded_at: datetime = attrs.field(validator=aware_datetime)
    customers: int
    counts: Mapping[str, int] = attrs.field(factory=dict)
    changed: int = 0
    stored: int = 0
    filed_under: str = RUNS_FILE


@attrs.frozen
class PendingDowngrade:
    """A downgrade held back for ``customer_id``: ``streak`` runs proposed ``proposed``."""

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    scheme: str = attrs.field(validator=non_empty_text)
    streak: int
    proposed: str
    as_of: datetime = attrs.field(validator=aware_datetime)


GRADING_RUN = register_entity_type(
    EntityType("grading_run", GradingRunRecord, "filed_under", "as_of"))
"""The storable entity kind of :class:`GradingRunRecord`."""

GRADE_PENDING = register_entity_type(
    EntityType("grade_pending", PendingDowngrade, "customer_id", "as_of"))
"""The storable entity kind of :class:`PendingDowngrade`."""


def run_id(scheme: str, as_of: datetime) -> str:
    """The id of the run record of ``scheme`` as of ``as_of`` (one per pair)."""
    return content_id("run-", scheme, as_of.isoformat())


def pending_id(scheme: str, customer_id: str) -> str:
    """The id of a customer's held downgrade in ``scheme`` (one per pair)."""
    return content_id("hold-", scheme, customer_id)


def pending_body(scheme: str, customer_id: str, streak: int, proposed: str,
                 as_of: datetime) -> dict[str, Any]:
    """The stored body of a :class:`PendingDowngrade` (what the converter would make)."""
    return {"id": pending_id(scheme, customer_id), "customer_id": customer_id,
            "scheme": scheme, "streak": streak, "proposed": proposed,
            "as_of": as_of.isoformat()}
