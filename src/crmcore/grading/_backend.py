"""Whether the columnar fast path may use numpy (the optional extra ``fast``).

Every columnar function takes ``fast``: ``None`` uses numpy when it is
installed, ``False`` forces the pure-Python reference implementation and
``True`` requires numpy.
"""

from __future__ import annotations

from typing import Any

from crmcore.errors import ConfigError

try:  # pragma: no cover - depends on the installed extras
    import numpy

    np: Any = numpy
except ImportError:  # pragma: no cover
    np = None

HAVE_NUMPY = np is not None
"""Whether numpy could be imported."""


def use_numpy(fast: bool | None) -> bool:
    """Resolve a ``fast`` argument to "use numpy" or not."""
    if fast is None:
        return HAVE_NUMPY
    if fast and not HAVE_NUMPY:
        raise ConfigError("fast: numpy is not installed (pip install 'crmcore[fast]')")
    return fast


def to_list(column: Any) -> list[Any]:
    """A column (list or numpy array) as a Python list."""
    return column.tolist() if hasattr(column, "tolist") else list(column)
