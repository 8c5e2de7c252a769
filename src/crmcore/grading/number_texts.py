"""Many numbers in words at once, each equal to :func:`~crmcore.grading.conditions.float_text`.

Explaining a million ranks shows a million values (``= 1,475.40``). Most
are amounts with cents, which one C-level ``format`` each renders; numpy
finds the others (whole numbers, infinities, values below 1, NaN), which
:func:`~crmcore.grading.conditions.float_text` renders one by one.
"""

from __future__ import annotations

from typing import Any

from crmcore.grading._backend import np
from crmcore.grading.conditions import float_text

WHOLE_LIMIT = 1e15
"""Below this magnitude a whole number is shown without decimals (as ``float_text`` does)."""


def float_texts(values: Any, prefix: str = "") -> list[str]:
    """``[prefix + float_text(v) for v in values]`` for a numpy array of floats, in bulk."""
    array = np.asarray(values, dtype=np.float64)
    form = prefix.replace("{", "{{").replace("}", "}}") + "{:,.2f}"
    texts = list(map(form.format, array.tolist()))
    magnitude = np.abs(array)
    whole = (array == np.floor(array)) & (magnitude < WHOLE_LIMIT)
    others = ~(np.isfinite(array) & (magnitude >= 1) & ~whole)
    for position in np.flatnonzero(others).tolist():
        texts[position] = prefix + float_text(float(array[position]))
    return texts
