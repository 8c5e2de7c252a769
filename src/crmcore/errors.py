"""The one exception hierarchy of crmcore.

Every error a caller can act on derives from :class:`CrmError`. Errors about
bad input say *which* field or key was wrong and *what* value it had.
"""

from __future__ import annotations

from typing import Any


class CrmError(Exception):
    """Base class of every error raised on purpose by crmcore."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Stands for the value of a required field that was not given."""


class ValidationError(CrmError, ValueError):
    """A value does not satisfy a rule of the domain model.

    ``field`` is the path of the offending field (``"preferences.time_zone"``),
    ``value`` the rejected value and ``reason`` a short phrase such as
    ``"is not a time zone"``. ``str(error)`` reads
    ``preferences.time_zone: 'Mars/Base' is not a time zone``.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(self._render())

    def _render(self) -> str:
        from crmcore.i18n import tr  # the catalogues' module imports this one

        reason = tr(self.reason)
        if self.value is MISSING:
            return tr("{field}: {reason}").format(field=self.field, reason=reason) \
                if self.field else reason
        if not self.field:
            return tr("{value!r} {reason}").format(value=_cell(self.value), reason=reason)
        return tr("{field}: {value!r} {reason}").format(field=self.field,
                                                        value=_cell(self.value), reason=reason)

    def at(self, parent: str) -> ValidationError:
        """Return a copy whose ``field`` is prefixed by ``parent``."""
        if not parent:
            return self
        joined = parent if not self.field else (
            f"{parent}{self.field}" if self.field.startswith("[") else f"{parent}.{self.field}"
        )
        return type(self)(joined, self.value, self.reason)


class InvalidDataError(ValidationError):
    """Structured data (JSON, TOML, a stored row) has one or more bad values.

    ``problems`` lists every :class:`ValidationError` found, each with its full
    path (``customers[3].preferences.time_zone``); the message shows them all.
    ``field``, ``value`` and ``reason`` are those of the first problem.
    """

    def __init__(self, problems: list[ValidationError]) -> None:
        if not problems:
            raise ValueError("InvalidDataError needs at least one problem")
        self.problems = problems
        first = problems[0]
        super().__init__(first.field, first.value, first.reason)

    def _render(self) -> str:
        return "\n".join(problem._render() for problem in self.problems)

    def at(self, parent: str) -> ValidationError:
        return InvalidDataError([problem.at(parent) for problem in self.problems])


class ConfigError(CrmError):
    """A configuration key has a bad value; the message names key and value."""


class PluginError(CrmError):
    """A plugin is missing, registers a duplicate name or failed to load."""


class StorageError(CrmError):
    """A storage backend could not complete an operation."""


class NotFoundError(StorageError, LookupError):
    """An entity that an operation refers to does not exist."""

    def __init__(self, kind: str, entity_id: str, field: str | None = None) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.field = field
        from crmcore.i18n import tr

        text = tr("{kind} {id!r} does not exist").format(kind=kind, id=entity_id)
        super().__init__(tr("{field}: {reason}").format(field=field, reason=text) if field
                         else text)


class DuplicateError(StorageError):
    """An entity with the same kind and id is already stored with other content."""

    def __init__(self, kind: str, entity_id: str) -> None:
        self.kind = kind
        self.entity_id = entity_id
        from crmcore.i18n import tr

        super().__init__(tr("{kind} {id!r} already exists with different content").format(
            kind=kind, id=entity_id))


class ConflictError(StorageError):
    """Optimistic concurrency: the record changed since it was read."""

    def __init__(self, kind: str, entity_id: str, expected: int, actual: int | None) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.expected_version = expected
        self.actual_version = actual
        from crmcore.i18n import tr

        super().__init__(tr("{kind} {id!r} was changed by someone else (expected version "
                            "{expected}, found {actual})").format(
            kind=kind, id=entity_id, expected=expected, actual=actual))


class TransitionError(CrmError):
    """A state change is not allowed by its definition."""


EXIT_OK = 0
"""Command exit status: done."""
EXIT_FAILED = 1
"""Command exit status: the work ran but part of it failed (``deliver`` with failures)."""
EXIT_REFUSED = 1
"""Command exit status: refused input or a domain error (a bad value, key or file content,
something named that does not exist, a move the rules forbid); nothing was stored."""
EXIT_USAGE = 2
"""Command exit status: the command line cannot be parsed (an unknown command or option, a
missing argument, a value of the wrong type, or no command at all)."""
EXIT_CONFLICT = 3
"""Command exit status: a concurrent change or a clashing record; nothing was stored (retry)."""
EXIT_STORAGE = 4
"""Command exit status: the store cannot be used (locked, damaged, read-only, newer schema)."""
EXIT_FILE = 5
"""Command exit status: a file could not be read or written (missing, a folder, no permission)."""
EXIT_INTERNAL = 70
"""Command exit status: a bug in crmcore (``-v`` shows the traceback); please report it."""


def exit_status(error: BaseException) -> int:
    """The documented exit status of a command that ended with ``error``."""
    if isinstance(error, NotFoundError):
        return EXIT_REFUSED
    if isinstance(error, ConflictError | DuplicateError):
        return EXIT_CONFLICT
    if isinstance(error, StorageError):
        return EXIT_STORAGE
    if isinstance(error, CrmError):
        return EXIT_REFUSED
    if isinstance(error, OSError):
        return EXIT_FILE
    return EXIT_INTERNAL


class ImportRowError(CrmError):
    """A row of an imported file is invalid; nothing of the file was stored."""

    def __init__(self, line: int, column: str, value: Any, reason: str) -> None:
        self.line = line
        self.column = column
        self.value = value
        self.reason = reason
        from crmcore.i18n import tr

        super().__init__(self._message() if value is None else tr(
            "line {line}, column {column!r}: {value!r} {reason}").format(
                line=line, column=column, value=_cell(value), reason=tr(reason)))

    def _message(self) -> str:
        """The message of an error about a column rather than a cell (``value`` is None)."""
        from crmcore.i18n import tr

        return tr("line {line}, column {column!r}: {reason}").format(
            line=self.line, column=self.column, reason=tr(self.reason))


def _cell(value: Any) -> Any:
    """``value`` as a message shows it: a parsed amount as the text it was read from
    (``'-10'``, not ``Decimal('-10')``), anything else as it is."""
    from decimal import Decimal

    return str(value) if isinstance(value, Decimal) else value
