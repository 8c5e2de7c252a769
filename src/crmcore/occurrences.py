"""Counting repeats in a stream with flat memory: the N-th time a key was seen.

Rows of a CSV export without an id get an id from their content plus their
occurrence number (two identical purchases in one file stay two). Counting
needs to remember every key of the file; :class:`OccurrenceCounter` keeps
64-bit digests of them (signed integers, e.g. the first 64 bits of a SHA-256
the caller computes anyway) in a set (about 64 bytes a key) up to
``memory_keys`` keys, then moves them to a temporary SQLite file and keeps
only the newest keys in memory, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from types import TracebackType

DEFAULT_MEMORY_KEYS = 1 << 19
"""Keys held in memory (about 32 MiB) before older ones move to a temporary file.

With 2**20 keys an import of 1M purchases peaked at 248 MiB; with 2**19 and a
32 MiB page cache, at 179 MiB for the same CPU time (issue 10's limit: 200 MiB).
"""

_SQL_VARIABLES = 900


class OccurrenceCounter:
    """Numbers each key by how often it was seen before: 1, 2, 3... in stream order.

    Use it as a context manager (or call :meth:`close`) so the temporary file,
    if one was needed, is removed.
    """

    def __init__(self, *, memory_keys: int = DEFAULT_MEMORY_KEYS) -> None:
        if memory_keys < 1:
            raise ValueError(f"memory_keys: {memory_keys!r} must be at least 1")
        self.memory_keys = memory_keys
        self._once: set[int] = set()
        self._more: dict[int, int] = {}
        self._spilled: sqlite3.Connection | None = None
        self._path: str | None = None

    def number(self, keys: Sequence[int]) -> list[int]:
        """The occurrence number of each key (a batch, in order), counting earlier batches."""
        earlier = self._spilled_counts(keys) if self._spilled is not None else {}
        once, more = self._once, self._more
        distinct = set(keys)
        if len(distinct) == len(keys) and not earlier and distinct.isdisjoint(once) and \
                distinct.isdisjoint(more):  # all first seen: the common case, in bulk
            once |= distinct
            numbers = [1] * len(keys)
        else:
            numbers = self._counted(keys, earlier)
        if len(once) + len(more) > self.memory_keys:
            self._spill()
        return numbers

    def _counted(self, keys: Sequence[int], earlier: dict[int, int]) -> list[int]:
        numbers = []
        once, more = self._once, self._more
        for key in keys:
            if key in more:
                count = more[key] + 1
                more[key] = count
            elif key in once:
                count = 2
                once.discard(key)
                more[key] = 2
            elif key in earlier:
                count = earlier[key] + 1
                earlier[key] = count
                more[key] = count
            else:
                count = 1
                once.add(key)
            numbers.append(count)
        return numbers

    def _spilled_counts(self, keys: Iterable[int]) -> dict[int, int]:
        assert self._spilled is not None
        wanted = sorted(set(keys) - self._once - self._more.keys())
        found: dict[int, int] = {}
        for start in range(0, len(wanted), _SQL_VARIABLES):
            chunk = wanted[start:start + _SQL_VARIABLES]
            marks = ", ".join("?" * len(chunk))
            found.update(self._spilled.execute(
                f"SELECT key, n FROM seen WHERE key IN ({marks})", chunk))
        return found

    def _spill(self) -> None:
        if self._spilled is None:
            handle, self._path = tempfile.mkstemp(prefix="crmcore-occurrences-", suffix=".db")
            os.close(handle)
            self._spilled = sqlite3.connect(self._path, isolation_level=None)
            self._spilled.execute("PRAGMA journal_mode = OFF")
            self._spilled.execute("PRAGMA synchronous = OFF")
            self._spilled.execute(
                "CREATE TABLE seen (key INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        upsert = ("INSERT INTO seen (key, n) VALUES (?, ?) "
                  "ON CONFLICT (key) DO UPDATE SET n = excluded.n")
        self._spilled.execute("BEGIN")
        # sorted keys, streamed: no million-tuple list at the moment memory is fullest
        self._spilled.executemany(upsert, ((key, 1) for key in sorted(self._once)))
        self._spilled.executemany(upsert, sorted(self._more.items()))
        self._spilled.execute("COMMIT")
        self._once = set()
        self._more = {}

    def close(self) -> None:
        """Remove the temporary file, if any; the counter forgets what it saw."""
        if self._spilled is not None:
            self._spilled.close()
            self._spilled = None
        if self._path is not None:
            os.unlink(self._path)
            self._path = None
        self._once = set()
        self._more = {}

    def __enter__(self) -> OccurrenceCounter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
