"""crmcore's results as pandas and polars DataFrames and Arrow tables, and purchases back.

The form analysts and BI tools take. :func:`to_arrow`, :func:`to_pandas` and
:func:`to_polars` turn any of these into one row per record:

- ``grades``: :class:`~crmcore.grading.results.GradeResult` records or a
  :class:`~crmcore.grading.results.GradeTable`: ``customer_id, scheme, version, as_of,
  grade, proposed, previous, changed, value, explanation`` (its code) ``, run, id``;
- ``stages``: :class:`~crmcore.lifecycle.service.StageRow`: ``customer_id, name, stage,
  phase, since``;
- ``agenda``: :class:`~crmcore.policies.agenda.AgendaItem`: ``owner, kind, customer_id,
  subject, due_at, grade, why, escalation_step, escalation_holder``;
- ``retention``: :class:`~crmcore.lifecycle.measures.RetentionRow`: ``period, start, end,
  cohort, customers_at_start, churned, retained, won_back, churn_rate, retention_rate``;
- ``clv``: a CLV analysis (:class:`crmcore_plugins.clv.ClvAnalysis`): ``customer_id,
  frequency, recency, T, monetary_value, probability_alive, expected_purchases, clv``;
- ``transactions``: :class:`~crmcore.model.Transaction`: ``id, customer_id, occurred_at,
  amount, quantity, cost, reference``.

Times are ``timestamp[us, UTC]``, amounts ``decimal128(18, 2)`` (exact), missing
values null. An empty sequence needs ``kind=`` (one of :data:`KINDS`) for its columns.

Back from a frame (pandas, polars or Arrow, or anything speaking the Arrow C stream
interface): :func:`purchases_from_frame` gives the
:class:`~crmcore.grading.columns.TransactionColumns` grading and scoring read, without
an object per purchase; :func:`transactions_from_frame` yields checked
:class:`~crmcore.model.Transaction` entities for
:meth:`CRM.import_entities <crmcore.app.CRM.import_entities>`. A missing column, a null
where a value is required, a time without a time zone or a non-finite amount raises
:class:`~crmcore.errors.ValidationError` naming the column and the row.

Needs the ``dataframe`` extra (pandas, polars, pyarrow); without it the error says
what to install.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from crmcore.errors import MISSING, ConfigError, ValidationError
from crmcore.grading.columns import UNKNOWN_COST, TransactionColumns, to_cents
from crmcore.grading.results import GradeResult, GradeTable
from crmcore.i18n import tr
from crmcore.lifecycle.measures import RetentionRow
from crmcore.lifecycle.service import StageRow
from crmcore.model import Transaction
from crmcore.policies.agenda import AgendaItem

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow  # type: ignore[import-untyped,unused-ignore]

    from crmcore_plugins.clv import ClvAnalysis

EXTRA = "dataframe"
"""The optional extra these conversions need: ``pip install 'crmcore[dataframe]'``."""

Columns = dict[str, list[Any]]
"""Column name to values, one value per record: what every conversion goes through."""

# column types: "text", "int", "float", "bool", "time", "money"
_SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "grades": (("customer_id", "text"), ("scheme", "text"), ("version", "int"),
               ("as_of", "time"), ("grade", "text"), ("proposed", "text"),
               ("previous", "text"), ("changed", "bool"), ("value", "float"),
               ("explanation", "text"), ("run", "text"), ("id", "text")),
    "stages": (("customer_id", "text"), ("name", "text"), ("stage", "text"),
               ("phase", "text"), ("since", "time")),
    "agenda": (("owner", "text"), ("kind", "text"), ("customer_id", "text"),
               ("subject", "text"), ("due_at", "time"), ("grade", "text"), ("why", "text"),
               ("escalation_step", "int"), ("escalation_holder", "text")),
    "retention": (("period", "text"), ("start", "time"), ("end", "time"), ("cohort", "text"),
                  ("customers_at_start", "int"), ("churned", "int"), ("retained", "int"),
                  ("won_back", "int"), ("churn_rate", "float"),
                  ("retention_rate", "float")),
    "clv": (("customer_id", "text"), ("frequency", "int"), ("recency", "float"),
            ("T", "float"), ("monetary_value", "float"), ("probability_alive", "float"),
            ("expected_purchases", "float"), ("clv", "float")),
    "transactions": (("id", "text"), ("customer_id", "text"), ("occurred_at", "time"),
                     ("amount", "money"), ("quantity", "int"), ("cost", "money"),
                     ("reference", "text")),
}

KINDS: tuple[str, ...] = tuple(_SCHEMAS)
"""What :func:`to_arrow` converts: ``grades``, ``stages``, ``agenda``, ``retention``,
``clv`` and ``transactions``."""


def _require(module: str) -> Any:
    """Import ``module`` or raise ConfigError saying which extra brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(tr("DataFrames need {module}: pip install 'crmcore[{extra}]'").format(
            module=module, extra=EXTRA)) from None


