"""Keeping secrets out of ``repr``, error messages and logs.

Configuration holds webhook secrets, SMTP passwords and URLs with tokens in
them. :func:`redacted` returns a copy of an options table in which those
values are replaced by :data:`MASK`, so a ``repr`` of the configuration can
be logged or shown in a bug report without leaking them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
"""What a secret value is shown as."""

SECRET_KEY_WORDS = ("secret", "password", "passwd", "token", "api_key", "apikey",
                    "private_key", "credential", "auth")
"""An option whose key contains one of these words holds a secret (``*_env`` keys do not:
they name an environment variable)."""


def is_secret_key(key: str) -> bool:
    """Whether option ``key`` holds a secret value."""
    lowered = key.lower()
    return not lowered.endswith("_env") and any(word in lowered for word in SECRET_KEY_WORDS)


def redacted_url(text: str) -> str:
    """``text`` with a URL's password and query values masked (other text unchanged)."""
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        netloc = f"{user}:{MASK}@{parts.hostname or ''}" + (
            f":{parts.port}" if parts.port else "")
    query = urlencode([(key, MASK) for key, _ in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def redacted(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (an options table, list or scalar) safe to show."""
    if key and is_secret_key(key):
        return MASK
    if isinstance(value, Mapping):
        return {name: redacted(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redacted(item) for item in value)
    if isinstance(value, str) and "://" in value:
        return redacted_url(value)
    return value


def redacted_repr(value: Any) -> str:
    """``repr`` of :func:`redacted` ``value`` (an attrs field ``repr=`` callable)."""
    return repr(redacted(value))
