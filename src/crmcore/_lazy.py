"""Public names imported from their modules on first use (PEP 562), for package
``__init__`` modules that must stay light to import."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_exports(package: str, exports: Mapping[str, tuple[str, ...]],
                 namespace: dict[str, Any]
                 ) -> tuple[dict[str, str], Callable[[str], Any], Callable[[], list[str]]]:
    """For ``package`` whose globals are ``namespace``: each public name's module (from
    ``exports``: module -> names), and the module-level ``__getattr__`` and ``__dir__``
    that import a name on first use and keep it in ``namespace``."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def import_on_first_use(name: str) -> Any:
        """Import a public name from its module on first use (and cache it)."""
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def public_names() -> list[str]:
        """The names already loaded and those importable on first use."""
        return sorted({*namespace, *module_of})

    return module_of, import_on_first_use, public_names