# -- records to columns -------------------------------------------------------------------


def _grade_row(result: GradeResult) -> tuple[Any, ...]:
    return (result.customer_id, result.scheme, result.version, result.as_of, result.grade,
            result.proposed, result.previous, result.changed, result.value,
            result.explanation.code, result.run, result.id)


def _stage_row(row: StageRow) -> tuple[Any, ...]:
    return row.customer_id, row.name, row.stage, row.phase, row.since


def _agenda_row(item: AgendaItem) -> tuple[Any, ...]:
    step = item.recorded
    return (item.owner, item.kind.value, item.customer_id, item.subject, item.due_at,
            item.grade, item.why, None if step is None else step.step,
            None if step is None else step.to_owner)


def _retention_row(row: RetentionRow) -> tuple[Any, ...]:
    return (row.period.label, row.period.start, row.period.end, row.cohort,
            row.customers_at_start, row.churned, row.retained, row.won_back, row.churn_rate,
            row.retention_rate)


def _transaction_row(transaction: Transaction) -> tuple[Any, ...]:
    return (transaction.id, transaction.customer_id, transaction.occurred_at,
            transaction.amount, transaction.quantity, transaction.cost, transaction.reference)


_ROWS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {
    GradeResult: ("grades", _grade_row),
    StageRow: ("stages", _stage_row),
    AgendaItem: ("agenda", _agenda_row),
    RetentionRow: ("retention", _retention_row),
    Transaction: ("transactions", _transaction_row),
}


def _clv_columns(analysis: ClvAnalysis) -> Columns:
    summary = analysis.summary
    clv = analysis.clv
    values = [summary.customer_ids, summary.frequency, summary.recency, summary.T,
              summary.monetary_value, analysis.probability_alive, analysis.expected_purchases,
              [None] * len(summary) if clv is None else clv]
    return {name: [_finite_or_none(value) for value in column]
            for (name, _), column in zip(_SCHEMAS["clv"], values, strict=True)}


