"""A notifier that POSTs each event as signed JSON to an HTTP endpoint.

Registered as the notifier ``webhook``. Options:

``url`` (required)
    The ``http://`` or ``https://`` endpoint.
``secret`` or ``secret_env`` (one required)
    The shared signing secret, or the name of the environment variable that
    holds it (read when the notifier is built; never logged).
``timeout``
    Seconds to wait for each response (default 10).
``headers``
    A table of extra request headers (e.g. an ``Authorization`` token).
``max_attempts``
    Attempts per ``notify`` call for transient failures (default 3).
``backoff_seconds``, ``max_backoff_seconds``
    The wait before the second attempt (default 0.5), doubled for each further
    one, and the longest wait allowed (default 30), ``Retry-After`` included.

The body is the event in its versioned envelope
(:func:`crmcore.event_catalogue.event_envelope`) as JSON (:func:`event_json`).
Each request carries two sets of signature headers over the same body:

* the `Standard Webhooks <https://www.standardwebhooks.com/>`_ headers
  ``webhook-id`` (the event id: the idempotency key), ``webhook-timestamp``
  (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">``, so receivers in any language can use an
  off-the-shelf verifier (give the notifier a ``whsec_<base64>`` secret for
  those: the key is then the decoded bytes, as the specification says; any
  other secret is used as its UTF-8 bytes). Check them in Python with
  :func:`verify_standard_signature`;
* ``X-Crmcore-Event-Id``, ``X-Crmcore-Timestamp`` and
  ``X-Crmcore-Signature: sha256=<hex>``, the HMAC-SHA256 of
  ``f"{timestamp}.{body}"`` under the secret's UTF-8 bytes, checked with
  :func:`verify_signature`.

Either way, receivers drop repeated event ids (delivery is at least once).
An empty secret is refused on both sides.

Connection errors, timeouts, 408, 429 and 5xx responses are retried within
the call; other responses (redirects and 4xx) fail at once. Either way a
failure raises :class:`DeliveryError` and the outbox tries again later.

This module also holds small helpers the other notifier adapters share.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from crmcore.errors import ConfigError, CrmError
from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import NotifierFactory

EVENT_ID_HEADER = "X-Crmcore-Event-Id"
"""Request header carrying the event id, the receiver's idempotency key."""

TIMESTAMP_HEADER = "X-Crmcore-Timestamp"
"""Request header carrying the signing time in unix seconds."""

SIGNATURE_HEADER = "X-Crmcore-Signature"
"""Request header carrying ``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">``."""

SIGNATURE_PREFIX = "sha256="
"""The scheme prefix of the signature header value."""

STANDARD_ID_HEADER = "webhook-id"
"""Standard Webhooks: the message id (the event id), the receiver's idempotency key."""

STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
"""Standard Webhooks: the signing time in unix seconds."""

STANDARD_SIGNATURE_HEADER = "webhook-signature"
"""Standard Webhooks: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""

STANDARD_SECRET_PREFIX = "whsec_"
"""Prefix of a Standard Webhooks secret whose rest is the base64 of the key bytes."""

USER_AGENT = "crmcore-webhook"
"""The ``User-Agent`` of webhook requests."""

_RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (EVENT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, STANDARD_ID_HEADER,
                 STANDARD_TIMESTAMP_HEADER, STANDARD_SIGNATURE_HEADER, "Content-Type",
                 "Content-Length", "Host")
)
_RETRIED_STATUSES = frozenset({408, 429})
_RESPONSE_READ_LIMIT = 64 * 1024


class DeliveryError(CrmError):
    """A notifier could not deliver an event; the outbox will try again later.

    ``permanent`` is True when retrying the same request cannot succeed until
    something changes (a 4xx answer: wrong URL, credentials or secret).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SignatureError(CrmError):
    """A webhook request's signature or timestamp is not acceptable (forgery or replay)."""


# -- helpers shared by the notifier adapters ------------------------------------------------


