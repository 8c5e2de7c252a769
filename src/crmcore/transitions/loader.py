"""Loading flow definitions from TOML text or a mapping.

The document's shape::

    name = "consulting-engagement"
    version = 1
    subject = "engagement"          # what the flow is about
    initial = "engagement"
    forward_only = true             # optional, default false
    phases = ["start", "delivery"]  # optional, in order

    [[states]]
    name = "engagement"
    phase = "start"
    final = false                   # optional
    description = "..."             # optional

    [[transitions]]
    event = "kick_off"
    from = ["engagement"]           # or one name as a text
    to = "kick-off"                 # omit for an internal (recorded, no move) event
    updates_fields = false          # internal only: given fields update the state's fields
    guards = ["..."]                # names in the CheckRegistry
    validators = ["reason_given"]
    required_fields = ["..."]

Guards and validators are looked up by name in a
:class:`~crmcore.transitions.checks.CheckRegistry`; nothing in the file is
evaluated. Every error is a :class:`~crmcore.errors.ConfigError` naming the
source and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from crmcore.errors import ConfigError
from crmcore.i18n import N_, file_problem, tr
from crmcore.transitions.checks import CheckRegistry
from crmcore.transitions.definition import (
    FlowDefinition,
    FlowDefinitionError,
    StateDefinition,
    TransitionDefinition,
)

_FLOW_KEYS = ("name", "version", "subject", "initial", "forward_only", "phases", "description",
              "states", "transitions")
_STATE_KEYS = ("name", "phase", "final", "description")
_TRANSITION_KEYS = ("event", "from", "to", "guards", "validators", "required_fields",
                    "updates_fields", "description")


class _Table:
    """Typed reads from one TOML table, with errors that name the key."""

    def __init__(self, data: Any, path: str, source: str, known: Sequence[str]) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(tr("{key}: {value!r} is not a table").format(
                key=_where(source, path), value=data))
        self.data = data
        self.path = path
        self.source = source
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(tr("{key}: is not a known key (known: {known})").format(
                key=self.where(unknown[0]), known=", ".join(known)))

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def where(self, name: str) -> str:
        """The document and key path of ``name``, as a refusal names them."""
        return _where(self.source, self.key(name))

    def get(self, name: str, kind: type[Any], label: str, default: Any = ...) -> Any:
        if name not in self.data:
            if default is ...:
                raise ConfigError(tr("{key}: is required ({label})").format(
                    key=self.where(name), label=tr(label)))
            return default
        value = self.data[name]
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ConfigError(tr("{key}: {value!r} is not {label}").format(
                key=self.where(name), value=value, label=tr(label)))
        return value

    def names(self, name: str, *, single: bool = False) -> tuple[str, ...]:
        value = self.data.get(name, [])
        if single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(tr("{key}: {value!r} is not a list of names").format(
                key=self.where(name), value=value))
        return tuple(value)

    def tables(self, name: str) -> list[Any]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            raise ConfigError(tr("{key}: {value!r} is not an array of tables ([[{name}]])"
                                 ).format(key=self.where(name), value=value, name=name))
        return value


def _where(source: str, path: str) -> str:
    """``source: path``, or ``source`` alone for the document itself."""
    return f"{source}: {path}" if path else source


def flow_from_mapping(data: Mapping[str, Any], checks: CheckRegistry | None = None, *,
                      source: str | None = None) -> FlowDefinition:
    """Build and check a :class:`FlowDefinition` from a parsed document.

    ``checks`` resolves guard and validator names (default: the generic
    registry). ``source`` names the document in error messages (default: "flow
    definition", in the current language).
    """
    source = tr("flow definition") if source is None else source
    registry = checks or CheckRegistry()
    top = _Table(data, "", source, _FLOW_KEYS)
    states = [_state(_Table(item, f"states[{index}]", source, _STATE_KEYS))
              for index, item in enumerate(top.tables("states"))]
    transitions = [_transition(_Table(item, f"transitions[{index}]", source, _TRANSITION_KEYS),
                               registry)
                   for index, item in enumerate(top.tables("transitions"))]
    try:
        return FlowDefinition(
            name=top.get("name", str, N_("a text")),
            version=top.get("version", int, N_("a whole number")),
            initial=top.get("initial", str, N_("a state name")),
            states=states,
            transitions=transitions,
            forward_only=top.get("forward_only", bool, N_("true or false"), False),
            subject=top.get("subject", str, N_("a text"), "subject"),
            phases=top.names("phases"),
            description=top.get("description", str, N_("a text"), ""),
        )
    except FlowDefinitionError as error:
        raise FlowDefinitionError(f"{error.flow} ({source})", list(error.problems)) from None


def _state(table: _Table) -> StateDefinition:
    return StateDefinition(
        name=table.get("name", str, N_("a state name")),
        phase=table.get("phase", str, N_("a phase name")),
        final=table.get("final", bool, N_("true or false"), False),
        description=table.get("description", str, N_("a text"), ""),
    )


def _transition(table: _Table, checks: CheckRegistry) -> TransitionDefinition:
    if "from" not in table.data:
        raise ConfigError(tr("{key}: is required ({label})").format(
            key=table.where("from"), label=tr("a state name or a list of them")))
    target = table.get("to", str, N_("a state name"), None)
    updates_fields = table.get("updates_fields", bool, N_("true or false"), False)
    if updates_fields and target is not None:
        raise ConfigError(tr("{key}: is for internal transitions only (omit 'to'): a move into "
                             "a state always sets its fields").format(
            key=table.where("updates_fields")))
    return TransitionDefinition(
        event=table.get("event", str, N_("an event name")),
        sources=table.names("from", single=True),
        target=target,
        guards=tuple(checks.guard(name, key=f"{table.source}: {table.key('guards')}[{i}]")
                     for i, name in enumerate(table.names("guards"))),
        validators=tuple(
            checks.validator(name, key=f"{table.source}: {table.key('validators')}[{i}]")
            for i, name in enumerate(table.names("validators"))),
        required_fields=table.names("required_fields"),
        updates_fields=updates_fields,
        description=table.get("description", str, N_("a text"), ""),
    )


def flow_from_toml(text: str, checks: CheckRegistry | None = None, *,
                   source: str | None = None) -> FlowDefinition:
    """Parse TOML ``text`` and build the flow (see :func:`flow_from_mapping`)."""
    source = tr("flow definition") if source is None else source
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("{source}: is not valid TOML: {error}").format(
            source=source, error=error)) from None
    return flow_from_mapping(data, checks, source=source)


def load_flow(path: str | Path, checks: CheckRegistry | None = None) -> FlowDefinition:
    """Read and build the flow defined in the TOML file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(tr("{path}: cannot read the flow definition: {error}").format(
            path=path, error=file_problem(error))) from None
    return flow_from_toml(text, checks, source=str(path))


def load_packaged_flow(
    package: str, files: Mapping[str, str], name: str, checks: CheckRegistry, *, label: str
) -> FlowDefinition:
    """Load the definition ``name`` shipped as ``flows/<file>`` inside ``package``.

    ``files`` maps the shipped names to their file names; an unknown name is a
    :class:`~crmcore.errors.ConfigError` under ``label`` listing the known ones (``label``
    is also a word of the catalogue: ``flow``, ``loop``).
    """
    if name not in files:
        raise ConfigError(tr("{key}: {name!r} is not a shipped {label} (known: {known})").format(
            key=label, name=name, label=tr(label), known=", ".join(files)))
    text = resources.files(package).joinpath("flows", files[name]).read_text(encoding="utf-8")
    source = f"{package.replace('.', '/')}/flows/{files[name]}"
    return flow_from_toml(text, checks, source=source)
