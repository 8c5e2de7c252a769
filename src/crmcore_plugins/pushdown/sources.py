"""Where the purchases live: an engine connection and a mapping that yields Ibis tables.

:func:`connect` opens an engine from a URL (``postgresql://``, ``sqlite:///``,
``duckdb:///``..., or a Parquet/CSV file or folder read by DuckDB, each file
a table named by its stem). :class:`MappedSource` turns an
:class:`~crmcore_plugins.erp.ErpMapping` into the tables
:mod:`crmcore_plugins.pushdown.metrics` reads: purchases with
``customer_id``, ``at`` (UTC), ``amount_cents`` (and ``cost_cents``), and
customers with ``customer_id`` and ``acquired_at``. Identifiers are always
quoted by Ibis, never pasted into SQL text. Every error is a
:class:`~crmcore.errors.ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.redaction import redacted_url
from crmcore_plugins.erp.joined import join_attributes
from crmcore_plugins.erp.mapping import ErpMapping, TableMapping, load_mapping
from crmcore_plugins.erp.purchases import condition_filter, erp_purchases, utc_timestamp

FILE_SUFFIXES = (".parquet", ".csv")
"""Files :func:`connect` reads with DuckDB (each one a table named by its stem)."""

_ALIASES = {"postgresql": "postgres", "mariadb": "mysql"}


def _missing_extra(key: str, scheme: str, error: ImportError) -> ConfigError:
    return ConfigError(tr("{key}: the {engine!r} engine is not installed ({missing}); pip "
                          "install 'crmcore[pushdown]'").format(
                              key=key, engine=scheme, missing=error.name or error))


def connect(url: str, *, key: str = "source.url") -> Any:
    """An Ibis backend for ``url``; :class:`ConfigError` naming ``key`` if it cannot connect.

    SQLAlchemy-style URLs (``postgresql+psycopg://``) are accepted. A SQLite
    or DuckDB database file must exist (nothing is created).
    """
    try:
        import ibis
    except ImportError as error:
        raise _missing_extra(key, "ibis", error) from error
    shown = redacted_url(url)
    files = _data_files(url)
    if files is not None:
        return _file_backend(files, key)
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ConfigError(tr("{key}: {value!r} is not a URL (postgresql://..., sqlite:///FILE, "
                             "duckdb:///FILE) nor a .parquet/.csv file or folder").format(
                                 key=key, value=shown))
    engine = scheme.split("+", 1)[0].lower()
    engine = _ALIASES.get(engine, engine)
    if engine in ("sqlite", "duckdb") and rest not in ("", "/:memory:"):
        path = Path(rest[1:] if rest.startswith("/") else rest)
        if not path.is_file():
            raise ConfigError(tr("{key}: {value!r}: database file {path!r} does not exist").format(
                key=key, value=shown, path=str(path)))
    try:
        return ibis.connect(f"{engine}://{rest}")
    except ImportError as error:
        raise _missing_extra(key, engine, error) from error
    except Exception as error:
        raise ConfigError(tr("{key}: cannot connect to {value!r}: {error}").format(
            key=key, value=shown, error=redacted_url(str(error)).strip())) from error


def _data_files(url: str) -> list[Path] | None:
    """The Parquet/CSV files ``url`` names (a file or a folder of them), or None."""
    if "://" in url and not url.startswith("file://"):
        return None
    path = Path(url.removeprefix("file://")).expanduser()
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in FILE_SUFFIXES)
    if path.suffix.lower() in FILE_SUFFIXES:
        return [path]
    return None


def _file_backend(files: list[Path], key: str) -> Any:
    try:
        import ibis

        backend = ibis.duckdb.connect()
    except ImportError as error:
        raise _missing_extra(key, "duckdb", error) from error
    if not files:
        raise ConfigError(tr("{key}: the folder holds no .parquet or .csv file").format(key=key))
    for path in files:
        if not path.is_file():
            raise ConfigError(tr("{key}: file {path!r} does not exist").format(key=key,
                                                                          path=str(path)))
        read = backend.read_parquet if path.suffix.lower() == ".parquet" else backend.read_csv
        try:
            read(path, table_name=path.stem)
        except Exception as error:
            raise ConfigError(tr("{key}: {error}").format(key=key, error=tr(
                "cannot read {path!r}: {error}").format(path=str(path), error=error))) from error
    return backend


@attrs.frozen
class MappedSource:
    """Purchases and customers of a host, read through an :class:`ErpMapping`.

    ``backend`` is an Ibis backend (see :func:`connect`).
    """

    backend: Any
    mapping: ErpMapping

    def _table(self, section: TableMapping) -> Any:
        try:
            table = (self.backend.table(section.table, database=self.mapping.schema)
                     if self.mapping.schema else self.backend.table(section.table))
        except Exception as error:
            raise ConfigError(tr("{key}: {value!r} is not a table of the source ({kind})").format(
                key=f"{section.key}.table", value=section.table,
                kind=type(error).__name__)) from error
        for key, column in section.every_column():
            if column not in table.columns:
                raise ConfigError(tr("{key}: column {column!r} is not in table {name!r} (columns: "
                                     "{columns})").format(key=key, column=column,
                                                          name=section.table,
                                                          columns=", ".join(table.columns)))
        for condition in section.where:
            table = table.filter(condition_filter(table, condition))
        return table

    def customers(self) -> Any:
        """One row per mapped customer: ``customer_id``, ``acquired_at`` and its attributes."""
        section = self.mapping.customers
        table = self._table(section)
        columns: dict[str, Any] = {"customer_id": table[section.columns["id"]].cast("string")}
        acquired = section.columns.get("acquired_at")
        if acquired is not None:
            columns["acquired_at"] = utc_timestamp(
                table[acquired], "customers.columns.acquired_at", self.mapping.time_zone)
        columns.update({name: table[column] for name, column in section.attributes.items()
                        if name not in columns})
        joined, others = join_attributes(self.backend, self.mapping, table)
        columns.update({name: column for name, column in others.items() if name not in columns})
        return joined.select(**columns)

    def purchases(self) -> Any:
        """One row per mapped purchase: ``customer_id``, ``at``, ``amount_cents`` (and cost).

        A mapping with a ``[purchases]`` section is computed by the ERP's rules
        (:func:`~crmcore_plugins.erp.erp_purchases`); otherwise from ``[transactions]``.
        """
        from crmcore_plugins.pushdown.metrics import cents

        if self.mapping.purchases is not None:
            return erp_purchases(self.backend, self.mapping)
        section = self.mapping.transactions
        table = self._table(section)
        named: Mapping[str, str] = section.columns
        columns: dict[str, Any] = {
            "customer_id": table[named["customer_id"]].cast("string"),
            "at": utc_timestamp(table[named["occurred_at"]],
                                "transactions.columns.occurred_at", self.mapping.time_zone),
            "amount_cents": cents(table[named["amount"]]),
        }
        if "cost" in named:
            columns["cost_cents"] = cents(table[named["cost"]])
        purchases = table.select(**columns)
        if section.require_customer:
            known = self.customers().select("customer_id")
            purchases = purchases.semi_join(known, "customer_id")
        return purchases


@attrs.frozen
class SourceSpec:
    """The ``[source]`` table: which mapping (``erp``) and where (``url``)."""

    erp: str
    url: str = attrs.field(repr=False)
    url_key: str = "source.url"

    def open(self) -> MappedSource:
        """Load the mapping and connect (errors name the mapping's keys or ``url_key``)."""
        mapping = load_mapping(self.erp)
        return MappedSource(connect(self.url, key=self.url_key), mapping)


def source_from_options(options: Options) -> SourceSpec:
    """Read a ``[source]`` table: ``erp`` (odoo, erpnext or a mapping file) and ``url``
    (or ``url_env``: an environment variable holding it)."""
    erp = options.text("erp")
    if erp.endswith(".toml"):
        erp = str(options.path("erp"))
    url = options.secret("url", required=True)
    assert url is not None
    files = _data_files(url)
    if files is not None and options.has("url") and not Path(url).is_absolute():
        url = str(options.path("url"))
    options.check_all_used()
    return SourceSpec(erp, url)
