"""Open invoices read from the ERP's own tables, as receivables (M4).

:func:`erp_receivables` reads a mapping's ``[receivables]`` section
(:mod:`crmcore_plugins.erp.receivables_mapping`) through Ibis, one query per
table, and hands the rows to
:func:`crmcore.sales.receivables_import.receivables_from_rows`:

- only the documents the ``where`` filters keep count (the shipped mappings
  keep posted Odoo invoices and submitted ERPNext ones: drafts and cancelled
  documents never do);
- each customer is rolled up (Odoo: a child contact's invoice is its
  company's) and each currency stays its own: nothing is converted or summed;
- what is paid is the total less the open amount (``open``); an open credit
  note reduces the open amount of the invoice it reverses (``against``), and
  credit left over (no such open invoice, or another currency) is reported in
  :attr:`ErpReceivables.unapplied`, never stored as a negative invoice;
- the ERP keeps no payment date on the invoice, so unless the mapping names a
  ``paid_on`` column, what was paid counts as paid by ``as_of`` (the day the
  ERP is read), and invoices settled in full are kept apart
  (:attr:`ErpReceivables.settled`): they only update an invoice crmcore
  already stores (:mod:`crmcore_plugins.erp.receivables_store`).

A bad row is a :class:`~crmcore.errors.ValidationError` naming table, row id and
column (``account_move['7'].amount_residual``); a missing table or column a
:class:`~crmcore.errors.ConfigError` naming the mapping key. Nothing in the ERP
is written. Needs the ``pushdown`` extra (Ibis).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore.sales.receivables import Receivable
from crmcore.sales.receivables_import import receivables_from_rows
from crmcore_plugins.erp.mapping import ErpMapping
from crmcore_plugins.erp.receivables_mapping import InvoiceTable, ReceivablesMapping

__all__ = ["ErpReceivables", "erp_receivables"]


@attrs.frozen
class ErpReceivables:
    """What :func:`erp_receivables` read.

    ``receivables`` are the invoices with something open (or a known payment
    date); ``settled`` those paid in full with no payment date (paid on
    ``as_of``, as far as crmcore can tell); ``unapplied`` maps ``(customer,
    currency)`` to open credit no open invoice took; ``dated`` says whether
    the mapping names a ``paid_on`` column; ``table`` names the invoices'
    ``(table, id column, customer column)`` for messages.
    """

    receivables: tuple[Receivable, ...]
    settled: tuple[Receivable, ...]
    unapplied: Mapping[tuple[str, str], Decimal]
    dated: bool
    table: tuple[str, str, str]


def _rows(backend: Any, table_map: InvoiceTable, mapping: ReceivablesMapping,
          schema: str | None) -> list[dict[str, Any]]:
    """The documents of one table, filtered, with customer rolled up and currency as a code."""
    import ibis

    from crmcore_plugins.erp.purchases import _lookup_table, condition_filter, mapped_table

    table = mapped_table(backend, table_map.table, table_map.every_column(), table_map.key,
                         schema)
    for condition in table_map.where:
        table = table.filter(condition_filter(table, condition))
    base = table.select(
        _id=table[table_map.id].cast("string"), _customer=table[table_map.customer],
        amount=table[table_map.amount], open=table[table_map.open],
        _currency=table[table_map.currency], issued=table[table_map.issued],
        due=table[table_map.due],
        paid_on=table[table_map.paid_on] if table_map.paid_on else ibis.null("date"),
        against=(table[table_map.against].cast("string") if table_map.against
                 else ibis.null("string")))
    joined = base
    customer: Any = base["_customer"].cast("string")
    currency: Any = base["_currency"].cast("string")
    if mapping.roll_up is not None:
        owners = _lookup_table(backend, mapping.roll_up, schema, "_owner_key", "_owner")
        joined = joined.left_join(owners, base["_customer"] == owners["_owner_key"])
        customer = joined["_owner"].fill_null(customer)
    if mapping.currency_names is not None:
        names = _lookup_table(backend, mapping.currency_names, schema, "_code_key", "_code")
        joined = joined.left_join(names, base["_currency"] == names["_code_key"])
        currency = joined["_code"]
    found: list[dict[str, Any]] = joined.select(
        id=joined["_id"], customer=customer, currency=currency, amount=joined["amount"],
        open=joined["open"], issued=joined["issued"], due=joined["due"],
        paid_on=joined["paid_on"], against=joined["against"]).to_pyarrow().to_pylist()
    return found


def _money(row: Mapping[str, Any], field: str, table_map: InvoiceTable) -> Decimal:
    value = row[field]
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        raise ValidationError(f"{table_map.table}[{row['id']!r}].{getattr(table_map, field)}",
                              value, "is not an amount") from None


def _credits(backend: Any, mapping: ReceivablesMapping, schema: str | None
             ) -> dict[tuple[str | None, str, str], Decimal]:
    """Open credit per ``(invoice reversed, customer, currency)`` (amounts made positive)."""
    notes = mapping.credit_notes
    credit: dict[tuple[str | None, str, str], Decimal] = {}
    if notes is None:
        return credit
    for row in _rows(backend, notes, mapping, schema):
        left = abs(_money(row, "open", notes))
        if left:
            key = (row["against"] or None, str(row["customer"]), str(row["currency"]))
            credit[key] = credit.get(key, Decimal(0)) + left
    return credit


_FIELDS = {"id": "id", "customer_id": "customer", "amount": "amount", "currency": "currency",
           "issued_on": "issued", "due_on": "due", "paid_on": "paid_on",
           "paid_amount": "open"}
"""Receivable field: the row key of its value and the mapping field naming its column in
errors (what is paid is the total less the ``open`` column)."""


def _receivable(row: dict[str, Any], table_map: InvoiceTable, as_of: date) -> Receivable:
    """One invoice row (``open`` already reduced by credit) as a Receivable; errors name
    the table, the row id and the host column."""
    paid = _money(row, "amount", table_map) - row["open"]
    if paid and table_map.paid_on is None:
        issued = row["issued"]
        issued = issued.date() if isinstance(issued, datetime) else issued
        row = {**row, "paid_on": max(as_of, issued) if isinstance(issued, date) else as_of}
    values = {field: row[source] for field, source in _FIELDS.items()}
    values["paid_amount"] = paid
    try:
        return next(receivables_from_rows([values], {field: field for field in _FIELDS}))
    except ValidationError as error:
        field = error.field.removeprefix("rows[0].")
        column = getattr(table_map, _FIELDS.get(field, "id")) or field
        raise ValidationError(f"{table_map.table}[{row['id']!r}].{column}", error.value,
                              error.reason) from None


def erp_receivables(backend: Any, mapping: ErpMapping, *, as_of: date,
                    schema: str | None = None) -> ErpReceivables:
    """The open invoices of ``mapping``'s ``[receivables]`` section in ``backend``.

    ``as_of`` is the day the ERP is read (what is paid counts as paid by then,
    unless the mapping names a ``paid_on`` column); ``schema`` overrides the
    mapping's. See the module documentation for the rules.
    """
    receivables = mapping.receivables
    if receivables is None:
        raise ConfigError(tr("receivables: mapping {name!r} has no [receivables] section").format(
            name=mapping.name))
    schema = schema if schema is not None else mapping.schema
    invoices = receivables.invoices
    credit = _credits(backend, receivables, schema)
    found: list[Receivable] = []
    settled: list[Receivable] = []
    for row in _rows(backend, invoices, receivables, schema):
        left = _money(row, "open", invoices)
        key = (row["id"], str(row["customer"]), str(row["currency"]))
        taken = min(max(left, Decimal(0)), credit.get(key, Decimal(0)))
        if taken:
            credit[key] -= taken
        row["open"] = left - taken
        made = _receivable(row, invoices, as_of)
        (settled if not row["open"] and invoices.paid_on is None else found).append(made)
    unapplied: dict[tuple[str, str], Decimal] = {}
    for (_, customer, currency), amount in sorted(credit.items(), key=lambda item: item[0][1:]):
        if amount:
            unapplied[customer, currency] = unapplied.get((customer, currency),
                                                          Decimal(0)) + amount
    return ErpReceivables(tuple(found), tuple(settled), unapplied, invoices.paid_on is not None,
                          (invoices.table, invoices.id, invoices.customer))

