"""The ``webhook`` notifier against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from crmcore.errors import ConfigError
from crmcore.event_catalogue import ENVELOPE_VERSION, event_envelope
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.testing import NotifierContract, ReceivedIds, make_domain_event
from crmcore_plugins.notify_webhook import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryError,
    SignatureError,
    WebhookNotifier,
    event_json,
    open_webhook_notifier,
    sign,
    verify_signature,
)

from .conftest import SECRET, HookServer, Reply


def notifier_for(server: HookServer, **overrides: object) -> WebhookNotifier:
    """A notifier for ``server`` that waits very little between attempts."""
    options: dict[str, object] = {"url": server.url, "secret": SECRET, "timeout": 2.0,
                                  "backoff_seconds": 0.01, **overrides}
    return open_webhook_notifier(Options(options, "notifiers[0]"))


class TestWebhookNotifier(NotifierContract):
    """The webhook notifier meets the notifier contract."""

    @pytest.fixture
    def notifier(self, http_server: HookServer) -> WebhookNotifier:
        return notifier_for(http_server)

    @pytest.fixture
    def received(self, http_server: HookServer) -> ReceivedIds:
        return lambda: list(http_server.accepted)

    @pytest.fixture
    def failing_notifier(self, unused_port: int) -> WebhookNotifier:
        return WebhookNotifier(f"http://127.0.0.1:{unused_port}/hook", SECRET, max_attempts=2,
                               backoff_seconds=0.0)


# -- what is sent ---------------------------------------------------------------------------


def test_request_carries_event_json_id_and_verifiable_signature(http_server: HookServer) -> None:
    event = make_domain_event(data={"text": "客户 ✓", "amount": "12.50"})
    notifier_for(http_server).notify(event)
    (request,) = http_server.requests
    assert request.status == 200
    assert request.json == event_envelope(event)
    assert request.json["version"] == ENVELOPE_VERSION
    assert request.body == event_json(event)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[EVENT_ID_HEADER] == event.id
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert abs(int(timestamp) - time.time()) < 60
    verify_signature(SECRET, timestamp, request.body, request.headers[SIGNATURE_HEADER],
                     now=time.time())


def test_extra_headers_are_sent(http_server: HookServer) -> None:
    notifier_for(http_server, headers={"Authorization": "Bearer abc"}).notify(
        make_domain_event())
    assert http_server.requests[0].headers["Authorization"] == "Bearer abc"


def test_wrong_secret_is_rejected_by_the_receiver_without_retry(http_server: HookServer) -> None:
    notifier = notifier_for(http_server, secret="not-the-secret", max_attempts=3)
    with pytest.raises(DeliveryError, match="HTTP 401") as caught:
        notifier.notify(make_domain_event())
    assert caught.value.permanent
    assert [r.status for r in http_server.requests] == [401]
    assert http_server.received == []


# -- verify_signature -----------------------------------------------------------------------

NOW = 1_767_600_000
BODY = b'{"id":"e1","type":"customer.recorded"}'


def test_verify_accepts_own_signature_with_str_body_and_datetime_now() -> None:
    signature = sign(SECRET, NOW, BODY)
    assert signature.startswith("sha256=")
    verify_signature(SECRET, str(NOW), BODY.decode(), signature,
                     now=datetime.fromtimestamp(NOW + 10, UTC))


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "reason"),
    [
        ("other secret", NOW, BODY, "does not match"),
        (SECRET, NOW, BODY.replace(b"e1", b"e2"), "does not match"),  # forged body
        (SECRET, NOW + 1, BODY, "does not match"),  # timestamp changed after signing
    ],
)
def test_verify_rejects_forgeries(secret: str, timestamp: int, body: bytes, reason: str) -> None:
    signature = sign(secret, NOW, BODY)
    with pytest.raises(SignatureError, match=reason):
        verify_signature(SECRET, timestamp, body, signature, now=NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_verify_rejects_old_and_future_timestamps(age: int) -> None:
    timestamp = NOW - age
    with pytest.raises(SignatureError, match="more than 300 seconds"):
        verify_signature(SECRET, timestamp, BODY, sign(SECRET, timestamp, BODY), now=NOW)


@pytest.mark.parametrize("timestamp", ["", "1e9", "-5", " 17", "١٢٣"])
def test_verify_rejects_malformed_timestamps(timestamp: str) -> None:
    with pytest.raises(SignatureError, match="not unix seconds"):
        verify_signature(SECRET, timestamp, BODY, sign(SECRET, NOW, BODY), now=NOW)


@pytest.mark.parametrize("signature", ["", "sha256=", "md5=abc", "sha256=zz", "sha256=é"])
def test_verify_rejects_malformed_signatures(signature: str) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, NOW, BODY, signature, now=NOW)


def test_server_rejects_forged_request(http_server: HookServer) -> None:
    """A request whose body was changed after signing never reaches the receiver's logic."""
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    timestamp = str(int(time.time()))
    forged = Request(http_server.url, data=BODY, method="POST", headers={
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(SECRET, timestamp, BODY.replace(b"e1", b"e0")),
    })
    with pytest.raises(HTTPError) as caught:
        urlopen(forged, timeout=2)
    caught.value.close()
    assert caught.value.code == 401
    assert http_server.received == []


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_transient_failures_are_retried_then_succeed(http_server: HookServer,
                                                     status: int) -> None:
    http_server.script(status, status)
    event = make_domain_event()
    notifier_for(http_server, max_attempts=3).notify(event)
    assert [r.status for r in http_server.requests] == [status, status, 200]
    assert http_server.accepted == [event.id]


