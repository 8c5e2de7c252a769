"""Delivering outbox events to notifiers, at least once, with retries.

An event is marked delivered to a notifier only after the notifier returned
without raising. A failure is recorded with the error and the time of the
next attempt (exponential backoff); the event stays pending until it goes
through. Each notifier receives events in the order they were stored; a run
stops at a notifier's first failure, and the failed event waits for its retry
time while later events go out on the next run (so one poisoned event cannot
block a notifier for ever).

Any number of deliverers, in any number of processes, may share one store: a
deliverer first takes the notifier's *lease* (a stored record of kind
``delivery_lease`` naming the holder and an expiry), renews it with every
delivery and gives it back when done. A deliverer that finds the lease held
and unexpired leaves that notifier alone, so an event is sent once per
notifier when targets succeed. If a deliverer dies, its lease expires after
:attr:`RetryPolicy.lease` and another takes over; the event it was sending is
sent again (at least once: receivers drop repeats by the event id, the
``webhook-id``). The lease must outlast the slowest single ``notify`` call.
A lease whose holder was a process of this machine that no longer runs is
taken over at once (POSIX). Leases follow the wall clock, not the service's
clock (which may be a fixed as-of time).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from crmcore.errors import ConflictError, DuplicateError
from crmcore.ports import Notifier, StorageBackend, StorageSession, StoredRecord

_log = logging.getLogger(__name__)


@attrs.frozen
class RetryPolicy:
    """How long to wait before retrying a failed delivery, and how long a lease lasts.

    The n-th retry waits ``first_delay * 2 ** (n - 1)``, at most ``max_delay``.
    ``lease`` is how long a deliverer holds a notifier without renewing it
    (``[delivery] lease_seconds``); it must be longer than one ``notify``
    call can take, retries within the call included.
    """

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(seconds=120)

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
    waiting: int = 0
    """Events not yet delivered to some notifier after the run (due later, or leased)."""
    busy: tuple[str, ...] = ()
    """Notifiers skipped because another deliverer holds their lease."""

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
    lease_clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Deliver every due event to every notifier; return counts and failures.

    Each success or failure is recorded in its own short transaction, so a
    crash mid-run repeats at most one delivery. A notifier whose lease another
    deliverer holds is skipped and listed in :attr:`DeliveryReport.busy`.
    """
    delivered = 0
    failures: list[DeliveryFailure] = []
    busy: list[str] = []
    lease = _Lease(storage, lease_clock or wall_clock, retry.lease)
    for name, notifier in notifiers.items():
        with storage.transaction() as session:
            session.subscribe(name)
        turn = _TURNS.take(storage, name)
        if turn is None:
            continue  # another thread of this process is at it, and will go round again
        try:
            while True:
                if not lease.acquire(name):
                    busy.append(name)
                    break
                try:
                    count, failure = _deliver_to(storage, name, notifier, clock, retry,
                                                 batch_size, lease)
                finally:
                    lease.release(name)
                delivered += count
                if failure is not None:
                    failures.append(failure)
                    break
                if not _TURNS.again(turn):
                    break
        finally:
            _TURNS.give_back(turn)
    return DeliveryReport(delivered, tuple(failures), waiting_events(storage, notifiers),
                          tuple(busy))


