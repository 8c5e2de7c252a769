"""Purchases computed inside the ERP's database, by the ERP's own rules, as one Ibis table.

:func:`erp_purchases` compiles a mapping's ``[purchases]`` section
(:mod:`crmcore_plugins.erp.purchases_mapping`) into one Ibis expression with
the columns the pushdown reads (:mod:`crmcore_plugins.pushdown.metrics`):
``customer_id`` (text), ``at`` (timestamp) and ``amount_cents`` (integer
hundredths of the company currency, never negative). Inside the engine:

- each document's customer is rolled up (Odoo: a child contact's order counts
  for its commercial partner);
- amounts convert to the company currency: through the document's own rate,
  or the rate table's latest rate on or before the document's date, times the
  company currency's own rate on that date when it has one (Odoo's
  ``_get_conversion_rate``: amount × rate(company) / rate(document)); a branch
  company converts with its root company's rates and currency (Odoo 17; a
  document in the company's currency needs none, and its cents are exact
  for decimal columns; amounts are rounded to the cent half away from zero,
  which equals crmcore's half-even rounding for ERP totals, since they
  carry two decimals);
- credit notes net out of the purchase they reverse (``against``), or else of
  the customer's latest purchase at or before the credit note; a purchase
  refunded in full is no purchase; a credit note with no purchase to net
  against changes nothing (days are compared, so a credit note dated the day
  of an order nets out of it);
- only the documents the ``where`` filters keep count (cancelled and draft
  documents never do, in the shipped mappings).

Identifiers are quoted by Ibis, values bound as literals: nothing is pasted
into SQL text. Needs the ``pushdown`` extra (Ibis).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from crmcore.errors import ConfigError, ValidationError
from crmcore.i18n import tr
from crmcore_plugins.erp.company_rates import root_companies, valid_rates
from crmcore_plugins.erp.conditions import Condition, Scalar
from crmcore_plugins.erp.mapping import ErpMapping
from crmcore_plugins.erp.purchases_mapping import (
    DocumentMapping,
    Lookup,
    PurchasesMapping,
    RateTable,
    RootCompany,
)

PURCHASE_COLUMNS = ("customer_id", "at", "amount_cents")
"""The columns :func:`erp_purchases` yields."""

RATE_COLUMNS = ("currency", "date", "rate")
"""The columns a rate table given in Python must have (``rate`` read per
``purchases.rates.meaning``, per_company_unit when the mapping names none); an
optional ``company`` column makes its rates per company, as ``purchases.rates.company``."""

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda column, value: column == value,
    "!=": lambda column, value: column != value,
    "<": lambda column, value: column < value,
    "<=": lambda column, value: column <= value,
    ">": lambda column, value: column > value,
    ">=": lambda column, value: column >= value,
    "in": lambda column, value: column.isin(list(value)),
    "not in": lambda column, value: ~column.isin(list(value)),
    "is null": lambda column, _value: column.isnull(),
    "is not null": lambda column, _value: column.notnull(),
}


def condition_filter(table: Any, condition: Condition) -> Any:
    """The Ibis predicate of one mapping condition on ``table``.

    ``true``/``false`` compare with 1/0 in an integer column (MariaDB and
    SQLite keep booleans as small integers).
    """
    column = table[condition.column]
    value = condition.value
    if column.type().is_integer():
        value = (tuple(int(v) if isinstance(v, bool) else v for v in value)
                 if isinstance(value, tuple) else int(value) if isinstance(value, bool)
                 else value)
    return _COMPARE[condition.op](column, value)


def mapped_table(backend: Any, name: str, columns: Sequence[tuple[str, str]], key: str,
                 schema: str | None) -> Any:
    """Table ``name`` of ``backend`` after checking it has ``columns`` (``(key, column)``);
    a missing table or column is a :class:`ConfigError` naming the key."""
    try:
        table = (backend.table(name, database=schema) if schema else backend.table(name))
    except Exception as error:
        raise ConfigError((tr("{key}: table {name!r} does not exist in schema {schema!r} "
                              "({kind})") if schema else tr(
            "{key}: table {name!r} does not exist ({kind})")).format(
                key=f"{key}.table", name=name, schema=schema,
                kind=type(error).__name__)) from error
    for column_key, column in columns:
        if column not in table.columns:
            raise ConfigError(tr("{key}: column {column!r} is not in table {name!r} (columns: "
                                 "{columns})").format(key=column_key, column=column, name=name,
                                                      columns=", ".join(table.columns)))
    return table


def _documents(backend: Any, document: DocumentMapping, schema: str | None) -> Any:
    table = mapped_table(backend, document.table, document.every_column(), document.key, schema)
    for condition in document.where:
        table = table.filter(condition_filter(table, condition))
    return table


def utc_timestamp(column: Any, key: str, zone: str = "UTC") -> Any:
    """A date or time column as a timestamp the pushdown compares in UTC.

    Dates become midnight; a timestamp without an offset is read as UTC, so a
    mapping whose ``time_zone`` is not UTC is refused (:class:`ConfigError`
    naming ``time_zone``); ``key`` names the column's mapping key in errors.
    """
    import ibis.expr.datatypes as dt

    kind = column.type()
    if kind.is_date():
        return column.cast("timestamp")
    if not kind.is_timestamp():
        raise ConfigError(tr("{key}: column type {kind} is not a date or timestamp").format(
            key=key, kind=kind))
    if kind.timezone is None and zone != "UTC":
        raise ConfigError(tr("{key}: {value!r}: pushdown reads timestamps without an offset as "
                             "UTC; convert them in the mapping or store them in UTC").format(
                                 key="time_zone", value=zone))
    # one timestamp type whatever the column's precision (a union of tables needs it)
    return column if kind.scale is None else column.cast(dt.Timestamp(kind.timezone))


def _lookup_table(backend: Any, lookup: Lookup, schema: str | None, key_name: str,
                  value_name: str, *, text_key: bool = False) -> Any:
    """``lookup``'s table as two columns: its key (as text with ``text_key``) and the
    looked-up value (as text)."""
    table = mapped_table(backend, lookup.table, [(f"{lookup.key}.key", lookup.key_column),
                                                 (f"{lookup.key}.column", lookup.column)],
                         lookup.key, schema)
    key: Any = table[lookup.key_column]
    return table.select(**{key_name: key.cast("string") if text_key else key,
                           value_name: table[lookup.column].cast("string")})


def _rate_table(backend: Any, rates: RateTable | None, given: Any, schema: str | None) -> Any:
    """The rates as ``_rate_currency``, ``_rate_date``, ``_rate`` and ``_rate_company``
    (NULL: a rate of any company), from ``given`` or the mapping's rate table."""
    import ibis

    if given is not None:
        missing = [name for name in RATE_COLUMNS if name not in given.columns]
        if missing:
            raise ConfigError(tr("rates: column {column!r} is missing (a rate table has "
                                 "{columns})").format(column=missing[0],
                                                      columns=", ".join(RATE_COLUMNS)))
        table = given
        company = given["company"] if "company" in given.columns else None
    else:
        assert rates is not None
        found = mapped_table(backend, rates.table, rates.every_column(), rates.key, schema)
        owner = {"company": found[rates.company]} if rates.company else {}
        table = found.select(currency=found[rates.currency], date=found[rates.date],
                             rate=found[rates.rate], **owner)
        company = table["company"] if rates.company else None
    return table.select(_rate_currency=table["currency"].cast("string"),
                        _rate_date=table["date"].cast("date"),
                        _rate=table["rate"].cast("float64"),
                        _rate_company=(ibis.null("string") if company is None
                                       else company.cast("string")))