def event_json(event: DomainEvent) -> bytes:
    """The event's versioned envelope as compact UTF-8 JSON with sorted keys: the webhook body."""
    from crmcore.event_catalogue import event_envelope  # the catalogue loads when sending

    text = json.dumps(event_envelope(event), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return text.encode("utf-8")


def quoted_event_id(event_id: str) -> str:
    """``event_id`` safe for a mail or HTTP header: percent-encoded outside ``A-Za-z0-9_-~``.

    Default (UUID hex) ids come out unchanged.
    """
    return urllib.parse.quote(event_id, safe="").replace(".", "%2E")


# -- signatures ---------------------------------------------------------------------------


def _nonempty(secret: str) -> str:
    if not secret:
        raise ConfigError(tr("{key}: is empty (an empty secret lets anyone forge "
                             "requests)").format(key="secret"))
    return secret


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Crmcore-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    _nonempty(secret)
    message = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    *,
    now: float | datetime,
    tolerance_seconds: float = 300,
) -> None:
    """Check a webhook request on the receiving side; raise :class:`SignatureError` if bad.

    ``timestamp`` and ``signature`` are the values of the
    ``X-Crmcore-Timestamp`` and ``X-Crmcore-Signature`` headers, ``body`` the
    raw request body (bytes, exactly as received, before any JSON parsing) and
    ``now`` the receiver's current time (unix seconds or an aware datetime).
    A request signed more than ``tolerance_seconds`` before or after ``now``
    is rejected as a replay. The comparison takes constant time.

    Delivery is at least once, so a valid request may repeat an event: drop
    repeats by the ``id`` field of the (signed) body::

        verify_signature(SECRET, headers["X-Crmcore-Timestamp"], raw_body,
                         headers["X-Crmcore-Signature"], now=time.time())
        event = json.loads(raw_body)
        if not already_seen(event["id"]):
            handle(event)
    """
    _nonempty(secret)
    text = _fresh_timestamp(timestamp, now, tolerance_seconds)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, text, raw).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8")):
        raise SignatureError(tr("signature does not match the body and timestamp"))


def _fresh_timestamp(timestamp: int | str, now: float | datetime, tolerance: float) -> str:
    """The timestamp as text, if it is unix seconds within ``tolerance`` of ``now``."""
    text = str(timestamp)
    if not (text.isascii() and text.isdigit()):
        raise SignatureError(tr("timestamp {value!r} is not unix seconds").format(
            value=text[:32]))
    current = now.timestamp() if isinstance(now, datetime) else now
    if abs(current - int(text)) > tolerance:
        raise SignatureError(tr("timestamp {value} is more than {tolerance:g} seconds from now "
                                "(a replayed or delayed request)").format(
            value=text, tolerance=tolerance))
    return text


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: ``whsec_<base64>`` decoded, else UTF-8."""
    _nonempty(secret)
    if secret.startswith(STANDARD_SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(STANDARD_SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(tr("{key}: starts with whsec_ but the rest is not base64 (the "
                                 "value is not shown because it is a secret)").format(
                                     key="secret")) from None
    return secret.encode("utf-8")


def standard_sign(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) of a Standard Webhooks request."""
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_standard_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: float | datetime,
    tolerance_seconds: float = 300,
) -> str:
    """Check a request's Standard Webhooks headers; return its ``webhook-id``.

    ``headers`` maps header names (any case) to values; ``body`` is the raw
    body. Raises :class:`SignatureError` for a missing header, a stale
    timestamp or no matching ``v1`` signature (the header may list several,
    separated by spaces, during a secret rotation).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id = lowered[STANDARD_ID_HEADER]
        timestamp = lowered[STANDARD_TIMESTAMP_HEADER]
        signatures = lowered[STANDARD_SIGNATURE_HEADER]
    except KeyError as missing:
        raise SignatureError(tr("header {name} is missing").format(
            name=missing.args[0])) from None
    text = _fresh_timestamp(timestamp, now, tolerance_seconds)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = standard_sign(secret, message_id, text, raw).encode("ascii")
    if not any(hmac.compare_digest(expected, given.encode("utf-8"))
               for given in signatures.split()):
        raise SignatureError(tr("webhook-signature does not match the id, timestamp and body"))
    return message_id


# -- the notifier -------------------------------------------------------------------------


def _http_url(url: str, key: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(tr("{key}: {value!r} is not an http:// or https:// URL").format(
            key=key, value=_redacted(url)))
    return url


def _redacted(url: str) -> str:
    """Scheme, host and port only: paths and queries of webhook URLs often hold tokens."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else "<not a URL>"


def _extra_headers(headers: Mapping[str, Any], key: str) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not name.isascii() or not name.replace("-", "").isalnum():
            raise ConfigError(tr("{key}: is not a valid header name").format(key=where))
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigError(tr("{key}: is set by the webhook notifier and cannot be "
                                 "overridden").format(key=where))
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise ConfigError(tr("{key}: is not a one-line text").format(key=where))
        checked[name] = value
    return checked


def _positive(value: float, key: str, *, zero_ok: bool = False) -> float:
    if value < 0 or (value == 0 and not zero_ok):
        raise ConfigError((tr("{key}: {value!r} must be greater than or equal to 0") if zero_ok
                           else tr("{key}: {value!r} must be greater than 0")).format(
                               key=key, value=value))
    return value


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would turn a redirected POST into a GET without body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


