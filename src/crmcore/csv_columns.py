"""CSV text of whole columns, byte for byte as :func:`csv.writer` writes their rows.

:class:`crmcore.csv_output.SafeWriter` writes a million rows of a report
(``crmcore grade --format csv``) through here: each column of a chunk of
rows is rendered to text at once (``repr`` of floats, ``str`` of ints,
nothing for None), quoted only if it holds a character the :mod:`csv`
module quotes (found by asking it, so a Python that quotes more is
followed), and the lines are joined by ``str.join`` instead of a C call
per row. Only the default dialect with ``"\\n"`` line ends is rendered
here, and only cells of the types below; anything else returns None and
the caller writes with the :mod:`csv` module, the reference this must
equal.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

RENDERED_TYPES = frozenset({str, int, float, bool, type(None)})
"""The exact cell types rendered here (subclasses such as numpy scalars are not)."""

CHUNK_ROWS = 65_536
"""Rows rendered and written at a time: bounds the text held in memory."""


def _csv_quotes(char: str) -> bool:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([f"a{char}b", "c"])
    return out.getvalue().startswith('"')


QUOTED_CHARS = "".join(char for char in ',"\n\r' if _csv_quotes(char))
"""The characters that make the :mod:`csv` module quote a cell (asked at import)."""


def render_cell(value: Any) -> str:
    """One cell as the :mod:`csv` module writes it, before quoting."""
    if value is None:
        return ""
    if type(value) is float:
        return repr(value)
    return str(value)


def render_column(values: Sequence[Any]) -> list[str] | None:
    """The text of each cell, before quoting; None if a cell's type is not rendered here.

    A list of text only is returned itself, not copied.
    """
    kinds = set(map(type, values))
    if not kinds <= RENDERED_TYPES:
        return None
    if kinds <= {str}:
        return values if isinstance(values, list) else list(values)
    if kinds == {float}:
        return list(map(float.__repr__, values))
    if kinds <= {int}:
        return list(map(int.__repr__, values))
    return list(map(render_cell, values))


def quote_cells(cells: list[str]) -> list[str]:
    """``cells`` quoted where the :mod:`csv` module quotes them (inner quotes doubled)."""
    text = "".join(cells)
    present = "".join(char for char in QUOTED_CHARS if char in text)
    if not present:
        return cells
    if len(present) == 1 and present != '"':
        return [f'"{cell}"' if present in cell else cell for cell in cells]
    needs = re.compile("[" + re.escape(present) + "]").search
    return [f'"{cell.replace(chr(34), chr(34) * 2)}"' if needs(cell) else cell
            for cell in cells]


Renderer = Callable[[Sequence[Any]], list[str] | None]
"""A column's cells to text before quoting, or None (:func:`render_column` or a wrapper)."""


def render_rows(columns: Sequence[Sequence[Any]], render: Renderer = render_column
                ) -> str | None:
    """The CSV lines of equally long ``columns``; None if a cell's type is not rendered here."""
    rendered = []
    for values in columns:
        constant = (values and (values[0] is None or type(values[0]) is str)
                    and values.count(values[0]) == len(values)
                    and len(set(map(type, values))) == 1)  # no look-alike of another type
        cells = render(values[:1] if constant else values)
        if cells is None:
            return None
        rendered.append(quote_cells(cells) * (len(values) if constant else 1))
    if not rendered or not rendered[0]:
        return ""
    if len(rendered) == 1:  # the csv module writes a row of one empty cell as ""
        rendered[0] = [cell or '""' for cell in rendered[0]]
    return "\n".join(map(",".join, zip(*rendered, strict=True))) + "\n"