def _document_rows(backend: Any, document: DocumentMapping, mapping: PurchasesMapping,
                   rates: Any, schema: str | None, prefix: str, zone: str, *,
                   credit_note: bool) -> Any:
    """One row per document: ``_doc`` (``prefix`` and its id), ``_id``, ``customer_id``
    (rolled up), ``at``, ``_cents`` (company currency; never negative for credit notes),
    ``_factor`` (one unit of the amount in company currency; NULL when a rate is needed
    and none is valid), ``_currency`` and ``_against`` (credit notes).

    The look-ups are one chain of joins and one projection, so the SQL stays shallow.
    """
    import ibis

    table = _documents(backend, document, schema)
    at = utc_timestamp(table[document.at], f"{document.key}.at", zone)
    base = table.select(
        _id=table[document.id].cast("string"), _customer=table[document.customer], at=at,
        _day=at.cast("date"), _raw_amount=table[document.amount],
        _currency=(table[document.currency].cast("string") if document.currency
                   else ibis.null("string")),
        _rate_given=(table[document.rate].cast("float64") if document.rate
                     else ibis.null("float64")),
        _company=(table[document.company].cast("string") if document.company
                  else ibis.null("string")),
        _against=(table[document.against].cast("string").nullif("") if document.against
                  else ibis.null("string")))
    converts = document.rate is None and document.currency is not None
    if converts and mapping.root_company is not None and document.company is not None:
        base = _at_root_company(backend, base, mapping.root_company, schema)
    joined = base
    if mapping.roll_up is not None:
        owners = _lookup_table(backend, mapping.roll_up, schema, "_owner_key", "_owner")
        joined = joined.left_join(owners, base["_customer"] == owners["_owner_key"])
    company = mapping.company_currency
    companies: Any = None
    if converts and isinstance(company, Lookup):
        companies = _lookup_table(backend, company, schema, "_company_key", "_company_currency",
                                  text_key=True)
        joined = joined.left_join(companies, base["_company"] == companies["_company_key"])
    if converts:
        if rates is None:
            raise ConfigError(tr("{key}: converting needs purchases.rates (the ERP's rate table) "
                                 "or a rate table given in Python").format(
                                     key=f"{document.key}.currency"))
        valid = valid_rates(base, rates)
        joined = joined.left_join(valid, base["_id"] == valid["_rated_id"])
        own_rates = _own_currency_rates(base, companies, company, rates)
        joined = joined.left_join(own_rates, base["_id"] == own_rates["_own_id"])
    customer: Any = base["_customer"].cast("string")
    if mapping.roll_up is not None:
        customer = joined["_owner"].fill_null(customer)
    amount: Any = joined["_raw_amount"]
    factor: Any
    if document.rate is not None:
        factor = joined["_rate_given"]
        company_cents = _rounded_cents(amount, factor)
    elif not converts:
        factor = ibis.literal(1.0)
        company_cents = _rounded_cents(amount)
    else:
        rate: Any = joined["_rate"]
        own_rate: Any = joined["_own_rate"].fill_null(1.0)  # Odoo's rate when it has none
        per_company = mapping.rates is None or mapping.rates.meaning == "per_company_unit"
        same = joined["_currency"] == _own_currency(joined, company)
        factor = ibis.cases((same, ibis.literal(1.0)),
                            else_=(own_rate / rate) if per_company else (rate / own_rate))
        company_cents = ibis.cases((same, _rounded_cents(amount)),
                                   else_=_rounded_cents(amount, factor))
    return _named(joined.select(
        _doc=ibis.literal(prefix) + joined["_id"], _id=joined["_id"],
        _table=ibis.literal(document.table), _key=ibis.literal(document.key),
        _currency=joined["_currency"], customer_id=customer, at=joined["at"],
        _cents=company_cents.abs() if credit_note else company_cents, _factor=factor,
        _against=joined["_against"]), "documents")