def _finite_or_none(value: Any) -> Any:
    """A numpy scalar as a Python value; NaN (a prediction not computed) as None."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def columns(records: Any, *, kind: str | None = None) -> tuple[str, Columns]:
    """The kind of ``records`` and their :data:`Columns` (see the module's table).

    ``records`` is a sequence of one record type, a
    :class:`~crmcore.grading.results.GradeTable` (a grading run's grades) or a CLV
    analysis; ``kind`` is needed only for an empty sequence, and checked otherwise.
    """
    if isinstance(records, GradeTable):
        records = [records.result(position) for position in range(len(records))]
    if type(records).__name__ == "ClvAnalysis":
        found, table = "clv", _clv_columns(records)
    else:
        rows = list(records)
        if not rows:
            if kind not in _SCHEMAS:
                raise ValidationError("kind", kind, tr(
                    "is not one of {known} (an empty sequence needs it)").format(
                    known=", ".join(KINDS)))
            return kind, {name: [] for name, _ in _SCHEMAS[kind]}
        entry = _ROWS.get(type(rows[0]))
        if entry is None or any(type(row) is not type(rows[0]) for row in rows):
            names = sorted({type(row).__name__ for row in rows})
            raise ValidationError("records", ", ".join(names), "are not all one of "
                                  "GradeResult, StageRow, AgendaItem, RetentionRow, "
                                  "Transaction, or a CLV analysis")
        found, to_row = entry
        values = [to_row(row) for row in rows]
        table = {name: [row[i] for row in values]
                 for i, (name, _) in enumerate(_SCHEMAS[found])}
    if kind is not None and kind != found:
        raise ValidationError("kind", kind, tr("does not match the records, which are "
                                                "{found}").format(found=found))
    return found, table


# -- columns to Arrow, pandas, polars ------------------------------------------------------


def _arrow_type(pa: Any, name: str) -> Any:
    return {"text": pa.string(), "int": pa.int64(), "float": pa.float64(),
            "bool": pa.bool_(), "time": pa.timestamp("us", tz="UTC"),
            "money": pa.decimal128(18, 2)}[name]


def to_arrow(records: Any, *, kind: str | None = None) -> pyarrow.Table:
    """``records`` (see :func:`columns`) as a :class:`pyarrow.Table` with typed columns."""
    pa = _require("pyarrow")
    found, table = columns(records, kind=kind)
    schema = pa.schema([(name, _arrow_type(pa, type_name))
                        for name, type_name in _SCHEMAS[found]])
    return pa.Table.from_pydict(table, schema=schema)


def to_pandas(records: Any, *, kind: str | None = None) -> pandas.DataFrame:
    """``records`` as a :class:`pandas.DataFrame` (times ``datetime64[us, UTC]``, amounts
    :class:`~decimal.Decimal`, nullable integers and booleans)."""
    pd = _require("pandas")
    nullable = {"int64": pd.Int64Dtype(), "bool": pd.BooleanDtype()}
    return to_arrow(records, kind=kind).to_pandas(
        types_mapper=lambda arrow_type: nullable.get(str(arrow_type)))


def to_polars(records: Any, *, kind: str | None = None) -> polars.DataFrame:
    """``records`` as a :class:`polars.DataFrame` (times ``Datetime('us', 'UTC')``, amounts
    ``Decimal(18, 2)``)."""
    pl = _require("polars")
    frame = pl.from_arrow(to_arrow(records, kind=kind))
    assert isinstance(frame, pl.DataFrame)
    return cast("polars.DataFrame", frame)


# -- frames back to purchases -------------------------------------------------------------


def frame_to_arrow(frame: Any) -> pyarrow.Table:
    """A pandas or polars DataFrame, an Arrow table or batch, or any object with the Arrow
    C stream interface, as a :class:`pyarrow.Table` (a pandas index is dropped)."""
    pa = _require("pyarrow")
    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    module = type(frame).__module__.partition(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(frame, preserve_index=False)
    if module == "polars":
        return frame.to_arrow()
    if hasattr(frame, "__arrow_c_stream__"):
        return pa.table(frame)
    raise ValidationError("frame", type(frame).__name__, "is not a pandas or polars "
                          "DataFrame nor an Arrow table")


def _column(table: pyarrow.Table, name: str, *, required: bool = True) -> Any:
    """Column ``name`` as one Arrow array; a null in a required column raises."""
    if name not in table.column_names:
        raise ValidationError("column", name, tr("is missing (columns: {columns})").format(
            columns=", ".join(table.column_names) or tr("none")))
    column = table.column(name).combine_chunks()
    if required and column.null_count:
        row = column.is_null().to_pylist().index(True)
        raise ValidationError(f"{name}[{row}]", MISSING, "is empty")
    return column


def _utc_micros(table: pyarrow.Table, name: str) -> Any:
    """A timestamp column as microseconds since the Unix epoch (a numpy int64 array)."""
    pa = _require("pyarrow")
    column = _column(table, name)
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise ValidationError(name, str(column.type), "is not a timestamp with a time zone "
                              "(localize it first, e.g. to UTC)")
    return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy()


def _cents(table: pyarrow.Table, name: str, *, required: bool = True) -> Any:
    """An amount column in cents (numpy int64): decimals exact and half-even, floats to the
    nearest cent, integers times 100; a null (when not required) is UNKNOWN_COST."""
    pa = _require("pyarrow")
    np = _require("numpy")
    column = _column(table, name, required=required)
    kind = column.type
    if pa.types.is_null(kind):  # all unknown (pandas keeps no type for an all-None column)
        return np.full(len(column), UNKNOWN_COST, dtype=np.int64)
    if pa.types.is_decimal(kind):
        values = [UNKNOWN_COST if amount is None else to_cents(amount)
                  for amount in column.to_pylist()]
        return np.asarray(values, dtype=np.int64)
    if pa.types.is_integer(kind):
        return column.cast(pa.int64()).fill_null(UNKNOWN_COST // 100).to_numpy() * 100
    if pa.types.is_floating(kind):
        floats = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        bad = ~np.isfinite(floats) & ~nulls
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"{name}[{row}]", float(floats[row]), "is not a finite amount")
        return np.where(nulls, UNKNOWN_COST, np.rint(np.where(nulls, 0, floats) * 100)
                        ).astype(np.int64)
    raise ValidationError(name, str(kind), "is not a decimal, integer or float column")


def purchases_from_frame(frame: Any, *, customer_id: str = "customer_id",
                         occurred_at: str = "occurred_at", amount: str = "amount",
                         cost: str | None = None) -> TransactionColumns:
    """Purchases of a frame (see :func:`frame_to_arrow`) as the columns grading and
    scoring read, customers in order of first appearance; the keywords name the columns.

    ``occurred_at`` must carry a time zone; ``cost`` (optional) may be null (unknown).
    """
    table = frame_to_arrow(frame)
    pa = _require("pyarrow")
    customers = _column(table, customer_id).cast(pa.string()).dictionary_encode()
    return TransactionColumns(
        ids=tuple(customers.dictionary.to_pylist()),
        customer=customers.indices.cast(pa.int64()).to_numpy(),
        at_us=_utc_micros(table, occurred_at),
        amount_cents=_cents(table, amount),
        cost_cents=None if cost is None else _cents(table, cost, required=False),
    )


def transactions_from_frame(frame: Any) -> Iterator[Transaction]:
    """The rows of a frame with the ``transactions`` columns (``id``, ``customer_id``,
    ``occurred_at``, ``amount``; ``quantity``, ``cost``, ``reference`` optional) as
    checked :class:`~crmcore.model.Transaction` entities, for
    :meth:`CRM.import_entities <crmcore.app.CRM.import_entities>`.

    A bad value raises :class:`~crmcore.errors.ValidationError` naming its row.
    """
    table = frame_to_arrow(frame)
    optional = [name for name in ("quantity", "cost", "reference") if name in table.column_names]
    for name in ("id", "customer_id", "amount"):
        _column(table, name)
    _utc_micros(table, "occurred_at")  # refuses naive times before any row is made
    for row, values in enumerate(table.select(["id", "customer_id", "occurred_at", "amount",
                                               *optional]).to_pylist()):
        fields = {key: value for key, value in values.items() if value is not None}
        for money in ("amount", "cost"):
            if money in fields and not isinstance(fields[money], Decimal):
                fields[money] = _decimal(fields[money], f"{money}[{row}]")
        try:
            yield Transaction(**fields)
        except ValidationError as error:
            raise ValidationError(tr("row {row}: {field}").format(row=row, field=error.field),
                                  error.value, error.reason) from None


def _decimal(value: object, field: str) -> Decimal:
    """A float or integer amount as a Decimal to the cent; non-finite raises."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field, value, "is not a finite amount")
    return Decimal(str(value)).quantize(Decimal("0.01"))


__all__ = [
    "EXTRA",
    "KINDS",
    "Columns",
    "columns",
    "frame_to_arrow",
    "purchases_from_frame",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "transactions_from_frame",
]
