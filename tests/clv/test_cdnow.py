"""Tests of the CDNOW log reader (on small inline text)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmcore.errors import ImportRowError
from crmcore_plugins.clv.cdnow import parse_cdnow, read_cdnow

TEXT = """\
 00004 0001 19970101  2   29.33
 00004 0001 19970101  1   10.00

 00021 0002 19971001  3   63.34
"""


def test_reads_columns(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text(TEXT, encoding="ascii")
    log = read_cdnow(path)
    assert len(log) == 3
    assert log.original_ids.tolist() == [4, 4, 21]
    assert log.customer_ids.tolist() == [1, 1, 2]
    assert log.dates.astype(object).tolist() == [dt.date(1997, 1, 1)] * 2 + [dt.date(1997, 10, 1)]
    assert log.quantities.tolist() == [2, 1, 3]
    assert log.amounts.tolist() == [29.33, 10.0, 63.34]


def test_summary_uses_the_literature_calibration_end() -> None:
    summary = parse_cdnow(TEXT.splitlines()).summary(unit_days=7.0)
    assert summary.customer_ids.tolist() == [1]  # customer 2 starts after 1997-09-30
    assert summary.frequency.tolist() == [0]
    assert summary.T.tolist() == pytest.approx([272 / 7])


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (" 1 1 19970230 1 2.0", "date"),
        (" 1 x 19970101 1 2.0", "customer_id"),
        (" 1 1 19970101 1 -2.0", "amount"),
        (" 1 1 19970101 1", "*"),
    ],
)
def test_malformed_line_names_line_and_column(line: str, column: str) -> None:
    with pytest.raises(ImportRowError) as info:
        parse_cdnow([" 1 1 19970101 1 2.0", line])
    assert (info.value.line, info.value.column) == (2, column)
