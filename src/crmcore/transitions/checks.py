"""Guards and validators: the Python side of a flow definition.

A definition names its checks; a :class:`CheckRegistry` maps those names to
functions, so a TOML file can use them without any code being evaluated.
A *guard* answers yes or no (a refused guard stops the transition); a
*validator* raises :class:`~crmcore.errors.ValidationError` (or
:class:`~crmcore.errors.TransitionError`) with its own message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import N_, tr

if TYPE_CHECKING:
    from crmcore.transitions.definition import FlowDefinition, TransitionDefinition
    from crmcore.transitions.records import FlowState


@attrs.frozen
class TransitionContext:
    """What a guard or validator sees: the move asked for and its inputs.

    ``fields`` are the values given for the target state (stored with it);
    ``facts`` are evidence for guards that is not stored (e.g. the last
    purchase time).
    """

    flow: FlowDefinition
    transition: TransitionDefinition
    state: FlowState
    target: str
    at: datetime
    actor: str
    reason: str
    fields: Mapping[str, Any]
    facts: Mapping[str, Any]


GuardFunction = Callable[[TransitionContext], bool]
"""A guard: return True to allow the transition."""

ValidatorFunction = Callable[[TransitionContext], None]
"""A validator: raise :class:`~crmcore.errors.ValidationError` to refuse."""


def _summary(function: Callable[..., Any]) -> str:
    doc = (function.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


@attrs.frozen
class Guard:
    """A named guard; ``description`` defaults to its docstring's first line."""

    name: str
    check: GuardFunction = attrs.field(eq=False, repr=False)
    description: str = attrs.field(eq=False, repr=False)

    @description.default
    def _describe(self) -> str:
        return _summary(self.check)


@attrs.frozen
class Validator:
    """A named validator; ``description`` defaults to its docstring's first line."""

    name: str
    check: ValidatorFunction = attrs.field(eq=False, repr=False)
    description: str = attrs.field(eq=False, repr=False)

    @description.default
    def _describe(self) -> str:
        return _summary(self.check)


def reason_given(context: TransitionContext) -> None:
    """A reason (why) must be given for this transition."""
    if not context.reason.strip():
        raise ValidationError("reason", context.reason, "must be given for this transition")


class CheckRegistry:
    """Guards and validators by name, for loading definitions from data.

    Every registry starts with the generic validator ``reason_given``.
    """

    def __init__(
        self,
        guards: Mapping[str, GuardFunction] | None = None,
        validators: Mapping[str, ValidatorFunction] | None = None,
    ) -> None:
        self._guards: dict[str, Guard] = {}
        self._validators: dict[str, Validator] = {"reason_given": Validator("reason_given",
                                                                            reason_given)}
        for name, guard in (guards or {}).items():
            self.add_guard(name, guard)
        for name, validator in (validators or {}).items():
            self.add_validator(name, validator)

    def add_guard(self, name: str, check: GuardFunction) -> None:
        """Register ``check`` as guard ``name``; a name can be taken only once."""
        self._take(name, self._guards, N_("guard"))
        self._guards[name] = Guard(name, check)

    def add_validator(self, name: str, check: ValidatorFunction) -> None:
        """Register ``check`` as validator ``name``; a name can be taken only once."""
        self._take(name, self._validators, N_("validator"))
        self._validators[name] = Validator(name, check)

    @staticmethod
    def _take(name: str, table: Mapping[str, object], label: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(tr("a {category} needs a name, not {name!r}").format(
                category=tr(label), name=name))
        if name in table:
            raise ConfigError(tr("{category} {name!r} is already registered").format(
                category=tr(label), name=name))

    def guard(self, name: str, *, key: str = "guards") -> Guard:
        """The guard ``name``; :class:`ConfigError` naming ``key`` if unknown."""
        found: Guard = self._find(name, self._guards, N_("guard"), key)
        return found

    def validator(self, name: str, *, key: str = "validators") -> Validator:
        """The validator ``name``; :class:`ConfigError` naming ``key`` if unknown."""
        found: Validator = self._find(name, self._validators, N_("validator"), key)
        return found

    @staticmethod
    def _find(name: str, table: Mapping[str, Any], label: str, key: str) -> Any:
        if isinstance(name, str) and name in table:
            return table[name]
        known = ", ".join(sorted(table)) or tr("none")
        raise ConfigError(tr("{key}: {name!r} is not a registered {category} (known: {known})"
                             ).format(key=key, name=name, category=tr(label), known=known))

    def guard_names(self) -> list[str]:
        """The registered guard names, sorted."""
        return sorted(self._guards)

    def validator_names(self) -> list[str]:
        """The registered validator names, sorted."""
        return sorted(self._validators)
