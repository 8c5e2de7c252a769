"""Set-based batch writes for imports: one look-up and one insert per batch, not per row.

:class:`BatchWriter` stores batches of :class:`~crmcore.ports.StoredRecord`
inside one storage session (the caller's transaction, so a whole import is
still all or nothing). Per batch it asks the storage once which ids exist
(:meth:`~crmcore.ports.StorageSession.stored_ids`; the records of those that
do are then read to compare) and once which of the rows' customers exist,
then inserts the new rows with one
:meth:`~crmcore.ports.StorageSession.insert_many`. It remembers only the
customer ids it has seen, so memory is bounded by customers, not rows.

A row whose id is already stored (or earlier in the import) with equal
content is skipped; "equal" means equal as entities, so ``1200`` and
``1200.00`` are the same amount. Other content under the same id is a
:class:`RowClashError`.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import attrs

from crmcore.errors import DuplicateError, InvalidDataError, NotFoundError
from crmcore.model.registry import entity_type
from crmcore.ports import StorageSession, StoredRecord

DEFAULT_BATCH_SIZE = 20_000
"""Rows per batch of an import: large enough for set-based statements, small for memory."""

CUSTOMER_KIND = "customer"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (as it was, after it).

    An import batch is ~100,000 containers born and dropped together with no
    reference cycle among them; left on, the collector scans them again and
    again while they are made and stored (a third of the import's Python time).
    Pausing never loses memory: a cycle made meanwhile is found after the block.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@attrs.define
class ImportReport:
    """Counts of a batch write, per entity kind: rows seen and rows newly stored."""

    rows: Counter[str] = attrs.field(factory=Counter)
    new: Counter[str] = attrs.field(factory=Counter)

    @property
    def skipped(self) -> Counter[str]:
        """Rows already stored with identical content, per kind."""
        return self.rows - self.new


@attrs.frozen
class RecordBatch:
    """Records to store together, with where each came from.

    ``lines[i]`` is the file line of ``records[i]`` (or its 1-based position
    in the stream of entities), used in error messages.
    """

    records: Sequence[StoredRecord]
    lines: Sequence[int]


class UnknownCustomerError(NotFoundError):
    """A row names a customer that is neither stored nor earlier in the import."""

    def __init__(self, customer_id: str, line: int) -> None:
        self.line = line
        super().__init__(CUSTOMER_KIND, customer_id, "customer_id")


class RowClashError(DuplicateError):
    """A row's id is stored (or earlier in the import) with different content."""

    def __init__(self, kind: str, entity_id: str, line: int) -> None:
        self.line = line
        super().__init__(kind, entity_id)


def entity_batches(located: Iterable[tuple[int, Any]], batch_size: int = DEFAULT_BATCH_SIZE
                   ) -> Iterator[RecordBatch]:
    """Batches of the records of ``(line, entity)`` pairs."""
    from crmcore.unit_of_work import to_record

    records: list[StoredRecord] = []
    lines: list[int] = []
    for line, entity in located:
        records.append(to_record(entity))
        lines.append(line)
        if len(records) >= batch_size:
            yield RecordBatch(records, lines)
            records, lines = [], []
    if records:
        yield RecordBatch(records, lines)


def same_content(stored: StoredRecord, new: StoredRecord) -> bool:
    """Whether two records of one kind hold equal entities (``1200`` equals ``1200.00``)."""
    if dict(stored.body) == dict(new.body):
        return True
    from crmcore.serialization import structure

    cls = entity_type(new.kind).cls
    try:
        return bool(structure(stored.body, cls) == structure(new.body, cls))
    except InvalidDataError:
        return False


_kind = attrgetter("kind")


def _by_kind(records: Sequence[StoredRecord]) -> dict[str, Sequence[StoredRecord]]:
    """``records`` grouped by kind, in order (one group, not copied, when all are alike)."""
    if records and all(record.kind == records[0].kind for record in records):
        return {records[0].kind: records}
    groups: dict[str, list[StoredRecord]] = {}
    for record in records:
        groups.setdefault(record.kind, []).append(record)
    return dict(groups)