def _own_currency(table: Any, company: Scalar | Lookup | None) -> Any:
    """The company currency of each row of ``table`` (looked up, or the fixed value)."""
    import ibis

    return (table["_company_currency"] if isinstance(company, Lookup)
            else ibis.literal(company).cast("string"))


def _at_root_company(backend: Any, base: Any, root: RootCompany, schema: str | None) -> Any:
    """``base`` with each ``_company`` replaced by its root company (itself when the
    company has no row or no path)."""
    companies = mapped_table(backend, root.table, root.every_column(), root.key, schema)
    roots = root_companies(companies, root)
    joined = base.left_join(roots, base["_company"] == roots["_root_key"])
    return _named(joined.select(*[name for name in base.columns if name != "_company"],
                                _company=joined["_root"].fill_null(joined["_company"])),
                  "rooted")


def _own_currency_rates(base: Any, companies: Any, company: Scalar | Lookup | None,
                        rates: Any) -> Any:
    """``_own_id`` and ``_own_rate``: the rate of each foreign-currency document's company
    currency on its day, as Odoo picks it (the earliest later rate when there is none by
    then); no row when the company currency has no rate at all (Odoo then takes 1).
    ``companies`` is the company-currency look-up (None: a fixed ``company``)."""
    owned = base if companies is None else base.left_join(
        companies, base["_company"] == companies["_company_key"])
    own = _own_currency(owned, company)
    foreign = owned.filter(owned["_currency"] != own).select(
        "_id", "_day", "_company", _own_currency=own)
    picked = valid_rates(foreign, rates, currency="_own_currency", name="_own_rate",
                         later=True)
    return picked.select(_own_id=picked["_rated_id"], _own_rate=picked["_own_rate"])


