"""Counting repeats in a stream with flat memory: the N-th time a key was seen.

Rows of a CSV export without an id get an id from their content plus their
occurrence number (two identical purchases in one file stay two). Counting
needs to remember every key of the file; :class:`OccurrenceCounter` keeps
64-bit digests of them (signed integers, e.g. the first 64 bits of a SHA-256
the caller computes anyway) in a set (about 64 bytes a key). With numpy (the
extra ``fast``), beyond :data:`FREEZE_KEYS` keys it moves the keys seen once
into a sorted array (8 bytes a key) that each batch searches at once, up to
``frozen_keys`` keys; beyond that, or without numpy, every key moves to a
temporary SQLite file (without numpy: beyond ``memory_keys`` keys) and only the
newest stay in memory, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

DEFAULT_MEMORY_KEYS = 1 << 19
"""Keys held in memory (about 32 MiB) before older ones move to a temporary file
(with numpy: the repeats counted in memory; the keys seen once go to the array
at :data:`FREEZE_KEYS`).

With 2**20 keys an import of 1M purchases peaked at 248 MiB; with 2**19 and a
32 MiB page cache, at 179 MiB for the same CPU time (issue 10's limit: 200 MiB).
"""

DEFAULT_FROZEN_KEYS = 1 << 22
"""Keys held in the sorted array (32 MiB) before every key moves to a temporary file.

The file costs: at 1M purchases, writing half the keys to it and looking each
later batch up in it took 2.0 of 2.3 CPU seconds of counting; with the array
counting takes 0.4 s.
"""

FREEZE_KEYS = 1 << 17
"""With numpy: keys held in the set before they move into the sorted array (a set of
2**19 keys is 32 MiB; at 1M purchases the import peaked 26 MiB lower with this)."""

_SQL_VARIABLES = 900


def _can_freeze(fast: bool | None) -> bool:
    """Whether the sorted array may be used: ``fast`` allows it and numpy is installed
    (imported only at the first freeze, so a small file never pays for it)."""
    if fast is False:
        return False
    found = importlib.util.find_spec("numpy") is not None
    if fast and not found:
        raise ImportError("fast: numpy is not installed (pip install 'crmcore[fast]')")
    return found


class OccurrenceCounter:
    """Numbers each key by how often it was seen before: 1, 2, 3... in stream order.

    Use it as a context manager (or call :meth:`close`) so the temporary file,
    if one was needed, is removed.
    """

    def __init__(self, *, memory_keys: int = DEFAULT_MEMORY_KEYS,
                 frozen_keys: int = DEFAULT_FROZEN_KEYS, fast: bool | None = None) -> None:
        """``fast``: None uses numpy's sorted array when numpy is installed, False never
        (the reference: set, then file), True requires numpy."""
        if memory_keys < 1:
            raise ValueError(f"memory_keys: {memory_keys!r} must be at least 1")
        if frozen_keys < 0:
            raise ValueError(f"frozen_keys: {frozen_keys!r} must be at least 0")
        self.memory_keys = memory_keys
        self.frozen_keys = frozen_keys
        self._once: set[int] = set()
        self._more: dict[int, int] = {}
        self._frozen: Any = None
        """Sorted numpy int64 array of keys seen (once or more) moved out of ``_once``."""
        self._freezes = _can_freeze(fast)
        self._room = min(memory_keys, FREEZE_KEYS) if self._freezes else memory_keys
        """Keys in ``_once`` and ``_more`` before some move out."""
        self._spilled: sqlite3.Connection | None = None
        self._path: str | None = None

    def number(self, keys: Sequence[int]) -> list[int]:
        """The occurrence number of each key (a batch, in order), counting earlier batches."""
        earlier = self._spilled_counts(keys) if self._spilled is not None else {}
        if self._frozen is not None:
            earlier.update(self._frozen_seen(keys))
        once, more = self._once, self._more
        distinct = set(keys)
        if len(distinct) == len(keys) and not earlier and distinct.isdisjoint(once) and \
                distinct.isdisjoint(more):  # all first seen: the common case, in bulk
            once |= distinct
            numbers = [1] * len(keys)
        else:
            numbers = self._counted(keys, earlier)
        if len(once) + len(more) > self._room:
            self._make_room()
        return numbers

    def _frozen_seen(self, keys: Sequence[int]) -> dict[int, int]:
        """``{key: 1}`` for the keys of the frozen array not counted in ``_more`` (a key
        in ``_more`` has its count there)."""
        np, frozen = importlib.import_module("numpy"), self._frozen
        if not len(frozen):
            return {}
        wanted = np.sort(np.asarray(keys, dtype=np.int64))  # in order: fewer cache misses
        at = np.searchsorted(frozen, wanted)
        at[at == len(frozen)] = 0
        hits = wanted[frozen[at] == wanted].tolist()
        more = self._more
        return {key: 1 for key in hits if key not in more}

    def _make_room(self) -> None:
        """Freeze the keys seen once into the sorted array while it has room, else spill."""
        frozen = 0 if self._frozen is None else len(self._frozen)
        if not self._freezes or self._spilled is not None or \
                frozen + len(self._once) > self.frozen_keys or len(self._more) > self.memory_keys:
            self._spill()
            return
        if not self._once:
            return  # the repeats in _more have room until memory_keys
        np = importlib.import_module("numpy")
        new = np.fromiter(self._once, dtype=np.int64, count=len(self._once))
        new.sort()
        self._frozen = new if self._frozen is None else \
            np.insert(self._frozen, np.searchsorted(self._frozen, new), new)
        self._once = set()

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
        if self._frozen is not None:  # before _more, whose counts replace the 1s
            self._spilled.executemany(upsert, ((key, 1) for key in self._frozen.tolist()))
            self._frozen = None
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
        self._frozen = None

    def __enter__(self) -> OccurrenceCounter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
