"""Reading customers and transactions straight from an ERP's own tables.

:class:`ErpSource` compiles an :class:`~crmcore_plugins.erp.mapping.ErpMapping`
into SQLAlchemy Core queries over the host's tables (reflected, so names such
as ``"tabSales Invoice"`` are quoted correctly) and turns the rows into
:class:`~crmcore.Customer` and :class:`~crmcore.Transaction` objects as they
stream in. Nothing is copied into crmcore's tables and nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from crmcore.errors import ConfigError, StorageError, ValidationError
from crmcore.i18n import tr
from crmcore.model.activity import Transaction
from crmcore.model.customer import ContactPreferences, Customer, PartyKind
from crmcore.validation import is_time_zone
from crmcore_plugins.erp.mapping import (
    Condition,
    ErpMapping,
    JoinedAttribute,
    TableMapping,
    load_mapping,
)
from crmcore_plugins.erp.rule_rows import RulePurchase, ibis_backend, rule_purchases

if TYPE_CHECKING:
    import sqlalchemy as sa

_log = logging.getLogger(__name__)

_KIND = "_crmcore_kind"
_STREAM_ROWS = 2000


@attrs.frozen
class TransactionColumns:
    """Transactions as parallel lists, one entry per purchase, ordered by time then id.

    Cheaper than :class:`~crmcore.Transaction` objects for millions of rows,
    and the shape :func:`crmcore_plugins.clv.summarize_purchases` takes. Values
    are converted (ids to text, times to aware UTC, amounts to ``Decimal``)
    but rows are not validated as entities.
    """

    ids: list[str]
    customer_ids: list[str]
    occurred_at: list[datetime]
    amounts: list[Decimal]


# -- converting host values --------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _instant(value: Any, zone: ZoneInfo) -> datetime:
    """A host time as aware UTC: naive times and plain dates are in ``zone``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), zone).astimezone(UTC)
    raise ValueError(f"{type(value).__name__} is not a date or time")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a bool is not an amount")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _language(value: Any) -> str:
    """POSIX locale names as ERPs store them (``en_US``, ``sr@latin``) to tags (``en-US``)."""
    return _text(value).split("@")[0].split(".")[0].replace("_", "-")


def _attribute(value: Any) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# -- the source ----------------------------------------------------------------------------------


