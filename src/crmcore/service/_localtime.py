"""Conversions between aware datetimes, UTC microseconds and local wall-clock times.

Private helpers of :mod:`crmcore.service.calendar`. Instants are integers: microseconds
since 1970-01-01 00:00 UTC. A local day is a proleptic Gregorian ordinal
(:meth:`datetime.date.toordinal`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

ONE_US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
MIN_ORDINAL = date.min.toordinal()
MAX_ORDINAL = date.max.toordinal()

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def is_aware(moment: datetime) -> bool:
    """Return whether ``moment`` has a usable UTC offset."""
    return moment.tzinfo is not None and moment.utcoffset() is not None


def to_utc_us(moment: datetime) -> int:
    """Return the aware ``moment`` as microseconds since the Unix epoch."""
    return (moment - _EPOCH_UTC) // ONE_US


def from_utc_us(instant: int) -> datetime:
    """Return the instant as an aware datetime in UTC."""
    return _EPOCH_UTC + timedelta(microseconds=instant)


def local_ordinal(moment: datetime, zone: ZoneInfo) -> int:
    """Return the ordinal of the local date of the aware ``moment`` in ``zone``."""
    return moment.astimezone(zone).toordinal()


def wall_to_utc_us(zone: ZoneInfo, ordinal: int, offset_us: int) -> int:
    """Return the instant of local wall time ``offset_us`` after midnight of day ``ordinal``.

    The offset may exceed one day (the end of an interval that spans midnight). An
    ambiguous wall time (clocks turned back) resolves to its first occurrence; a
    nonexistent one (clocks turned forward) to the moment the clocks jumped, i.e. the end
    of the gap. The mapping is therefore non-decreasing in wall time.
    """
    wall_us = (ordinal - _EPOCH_ORDINAL) * DAY_US + offset_us
    wall = _EPOCH_NAIVE + timedelta(microseconds=wall_us)
    before = _offset_us(zone, wall)
    after = _offset_us(zone, wall.replace(fold=1))
    if after <= before:
        return wall_us - before
    return _transition_us(zone, wall_us - after, wall_us - before)


def _offset_us(zone: ZoneInfo, wall: datetime) -> int:
    offset = zone.utcoffset(wall)
    assert offset is not None  # a ZoneInfo always has an offset
    return offset // ONE_US


def _utc_offset_at(zone: ZoneInfo, instant: int) -> int:
    offset = from_utc_us(instant).astimezone(zone).utcoffset()
    assert offset is not None
    return offset // ONE_US


def _transition_us(zone: ZoneInfo, low: int, high: int) -> int:
    """Return the first instant in ``(low, high]`` that has the UTC offset of ``high``."""
    target = _utc_offset_at(zone, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _utc_offset_at(zone, middle) == target:
            high = middle
        else:
            low = middle
    return high
