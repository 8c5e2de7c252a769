"""The ``[receivables]`` part of a mapping: where the ERP keeps invoices and what is open (M4).

Read by :func:`crmcore_plugins.erp.receivables.erp_receivables`::

    [receivables]
    roll_up = { table = "res_partner", key = "id", column = "commercial_partner_id" }
    currency_names = { table = "res_currency", key = "id", column = "name" }  # optional

    [receivables.invoices]
    table = "account_move"
    id = "id"
    customer = "partner_id"
    amount = "amount_total"        # the invoice total
    open = "amount_residual"       # what is still unpaid
    currency = "currency_id"       # a code, or a key of currency_names
    issued = "invoice_date"
    due = "invoice_date_due"
    paid_on = "..."                # optional: the date of the last payment
    where = [{ column = "move_type", op = "=", value = "out_invoice" }]

    [receivables.credit_notes]     # optional: the same keys, and against
    against = "reversed_entry_id"  # the invoice it reverses

Reading checks the shape and names the key of every error; whether the
tables and columns exist is checked against the database when read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore_plugins.erp.conditions import Condition, read_conditions
from crmcore_plugins.erp.purchases_mapping import Lookup, _lookup

__all__ = ["InvoiceTable", "ReceivablesMapping", "receivables_from_dict"]

_REQUIRED = ("table", "id", "customer", "amount", "open", "currency", "issued", "due")
_OPTIONAL = ("paid_on", "against")


@attrs.frozen
class InvoiceTable:
    """One table of invoices (or credit notes) and the columns of each field.

    ``paid_on`` (the last payment's date) and ``against`` (credit notes only:
    the id of the invoice reversed) are optional column names; ``key`` is the
    section (``receivables.invoices``).
    """

    key: str
    table: str
    id: str
    customer: str
    amount: str
    open: str
    currency: str
    issued: str
    due: str
    where: tuple[Condition, ...] = ()
    paid_on: str | None = None
    against: str | None = None

    def every_column(self) -> list[tuple[str, str]]:
        """``(config key, column)`` of every column the table names."""
        named = [(field, getattr(self, field)) for field in (*_REQUIRED[1:], *_OPTIONAL)]
        return [(f"{self.key}.{field}", column) for field, column in named
                if column is not None] + [(c.key, c.column) for c in self.where]


@attrs.frozen
class ReceivablesMapping:
    """Invoices, the credit notes that reduce them, and how customers and currencies read.

    ``roll_up`` replaces a document's customer by the one it belongs to (Odoo:
    the commercial partner); ``currency_names`` turns a currency key into its
    code (Odoo: ``res_currency.name``), when the currency column holds a key.
    """

    invoices: InvoiceTable
    credit_notes: InvoiceTable | None = None
    roll_up: Lookup | None = None
    currency_names: Lookup | None = None


def _invoice_table(options: Options, name: str, *, credit_note: bool) -> InvoiceTable:
    inner = options.section(name)
    inner.refuse_unknown((*_REQUIRED, *_OPTIONAL, "where"))
    where = read_conditions(inner.raw("where") or [], inner.key("where"))
    fields = {field: inner.text(field) for field in _REQUIRED}
    optional = {field: inner.text(field, None) for field in _OPTIONAL}
    if optional["against"] is not None and not credit_note:
        raise ConfigError(tr("{key}: only credit notes reverse an invoice").format(
            key=inner.key("against")))
    inner.check_all_used()
    return InvoiceTable(options.key(name), where=where, **fields, **optional)


def receivables_from_dict(raw: Mapping[str, Any], key: str = "receivables"
                          ) -> ReceivablesMapping:
    """Read the ``[receivables]`` table of a mapping; every error names its key."""
    options = Options(raw, key)
    options.refuse_unknown(("invoices", "credit_notes", "roll_up", "currency_names"))
    if not isinstance(raw.get("invoices"), Mapping):
        raise ConfigError(tr("{key}.invoices: is required (a [{key}.invoices] table)").format(
            key=key))
    invoices = _invoice_table(options, "invoices", credit_note=False)
    credit_notes = (_invoice_table(options, "credit_notes", credit_note=True)
                    if "credit_notes" in raw else None)
    mapping = ReceivablesMapping(invoices, credit_notes, _lookup(options, "roll_up"),
                                 _lookup(options, "currency_names"))
    options.check_all_used()
    return mapping
