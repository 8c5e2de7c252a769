"""Store the invoices read from an ERP, again and again, in one transaction (M4).

The ERP is read repeatedly (daily, say), and an invoice changes between
reads as it is paid or credited. :func:`import_erp_receivables` therefore:

- stores invoices crmcore does not have yet (an invoice already paid in full
  at its first read is left out: its days to pay are unknown);
- replaces a stored invoice whose paid amount or other content changed (a
  ``receivable.updated`` event each); the payment is dated on the day of the
  read that first saw it, so days to pay are as exact as the reads are
  frequent, and an unchanged paid amount keeps its stored date;
- leaves the rest as it is; all of it, or nothing, is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from crmcore.batch_import import BatchWriter, ImportReport, UnknownCustomerError, entity_batches
from crmcore.errors import ValidationError
from crmcore.events import ENTITY_IMPORTED, ENTITY_UPDATED, DomainEvent, entity_event
from crmcore.sales.receivables import RECEIVABLE, Receivable
from crmcore_plugins.erp.receivables import ErpReceivables

if TYPE_CHECKING:
    from crmcore.app import CRM
    from crmcore.unit_of_work import UnitOfWork

__all__ = ["ErpImport", "import_erp_receivables"]


@attrs.frozen
class ErpImport:
    """What one import stored: ``report`` counts the new invoices (``rows``, ``new``,
    ``skipped``: unchanged), ``updated`` the stored invoices replaced, ``left_out`` the
    invoices paid in full that crmcore never stored."""

    report: ImportReport
    updated: int
    left_out: int


def _sorted_out(work: UnitOfWork, read: ErpReceivables
                ) -> tuple[list[Receivable], list[Receivable], int, int]:
    """The new invoices, the changed ones, how many are unchanged and how many left out."""
    repository = work.repository(Receivable)
    fresh: list[Receivable] = []
    changed: list[Receivable] = []
    unchanged = left_out = 0
    settled = set(read.settled)
    for candidate in (*read.receivables, *read.settled):
        stored = repository.get(candidate.id)
        if stored is None:
            if candidate in settled:
                left_out += 1
            else:
                fresh.append(candidate)
            continue
        if not read.dated and stored.paid_amount == candidate.paid_amount:
            candidate = attrs.evolve(candidate, paid_on=stored.paid_on)
        if candidate == stored:
            unchanged += 1
        else:
            changed.append(candidate)
    return fresh, changed, unchanged, left_out


def import_erp_receivables(crm: CRM, read: ErpReceivables, *, source: str) -> ErpImport:
    """Store what :func:`~crmcore_plugins.erp.receivables.erp_receivables` read, in one
    transaction: new invoices added, changed ones replaced, or nothing at all.

    An invoice of a customer crmcore does not store raises
    :class:`~crmcore.errors.ValidationError` naming the ERP row and its customer column.
    """
    with crm.transaction() as work:
        fresh, changed, unchanged, left_out = _sorted_out(work, read)
        repository = work.repository(Receivable)
        for receivable in changed:
            version = repository.replace(receivable)
            work.emit(entity_event(ENTITY_UPDATED, receivable, at=crm.now(), version=version))
        writer = BatchWriter(work.session)
        try:
            for batch in entity_batches(enumerate(fresh, start=1)):
                writer.write(batch)
        except UnknownCustomerError as error:
            table, _, customer = read.table
            bad = fresh[error.line - 1]
            raise ValidationError(f"{table}[{bad.id!r}].{customer}", bad.customer_id,
                                  "is not a stored customer (import the ERP's customers "
                                  "first)") from None
        report = writer.report
        report.rows[RECEIVABLE.kind] += unchanged
        work.emit(DomainEvent(type=ENTITY_IMPORTED.format(kind=RECEIVABLE.kind),
                              occurred_at=crm.now(), subject=f"import:{source}",
                              data={"source": source, "rows": report.rows[RECEIVABLE.kind],
                                    "new": report.new[RECEIVABLE.kind],
                                    "updated": len(changed)}))
    return ErpImport(report, len(changed), left_out)