def _named(table: Any, name: str) -> Any:
    """``table`` as a named common table expression (``WITH``) of the query, not a nested
    subquery: the steps stay side by side, within SQLite's parser depth."""
    return table.alias(f"crmcore_{name}_{uuid.uuid4().hex[:8]}")


def _rounded_cents(amount: Any, factor: Any = None) -> Any:
    """Cents to the nearest cent, half away from zero: of ``amount`` as stored (exact for
    decimal columns), or of ``amount × factor`` (a conversion, in floating point).

    ERP totals carry the currency's two decimals, so no tie arises and this equals
    crmcore's half-even rounding; a plain ``ROUND`` also keeps SQLite (which stores
    decimals as floating point) from truncating ``20.29 × 100`` to 2028, and keeps the
    expression shallow enough for SQLite's parser.
    """
    if factor is None:
        kind = amount.type()
        if kind.is_decimal() and kind.scale is not None and kind.scale <= 2:
            from crmcore_plugins.pushdown.metrics import cents

            return cents(amount)  # a plain cast where decimals are exact
        return (amount * 100).round(0).cast("int64")
    return (amount.cast("float64") * factor * 100).round(0).cast("int64")


def check_rates(rows: Any) -> None:
    """Raise :class:`ValidationError` naming the first document whose currency has no rate
    on or before its date (the query runs in the engine and returns at most one row)."""
    missing = rows.filter(rows["_factor"].isnull()).select(
        "_table", "_id", "_key", "_currency", "at").limit(1).to_pyarrow().to_pylist()
    if missing:
        row = missing[0]
        raise ValidationError(f"{row['_table']}[{row['_id']!r}].currency", row["_currency"],
                              f"has no rate on or before {row['at']:%Y-%m-%d} "
                              f"({row['_key']})")


