"""The batch writer against a row-by-row reference, on real SQLite files.

:class:`~crmcore.batch_import.BatchWriter` takes a bulk path when a batch is
all new, distinct rows of known customers, and goes row by row otherwise;
both must store what storing the rows one at a time would.
"""

from __future__ import annotations

import gc
import tempfile
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmcore import CRM, Customer, Transaction
from crmcore.batch_import import (
    RecordBatch,
    RowClashError,
    UnknownCustomerError,
    collector_paused,
)
from crmcore.unit_of_work import to_record

_DAY = datetime(2026, 3, 1, tzinfo=UTC)
_STORED = [Customer(id="C1", name="C1"),
           Transaction(id="T1", customer_id="C1", occurred_at=_DAY, amount=Decimal("5"))]

_entities = st.one_of(
    st.builds(lambda i, c, a: Transaction(id=i, customer_id=c, occurred_at=_DAY,
                                          amount=Decimal(a)),
              st.sampled_from(["T1", "T2", "T3", "T4"]), st.sampled_from(["C1", "C2", "C3"]),
              st.sampled_from(["5", "5.00", "6"])),
    st.builds(lambda c: Customer(id=c, name=c), st.sampled_from(["C1", "C2"])),
)


def _reference(entities: list[Customer | Transaction], create: bool
               ) -> tuple[dict[tuple[str, str], object], Counter[str], Counter[str]] | tuple[
                   type[Exception], int]:
    """Store one row at a time: the stored entities and counts, or the error and its line."""
    stored: dict[tuple[str, str], object] = {
        (type(e).__name__, e.id): e for e in _STORED}
    rows: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for line, entity in enumerate(entities, start=1):
        kind = type(entity).__name__
        rows[kind.lower()] += 1
        if isinstance(entity, Transaction) and ("Customer", entity.customer_id) not in stored:
            if not create:
                return UnknownCustomerError, line
            stored["Customer", entity.customer_id] = Customer(id=entity.customer_id,
                                                              name=entity.customer_id)
            rows["customer"] += 1
            new["customer"] += 1
        earlier = stored.get((kind, entity.id))
        if earlier is not None:
            if earlier != entity:
                return RowClashError, line
            continue
        stored[kind, entity.id] = entity
        new[kind.lower()] += 1
    return stored, rows, new


def _batches(entities: list[Customer | Transaction], size: int) -> list[RecordBatch]:
    return [RecordBatch([to_record(e) for e in entities[start:start + size]],
                        list(range(start + 1, start + 1 + len(entities[start:start + size]))))
            for start in range(0, len(entities), size)]


def _contents(crm: CRM) -> dict[tuple[str, str], object]:
    return {(type(e).__name__, e.id): e for cls in (Customer, Transaction) for e in crm.find(cls)}


@settings(max_examples=60, deadline=None)
@given(st.lists(_entities, max_size=12), st.integers(1, 5), st.booleans())
@example(  # a created customer, then the customer's own row in the same batch: was stored twice
    [Transaction(id="T2", customer_id="C2", occurred_at=_DAY, amount=Decimal("5")),
     Customer(id="C2", name="C2")], 2, True)
def test_batches_store_what_one_row_at_a_time_would(
        entities: list[Customer | Transaction], size: int, create: bool) -> None:
    expected = _reference(entities, create)
    with tempfile.TemporaryDirectory() as folder, \
            CRM.open("sqlite", path=str(Path(folder) / "crm.db")) as crm:
        crm.record_many(_STORED)
        before = _contents(crm)
        if len(expected) == 2:
            error, line = expected
            with pytest.raises(error) as raised:
                crm.import_records(_batches(entities, size), source="x",
                                   create_customers=create)
            assert getattr(raised.value, "line", None) == line
            assert _contents(crm) == before
            return
        stored, rows, new = expected
        report = crm.import_records(_batches(entities, size), source="x",
                                    create_customers=create)
        assert _contents(crm) == stored
        assert (+report.rows, +report.new) == (+rows, +new)


def test_the_collector_is_paused_in_the_block_and_as_it_was_after_it() -> None:
    def fail_inside() -> None:
        with collector_paused():
            assert not gc.isenabled()
            raise KeyError("inside")

    assert gc.isenabled()
    with pytest.raises(KeyError, match="inside"):
        fail_inside()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
