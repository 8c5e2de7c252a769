"""Reader for the CDNOW purchase log format (``CDNOW_sample.txt``).

Each line holds five whitespace-separated columns: original customer id,
sample customer id, date ``YYYYMMDD``, number of CDs and dollar value. Several
purchases of one customer on one day are separate lines; merging them is the
job of :func:`~crmcore_plugins.clv.summary.summarize_purchases`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from crmcore.errors import ImportRowError
from crmcore.i18n import N_, tr
from crmcore_plugins.clv.summary import RfmSummary, summarize_purchases

__all__ = [
    "CDNOW_CALIBRATION_END",
    "CdnowPurchases",
    "parse_cdnow",
    "read_cdnow",
]

#: Last day of the 39-week calibration period used in the literature.
CDNOW_CALIBRATION_END = dt.date(1997, 9, 30)

_T = TypeVar("_T")

_COLUMNS = ("original_id", "customer_id", "date", "quantity", "amount")


@dataclass(frozen=True, eq=False)
class CdnowPurchases:
    """Columnar purchase log, one element per line of the file."""

    original_ids: npt.NDArray[np.int64]
    customer_ids: npt.NDArray[np.int64]
    dates: npt.NDArray[np.datetime64]
    quantities: npt.NDArray[np.int64]
    amounts: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of purchases."""
        return len(self.customer_ids)

    def summary(
        self, *, calibration_end: dt.date = CDNOW_CALIBRATION_END, unit_days: float
    ) -> RfmSummary:
        """Summarise per sample customer id; ``unit_days`` is required (7.0 = weeks)."""
        return summarize_purchases(
            self.customer_ids, self.dates, self.amounts,
            calibration_end=calibration_end, unit_days=unit_days,
        )


def read_cdnow(path: str | Path) -> CdnowPurchases:
    """Read a CDNOW purchase log file.

    :raises ImportRowError: naming line and column of the first malformed value.
    """
    with open(path, encoding="ascii") as handle:
        return parse_cdnow(handle)


def parse_cdnow(lines: Iterable[str]) -> CdnowPurchases:
    """Parse CDNOW lines; blank lines are skipped.

    :raises ImportRowError: naming line and column of the first malformed value.
    """
    rows = [_parse_line(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise ImportRowError(1, _COLUMNS[0], "", N_("no purchases in the file"))
    original, customer, day, quantity, amount = zip(*rows, strict=True)
    return CdnowPurchases(
        original_ids=np.array(original, dtype=np.int64),
        customer_ids=np.array(customer, dtype=np.int64),
        dates=np.array(day, dtype="datetime64[D]"),
        quantities=np.array(quantity, dtype=np.int64),
        amounts=np.array(amount, dtype=np.float64),
    )


def _parse_line(number: int, line: str) -> tuple[int, int, dt.date, int, float]:
    """Parse one line into its five typed fields."""
    fields = line.split()
    if len(fields) != len(_COLUMNS):
        raise ImportRowError(number, "*", line.strip(), tr(
            "has {count} columns, expected {expected}").format(count=len(fields),
                                                               expected=len(_COLUMNS)))
    return (
        _parse(number, 0, fields[0], int),
        _parse(number, 1, fields[1], int),
        _parse(number, 2, fields[2], _parse_date),
        _parse(number, 3, fields[3], int),
        _parse(number, 4, fields[4], _parse_amount),
    )


def _parse(number: int, column: int, text: str, convert: Callable[[str], _T]) -> _T:
    """Apply ``convert`` to a field, reporting failures as :class:`ImportRowError`."""
    try:
        return convert(text)
    except ValueError as error:
        raise ImportRowError(number, _COLUMNS[column], text, tr("is invalid ({error})").format(
            error=error)) from None


def _parse_date(text: str) -> dt.date:
    """Parse ``YYYYMMDD``."""
    return dt.datetime.strptime(text, "%Y%m%d").date()


def _parse_amount(text: str) -> float:
    """Parse a finite, non-negative dollar value."""
    value = float(text)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(tr("not a finite non-negative number"))
    return value
