"""Configuration: which storage, which notifiers, how to retry.

A TOML file looks like this (every table is optional)::

    lang = "zh_CN"            # output language (or lang in a [locale] table);
                              # --lang overrides it, LC_ALL/LC_MESSAGES/LANG stand in

    [storage]
    backend = "sqlite"        # a registered storage backend
    path = "crm.db"           # the backend's own options follow

    [[notifiers]]
    use = "log"               # a registered notifier
    name = "audit"            # optional; deliveries are tracked per name
    level = "INFO"            # the notifier's own options follow

    [delivery]
    auto = true               # deliver events right after each write
    first_retry_seconds = 30
    max_retry_seconds = 21600
    lease_seconds = 120       # how long a deliverer may hold a notifier

    [lifecycle]               # capability settings: grading, lifecycle,
    at_risk_multiple = 2.5    # policies, improvement (each reads its own)

Relative paths in options are resolved against the file's folder. Every
error names the key and the value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import file_problem, tr
from crmcore.options import Options
from crmcore.outbox import RetryPolicy
from crmcore.redaction import redacted_repr
from crmcore.validation import as_dict, as_tuple


@attrs.frozen
class ComponentConfig:
    """A configured component: the registered name to ``use`` and its options.

    ``name`` identifies this instance (two webhook notifiers with different
    URLs need two names); it defaults to ``use``.
    """

    use: str
    options: dict[str, Any] = attrs.field(factory=dict, converter=as_dict, repr=redacted_repr)
    name: str = attrs.field()

    @name.default
    def _name_is_use(self) -> str:
        return self.use

    def reader(self, prefix: str, base_dir: Path | None = None) -> Options:
        """An :class:`~crmcore.options.Options` over this component's options."""
        return Options(self.options, prefix, base_dir=base_dir)


CAPABILITY_SECTIONS = ("grading", "lifecycle", "policies", "improvement", "run", "sales",
                       "source", "import")
"""Configuration tables that belong to a capability rather than to a plugin."""


@attrs.frozen
class CRMConfig:
    """Everything :class:`crmcore.CRM` needs to open."""

    storage: ComponentConfig = ComponentConfig("sqlite", {"path": "crmcore.db"})
    notifiers: tuple[ComponentConfig, ...] = attrs.field(default=(), converter=as_tuple)
    retry: RetryPolicy = RetryPolicy()  # noqa: RUF009 - frozen value
    auto_deliver: bool = True
    base_dir: Path | None = None
    capabilities: dict[str, dict[str, Any]] = attrs.field(factory=dict, converter=as_dict,
                                                          repr=redacted_repr)
    lang: str | None = None
    """The output language (``lang = "zh_CN"``, top level or in ``[locale]``); see
    :mod:`crmcore.i18n`."""

    def __attrs_post_init__(self) -> None:
        _unique_names(self.notifiers)
        unknown = sorted(set(self.capabilities) - set(CAPABILITY_SECTIONS))
        if unknown:
            raise ConfigError(tr("{section}: is not a capability section (known: {known})")
                              .format(section=unknown[0], known=", ".join(CAPABILITY_SECTIONS)))

    def settings(self, section: str) -> Options:
        """The options of a capability section (``[lifecycle]``...), empty if absent.

        The capability reads them with the :class:`~crmcore.options.Options`
        accessors, so a wrong type or a typo names ``section.key``.
        """
        if section not in CAPABILITY_SECTIONS:
            raise ConfigError(tr("{section}: is not a capability section (known: {known})")
                              .format(section=section, known=", ".join(CAPABILITY_SECTIONS)))
        return Options(self.capabilities.get(section, {}), section, base_dir=self.base_dir)


def load_config(path: str | Path) -> CRMConfig:
    """Read a TOML configuration file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(tr("cannot read configuration file {path!r}: {error}").format(
            path=str(file), error=file_problem(error))) from error
    except UnicodeDecodeError as error:
        raise ConfigError(tr("configuration file {path!r} is not UTF-8 text (line {line}, "
                             "byte offset {offset}: bytes {bytes}); save it as UTF-8").format(
            path=str(file), line=error.object.count(b"\n", 0, error.start) + 1,
            offset=error.start, bytes=error.object[error.start:error.end].hex(" "))) from None
    return parse_config(text, base_dir=file.resolve().parent, source=str(file))


def parse_config(text: str, *, base_dir: Path | None = None, source: str = "<text>") -> CRMConfig:
    """Read a configuration from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("{source}: not valid TOML: {error}").format(
            source=source, error=error)) from error
    return config_from_mapping(data, base_dir=base_dir)


