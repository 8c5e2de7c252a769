"""Whether the columnar fast path may use numpy (the optional extra ``fast``).

Every columnar function takes ``fast``: ``None`` uses numpy when it is
installed, ``False`` forces the pure-Python reference implementation and
``True`` requires numpy.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from crmcore.errors import ConfigError
from crmcore.i18n import tr


class _LazyNumpy:
    """numpy, imported on first use: a command that never computes a column (reading
    the stored agenda, ``--help``) does not pay numpy's import (a quarter second)."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module("numpy"), name)
        setattr(self, name, value)  # later look-ups find it without coming here
        return value


HAVE_NUMPY = importlib.util.find_spec("numpy") is not None
"""Whether numpy is installed (the optional extra ``fast``)."""

np: Any = _LazyNumpy() if HAVE_NUMPY else None
"""The numpy module (imported when first used), or None when it is not installed."""


def use_numpy(fast: bool | None) -> bool:
    """Resolve a ``fast`` argument to "use numpy" or not."""
    if fast is None:
        return HAVE_NUMPY
    if fast and not HAVE_NUMPY:
        raise ConfigError(tr("fast: numpy is not installed (pip install 'crmcore[fast]')"))
    return fast


def to_list(column: Any) -> list[Any]:
    """A column (list or numpy array) as a Python list."""
    return column.tolist() if hasattr(column, "tolist") else list(column)