def test_each_attempt_is_signed_afresh_and_backoff_doubles(http_server: HookServer) -> None:
    http_server.script(503, 503, 503)
    sleeps: list[float] = []
    calls = iter(range(100))
    start = time.time()
    notifier = WebhookNotifier(http_server.url, SECRET, max_attempts=4, backoff_seconds=0.5,
                               max_backoff_seconds=1.5, sleep=sleeps.append,
                               clock=lambda: start + 10 * next(calls))
    event = make_domain_event()
    notifier.notify(event)
    assert sleeps == [0.5, 1.0, 1.5]  # doubled, capped by max_backoff_seconds
    stamps = [int(r.headers[TIMESTAMP_HEADER]) for r in http_server.requests]
    assert len(stamps) == 4
    assert stamps == sorted(set(stamps))  # a fresh timestamp (and signature) per attempt
    assert http_server.received == [event.id] * 4  # every attempt verified by the receiver
    assert http_server.accepted == [event.id]


def test_retries_are_bounded_and_the_error_says_how_many(http_server: HookServer) -> None:
    http_server.script(503, 503, 503, 503)
    with pytest.raises(DeliveryError, match=r"HTTP 503 .*after 3 attempts") as caught:
        notifier_for(http_server, max_attempts=3).notify(make_domain_event())
    assert not caught.value.permanent
    assert len(http_server.requests) == 3
    assert http_server.accepted == []


def test_retry_after_is_honoured(http_server: HookServer) -> None:
    http_server.script(Reply(429, retry_after="7"))
    sleeps: list[float] = []
    notifier = WebhookNotifier(http_server.url, SECRET, backoff_seconds=0.01,
                               sleep=sleeps.append)
    notifier.notify(make_domain_event())
    assert sleeps == [7.0]
    assert [r.status for r in http_server.requests] == [429, 200]


def test_retry_after_longer_than_allowed_is_left_to_the_outbox(http_server: HookServer) -> None:
    http_server.script(Reply(503, retry_after="3600"))
    sleeps: list[float] = []
    notifier = WebhookNotifier(http_server.url, SECRET, sleep=sleeps.append)
    with pytest.raises(DeliveryError, match="retry after 3600 s"):
        notifier.notify(make_domain_event())
    assert sleeps == []
    assert len(http_server.requests) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422, 302])
def test_permanent_answers_raise_at_once(http_server: HookServer, status: int) -> None:
    http_server.script(status)
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as caught:
        notifier_for(http_server, max_attempts=5).notify(make_domain_event())
    assert caught.value.permanent
    assert len(http_server.requests) == 1


def test_timeout_raises(http_server: HookServer) -> None:
    http_server.script(Reply(200, delay=3.0))
    notifier = notifier_for(http_server, timeout=0.2, max_attempts=1)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="timed out"):
        notifier.notify(make_domain_event())
    assert time.monotonic() - started < 2


