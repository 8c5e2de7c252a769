"""Delivering outbox events to notifiers, at least once, with retries.

An event is marked delivered to a notifier only after the notifier returned
without raising. A failure is recorded with the error and the time of the
next attempt (exponential backoff); the event stays pending until it goes
through. Each notifier receives events in the order they were stored; a run
stops at a notifier's first failure, and the failed event waits for its retry
time while later events go out on the next run (so one poisoned event cannot
block a notifier for ever).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import attrs

from crmcore.ports import Notifier, StorageBackend

_log = logging.getLogger(__name__)


@attrs.frozen
class RetryPolicy:
    """How long to wait before retrying a failed delivery.

    The n-th retry waits ``first_delay * 2 ** (n - 1)``, at most ``max_delay``.
    """

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure (1 for the first)."""
        grown: timedelta = self.first_delay * 2 ** max(attempts - 1, 0)
        return min(grown, self.max_delay)


@attrs.frozen
class DeliveryFailure:
    """One failed delivery attempt."""

    event_id: str
    event_type: str
    notifier: str
    attempts: int
    error: str


@attrs.frozen
class DeliveryReport:
    """What one delivery run did."""

    delivered: int = 0
    failures: tuple[DeliveryFailure, ...] = ()

    @property
    def failed(self) -> int:
        """How many attempts failed in this run."""
        return len(self.failures)


def deliver_pending(
    storage: StorageBackend,
    notifiers: Mapping[str, Notifier],
    *,
    clock: Callable[[], datetime],
    retry: RetryPolicy = RetryPolicy(),
    batch_size: int = 500,
) -> DeliveryReport:
    """Deliver every due event to every notifier; return counts and failures.

    Each success or failure is recorded in its own short transaction, so a
    crash mid-run repeats at most one delivery.
    """
    delivered = 0
    failures: list[DeliveryFailure] = []
    for name, notifier in notifiers.items():
        with storage.transaction() as session:
            session.subscribe(name)
        count, failure = _deliver_to(storage, name, notifier, clock, retry, batch_size)
        delivered += count
        if failure is not None:
            failures.append(failure)
    return DeliveryReport(delivered, tuple(failures))


def _deliver_to(
    storage: StorageBackend,
    name: str,
    notifier: Notifier,
    clock: Callable[[], datetime],
    retry: RetryPolicy,
    batch_size: int,
) -> tuple[int, DeliveryFailure | None]:
    """Deliver due events to one notifier in order; stop at its first failure."""
    delivered = 0
    while True:
        with storage.transaction() as session:
            batch = session.pending_deliveries(name, now=clock(), limit=batch_size)
        if not batch:
            return delivered, None
        for pending in batch:
            event = pending.entry.event
            try:
                notifier.notify(event)
            except Exception as error:
                attempts = pending.attempts + 1
                text = f"{type(error).__name__}: {error}"
                _log.warning("notifier %s failed on event %s (attempt %d): %s",
                             name, event.id, attempts, text)
                with storage.transaction() as session:
                    session.record_failure(event.id, name, text, clock() + retry.delay(attempts))
                return delivered, DeliveryFailure(event.id, event.type, name, attempts, text)
            with storage.transaction() as session:
                session.mark_delivered(event.id, name, clock())
            delivered += 1
