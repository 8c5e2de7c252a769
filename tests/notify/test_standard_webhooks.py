"""Standard Webhooks headers on the webhook notifier, checked by a real HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from crmcore.errors import ConfigError
from crmcore.event_catalogue import check_envelope
from crmcore.events import ENTITY_RECORDED, entity_event
from crmcore.options import Options
from crmcore.testing import NOW, make_customer, make_domain_event
from crmcore_plugins.notify_webhook import (
    SignatureError,
    WebhookNotifier,
    open_webhook_notifier,
    sign,
    verify_signature,
    verify_standard_signature,
)

from .conftest import SECRET, HookServer

KEY = b"\x00\x01binary key \xff"
WHSEC = "whsec_" + base64.b64encode(KEY).decode()


def _independent_signature(key: bytes, headers: dict[str, str], body: bytes) -> str:
    """The Standard Webhooks signature computed from the specification, not our code."""
    message = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def test_plain_secret_signs_standard_headers_over_id_timestamp_and_body(
        http_server: HookServer) -> None:
    event = entity_event(ENTITY_RECORDED, make_customer(name="客户 ✓"), at=NOW)
    WebhookNotifier(http_server.url, SECRET).notify(event)
    (request,) = http_server.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["webhook-id"] == event.id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"] == _independent_signature(
        SECRET.encode(), headers, request.body)
    assert verify_standard_signature(SECRET, request.headers, request.body,
                                     now=time.time()) == event.id
    check_envelope(json.loads(request.body))


def test_whsec_secret_uses_the_decoded_key(http_server: HookServer) -> None:
    event = make_domain_event()
    WebhookNotifier(http_server.url.replace("/hook", "/plain"), WHSEC).notify(event)
    (request,) = http_server.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["webhook-signature"] == _independent_signature(KEY, headers, request.body)
    verify_standard_signature(WHSEC, headers, request.body, now=time.time())


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_tampered_standard_request_is_refused(http_server: HookServer, change: str) -> None:
    WebhookNotifier(http_server.url, SECRET).notify(make_domain_event())
    (request,) = http_server.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    body, secret = request.body, SECRET
    if change == "body":
        body = body.replace(b'"version":1', b'"version":2')
    elif change == "id":
        headers["webhook-id"] += "x"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    else:
        secret = SECRET + "!"
    with pytest.raises(SignatureError):
        verify_standard_signature(secret, headers, body, now=time.time())


def test_stale_or_missing_standard_headers_are_refused() -> None:
    with pytest.raises(SignatureError, match="webhook-signature is missing|is missing"):
        verify_standard_signature(SECRET, {"webhook-id": "a", "webhook-timestamp": "1"}, b"",
                                  now=time.time())
    with pytest.raises(SignatureError, match="replayed"):
        verify_standard_signature(
            SECRET, {"webhook-id": "a", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            b"", now=time.time())


def test_empty_secret_is_refused_on_both_sides_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"notifiers\[0\]\.secret: is empty"):
        open_webhook_notifier(Options({"url": "http://127.0.0.1:9/x", "secret": ""},
                                      "notifiers[0]"))
    with pytest.raises(ConfigError, match="secret: is empty"):
        WebhookNotifier("http://127.0.0.1:9/x", "")
    with pytest.raises(ConfigError, match="secret: is empty"):
        verify_signature("", "1", b"", sign("x", 1, b""), now=1)
    with pytest.raises(ConfigError, match="secret: is empty"):
        verify_standard_signature("", {"webhook-id": "a", "webhook-timestamp": "1",
                                       "webhook-signature": "v1,x"}, b"", now=1)


def test_malformed_whsec_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="not base64") as caught:
        WebhookNotifier("http://127.0.0.1:9/x", "whsec_***notbase64***")
    assert "notbase64" not in str(caught.value)
