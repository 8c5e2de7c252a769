"""A ticket's status history as intervals, for the SLA clocks (S4).

Ticket status changes go through the one transition door
(:mod:`crmcore.transitions`) in the flow :func:`ticket_flow` (shipped as
``crmcore/policies/flows/ticket.toml``). :func:`intervals_from_history` turns
that flow's history entries into :class:`StatusInterval` values; a ticket
without history is read from its own fields by :func:`intervals_of_ticket`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from importlib import resources

import attrs

from crmcore.errors import ValidationError
from crmcore.model import Ticket, TicketStatus
from crmcore.transitions import FlowDefinition, HistoryEntry, flow_from_toml
from crmcore.validation import aware_datetime, non_empty_text, optional_aware_datetime

TICKET_FLOW = "ticket"
"""The flow name of ticket statuses."""


def ticket_flow() -> FlowDefinition:
    """The shipped ticket flow: new, open, waiting_on_customer, on_hold, resolved, closed."""
    text = resources.files("crmcore.policies").joinpath("flows", "ticket.toml").read_text(
        encoding="utf-8")
    return flow_from_toml(text, source="crmcore/policies/flows/ticket.toml")


@attrs.frozen
class StatusInterval:
    """A ticket was in ``status`` from ``start`` until ``end`` (None: still is)."""

    status: str = attrs.field(validator=non_empty_text)
    start: datetime = attrs.field(validator=aware_datetime)
    end: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            from crmcore.i18n import tr

            raise ValidationError("end", self.end.isoformat(), tr(
                "is before {field} {value}").format(field="start", value=self.start.isoformat()))


def status_intervals(opened_at: datetime, changes: Iterable[tuple[datetime, str]], *,
                     initial: str = TicketStatus.NEW.value) -> tuple[StatusInterval, ...]:
    """Intervals from the opening time and ``(at, new_status)`` changes (any order).

    The ticket is in ``initial`` from ``opened_at`` until the first change. A
    change before ``opened_at`` raises :class:`~crmcore.errors.ValidationError`.
    """
    ordered = sorted(changes, key=lambda change: change[0])
    if ordered and ordered[0][0] < opened_at:
        from crmcore.i18n import tr

        raise ValidationError("changes", ordered[0][0].isoformat(), tr(
            "is before the ticket was opened ({opened})").format(opened=opened_at.isoformat()))
    starts = [(opened_at, initial), *ordered]
    ends: list[datetime | None] = [at for at, _ in ordered]
    ends.append(None)
    return tuple(StatusInterval(status, start, end)
                 for (start, status), end in zip(starts, ends, strict=True))


def intervals_from_history(ticket: Ticket, entries: Sequence[HistoryEntry]
                           ) -> tuple[StatusInterval, ...]:
    """Intervals from the ticket's entries in :data:`TICKET_FLOW` (other entries ignored).

    The first entry (the flow's start) may be later than ``ticket.opened_at``: the
    ticket counts as ``new`` from its opening until then.
    """
    own = sorted((entry for entry in entries
                  if entry.flow == TICKET_FLOW and entry.subject_id == ticket.id),
                 key=lambda entry: entry.sequence)
    if not own:
        return intervals_of_ticket(ticket)
    changes = [(entry.at, entry.to_state) for entry in own]
    if changes[0][0] <= ticket.opened_at:
        changes[0] = (ticket.opened_at, changes[0][1])
        return status_intervals(ticket.opened_at, changes[1:], initial=changes[0][1])
    return status_intervals(ticket.opened_at, changes)


def intervals_of_ticket(ticket: Ticket) -> tuple[StatusInterval, ...]:
    """Intervals read from the ticket's own fields when it has no status history.

    Open from ``opened_at``; resolved from ``resolved_at`` when set. A stored status
    without history says nothing about *when* it began, so it is not used.
    """
    changes = [] if ticket.resolved_at is None else [
        (ticket.resolved_at, TicketStatus.RESOLVED.value)]
    return status_intervals(ticket.opened_at, changes, initial=TicketStatus.OPEN.value)


def status_at(intervals: Sequence[StatusInterval], moment: datetime) -> str | None:
    """The status at ``moment`` (None before the first interval)."""
    current = None
    for interval in intervals:
        if interval.start > moment:
            break
        current = interval.status
    return current
