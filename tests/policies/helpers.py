"""Shared values of the service-policy tests."""

from __future__ import annotations

from datetime import UTC, datetime

from crmcore.model import Priority, Ticket, TicketKind
from crmcore.service import BusinessCalendar

OFFICE = BusinessCalendar("office", "UTC", {day: ["09:00-17:00"] for day in range(5)},
                          holidays=["2026-03-06"])
"""Monday to Friday 09:00-17:00 UTC; Friday 6 March 2026 is a holiday."""

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
"""Monday 2 March 2026, midnight UTC."""


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def ticket(ticket_id: str = "T1", *, customer_id: str = "C1", opened: datetime | None = None,
           priority: Priority = Priority.NORMAL, kind: TicketKind = TicketKind.REQUEST,
           category: str = "installation", **fields: object) -> Ticket:
    """A ticket opened Monday 2 March 2026 at 10:00 unless told otherwise."""
    return Ticket(id=ticket_id, customer_id=customer_id, opened_at=opened or at(2, 10),
                  kind=kind, category=category, priority=priority, **fields)  # type: ignore[arg-type]
