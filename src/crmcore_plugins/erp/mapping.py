"""Declarative ERP mappings: which host tables and columns hold customers and transactions.

A mapping is a TOML document (see ``mappings/odoo.toml`` and
``mappings/erpnext.toml``)::

    name = "odoo"
    time_zone = "UTC"              # zone of naive timestamps and dates in the host tables

    [customers]
    table = "res_partner"
    where = [{ column = "customer_rank", op = ">", value = 0 }]
    organisation_when = [{ column = "is_company", op = "=", value = true }]

    [customers.columns]            # crmcore field = host column
    id = "id"
    name = "name"

    [customers.attributes]         # custom attribute = host column
    email = "email"                # or a column of another table:
    country = { via = "country_id", table = "res_country", key = "id", column = "code" }

    [transactions]
    table = "sale_order"
    where = [{ column = "state", op = "in", value = ["sale", "done"] }]

    [transactions.columns]
    id = "id"
    customer_id = "partner_id"
    occurred_at = "date_order"
    amount = "amount_total"

Reading a mapping checks its shape; every error is a
:class:`~crmcore.errors.ConfigError` naming the key (``customers.where[1].op``).
Whether the tables and columns exist is checked when an
:class:`~crmcore_plugins.erp.ErpSource` connects.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.validation import is_time_zone
from crmcore_plugins.erp.conditions import OPERATORS, Condition, read_conditions
from crmcore_plugins.erp.purchases_mapping import PurchasesMapping, purchases_from_dict
from crmcore_plugins.erp.receivables_mapping import ReceivablesMapping, receivables_from_dict

__all__ = ["BUILTIN_MAPPINGS", "OPERATORS", "Condition", "ErpMapping", "JoinedAttribute",
           "TableMapping",
           "load_mapping", "mapping_from_dict", "parse_mapping"]

CUSTOMER_FIELDS = ("id", "name", "acquired_at", "owner", "parent_id", "language", "time_zone")
"""Customer fields a mapping can fill from columns (``id`` and ``name`` are required)."""

TRANSACTION_FIELDS = ("id", "customer_id", "occurred_at", "amount", "quantity", "cost",
                      "reference")
"""Transaction fields a mapping can fill (``id``, ``customer_id``, ``occurred_at`` and
``amount`` are required)."""

BUILTIN_MAPPINGS = ("odoo", "erpnext")
"""Mappings shipped with crmcore, loadable by name."""

INVALID_ROW_POLICIES = ("raise", "skip")
"""What to do with a host row that makes no valid entity."""

@attrs.frozen
class JoinedAttribute:
    """A customer attribute held by another table: ``table.column`` of the row whose
    ``key_column`` equals the customer's ``via`` column (ERPNext: the country of the
    customer's primary address). ``key`` is where it was configured."""

    via: str
    table: str
    key_column: str
    column: str
    key: str


@attrs.frozen
class TableMapping:
    """Where one entity kind lives in the host: a table, its filters and column names.

    ``columns`` maps crmcore field names to host columns; ``attributes`` maps
    custom attribute names to host columns and ``joined`` to columns of other
    tables (customers only).
    ``organisation_when`` (customers only) are conditions that, all true, make
    a customer an organisation rather than a person; empty means the entity's
    default. ``key`` is the section name (``customers``).
    """

    key: str
    table: str
    columns: Mapping[str, str]
    where: tuple[Condition, ...] = ()
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    organisation_when: tuple[Condition, ...] = ()
    require_customer: bool = True
    joined: Mapping[str, JoinedAttribute] = attrs.field(factory=dict)

    def every_column(self) -> list[tuple[str, str]]:
        """``(config key, column)`` of every column of this table the mapping names."""
        found = [(f"{self.key}.columns.{field}", column) for field, column in self.columns.items()]
        found += [(f"{self.key}.attributes.{name}", column)
                  for name, column in self.attributes.items()]
        found += [(f"{joined.key}.via", joined.via) for joined in self.joined.values()]
        found += [(condition.key, condition.column)
                  for condition in (*self.where, *self.organisation_when)]
        return found


@attrs.frozen
class ErpMapping:
    """A whole mapping: customers, transactions and how to read the host's times.

    ``time_zone`` is the zone of timestamps without an offset and of plain
    dates in the host tables (Odoo stores UTC; ERPNext the site's zone).
    ``invalid_rows`` is ``"raise"`` (default) or ``"skip"`` (skipped rows are
    logged as warnings). ``purchases`` describes the in-engine purchases
    (:mod:`crmcore_plugins.erp.purchases_mapping`), None when not mapped;
    ``receivables`` the open invoices (:mod:`crmcore_plugins.erp.receivables_mapping`).
    """

    name: str
    customers: TableMapping
    transactions: TableMapping
    time_zone: str = "UTC"
    schema: str | None = None
    invalid_rows: str = "raise"
    purchases: PurchasesMapping | None = None
    receivables: ReceivablesMapping | None = None