class _AttemptError(Exception):
    """One failed POST; raised ``from`` the underlying error."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class WebhookNotifier:
    """POSTs each event as signed JSON to ``url``, retrying transient failures.

    Arguments are the options of the ``webhook`` notifier (see the module
    documentation). ``clock`` (unix seconds) and ``sleep`` can be replaced in
    tests; they default to :func:`time.time` and :func:`time.sleep`.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        standard_key(secret)  # refuses an empty or malformed secret, naming the key
        if max_attempts < 1:
            raise ConfigError(tr("{key}: {value!r} must be at least {minimum}").format(
                key="max_attempts", value=max_attempts, minimum=1))
        self.url = _http_url(url, "url")
        self._secret = secret
        self.timeout = _positive(timeout, "timeout")
        self.headers = _extra_headers(headers or {}, "headers")
        self.max_attempts = max_attempts
        self.backoff_seconds = _positive(backoff_seconds, "backoff_seconds", zero_ok=True)
        self.max_backoff_seconds = _positive(max_backoff_seconds, "max_backoff_seconds",
                                             zero_ok=True)
        self._clock = clock
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._target = _redacted(url)

    def __repr__(self) -> str:
        return f"WebhookNotifier({self._target!r}, max_attempts={self.max_attempts})"

    def notify(self, event: DomainEvent) -> None:
        """POST ``event``; retry transient failures; raise :class:`DeliveryError` if refused."""
        body = event_json(event)
        where = tr("webhook {target}: event {id}").format(target=self._target, id=event.id)
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._post(event, body)
                return
            except _AttemptError as failed:
                if failed.permanent or attempt == self.max_attempts:
                    template = (tr("{where}: {error} (after {attempts} attempts)") if attempt > 1
                                else tr("{where}: {error}"))
                    raise DeliveryError(template.format(where=where, error=failed,
                                                        attempts=attempt),
                                        permanent=failed.permanent) from failed.__cause__
                wait = failed.retry_after or 0.0
                if wait > self.max_backoff_seconds:
                    raise DeliveryError(tr(
                        "{where}: {error}; the receiver asked to retry after {wait:g} s, more "
                        "than max_backoff_seconds").format(where=where, error=failed, wait=wait)
                    ) from failed.__cause__
                backoff = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
                self._sleep(max(backoff, wait))

    def _post(self, event: DomainEvent, body: bytes) -> None:
        """One signed POST; raise :class:`_AttemptError` unless the answer is 2xx."""
        timestamp = str(int(self._clock()))
        message_id = quoted_event_id(event.id)
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            **self.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: message_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            STANDARD_ID_HEADER: message_id,
            STANDARD_TIMESTAMP_HEADER: timestamp,
            STANDARD_SIGNATURE_HEADER: standard_sign(self._secret, message_id, timestamp, body),
        })
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(_RESPONSE_READ_LIMIT)
        except urllib.error.HTTPError as error:
            try:
                status = error.code
                transient = status in _RETRIED_STATUSES or status >= 500
                retry_after = _retry_after(error.headers.get("Retry-After"), self._clock())
            finally:
                error.close()
            raise _AttemptError(f"HTTP {status} {error.reason}", permanent=not transient,
                                 retry_after=retry_after if transient else None) from error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise _AttemptError(_describe(error)) from error


def open_webhook_notifier(options: Options) -> WebhookNotifier:
    """Factory for the ``webhook`` notifier; see the module documentation for the options."""
    url = _http_url(options.text("url"), options.key("url"))
    secret = options.secret("secret", required=True)
    assert secret is not None  # required=True
    headers = _extra_headers(options.table("headers", {}), options.key("headers"))
    return WebhookNotifier(
        url,
        secret,
        timeout=_positive(options.number("timeout", 10.0), options.key("timeout")),
        headers=headers,
        max_attempts=options.integer("max_attempts", 3, minimum=1),
        backoff_seconds=_positive(options.number("backoff_seconds", 0.5),
                                  options.key("backoff_seconds"), zero_ok=True),
        max_backoff_seconds=_positive(options.number("max_backoff_seconds", 30.0),
                                      options.key("max_backoff_seconds"), zero_ok=True),
    )


@hookimpl
def crmcore_register_notifiers(register: Callable[[str, NotifierFactory], None]) -> None:
    """Register the ``webhook`` notifier."""
    register("webhook", open_webhook_notifier)
