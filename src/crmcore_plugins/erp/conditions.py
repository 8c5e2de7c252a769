"""Filters of a mapping: ``column op value``, read from TOML with errors naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.options import Options

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null")
"""The comparison operators a condition may use."""

Scalar = str | int | float | bool
"""A value a condition compares with."""


@attrs.frozen
class Condition:
    """``column op value``; ``value`` is a list for ``in``/``not in`` and None for null tests.

    ``key`` is where the condition was configured, for error messages.
    """

    column: str
    op: str
    value: Scalar | tuple[Scalar, ...] | None
    key: str


def _condition(raw: Any, key: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise ConfigError(tr("{key}: {value!r} is not a table like {{ column = \"state\", op "
                             "= \"=\", value = \"done\" }}").format(key=key, value=raw))
    options = Options(raw, key)
    column = options.text("column")
    op = options.choice("op", OPERATORS, "=")
    value: Any = raw.get("value")  # checked by hand: its type depends on op
    if op in ("is null", "is not null"):
        if "value" in raw:
            raise ConfigError(tr("{key}: {op!r} takes no value").format(key=f"{key}.value",
                                                                        op=op))
    elif op in ("in", "not in"):
        if not isinstance(value, list) or not value or not all(
                isinstance(item, Scalar) for item in value):
            raise ConfigError(tr("{key}: {value!r} is not a non-empty list of values (needed "
                                 "by {op!r})").format(key=f"{key}.value", value=value, op=op))
        value = tuple(value)
    elif not isinstance(value, Scalar):
        raise ConfigError((tr("{key}: is required") if "value" not in raw else tr(
            "{key}: {value!r} is not a text, number or bool")).format(key=f"{key}.value",
                                                                      value=value))
    unknown = sorted(set(raw) - {"column", "op", "value"})
    if unknown:
        raise ConfigError(tr("{key}: is not a known key (known: {known})").format(
            key=f"{key}.{unknown[0]}", known="column, op, value"))
    return Condition(column, op, value, key)


def read_conditions(raw: Any, key: str) -> tuple[Condition, ...]:
    """Conditions from one table or a list of tables; ``key`` names them in errors."""
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError(tr("{key}: {value!r} is not a list of conditions").format(
            key=key, value=raw))
    return tuple(_condition(item, f"{key}[{index}]") for index, item in enumerate(raw))
