"""Pareto analysis of causes (P1): which few categories make most of the problem.

:func:`pareto` ranks categories by count (ties by name, so the order is
stable) and marks the *vital few*: the shortest run of top categories whose
cumulative share reaches the threshold (80% by default), extended by every
category whose count equals the last vital one's. Equal counts are never
split across the line, as equal values never split across grades (G1).
:func:`complaint_categories` and :func:`churn_reasons` count the two usual
sources: complaint tickets (S7) and the reasons recorded when customers
churned (L3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from crmcore.errors import ValidationError
from crmcore.lifecycle.measures import Period
from crmcore.model import Ticket, TicketKind
from crmcore.transitions import HistoryEntry

DEFAULT_THRESHOLD = 0.8
"""The cumulative share the vital few reach."""


@attrs.frozen
class ParetoRow:
    """One category: its count, share, cumulative share and whether it is vital."""

    category: str
    count: int
    share: float
    cumulative: float
    vital: bool


@attrs.frozen
class ParetoTable:
    """Categories in Pareto order; ``total`` is the sum of the counts."""

    rows: tuple[ParetoRow, ...]
    total: int
    threshold: float = DEFAULT_THRESHOLD

    @property
    def vital_few(self) -> tuple[str, ...]:
        """The vital categories, largest first."""
        return tuple(row.category for row in self.rows if row.vital)

    def counts(self) -> dict[str, int]:
        """The counts by category, in Pareto order."""
        return {row.category: row.count for row in self.rows}


def pareto(counts: Mapping[str, int], threshold: float = DEFAULT_THRESHOLD) -> ParetoTable:
    """Rank ``counts`` and name the vital few (see the module notes).

    Categories with a count of 0 are left out.
    """
    if not 0 < threshold <= 1:
        raise ValidationError("threshold", threshold, "must be in (0, 1]")
    for category, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(f"counts[{category!r}]", count, "must be a whole number >= 0")
    ranked = sorted(((c, n) for c, n in counts.items() if n > 0), key=lambda i: (-i[1], i[0]))
    total = sum(n for _, n in ranked)
    rows: list[ParetoRow] = []
    running = 0
    cut: int | None = None  # the count of the last vital category
    for category, count in ranked:
        vital = cut is None or count == cut
        running += count
        if cut is None and running >= threshold * total:
            cut = count
        rows.append(ParetoRow(category, count, count / total, running / total, vital))
    return ParetoTable(tuple(rows), total, threshold)


def complaint_categories(tickets: Iterable[Ticket], period: Period | None = None
                         ) -> Counter[str]:
    """Complaint tickets per category (opened within ``period`` if given)."""
    return Counter(t.category for t in tickets if t.kind is TicketKind.COMPLAINT
                   and (period is None or period.start <= t.opened_at < period.end))


def churn_reasons(entries: Iterable[HistoryEntry], period: Period | None = None, *,
                  churned: str = "churned") -> Counter[str]:
    """Churn reasons recorded on entries into ``churned`` (within ``period`` if given).

    ``entries`` are customer-lifecycle history entries; a churn naming
    several reasons counts once for each.
    """
    counted: Counter[str] = Counter()
    for entry in entries:
        if entry.to_state != churned or entry.from_state == churned:
            continue
        if period is not None and not period.start <= entry.at < period.end:
            continue
        reasons = entry.fields.get("churn_reasons")
        if isinstance(reasons, list | tuple):
            counted.update(r for r in reasons if isinstance(r, str))
    return counted