def test_connection_refused_raises_after_retries(unused_port: int) -> None:
    sleeps: list[float] = []
    notifier = WebhookNotifier(f"http://127.0.0.1:{unused_port}/", SECRET, max_attempts=2,
                               backoff_seconds=0.25, sleep=sleeps.append)
    with pytest.raises(DeliveryError, match="Connection refused.*after 2 attempts"):
        notifier.notify(make_domain_event())
    assert sleeps == [0.25]


def test_error_messages_do_not_show_url_path_or_secret(unused_port: int) -> None:
    url = f"http://user:pw@127.0.0.1:{unused_port}/services/T0/B0/token123"
    notifier = WebhookNotifier(url, SECRET, max_attempts=1)
    with pytest.raises(DeliveryError) as caught:
        notifier.notify(make_domain_event())
    text = str(caught.value) + repr(notifier)
    assert f"http://127.0.0.1:{unused_port}" in text
    for hidden in ("token123", "pw", SECRET):
        assert hidden not in text


# -- options ----------------------------------------------------------------------------------


def test_registered_as_builtin() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    assert host.notifiers().get("webhook") is open_webhook_notifier


def test_secret_from_environment(http_server: HookServer,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_HOOK_SECRET", SECRET)
    options = Options({"url": http_server.url, "secret_env": "CRM_HOOK_SECRET"}, "notifiers[0]")
    open_webhook_notifier(options).notify(make_domain_event())
    options.check_all_used()
    assert len(http_server.accepted) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret": "x"}, r"notifiers\[0\]\.url: is required"),
        ({"url": "ftp://h/x", "secret": "x"}, r"notifiers\[0\]\.url: 'ftp://h' is not an http"),
        ({"url": "http://h/"}, r"notifiers\[0\]\.secret: is required"),
        ({"url": "http://h/", "secret": ""}, r"notifiers\[0\]\.secret: is empty"),
        ({"url": "http://h/", "secret": "x", "secret_env": "X"},
         r"notifiers\[0\]\.secret: give either secret or secret_env"),
        ({"url": "http://h/", "secret_env": "CRMCORE_TEST_UNSET_VARIABLE"},
         r"notifiers\[0\]\.secret_env: environment variable 'CRMCORE_TEST_UNSET_VARIABLE'"),
        ({"url": "http://h/", "secret": "x", "timeout": 0},
         r"notifiers\[0\]\.timeout: 0.0 must be greater than 0"),
        ({"url": "http://h/", "secret": "x", "max_attempts": 0},
         r"notifiers\[0\]\.max_attempts: 0 must be at least 1"),
        ({"url": "http://h/", "secret": "x", "backoff_seconds": -1},
         r"notifiers\[0\]\.backoff_seconds: -1.0 must be greater than or equal to 0"),
        ({"url": "http://h/", "secret": "x", "headers": {"X-Crmcore-Signature": "v"}},
         r"notifiers\[0\]\.headers\.X-Crmcore-Signature: is set by the webhook notifier"),
        ({"url": "http://h/", "secret": "x", "headers": {"X-A": "a\nb"}},
         r"notifiers\[0\]\.headers\.X-A: is not a one-line text"),
        ({"url": "http://h/", "secret": "x", "headers": {"X A": "v"}},
         r"notifiers\[0\]\.headers\.X A: is not a valid header name"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, object], message: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMCORE_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(ConfigError, match=message):
        open_webhook_notifier(Options(options, "notifiers[0]"))


def test_body_is_compact_sorted_utf8_json() -> None:
    event = make_domain_event(data={"b": 1, "a": "é"})
    body = event_json(event)
    assert json.loads(body) == event_envelope(event)
    assert "é".encode() in body
    assert b": " not in body


def test_retry_after_as_an_http_date(http_server: HookServer) -> None:
    from email.utils import format_datetime

    later = datetime.fromtimestamp(time.time() + 5, UTC)
    http_server.script(Reply(503, retry_after=format_datetime(later, usegmt=True)))
    sleeps: list[float] = []
    WebhookNotifier(http_server.url, SECRET, backoff_seconds=0.01,
                    sleep=sleeps.append).notify(make_domain_event())
    assert len(sleeps) == 1
    assert 3 < sleeps[0] <= 6