class BatchWriter:
    """Stores batches of records in one open storage session (see the module doc).

    A row that is not a customer must name a customer that is stored or
    came earlier in the import; otherwise :class:`UnknownCustomerError`, or,
    with ``create_customer``, the record it returns for that id is stored first.
    """

    def __init__(self, session: StorageSession, *,
                 create_customer: Callable[[str], StoredRecord] | None = None) -> None:
        self.session = session
        self.create_customer = create_customer
        self.report = ImportReport()
        self._known: set[str] = set()

    def write(self, batch: RecordBatch) -> list[int]:
        """Store the new records of ``batch``; return their positions in it."""
        with collector_paused():
            return self._write(batch)

    def _write(self, batch: RecordBatch) -> list[int]:
        records = batch.records
        ids: dict[str, list[str]] = {}
        for kind, kinds_records in _by_kind(records).items():
            ids[kind] = [record.id for record in kinds_records]
        stored = {kind: self._stored(kind, kinds_ids) for kind, kinds_ids in ids.items()}
        self._known.update(stored.get(CUSTOMER_KIND, ()))
        wanted = {r.customer_id for r in records if r.kind != CUSTOMER_KIND} - self._known
        if wanted:
            self._known.update(self.session.stored_ids(CUSTOMER_KIND, list(wanted)))
        if CUSTOMER_KIND in ids or wanted - self._known or any(stored.values()) or \
                any(len(set(kinds_ids)) != len(kinds_ids) for kinds_ids in ids.values()):
            inserts, positions = self._sorted_out(batch, stored)
        else:  # all new, all distinct, every customer known: the common case, in bulk
            inserts, positions = list(records), list(range(len(records)))
        self.session.insert_many(inserts)
        for kind, kinds_ids in ids.items():
            self.report.rows[kind] += len(kinds_ids)
        self.report.new.update(map(_kind, inserts))
        return positions

    def _stored(self, kind: str, ids: Sequence[str]) -> dict[str, StoredRecord]:
        """The stored records among ``ids``: one look-up of ids (none, the common case,
        reads no body), then the records of those found, to compare contents."""
        found = self.session.stored_ids(kind, ids)
        return self.session.get_many(kind, list(found)) if found else {}

    def _sorted_out(self, batch: RecordBatch, stored: dict[str, dict[str, StoredRecord]]
                    ) -> tuple[list[StoredRecord], list[int]]:
        """Row by row: the records to insert (bare customers first where asked), their
        positions; a repeat with equal content is skipped, other content raises."""
        fresh: dict[tuple[str, str], StoredRecord] = {}
        inserts: list[StoredRecord] = []
        positions: list[int] = []
        known = self._known
        for position, record in enumerate(batch.records):
            kind = record.kind
            if kind == CUSTOMER_KIND:
                known.add(record.id)
            elif record.customer_id not in known:
                created = self._missing(record.customer_id, batch.lines[position])
                # a later row of this customer in the batch compares with what was created
                fresh[CUSTOMER_KIND, created.id] = created
                inserts.append(created)
            key = (kind, record.id)
            earlier = fresh.get(key)
            if earlier is None:
                earlier = stored[kind].get(record.id)
            if earlier is not None:
                if not same_content(earlier, record):
                    raise RowClashError(kind, record.id, batch.lines[position])
                continue
            fresh[key] = record
            inserts.append(record)
            positions.append(position)
        return inserts, positions

    def _missing(self, customer_id: str, line: int) -> StoredRecord:
        if self.create_customer is None:
            raise UnknownCustomerError(customer_id, line)
        self._known.add(customer_id)
        self.report.rows[CUSTOMER_KIND] += 1
        return self.create_customer(customer_id)
