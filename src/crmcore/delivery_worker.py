"""Delivery off the write path: a background thread that empties the outbox.

A host that must not wait on notifiers (a web server) starts one with
:meth:`crmcore.CRM.start_delivery`, or ``with crm.delivering():``. A write then
returns as soon as its transaction commits and wakes the worker, which
delivers in its own thread, under the notifiers' leases (see
:mod:`crmcore.outbox`), so it can run beside ``crmcore deliver`` processes
without sending an event twice. It also wakes every ``interval`` seconds to
retry failures when they fall due. The work it holds is the stored outbox
itself, so nothing is lost or queued in memory when it stops or dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from crmcore.outbox import DeliveryReport

_log = logging.getLogger(__name__)


class DeliveryWorker:
    """A daemon thread calling ``deliver`` when woken, or every ``interval`` seconds.

    ``deliver`` is usually :meth:`crmcore.CRM.deliver_events`. :meth:`stop`
    asks for one last run (the flush) and waits at most ``timeout`` seconds.
    """

    def __init__(self, deliver: Callable[[], DeliveryReport], *, interval: float = 5.0,
                 name: str = "crmcore-delivery") -> None:
        if not interval > 0:
            raise ValueError(f"interval: {interval!r} must be a number of seconds above 0")
        self._deliver = deliver
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.runs = 0
        """How many delivery runs the worker made."""
        self.last_report: DeliveryReport | None = None
        """The report of the latest run, or None before the first."""

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def start(self) -> DeliveryWorker:
        """Start the thread; return self."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Ask for a run soon (called after each commit with events); never blocks."""
        self._wake.set()

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop after one last run; return False if it did not end within ``timeout``."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stopping.is_set()
            try:
                self.last_report = self._deliver()
            except Exception as error:  # the thread must survive a storage or notifier bug
                if self._stopping.is_set():  # the host closed the storage under the last run
                    _log.warning("background delivery stopped mid-run (%s); undelivered "
                                 "events stay in the outbox", error)
                    return
                _log.exception("background delivery run failed; retrying in %s s",
                               self.interval)
            self.runs += 1
            if stopping:
                return
