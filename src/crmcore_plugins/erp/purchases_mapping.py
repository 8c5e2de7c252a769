"""The ``[purchases]`` part of a mapping: how the ERP's documents make purchases in-engine.

It describes what the pushdown computes inside the ERP's database (see
:func:`crmcore_plugins.erp.erp_purchases`)::

    [purchases]
    roll_up = { table = "res_partner", key = "id", column = "commercial_partner_id" }
    company_currency = { table = "res_company", key = "id", column = "currency_id" }
    root_company = { table = "res_company", key = "id", parent_path = "parent_path" }

    [[purchases.orders]]          # documents that are purchases (several tables allowed)
    table = "sale_order"
    id = "id"
    customer = "partner_id"
    at = "date_order"
    amount = "amount_total"
    currency = "currency_id"      # optional: the document's currency
    company = "company_id"        # the document's company (company_currency as a table)
    where = [{ column = "state", op = "in", value = ["sale", "done"] }]

    [[purchases.credit_notes]]    # documents that net out of an earlier purchase
    table = "account_move"
    ...                           # the same keys, and optionally against = "return_against"

    [purchases.rates]             # the ERP's own rate table (or give one in Python)
    table = "res_currency_rate"
    currency = "currency_id"
    date = "name"
    rate = "rate"
    meaning = "per_company_unit"  # company amount = amount / rate (Odoo); or "company_per_unit"
    company = "company_id"        # optional: rates per company (NULL: any company's)

``root_company`` (Odoo 17 branches) makes a document of a branch company convert
with the rates and the currency of its root company: the first id of the
company's ``parent_path`` (``"1/5/"``: company 5 is a branch of root 1).
A document may instead carry its own rate (``rate = "conversion_rate"``:
company amount = amount × rate, as ERPNext stores it). Reading checks the shape
and names the key of every error; whether tables and columns exist is checked
against the database by :func:`crmcore_plugins.erp.check_purchases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore_plugins.erp.conditions import Condition, Scalar, read_conditions

RATE_MEANINGS = ("per_company_unit", "company_per_unit")
"""How a rate table's ``rate`` reads: units of the document currency per company-currency
unit (Odoo: divide), or company-currency units per document-currency unit (multiply)."""


@attrs.frozen
class Lookup:
    """A value taken from another table: ``table.column`` of the row whose ``key`` matches.

    ``key`` in messages is where the lookup was configured.
    """

    table: str
    key_column: str
    column: str
    key: str


@attrs.frozen
class DocumentMapping:
    """One table of documents (orders or credit notes) and the columns that matter.

    ``currency`` (the document's currency), ``rate`` (its own conversion
    rate, multiplied in), ``company`` (its company, for a company-currency
    lookup) and ``against`` (credit notes only: the purchase document's id it
    reverses) are optional column names. ``key`` is the section
    (``purchases.orders[0]``).
    """

    key: str
    table: str
    id: str
    customer: str
    at: str
    amount: str
    where: tuple[Condition, ...] = ()
    currency: str | None = None
    rate: str | None = None
    company: str | None = None
    against: str | None = None

    def every_column(self) -> list[tuple[str, str]]:
        """``(config key, column)`` of every column the document names."""
        named = {"id": self.id, "customer": self.customer, "at": self.at,
                 "amount": self.amount, "currency": self.currency, "rate": self.rate,
                 "company": self.company, "against": self.against}
        found = [(f"{self.key}.{field}", column) for field, column in named.items()
                 if column is not None]
        return found + [(condition.key, condition.column) for condition in self.where]


@attrs.frozen
class RateTable:
    """The ERP's rate table: the rate of ``currency`` valid from ``date`` on.

    With ``company`` (the column naming the company a rate belongs to; Odoo's
    ``company_id``), a document converts with its own company's rate, and with
    a rate of no company (NULL) only when its company has none on or before its
    date, as Odoo chooses (a company's rate wins over a newer shared one).
    """

    table: str
    currency: str
    date: str
    rate: str
    meaning: str = "per_company_unit"
    key: str = "purchases.rates"
    company: str | None = None

    def every_column(self) -> list[tuple[str, str]]:
        """``(config key, column)`` of every column the rate table names."""
        named = [(f"{self.key}.{field}", getattr(self, field))
                 for field in ("currency", "date", "rate")]
        return named + ([(f"{self.key}.company", self.company)] if self.company else [])


@attrs.frozen
class RootCompany:
    """Where a company's root is: the first id of its materialised path (Odoo's
    ``res_company.parent_path``, ``"1/5/"`` for branch 5 of root company 1).

    A company with no row or an empty path is its own root. ``key`` in messages
    is where it was configured.
    """

    table: str
    key_column: str
    path: str
    key: str = "purchases.root_company"

    def every_column(self) -> list[tuple[str, str]]:
        """``(config key, column)`` of every column the root company look-up names."""
        return [(f"{self.key}.key", self.key_column), (f"{self.key}.parent_path", self.path)]


@attrs.frozen
class PurchasesMapping:
    """Purchase documents, the credit notes that net out of them, and how money converts.

    ``company_currency`` is the currency that needs no rate: a fixed value,
    or a :class:`Lookup` through each document's ``company`` column. Without
    ``rates`` and without a document ``rate`` column, amounts are taken as
    they are. ``roll_up`` replaces a document's customer by the customer it
    belongs to (Odoo: the commercial partner), kept as it is when empty.
    ``root_company`` replaces each document's company by its root company for
    the rates and the company currency (Odoo 17 branches).
    """

    orders: tuple[DocumentMapping, ...]
    credit_notes: tuple[DocumentMapping, ...] = ()
    roll_up: Lookup | None = None
    company_currency: Scalar | Lookup | None = None
    rates: RateTable | None = None
    root_company: RootCompany | None = None


_DOCUMENT_KEYS = ("table", "id", "customer", "at", "amount", "currency", "rate", "company",
                  "against", "where")


def _lookup(options: Options, name: str) -> Lookup | None:
    raw = options.table(name, None)
    if raw is None:
        return None
    inner = Options(raw, options.key(name))
    lookup = Lookup(inner.text("table"), inner.text("key"), inner.text("column"),
                    options.key(name))
    inner.check_all_used()
    return lookup


def _document(options: Options, *, credit_note: bool) -> DocumentMapping:
    where = read_conditions(options.raw("where") or [], options.key("where"))
    fields = {name: options.text(name) for name in ("table", "id", "customer", "at", "amount")}
    optional = {name: options.text(name, None) for name in ("currency", "rate", "company")}
    against = options.text("against", None)
    if against is not None and not credit_note:
        raise ConfigError(tr("{key}: only credit notes reverse a document").format(
            key=options.key("against")))
    options.refuse_unknown(_DOCUMENT_KEYS)
    options.check_all_used()
    key = options.key("").rstrip(".")
    return DocumentMapping(key, fields["table"], fields["id"], fields["customer"], fields["at"],
                           fields["amount"], where, optional["currency"], optional["rate"],
                           optional["company"], against)


def _root_company(options: Options, documents: tuple[DocumentMapping, ...]
                  ) -> RootCompany | None:
    raw = options.table("root_company", None)
    if raw is None:
        return None
    inner = Options(raw, options.key("root_company"))
    root = RootCompany(inner.text("table"), inner.text("key"), inner.text("parent_path"),
                       options.key("root_company"))
    inner.check_all_used()
    for document in documents:
        if document.currency is not None and document.company is None:
            raise ConfigError(tr("{key}: is required (the root company is found through "
                                 "each document's company: {root})").format(
                                     key=f"{document.key}.company", root=root.key))
    return root


def _documents(options: Options, name: str, *, credit_note: bool) -> tuple[DocumentMapping, ...]:
    sections = options.sections(name)
    if sections is None:
        return ()
    return tuple(_document(section, credit_note=credit_note) for section in sections)


def purchases_from_dict(raw: Mapping[str, Any], key: str = "purchases") -> PurchasesMapping:
    """Read the ``[purchases]`` table of a mapping; every error names its key."""
    options = Options(raw, key)
    options.refuse_unknown(("orders", "credit_notes", "roll_up", "company_currency", "rates",
                            "root_company"))
    orders = _documents(options, "orders", credit_note=False)
    if not orders:
        raise ConfigError(tr("{key}.orders: is required (at least one [[{key}.orders]] "
                             "table)").format(key=key))
    credit_notes = _documents(options, "credit_notes", credit_note=True)
    if any(note.against for note in credit_notes) and len(orders) > 1:
        raise ConfigError(tr("{key}: 'against' needs exactly one orders table (there are "
                             "{count})").format(key=f"{key}.credit_notes", count=len(orders)))
    roll_up = _lookup(options, "roll_up")
    company: Scalar | Lookup | None
    given = options.raw("company_currency")
    if isinstance(given, Mapping):
        company = _lookup(options, "company_currency")
        for document in (*orders, *credit_notes):
            if document.currency is not None and document.company is None:
                raise ConfigError(tr("{key}: is required (company_currency is looked up "
                                     "through each document's company)").format(
                                         key=f"{document.key}.company"))
    elif given is None or isinstance(given, Scalar):
        company = given
    else:
        raise ConfigError(tr("{key}: {value!r} is not a value or a table").format(
            key=f"{key}.company_currency", value=given))
    rates: RateTable | None = None
    rates_raw = options.table("rates", None)
    if rates_raw is not None:
        inner = Options(rates_raw, f"{key}.rates")
        rates = RateTable(inner.text("table"), inner.text("currency"), inner.text("date"),
                          inner.text("rate"),
                          inner.choice("meaning", RATE_MEANINGS, "per_company_unit"),
                          f"{key}.rates", inner.text("company", None))
        inner.check_all_used()
        if rates.company is not None:
            for document in (*orders, *credit_notes):
                if document.currency is not None and document.company is None:
                    raise ConfigError(tr("{key}: is required (rates are per company: "
                                         "{rates})").format(key=f"{document.key}.company",
                                                            rates=f"{key}.rates.company"))
    for document in (*orders, *credit_notes):
        if document.currency is not None and document.rate is None and company is None:
            raise ConfigError(tr("{key}: is required when documents name a currency "
                                 "({currency})").format(key=f"{key}.company_currency",
                                                        currency=f"{document.key}.currency"))
    root = _root_company(options, (*orders, *credit_notes))
    options.check_all_used()
    return PurchasesMapping(orders, credit_notes, roll_up, company, rates, root)