class ErpSource:
    """Customers and transactions read live from a host ERP's database through a mapping.

    ``engine`` is a SQLAlchemy URL or the host's own engine (left open by
    :meth:`close`). ``schema`` and ``time_zone`` override the mapping's.
    Connecting reflects the mapped tables and checks every mapped column:
    a missing table or column raises :class:`~crmcore.errors.ConfigError`
    naming the mapping key. A row that makes no valid entity raises
    :class:`~crmcore.errors.ValidationError` naming table, row and column
    (or, with ``invalid_rows = "skip"``, is logged and skipped).
    """

    def __init__(
        self,
        mapping: ErpMapping,
        engine: str | sa.URL | sa.Engine,
        *,
        schema: str | None = None,
        time_zone: str | None = None,
    ) -> None:
        from crmcore_plugins.storage_sql import create_sql_engine, require_sqlalchemy

        require_sqlalchemy()
        import sqlalchemy as sa

        self._rules_backend: Any = None  # an Ibis backend, opened for [purchases] rules

        zone_name = time_zone or mapping.time_zone
        if not is_time_zone(zone_name):
            raise ConfigError(tr("{field}: {value!r} {reason}").format(
                field="time_zone", value=zone_name, reason=tr("is not a time zone")))
        self.mapping = attrs.evolve(mapping, time_zone=zone_name,
                                    schema=schema if schema is not None else mapping.schema)
        self._zone = ZoneInfo(zone_name)
        self._owns_engine = not isinstance(engine, sa.Engine)
        self.engine: sa.Engine = engine if isinstance(engine, sa.Engine) else create_sql_engine(
            engine, key="url", sqlite_write_lock=False)
        try:
            with self.engine.connect() as connection:
                self._customers = self._reflect(connection, self.mapping.customers)
                self._transactions = self._reflect(connection, self.mapping.transactions)
                self._joined = {name: self._reflect_joined(connection, name, attribute)
                                for name, attribute in self.mapping.customers.joined.items()}
        except sa.exc.DBAPIError as error:
            self.close()
            raise StorageError(tr("cannot read the ERP database: {error}").format(
                error=error.orig)) from error
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_toml(
        cls,
        mapping: str | Path,
        engine: str | sa.URL | sa.Engine,
        *,
        schema: str | None = None,
        time_zone: str | None = None,
    ) -> ErpSource:
        """Connect with a shipped mapping (``"odoo"``, ``"erpnext"``) or a mapping file."""
        return cls(load_mapping(mapping), engine, schema=schema, time_zone=time_zone)

    def _reflect(self, connection: sa.Connection, table_mapping: TableMapping) -> sa.Table:
        return self._reflect_table(connection, table_mapping.table, table_mapping.key,
                                   table_mapping.every_column())

    def _reflect_joined(self, connection: sa.Connection, name: str, attribute: JoinedAttribute
                        ) -> Any:
        """The table of a joined attribute (its columns checked), aliased for its join."""
        table = self._reflect_table(connection, attribute.table, attribute.key,
                                    [(f"{attribute.key}.key", attribute.key_column),
                                     (f"{attribute.key}.column", attribute.column)])
        return table.alias(f"joined_{name}")

    def _reflect_table(self, connection: sa.Connection, name: str, key: str,
                       columns: list[tuple[str, str]]) -> sa.Table:
        """Table ``name``, reflected; a missing table or one of ``columns`` (``(config key,
        column)``) is a :class:`ConfigError` naming the key."""
        import sqlalchemy as sa

        schema = self.mapping.schema
        try:
            table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=connection)
        except sa.exc.NoSuchTableError:
            raise ConfigError((tr("{key}: table {name!r} does not exist in schema {schema!r}")
                               if schema else tr("{key}: table {name!r} does not exist")).format(
                key=f"{key}.table", name=name, schema=schema)) from None
        for column_key, column in columns:
            if column not in table.c:
                known = ", ".join(table.c.keys())
                raise ConfigError(tr("{key}: column {column!r} is not in table {name!r} (columns: "
                                     "{columns})").format(key=column_key, column=column,
                                                          name=name, columns=known))
        return table

    def close(self) -> None:
        """Close the pooled connections of an engine this source made (and the Ibis
        connection the ``[purchases]`` rules run on, if one was opened)."""
        backend = self._rules_backend
        if backend is not None:
            backend.disconnect()
            self._rules_backend = None
        if self._owns_engine:
            self.engine.dispose()

    def _rule_purchases(self, since: datetime | None, until: datetime | None
                        ) -> Iterator[RulePurchase]:
        """The purchases by the mapping's ``[purchases]`` rules (see
        :mod:`crmcore_plugins.erp.rule_rows`), on an Ibis connection to the same database."""
        if self._rules_backend is None:
            url = self.engine.url.render_as_string(hide_password=False)
            self._rules_backend = ibis_backend(url, key="url")
        return rule_purchases(self._rules_backend, self.mapping, since, until)

    def __enter__(self) -> ErpSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------------

    def _condition(self, table: sa.Table, condition: Condition) -> sa.ColumnElement[bool]:
        column = table.c[condition.column]
        value = condition.value
        comparisons: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
            "=": lambda: column == value,
            "!=": lambda: column != value,
            "<": lambda: column < value,
            "<=": lambda: column <= value,
            ">": lambda: column > value,
            ">=": lambda: column >= value,
            "in": lambda: column.in_(list(value)),  # type: ignore[arg-type]
            "not in": lambda: column.not_in(list(value)),  # type: ignore[arg-type]
            "is null": lambda: column.is_(None),
            "is not null": lambda: column.is_not(None),
        }
        return comparisons[condition.op]()

    def _filters(self, table: sa.Table, mapping: TableMapping) -> list[sa.ColumnElement[bool]]:
        return [self._condition(table, condition) for condition in mapping.where]

    def customers_query(self) -> sa.Select[Any]:
        """The SELECT that :meth:`customers` runs (for inspection or a host's own use)."""
        import sqlalchemy as sa

        mapping, table = self.mapping.customers, self._customers
        selected: list[Any] = [table.c[column].label(field)
                               for field, column in mapping.columns.items()]
        selected += [table.c[column].label(f"attribute:{name}")
                     for name, column in mapping.attributes.items()]
        if mapping.organisation_when:
            organisation = sa.and_(*(self._condition(table, c) for c in mapping.organisation_when))
            selected.append(sa.case((organisation, PartyKind.ORGANISATION.value),
                                    else_=PartyKind.PERSON.value).label(_KIND))
        source: sa.FromClause = table
        for name, other in self._joined.items():
            attribute = mapping.joined[name]
            on = table.c[attribute.via] == other.c[attribute.key_column]
            source = source.outerjoin(other, on)
            selected.append(other.c[attribute.column].label(f"attribute:{name}"))
        return sa.select(*selected).select_from(source).where(
            *self._filters(table, mapping)).order_by(table.c[mapping.columns["id"]])

    def _customer_ids(self) -> sa.Select[Any]:
        import sqlalchemy as sa

        mapping, table = self.mapping.customers, self._customers
        return sa.select(table.c[mapping.columns["id"]]).where(*self._filters(table, mapping))

    def _bound(self, column: sa.Column[Any], moment: datetime, days: int) -> Any:
        """``moment`` as the column's own kind of value, widened by ``days`` days."""
        import sqlalchemy as sa

        widened = moment + timedelta(days=days)
        if isinstance(column.type, sa.DateTime):
            if column.type.timezone:
                return widened
            return widened.astimezone(self._zone).replace(tzinfo=None)
        if isinstance(column.type, sa.Date):
            return widened.astimezone(self._zone).date()
        return None

    def transactions_query(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> sa.Select[Any]:
        """The SELECT of the ``[transactions]`` section (what :meth:`transactions` runs for a
        mapping without ``[purchases]``); time bounds are widened by a day.

        The exact ``since <= occurred_at < until`` test is made on the converted
        times (naive host times and dates are only comparable in their zone).
        """
        import sqlalchemy as sa

        mapping, table = self.mapping.transactions, self._transactions
        columns = mapping.columns
        statement = sa.select(*(table.c[column].label(field)
                                for field, column in columns.items()))
        statement = statement.where(*self._filters(table, mapping))
        if mapping.require_customer:
            statement = statement.where(table.c[columns["customer_id"]].in_(self._customer_ids()))
        when = table.c[columns["occurred_at"]]
        for moment, days, compare in ((since, -1, when.__ge__), (until, 1, when.__le__)):
            bound = None if moment is None else self._bound(when, moment, days)
            if bound is not None:
                statement = statement.where(compare(bound))
        return statement.order_by(when, table.c[columns["id"]])

    def _rows(self, statement: sa.Select[Any]) -> Iterator[sa.RowMapping]:
        """Stream rows (a server-side cursor where the driver has one)."""
        import sqlalchemy as sa

        try:
            with self.engine.connect() as connection:
                result = connection.execution_options(yield_per=_STREAM_ROWS).execute(statement)
                yield from result.mappings()
        except sa.exc.DBAPIError as error:
            raise StorageError(tr("cannot read the ERP database: {error}").format(
                error=error.orig)) from error

    def _invalid(self, mapping: TableMapping, row: Mapping[Any, Any], field: str, value: Any,
                 reason: str) -> None:
        column = mapping.columns.get(field) or mapping.attributes.get(field.split(".")[-1]) \
            or field
        row_id = row.get("id")
        error = ValidationError(f"{mapping.table}[{row_id!r}].{column}", value, reason)
        if self.mapping.invalid_rows == "skip":
            _log.warning("skipping a row that makes no valid entity: %s", error)
            return
        raise error

    def _optional_preference(self, row: Mapping[Any, Any], field: str) -> str | None:
        value = row.get(field)
        if value is None or value == "" or value is False:
            return None
        text = _language(value) if field == "language" else _text(value)
        try:
            if field == "language":
                ContactPreferences(language=text)
            else:
                ContactPreferences(time_zone=text)
        except ValidationError:
            _log.warning("%s[%r].%s: %r is not usable; left empty", self.mapping.customers.table,
                         row.get("id"), self.mapping.customers.columns[field], value)
            return None
        return text

    def customers(self) -> Iterator[Customer]:
        """The host's customers, as the mapping filters them, ordered by id.

        Preferences a host row holds in a form crmcore cannot use (an unknown
        time zone) are left empty with a warning rather than losing the customer.
        """
        mapping = self.mapping.customers
        for row in self._rows(self.customers_query()):
            try:
                acquired = row.get("acquired_at")
                customer = Customer(
                    id=_text(row["id"]),
                    name="" if row["name"] is None else _text(row["name"]),
                    kind=PartyKind(row[_KIND]) if _KIND in row else PartyKind.ORGANISATION,
                    owner=None if row.get("owner") is None else _text(row["owner"]),
                    acquired_at=None if acquired is None else _instant(acquired, self._zone),
                    parent_id=None if row.get("parent_id") is None else _text(row["parent_id"]),
                    attributes={name: _attribute(row[f"attribute:{name}"])
                                for name in (*mapping.attributes, *mapping.joined)
                                if row[f"attribute:{name}"] is not None},
                    preferences=ContactPreferences(
                        language=self._optional_preference(row, "language"),
                        time_zone=self._optional_preference(row, "time_zone")),
                )
            except ValidationError as error:
                self._invalid(mapping, row, error.field, error.value, error.reason)
                continue
            except ValueError as error:
                self._invalid(mapping, row, "acquired_at", row.get("acquired_at"), str(error))
                continue
            yield customer

    def _transaction_values(self, row: Mapping[Any, Any]) -> dict[str, Any] | None:
        """The converted fields of one row, or None when it was skipped as invalid."""
        mapping = self.mapping.transactions
        values: dict[str, Any] = {}
        converters: dict[str, Callable[[Any], Any]] = {
            "id": _text, "customer_id": _text, "reference": _text, "quantity": int,
            "occurred_at": lambda value: _instant(value, self._zone),
            "amount": _decimal, "cost": _decimal,
        }
        for field in mapping.columns:
            value = row[field]
            if value is None:
                if field in ("quantity", "cost", "reference"):
                    continue
                self._invalid(mapping, row, field, value, "is empty")
                return None
            try:
                values[field] = converters[field](value)
            except (ValueError, TypeError, InvalidOperation) as error:
                self._invalid(mapping, row, field, value, f"cannot be read: {error}")
                return None
        return values

    def transactions(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[Transaction]:
        """The host's transactions with ``since <= occurred_at < until``, by time then id.

        With ``require_customer`` (the default) only transactions of customers
        that :meth:`customers` yields are read.

        A mapping with a ``[purchases]`` section yields the purchases its ERP rules
        make instead, the very ones the pushdown grades (one per purchase document
        that counts: its customer rolled up, its amount converted to the company
        currency and net of credit notes; ``[transactions]`` is not read). They
        are computed by the pushdown's expression in the ERP's database, which
        needs the ``pushdown`` extra (:mod:`crmcore_plugins.erp.rule_rows`).
        """
        if self.mapping.purchases is not None:
            for bought in self._rule_purchases(since, until):
                try:
                    yield Transaction(id=bought.id, customer_id=bought.customer_id,
                                      occurred_at=bought.occurred_at, amount=bought.amount)
                except ValidationError as error:
                    self._invalid_purchase(bought, error)
            return
        mapping = self.mapping.transactions
        for row in self._rows(self.transactions_query(since, until)):
            values = self._transaction_values(row)
            if values is None or not _within(values["occurred_at"], since, until):
                continue
            try:
                transaction = Transaction(**values)
            except ValidationError as error:
                self._invalid(mapping, row, error.field, error.value, error.reason)
                continue
            yield transaction

    def transaction_columns(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> TransactionColumns:
        """Like :meth:`transactions`, as :class:`TransactionColumns` (no entity validation)."""
        columns = TransactionColumns([], [], [], [])
        if self.mapping.purchases is not None:
            for bought in self._rule_purchases(since, until):
                columns.ids.append(bought.id)
                columns.customer_ids.append(bought.customer_id)
                columns.occurred_at.append(bought.occurred_at)
                columns.amounts.append(bought.amount)
            return columns
        for row in self._rows(self.transactions_query(since, until)):
            values = self._transaction_values(row)
            if values is None or not _within(values["occurred_at"], since, until):
                continue
            columns.ids.append(values["id"])
            columns.customer_ids.append(values["customer_id"])
            columns.occurred_at.append(values["occurred_at"])
            columns.amounts.append(values["amount"])
        return columns


    def _invalid_purchase(self, bought: RulePurchase, error: ValidationError) -> None:
        """A purchase by the rules that makes no valid transaction (a negative order total):
        raised naming its document, or skipped with a warning (``invalid_rows = "skip"``)."""
        named = ValidationError(f"purchases[{bought.id!r}].{error.field}", error.value,
                                error.reason)
        if self.mapping.invalid_rows == "skip":
            _log.warning("skipping a purchase that makes no valid transaction: %s", named)
            return
        raise named from error


def _within(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment < until)