def erp_purchases(backend: Any, mapping: ErpMapping, *, rates: Any = None,
                  schema: str | None = None, check: bool = True, ids: bool = False) -> Any:
    """The purchases of ``mapping``'s ``[purchases]`` section as an Ibis table in ``backend``.

    ``rates`` is a rate table to use instead of the mapping's (an Ibis table
    with :data:`RATE_COLUMNS`); ``schema`` overrides the mapping's. With
    ``ids``, a first column ``id`` holds each purchase document's id as text
    (prefixed by its table and a colon when the mapping has several orders
    tables; see :func:`order_prefix`). With
    ``check`` (default), a document whose currency has no rate on its date
    raises :class:`~crmcore.errors.ValidationError` naming table, row and
    column (one small query); a missing table or column raises
    :class:`~crmcore.errors.ConfigError` naming the mapping key.
    """
    purchases = mapping.purchases
    if purchases is None:
        raise ConfigError(tr("purchases: mapping {name!r} has no [purchases] section").format(
            name=mapping.name))
    schema = schema if schema is not None else mapping.schema
    needs_rates = any(d.currency is not None and d.rate is None
                      for d in (*purchases.orders, *purchases.credit_notes))
    rate_table = (_rate_table(backend, purchases.rates, rates, schema)
                  if needs_rates and (rates is not None or purchases.rates is not None) else None)
    zone = mapping.time_zone
    orders = [_document_rows(backend, document, purchases, rate_table, schema,
                             order_prefix(purchases, document), zone, credit_note=False)
              for document in purchases.orders]
    notes = [_document_rows(backend, document, purchases, rate_table, schema,
                            f"{index}:", zone, credit_note=True)
             for index, document in enumerate(purchases.credit_notes)]
    shape = ("_doc", "_id", "_table", "_key", "_currency", "customer_id", "at", "_factor")
    everything = _union([rows.select(*shape) for rows in (*orders, *notes)])
    if check and needs_rates:
        check_rates(everything)
    order_rows = _union([rows.select("_doc", "customer_id", "at", "_cents")
                         for rows in orders])
    if not notes:
        return _finish(order_rows, ids=ids)
    note_rows = _union([rows.select("_doc", "customer_id", "at", "_cents", "_against")
                        for rows in notes])
    netted = _net(order_rows, note_rows, linked=any(n.against for n in purchases.credit_notes))
    return _finish(_named(netted, "netted"), ids=ids)


def order_prefix(purchases: PurchasesMapping, document: DocumentMapping) -> str:
    """What precedes a purchase document's id in :func:`erp_purchases`' ``id`` column:
    nothing with one orders table, else its table's name and a colon."""
    return "" if len(purchases.orders) == 1 else f"{document.table}:"


def _union(tables: list[Any]) -> Any:
    first, *rest = tables
    return first.union(*rest) if rest else first


def _net(orders: Any, notes: Any, *, linked: bool) -> Any:
    """Orders with each credit note's cents taken off the purchase it reverses."""
    import ibis

    targets = []
    if linked:
        by_link = notes.filter(notes["_against"].notnull())
        targets.append(by_link.select(_target=by_link["_against"],  # one orders table
                                      _credit=by_link["_cents"]))
        notes = notes.filter(notes["_against"].isnull())
    candidates = notes.select(_note=notes["_doc"], _note_customer=notes["customer_id"],
                              _note_at=notes["at"], _credit=notes["_cents"])
    paired = candidates.join(orders, (candidates["_note_customer"] == orders["customer_id"])
                             & (orders["at"].cast("date") <= candidates["_note_at"].cast("date")))
    latest = ibis.window(group_by="_note", order_by=[ibis.desc(paired["at"]),
                                                     ibis.desc(paired["_doc"])])
    paired = paired.mutate(_pick=ibis.row_number().over(latest))
    chosen = paired.filter(paired["_pick"] == 0)
    targets.append(chosen.select(_target=chosen["_doc"], _credit=chosen["_credit"]))
    credits = _union(targets).group_by("_target").aggregate(_credited=lambda t: t["_credit"].sum())
    netted = orders.left_join(credits, orders["_doc"] == credits["_target"])
    credited: Any = netted["_credited"]
    kept = netted.filter(credited.isnull() | (netted["_cents"] > credited))
    return kept.select("_doc", "customer_id", "at",
                       _cents=(kept["_cents"] - kept["_credited"].fill_null(0)))


def _finish(rows: Any, *, ids: bool) -> Any:
    named = {"id": rows["_doc"]} if ids else {}
    return rows.select(**named, customer_id=rows["customer_id"], at=rows["at"],
                       amount_cents=rows["_cents"].cast("int64"))
