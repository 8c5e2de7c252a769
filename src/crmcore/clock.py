"""Clocks: the application service's only source of "now".

The pure core never reads a clock; it receives ``as_of`` times. The
application service asks its clock, so hosts and tests control time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from crmcore.errors import ValidationError

Clock = Callable[[], datetime]
"""A function returning the current time, timezone-aware."""


def system_clock() -> datetime:
    """The machine's current time in UTC."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (for tests and replays)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValidationError("at", at, "is a naive datetime; give a time zone")
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        """Move the clock forward by ``by`` and return the new time."""
        self.now = self.now + by
        return self.now