class _Turns:
    """Which notifiers of which store a thread of this process is delivering to.

    A second thread asking meanwhile (a write committed while the first was
    sending) does not wait and does not skip its events: it asks the first to
    go round once more, then returns at once.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._active: dict[tuple[int, str], list[Any]] = {}  # key -> [token, asked again]

    def take(self, storage: StorageBackend, name: str) -> tuple[tuple[int, str], object] | None:
        """A turn at delivering to ``name``, or None (the holder was asked to go again)."""
        key, token = (id(storage), name), object()
        with self._guard:
            if key in self._active:
                self._active[key][1] = True
                return None
            self._active[key] = [token, False]
        return key, token

    def again(self, turn: tuple[tuple[int, str], object]) -> bool:
        """True if another thread asked for a run meanwhile (keep the turn); else end it.

        Deciding and ending under one lock means no request can fall in between.
        """
        with self._guard:
            entry = self._active.get(turn[0])
            if entry is None or entry[0] is not turn[1]:
                return False
            if entry[1]:
                entry[1] = False
                return True
            del self._active[turn[0]]
            return False

    def give_back(self, turn: tuple[tuple[int, str], object]) -> None:
        """End the turn (only ours: a later turn of another thread is left alone)."""
        with self._guard:
            entry = self._active.get(turn[0])
            if entry is not None and entry[0] is turn[1]:
                del self._active[turn[0]]


_TURNS = _Turns()

_WAITING_COUNT_LIMIT = 100_000
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def waiting_events(storage: StorageBackend, notifiers: Mapping[str, Notifier]) -> int:
    """How many (event, notifier) deliveries are still to be made, due or not.

    Counted up to 100,000 per notifier (a larger backlog reads as that).
    """
    waiting = 0
    with storage.transaction() as session:
        for name in notifiers:
            waiting += len(session.pending_deliveries(name, now=_FAR_FUTURE,
                                                      limit=_WAITING_COUNT_LIMIT))
    return waiting


def _deliver_to(
    storage: StorageBackend,
    name: str,
    notifier: Notifier,
    clock: Callable[[], datetime],
    retry: RetryPolicy,
    batch_size: int,
    lease: _Lease,
) -> tuple[int, DeliveryFailure | None]:
    """Deliver due events to one notifier in order; stop at its first failure or lost lease."""
    delivered = 0
    while True:
        with storage.transaction() as session:
            batch = session.pending_deliveries(name, now=clock(), limit=batch_size)
        if not batch:
            return delivered, None
        for pending in batch:
            event = pending.entry.event
            with storage.transaction() as session:
                if not lease.renew(session, name):
                    _log.warning("lost the delivery lease of notifier %s; another deliverer "
                                 "continues", name)
                    return delivered, None
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


LEASE_KIND = "delivery_lease"
"""The record kind of a notifier's delivery lease (id: the notifier's name)."""

_LEASE_OWNER = "(delivery)"


def wall_clock() -> datetime:
    """The current UTC time of this machine (what leases expire by)."""
    return datetime.now(UTC)


def deliverer_id() -> str:
    """A name for this deliverer, unique across hosts and processes (host, pid, random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Lease:
    """One deliverer's claims on notifiers, as stored records with an expiry.

    Every read and write happens inside a storage transaction, so on SQLite
    (``BEGIN IMMEDIATE``) two processes cannot both take an expired lease; on
    backends with optimistic concurrency the loser gets a version conflict and
    treats the lease as taken.
    """

    def __init__(self, storage: StorageBackend, clock: Callable[[], datetime],
                 duration: timedelta) -> None:
        self.storage = storage
        self.clock = clock
        self.duration = duration
        self.holder = deliverer_id()

    def _body(self, until: datetime) -> dict[str, str]:
        return {"holder": self.holder, "expires_at": until.isoformat()}

    def _take(self, session: StorageSession, name: str, *, renewing: bool) -> bool:
        now = self.clock()
        current = session.get(LEASE_KIND, name)
        record = StoredRecord(LEASE_KIND, name, 1, _LEASE_OWNER, None,
                              self._body(now + self.duration))
        if current is None:
            if renewing:
                return False
            session.insert(record)
            return True
        holder = str(current.body.get("holder"))
        mine = holder == self.holder
        expired = (datetime.fromisoformat(str(current.body.get("expires_at"))) <= now
                   or _died_here(holder))
        if renewing and not mine:
            return False
        if not (mine or expired):
            return False
        session.update(attrs.evolve(record, version=current.version + 1), current.version)
        return True

    def acquire(self, name: str) -> bool:
        """Take the lease of notifier ``name`` if it is free or expired."""
        try:
            with self.storage.transaction() as session:
                return self._take(session, name, renewing=False)
        except (ConflictError, DuplicateError):
            return False  # another deliverer took it first

    def renew(self, session: StorageSession, name: str) -> bool:
        """Extend the lease inside ``session``; False if another deliverer took it over."""
        return self._take(session, name, renewing=True)

    def release(self, name: str) -> None:
        """Give the lease back (expire it now) if this deliverer still holds it."""
        try:
            with self.storage.transaction() as session:
                current = session.get(LEASE_KIND, name)
                if current is not None and current.body.get("holder") == self.holder:
                    session.update(attrs.evolve(current, version=current.version + 1,
                                                body=self._body(self.clock())),
                                   current.version)
        except ConflictError:
            pass  # taken over meanwhile: nothing of ours to give back


def _died_here(holder: str) -> bool:
    """Whether ``holder`` names a process of this machine that is no longer running."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False
