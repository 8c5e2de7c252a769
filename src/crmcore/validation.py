"""attrs validators shared by the domain model.

Each validator raises :class:`crmcore.errors.ValidationError` naming the
attribute and the rejected value, so an invalid entity cannot exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import N_, tr

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

_IDENTIFIER = re.compile(r"^[^\s/\\][^\t\r\n/\\]{0,127}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def parse_date(value: Any, field: str) -> date:
    """A :class:`datetime.date`, given as one or as ISO text ``YYYY-MM-DD``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(field, value, N_("is not a date (YYYY-MM-DD)"))


def as_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """attrs converter: a private ``dict`` copy of a mapping (callers keep theirs)."""
    return dict(value)


def as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a tuple of the items (a lone text is refused, not split)."""
    if isinstance(value, str | bytes):
        raise ValidationError("", value, N_("is not a list"))
    return tuple(value)


def identifier(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An id: 1-128 characters, no slash, no tab or newline, no leading space."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or value != value.strip():
        raise ValidationError(
            attribute.name, value, N_("is not a valid id (1-128 characters, no slashes or tabs)")
        )


def optional_identifier(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Like :func:`identifier`, but ``None`` is allowed."""
    if value is not None:
        identifier(instance, attribute, value)


def non_empty_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A string with at least one non-blank character."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(attribute.name, value, N_("must be a non-empty text"))


def aware_datetime(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A timezone-aware :class:`datetime.datetime` (naive times are ambiguous)."""
    if not isinstance(value, datetime):
        raise ValidationError(attribute.name, value, N_("is not a datetime"))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            attribute.name, value, N_("is a naive datetime; give a time zone (e.g. +00:00)")
        )
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(attribute.name, value, N_("is out of the supported range")) from None


def optional_aware_datetime(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Like :func:`aware_datetime`, but ``None`` is allowed."""
    if value is not None:
        aware_datetime(instance, attribute, value)


def _check_decimal(name: str, value: Any, *, allow_negative: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise ValidationError(name, value, N_("is not a Decimal"))
    if not value.is_finite():
        raise ValidationError(name, value, N_("is not a finite amount"))
    if not allow_negative and value < 0:
        raise ValidationError(name, value, N_("must not be negative"))


def non_negative_decimal(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite :class:`decimal.Decimal` >= 0."""
    _check_decimal(attribute.name, value, allow_negative=False)


def optional_decimal(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite :class:`decimal.Decimal` of any sign (a loss is negative), or ``None``."""
    if value is not None:
        _check_decimal(attribute.name, value, allow_negative=True)


def optional_non_negative_decimal(
    _instance: Any, attribute: attrs.Attribute[Any], value: Any
) -> None:
    """Like :func:`non_negative_decimal`, but ``None`` is allowed."""
    if value is not None:
        _check_decimal(attribute.name, value, allow_negative=False)


def int_between(low: int, high: int | None = None) -> Validator:
    """An ``int`` (not a bool) in ``[low, high]`` (``high`` None: unbounded)."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(attribute.name, value, N_("is not a whole number"))
        if value < low or (high is not None and value > high):
            reason = tr("must be from {low} to {high}") if high is not None else \
                tr("must be at least {low}")
            raise ValidationError(attribute.name, value, reason.format(low=low, high=high))

    return check


def optional(check: Validator) -> Validator:
    """Wrap ``check`` so that ``None`` passes."""

    def check_optional(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    return check_optional


@lru_cache(maxsize=512)
def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone known to this machine."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # read a stored agenda without it

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def time_zone(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An IANA time zone name such as ``"Asia/Shanghai"``."""
    if not isinstance(value, str) or not is_time_zone(value):
        raise ValidationError(attribute.name, value, N_("is not a time zone"))


def language_tag(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A BCP 47 style language tag such as ``"zh-CN"`` or ``"en"``."""
    if not isinstance(value, str) or not _LANGUAGE_TAG.match(value):
        raise ValidationError(attribute.name, value, N_("is not a language tag such as 'zh-CN'"))
