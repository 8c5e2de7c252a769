"""The contract every notifier must meet, as a pytest test class to subclass.

Subclass :class:`NotifierContract` (in a class named ``Test...``) and provide:

``notifier`` (fixture, required)
    A :class:`~crmcore.ports.Notifier` whose target is up.
``received`` (fixture, required)
    A :data:`ReceivedIds` callable returning the ids of the events the target
    has received so far, in arrival order: log lines captured, messages in a
    loopback SMTP server's mailbox, requests seen by a local HTTP server.
``failing_notifier`` (fixture, optional)
    A notifier whose target is down (a closed port, a refusing server). The
    default skips the tests that need it, for notifiers that cannot fail.

For a webhook notifier, for example::

    class TestWebhookNotifier(NotifierContract):
        @pytest.fixture
        def notifier(self, http_server):
            return WebhookNotifier(http_server.url, secret="s3cret")

        @pytest.fixture
        def received(self, http_server):
            return lambda: [request.json["id"] for request in http_server.requests]

        @pytest.fixture
        def failing_notifier(self, unused_port):
            return WebhookNotifier(f"http://127.0.0.1:{unused_port}/", secret="s3cret")

``notify`` must deliver before it returns (the outbox marks an event
delivered as soon as ``notify`` returns) and raise when it could not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from crmcore.clock import FixedClock
from crmcore.events import DomainEvent
from crmcore.outbox import deliver_pending
from crmcore.ports import Notifier, StorageBackend
from crmcore.testing.factories import NOW, make_domain_event
from crmcore.testing.pytest_plugin import CONTRACT_MARKER

ReceivedIds = Callable[[], Sequence[str]]
"""Returns the ids of the events the notifier's target received, in arrival order."""

_NAME = "contract"


def _events(count: int) -> list[DomainEvent]:
    """Distinct events, the first with awkward data (non-ASCII, nested, no customer)."""
    awkward = make_domain_event(
        type="ticket.escalated", subject="ticket:K-7 «紧急»", customer_id=None,
        data={"text": "Zhāng 客户 ✓ \"quoted\" <b>", "n": 2**40, "x": 0.1,
              "nested": {"list": [1, None, True, {"deep": []}]}},
    )
    return [awkward] + [
        make_domain_event(subject=f"customer:C{number:03d}", data={"n": number},
                          occurred_at=NOW + timedelta(seconds=number))
        for number in range(1, count)
    ]


def _memory_storage() -> StorageBackend:
    from crmcore_plugins.storage_memory import MemoryStorage

    return MemoryStorage()


def _outbox_with(events: Sequence[DomainEvent], subscriber: str) -> StorageBackend:
    """A memory storage whose outbox holds ``events``, pending for ``subscriber``."""
    storage = _memory_storage()
    with storage.transaction() as session:
        session.subscribe(subscriber)
        session.append_events(events)
    return storage


@getattr(pytest.mark, CONTRACT_MARKER)
class NotifierContract:
    """Tests every notifier must pass; see the module documentation for the fixtures."""

    @pytest.fixture
    def failing_notifier(self) -> Notifier:
        """A notifier whose target is down; by default the tests needing one are skipped."""
        pytest.skip("this notifier's target cannot be made unreachable")

    def test_is_a_notifier(self, notifier: Notifier) -> None:
        """The notifier satisfies the :class:`~crmcore.ports.Notifier` protocol."""
        assert isinstance(notifier, Notifier)

    def test_notify_delivers_before_returning(
        self, notifier: Notifier, received: ReceivedIds
    ) -> None:
        """Once ``notify`` returns, the target has the event (awkward data included)."""
        event = _events(1)[0]
        notifier.notify(event)
        assert event.id in received()

    def test_events_arrive_in_the_order_sent(
        self, notifier: Notifier, received: ReceivedIds
    ) -> None:
        """Events sent one after another arrive in that order, each once."""
        events = _events(4)
        already = len(received())
        for event in events:
            notifier.notify(event)
        assert list(received())[already:] == [event.id for event in events]

    def test_repeated_event_is_accepted(
        self, notifier: Notifier, received: ReceivedIds
    ) -> None:
        """Delivery is at least once: the same event sent twice is accepted twice."""
        event = _events(1)[0]
        notifier.notify(event)
        notifier.notify(event)
        assert event.id in received()

    def test_outbox_delivers_every_event(
        self, notifier: Notifier, received: ReceivedIds
    ) -> None:
        """Through the outbox, every pending event reaches the target and is marked delivered."""
        events = _events(3)
        storage = _outbox_with(events, _NAME)
        clock = FixedClock(NOW)
        report = deliver_pending(storage, {_NAME: notifier}, clock=clock)
        assert (report.delivered, report.failed) == (3, 0)
        assert [event_id for event_id in received() if event_id in {e.id for e in events}] == [
            event.id for event in events
        ]
        with storage.transaction() as session:
            assert session.pending_deliveries(_NAME, now=clock(), limit=10) == []
        storage.close()

    def test_unreachable_target_raises(self, failing_notifier: Notifier) -> None:
        """When the target is down ``notify`` raises, so the event is retried later."""
        event = _events(1)[0]
        try:
            failing_notifier.notify(event)
        except Exception:
            return
        pytest.fail("notify returned although the target is unreachable")

    def test_outbox_keeps_undelivered_events(self, failing_notifier: Notifier) -> None:
        """Through the outbox, a failed event stays pending with its attempt and error."""
        events = _events(2)
        storage = _outbox_with(events, _NAME)
        clock = FixedClock(NOW)
        report = deliver_pending(storage, {_NAME: failing_notifier}, clock=clock)
        assert (report.delivered, report.failed) == (0, 1)
        assert report.failures[0].event_id == events[0].id
        clock.advance(timedelta(days=1))
        with storage.transaction() as session:
            pending = session.pending_deliveries(_NAME, now=clock(), limit=10)
        assert [p.entry.event.id for p in pending] == [event.id for event in events]
        assert pending[0].attempts == 1
        assert pending[0].last_error
        storage.close()
