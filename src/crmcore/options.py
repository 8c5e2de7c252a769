"""Reading a plugin's options from configuration, with errors that name the key.

Factories registered through the provider hooks receive an :class:`Options`
object. Each accessor checks the type and records the key as used; the
application service rejects keys nobody used (most often a typo).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import N_, tr

T = TypeVar("T")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


_NO_DEFAULT: Any = _Required()


class Options:
    """The options of one configured component, e.g. the ``[storage]`` table.

    ``prefix`` is the key path used in error messages (``"storage"``).
    """

    def __init__(
        self, values: Mapping[str, Any], prefix: str, *, base_dir: Path | None = None
    ) -> None:
        self._values = dict(values)
        self._prefix = prefix
        self._base_dir = base_dir
        self._used: set[str] = set()

    def key(self, name: str) -> str:
        """The full key path of option ``name`` for messages."""
        return f"{self._prefix}.{name}" if self._prefix else name

    def _get(self, name: str, kinds: tuple[type[Any], ...], label: str, default: Any) -> Any:
        self._used.add(name)
        if name not in self._values:
            if default is _NO_DEFAULT:
                raise ConfigError(tr("{key}: is required ({label})").format(
                    key=self.key(name), label=tr(label)))
            return default
        value = self._values[name]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ConfigError(tr("{key}: {value!r} is not {label}").format(
                key=self.key(name), value=value, label=tr(label)))
        return value

    def text(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A string option."""
        return self._get(name, (str,), N_("a text"), default)

    def path(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A file path option; ``~`` is expanded and a relative path is taken
        from the configuration file's folder. ``":memory:"`` stays as it is."""
        value = self._get(name, (str, Path), N_("a file path"), default)
        if value is default or value == ":memory:":
            return value
        path = Path(value).expanduser()
        if self._base_dir is not None and not path.is_absolute():
            path = self._base_dir / path
        return path

    def integer(self, name: str, default: Any = _NO_DEFAULT, *, minimum: int | None = None) -> Any:
        """A whole-number option, optionally with a lower bound."""
        value = self._get(name, (int,), N_("a whole number"), default)
        if minimum is not None and isinstance(value, int) and value < minimum:
            raise ConfigError(tr("{key}: {value!r} must be at least {minimum}").format(
                key=self.key(name), value=value, minimum=minimum))
        return value

    def number(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A finite number option (int or float); ``inf`` and ``nan`` are refused."""
        value = self._get(name, (int, float), N_("a number"), default)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(tr("{key}: {value!r} is not a finite number").format(
                key=self.key(name), value=value))
        return float(value) if isinstance(value, int) else value

    def flag(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A true/false option."""
        return self._get(name, (bool,), N_("true or false"), default)

    def choice(self, name: str, choices: tuple[str, ...], default: Any = _NO_DEFAULT) -> Any:
        """A string option that must be one of ``choices``."""
        value = self.text(name, default)
        if value not in choices and value is not default:
            raise ConfigError(tr("{key}: {value!r} is not one of {choices}").format(
                key=self.key(name), value=value, choices=", ".join(choices)))
        return value

    def table(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A nested table (mapping) option."""
        return self._get(name, (Mapping,), N_("a table"), default)

    def texts(self, name: str) -> list[str]:
        """A required option given as one text or a non-empty list of texts."""
        value = self._get(name, (str, list), N_("a text or a list of texts"), _NO_DEFAULT)
        items = [value] if isinstance(value, str) else value
        if not items:
            raise ConfigError(tr("{key}: is an empty list").format(key=self.key(name)))
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(tr("{key}: {value!r} is not a non-empty text").format(
                    key=f"{self.key(name)}[{index}]", value=item))
        return list(items)

    def secret(self, name: str, *, required: bool) -> str | None:
        """A secret given either directly as ``name`` or through ``{name}_env``.

        ``{name}_env`` names an environment variable, read now, so that
        configuration files need not hold passwords. Giving both, or naming an
        unset or empty variable, is a :class:`ConfigError` naming the key; the
        secret itself never appears in a message.
        """
        env_key = f"{name}_env"
        self._used.add(name)
        value = self._values.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(tr("{key}: is not a text (a {type}; the value is not shown because "
                                 "it is a secret)").format(key=self.key(name),
                                                           type=type(value).__name__))
        variable: str | None = self.text(env_key, None)
        if value is not None and variable is not None:
            raise ConfigError(tr("{key}: give either {name} or {env_key}, not both").format(
                key=self.key(name), name=name, env_key=env_key))
        if variable is not None:
            value = os.environ.get(variable)
            if not value:
                raise ConfigError(tr("{key}: environment variable {variable!r} is not set or "
                                     "empty").format(key=self.key(env_key), variable=variable))
        elif value == "":
            raise ConfigError(tr("{key}: is empty").format(key=self.key(name)))
        if value is None and required:
            raise ConfigError(tr("{key}: is required (a text), or give {env_key}").format(
                key=self.key(name), env_key=env_key))
        return value

    def has(self, name: str) -> bool:
        """Whether option ``name`` was given (does not mark it as read)."""
        return name in self._values

    def raw(self, name: str) -> Any:
        """The value of ``name`` as written, whatever its type (None when absent)."""
        return self._get(name, (object,), N_("a value"), None)

    def items(self, name: str, label: str = N_("a list")) -> list[Any] | None:
        """A list option, or None when absent."""
        items: list[Any] | None = self._get(name, (list,), label, None)
        return items

    def section(self, name: str) -> Options:
        """The nested table ``name`` as its own reader (empty when absent)."""
        return Options(self.table(name, {}), self.key(name), base_dir=self._base_dir)

    def sections(self, name: str) -> list[Options] | None:
        """A list of tables (``[[name]]`` in TOML) as readers, or None when absent."""
        items = self.items(name, N_("a list of tables"))
        if items is None:
            return None
        readers = []
        for index, item in enumerate(items):
            key = f"{self.key(name)}[{index}]"
            if not isinstance(item, Mapping):
                raise ConfigError(tr("{key}: {value!r} is not a table").format(key=key, value=item))
            readers.append(Options(item, key, base_dir=self._base_dir))
        return readers

    def refuse_unknown(self, known: tuple[str, ...]) -> None:
        """Raise :class:`ConfigError` naming the first given key not in ``known``."""
        unknown = sorted(set(self._values) - set(known))
        if unknown:
            raise ConfigError(tr("{key}: is not a known option (known: {known})").format(
                key=self.key(unknown[0]), known=", ".join(known)))

    def invalid(self, error: ValidationError) -> ConfigError:
        """A domain :class:`ValidationError` restated under this table's key path."""
        return ConfigError(str(error.at(self._prefix)))

    def check_all_used(self) -> None:
        """Raise :class:`ConfigError` naming the first key no accessor asked for."""
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used)) or tr("none")
            raise ConfigError(tr("{key}: is not a known option (known: {known})").format(
                key=self.key(unknown[0]), known=known))
