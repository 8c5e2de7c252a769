"""Reading scheme documents (parsed TOML) with errors that name the key path.

A thin extension of :class:`crmcore.options.Options`: the same typed
accessors and unknown-key check, plus lists, scalars and nested tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmcore.errors import ConfigError
from crmcore.i18n import N_, tr
from crmcore.options import Options

_NO_DEFAULT: Any = object()
SCALAR_LABEL = N_("a text, number or true/false value")


class Table(Options):
    """One table of a scheme document; ``prefix`` is its key path (``rules.grades[1]``)."""

    def __init__(self, values: Mapping[str, Any], prefix: str) -> None:
        super().__init__(values, prefix)
        self.values = values

    def has(self, name: str) -> bool:
        """Whether the key is present (does not mark it as used)."""
        return name in self.values

    def array(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A list option."""
        return self._get(name, (list,), "a list", default)

    def scalar(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """A text, number or true/false option (types kept)."""
        return self._get(name, (str, int, float, bool), SCALAR_LABEL, default)

    def child(self, name: str, *, required: bool = False) -> Table:
        """A nested table as a :class:`Table` (empty when absent and not required)."""
        value = self.table(name) if required else self.table(name, {})
        return Table(value, self.key(name))

    def children(self, name: str, default: Any = _NO_DEFAULT) -> list[Table]:
        """A list of tables (``[[name]]``) as :class:`Table` objects."""
        items = self.array(name, default)
        made = []
        for index, item in enumerate(items):
            key = f"{self.key(name)}[{index}]"
            if not isinstance(item, Mapping):
                raise ConfigError(tr("{key}: {value!r} is not a table").format(key=key,
                                                                               value=item))
            made.append(Table(item, key))
        return made

    def fail(self, name: str, value: Any, reason: str) -> ConfigError:
        """A :class:`ConfigError` for key ``name`` (``""`` for this table itself);
        ``reason`` comes worded from the catalogue (``tr("is not a number")``)."""
        where = self.key(name) if name else self._prefix
        return ConfigError(tr("{key}: {value!r} {reason}").format(key=where, value=value,
                                                                  reason=reason))