def config_from_mapping(data: Mapping[str, Any], *, base_dir: Path | None = None) -> CRMConfig:
    """Build a :class:`CRMConfig` from already-parsed data (a TOML document).

    A top-level ``profile`` (``"zh-CN"``) fills in its settings under the document's
    own (:mod:`crmcore.profiles`).
    """
    if "profile" in data:
        from crmcore.profiles import apply_profile

        data = apply_profile(data)
    known = ("storage", "notifiers", "delivery", "lang", "locale", "profile",
             *CAPABILITY_SECTIONS)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(tr("{section}: is not a known section (known: {known})").format(
            section=unknown[0], known=", ".join(known)))
    storage = _component(_table(data, "storage"), "storage", "backend", "sqlite")
    notifiers_data = data.get("notifiers", [])
    if not isinstance(notifiers_data, list):
        raise ConfigError(tr("{key}: {value!r} is not a list of tables ({form})").format(
            key="notifiers", value=notifiers_data, form="[[notifiers]]"))
    notifiers = tuple(
        _component(_require_table(item, f"notifiers[{index}]"), f"notifiers[{index}]", "use", None)
        for index, item in enumerate(notifiers_data)
    )
    delivery = Options(_table(data, "delivery"), "delivery")
    retry = RetryPolicy(
        first_delay=timedelta(seconds=_positive(delivery, "first_retry_seconds", 30)),
        max_delay=timedelta(seconds=_positive(delivery, "max_retry_seconds", 21600)),
        lease=timedelta(seconds=_positive(delivery, "lease_seconds", 120)),
    )
    auto = delivery.flag("auto", True)
    delivery.check_all_used()
    capabilities = {section: dict(_table(data, section))
                    for section in CAPABILITY_SECTIONS if section in data}
    return CRMConfig(storage=storage, notifiers=notifiers, retry=retry, auto_deliver=auto,
                     base_dir=base_dir, capabilities=capabilities, lang=_language(data))


def _language(data: Mapping[str, Any]) -> str | None:
    """``lang`` at the top level or in ``[locale]`` (not both), checked."""
    from crmcore.i18n import check_language

    table = Options(_table(data, "locale"), "locale")
    nested: str | None = table.text("lang", None)
    table.check_all_used()
    if "lang" in data and nested is not None:
        raise ConfigError(tr("lang: given both at the top level and in [locale]; keep one"))
    if "lang" in data:
        return check_language(data["lang"], option="lang")
    return None if nested is None else check_language(nested, option="locale.lang")


def _positive(options: Options, key: str, default: float) -> float:
    value: float = options.number(key, default)
    if value <= 0:
        raise ConfigError(tr("{key}: {value!r} must be greater than 0").format(
            key=options.key(key), value=value))
    return value


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return _require_table(data.get(key, {}), key)


def _require_table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(tr("{key}: {value!r} is not a table").format(key=key, value=value))
    return value


def _component(
    table: Mapping[str, Any], prefix: str, selector: str, default: str | None
) -> ComponentConfig:
    options = dict(table)
    use = options.pop(selector, default)
    if not isinstance(use, str) or not use:
        raise ConfigError(tr("{key}: {value!r} is not a registered name (give one, e.g. "
                             "{example})").format(key=f"{prefix}.{selector}", value=use,
                                                  example='"log"'))
    name = options.pop("name", use)
    if not isinstance(name, str) or not name:
        raise ConfigError(tr("{key}: {value!r} is not a non-empty text").format(
            key=f"{prefix}.name", value=name))
    return ComponentConfig(use, options, name)


def _unique_names(notifiers: tuple[ComponentConfig, ...]) -> None:
    seen: set[str] = set()
    for index, notifier in enumerate(notifiers):
        if notifier.name in seen:
            raise ConfigError(tr("{key}: {value!r} is used twice; give each notifier its own "
                                 "name").format(key=f"notifiers[{index}].name",
                                                value=notifier.name))
        seen.add(notifier.name)