def _column_table(options: Options, name: str, allowed: tuple[str, ...] | None,
                  required: tuple[str, ...]) -> dict[str, str]:
    raw = options.table(name, {})
    key = options.key(name)
    for field in required:
        if field not in raw:
            raise ConfigError(tr("{key}: is required (the column holding it)").format(
                key=f"{key}.{field}"))
    columns: dict[str, str] = {}
    for field, column in raw.items():
        if allowed is not None and field not in allowed:
            raise ConfigError(tr("{key}: is not a known field (known: {known})").format(
                key=f"{key}.{field}", known=", ".join(allowed)))
        if not isinstance(column, str) or not column:
            raise ConfigError(tr("{key}: {value!r} is not a column name").format(
                key=f"{key}.{field}", value=column))
        columns[field] = column
    return columns


def _table_mapping(data: Mapping[str, Any], key: str, fields: tuple[str, ...],
                   required: tuple[str, ...]) -> TableMapping:
    raw = data.get(key)
    if not isinstance(raw, Mapping):
        raise ConfigError(tr("{key}: is required (a table with 'table' and "
                             "'[{key}.columns]')").format(key=key))
    options = Options({k: v for k, v in raw.items()
                       if k not in ("where", "organisation_when")}, key)
    table = options.text("table")
    columns = _column_table(options, "columns", fields, required)
    is_customers = key == "customers"
    joined: dict[str, JoinedAttribute] = {}
    attributes: dict[str, str] = {}
    if is_customers:
        raw_attributes = options.table("attributes", {})
        joined = {name: _joined(value, f"{key}.attributes.{name}")
                  for name, value in raw_attributes.items() if isinstance(value, Mapping)}
        plain = Options({"attributes": {name: value for name, value in raw_attributes.items()
                                        if name not in joined}}, key)
        attributes = _column_table(plain, "attributes", None, ())
    require_customer = True if is_customers else options.flag("require_customer", True)
    options.check_all_used()
    where = read_conditions(raw.get("where", []), f"{key}.where")
    organisation_when: tuple[Condition, ...] = ()
    if "organisation_when" in raw:
        if not is_customers:
            raise ConfigError(tr("{key}: is only known for customers").format(
                key=f"{key}.organisation_when"))
        organisation_when = read_conditions(raw["organisation_when"], f"{key}.organisation_when")
    return TableMapping(key, table, columns, where, attributes, organisation_when,
                        require_customer, joined)


def _joined(raw: Mapping[str, Any], key: str) -> JoinedAttribute:
    options = Options(raw, key)
    joined = JoinedAttribute(options.text("via"), options.text("table"), options.text("key"),
                             options.text("column"), key)
    options.check_all_used()
    return joined


def mapping_from_dict(data: Mapping[str, Any], *, default_name: str = "erp") -> ErpMapping:
    """Build an :class:`ErpMapping` from a parsed TOML document."""
    top = Options({k: v for k, v in data.items()
                   if k not in ("customers", "transactions", "purchases", "receivables")}, "")
    name = top.text("name", default_name)
    zone = top.text("time_zone", "UTC")
    if not is_time_zone(zone):
        raise ConfigError(tr("{key}: {value!r} is not a time zone (e.g. 'Europe/Berlin')").format(
            key="time_zone", value=zone))
    schema = top.text("schema", None)
    invalid_rows = top.choice("invalid_rows", INVALID_ROW_POLICIES, "raise")
    top.check_all_used()
    customers = _table_mapping(data, "customers", CUSTOMER_FIELDS, ("id", "name"))
    transactions = _table_mapping(data, "transactions", TRANSACTION_FIELDS,
                                  ("id", "customer_id", "occurred_at", "amount"))
    purchases_raw = data.get("purchases")
    if purchases_raw is not None and not isinstance(purchases_raw, Mapping):
        raise ConfigError(tr("{key}: {value!r} is not a table").format(key="purchases",
                                                                       value=purchases_raw))
    purchases = None if purchases_raw is None else purchases_from_dict(purchases_raw)
    receivables_raw = data.get("receivables")
    if receivables_raw is not None and not isinstance(receivables_raw, Mapping):
        raise ConfigError(tr("{key}: {value!r} is not a table").format(key="receivables",
                                                                       value=receivables_raw))
    receivables = (None if receivables_raw is None
                   else receivables_from_dict(receivables_raw))
    return ErpMapping(name, customers, transactions, zone, schema, invalid_rows, purchases,
                      receivables)


def parse_mapping(text: str, *, source: str = "<text>", default_name: str = "erp") -> ErpMapping:
    """Read a mapping from TOML text; ``source`` names it in syntax errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("{source}: not valid TOML: {error}").format(
            source=source, error=error)) from error
    return mapping_from_dict(data, default_name=default_name)


def load_mapping(name_or_path: str | Path) -> ErpMapping:
    """A shipped mapping by name (:data:`BUILTIN_MAPPINGS`) or a mapping file by path."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_MAPPINGS:
        text = resources.files(__package__).joinpath("mappings", f"{name_or_path}.toml") \
            .read_text(encoding="utf-8")
        return parse_mapping(text, source=f"{name_or_path}.toml", default_name=name_or_path)
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        known = ", ".join(BUILTIN_MAPPINGS)
        raise ConfigError(tr("cannot read mapping {path!r} (shipped mappings: {known}): "
                             "{error}").format(path=str(path), known=known,
                                               error=error)) from error
    return parse_mapping(text, source=str(path), default_name=path.stem)
