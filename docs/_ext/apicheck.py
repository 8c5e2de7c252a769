"""Warn when a public name is missing from the API reference.

For every module listed in the ``crmcore_public_modules`` setting, each name
in its ``__all__`` must be documented as a Python object somewhere in the
site: either under the module itself (``crmcore.CRM``) or under the module
that defines it (``crmcore.errors.ConfigError``): a documented object with
the same name that *is* the exported object counts. Under ``-W`` a missing name
fails the build, so the reference cannot fall behind the code.
"""

from __future__ import annotations

import importlib
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.typing import ExtensionMetadata

logger = logging.getLogger(__name__)


def _documented(env: BuildEnvironment) -> set[str]:
    domain: Any = env.get_domain("py")
    return {name for name, *_ in domain.get_objects()}


_MISSING = object()


def _resolve(full_name: str) -> Any:
    """The object a dotted name points to, or ``_MISSING``."""
    parts = full_name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute, _MISSING)
            if value is _MISSING:
                break
        return value
    return _MISSING


def check_public_names(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn for each public name that no documented object is (by identity)."""
    documented = _documented(env)
    for module_name in app.config.crmcore_public_modules:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            same_name = [full for full in documented if full.rsplit(".", 1)[-1] == name]
            if not any(_resolve(full) is value for full in same_name):
                logger.warning("public name %s.%s is not documented in the API reference",
                               module_name, name, type="crmcore", subtype="api")


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_config_value("crmcore_public_modules", [], "env", types=[list])
    app.connect("env-check-consistency", check_public_names)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
