"""The grading metrics, value ranks and lifecycle evidence as Ibis expressions.

One expression serves every engine Ibis compiles to (DuckDB, PostgreSQL,
SQLite, MySQL/MariaDB, Spark...): the engine aggregates the purchases and
only one row per customer leaves it. The input is a table of purchases with
the columns

``customer_id`` (text), ``at`` (timestamp: naive UTC, or with a time zone),
``amount_cents`` (integer hundredths) and optionally ``cost_cents``
(integer hundredths, NULL when unknown);

and optionally a table of customers with ``customer_id`` and
``acquired_at`` (NULL when unknown), so customers who bought nothing are
graded too. The semantics are exactly those of
:func:`crmcore.grading.compute_metrics` (strict ``at < as_of``, a calendar
window, UTC purchase days, money summed in integer cents),
:func:`crmcore.grading.rank_cut` (competition ranks: a tie takes the better
grade; count cut-offs ``floor(c * N + 1/2)``, computed in integers) and the
lifecycle rules' purchase rhythm (the median gap between purchase days).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from crmcore.errors import ConfigError
from crmcore.grading.metrics import window_start
from crmcore.grading.rank import Basis, RankCut
from crmcore.grading.rfm import QUINTILES
from crmcore.i18n import tr

SECONDS_PER_DAY = 86_400
"""Seconds in a UTC day."""

METRIC_COLUMNS = ("customer_id", "revenue_cents", "profit_cents", "transactions", "frequency",
                  "first_day", "last_day", "recency_days", "tenure_days")
"""The columns :func:`grading_metrics` returns (days are UTC days since 1970-01-01)."""

EVIDENCE_COLUMNS = ("customer_id", "first_purchase_at", "last_purchase_at", "purchase_days",
                    "repeat_days", "rhythm_days")
"""The columns :func:`lifecycle_evidence` returns."""

PURCHASE_COLUMNS = ("customer_id", "at", "amount_cents")
"""The columns a purchases table must have (``cost_cents`` is optional)."""


def check_columns(table: ir.Table, wanted: Sequence[str], key: str) -> None:
    """Raise :class:`ConfigError` naming ``key`` when ``table`` lacks one of ``wanted``."""
    missing = [name for name in wanted if name not in table.columns]
    if missing:
        raise ConfigError(tr("{key}: column {column!r} is missing (columns: {columns})").format(
            key=key, column=missing[0], columns=", ".join(table.columns)))


def moment(column: ir.Value, when: datetime) -> ir.Value:
    """``when`` as a literal of ``column``'s timestamp type (UTC when the column is naive)."""
    zone = column.type().timezone if column.type().is_timestamp() else None
    utc = when.astimezone(UTC)
    if zone is None:
        return ibis.literal(utc.replace(tzinfo=None), type=dt.Timestamp())
    return ibis.literal(utc, type=dt.Timestamp(timezone="UTC"))


def purchase_day(column: ir.Value) -> ir.Value:
    """A timestamp's UTC date, per row (cheap in every engine); see :func:`day_number`.

    A column with a time zone is read in the session's zone, which Ibis sets
    to UTC when it connects to DuckDB or PostgreSQL.
    """
    value: Any = column
    return value.date()


def engine_of(expression: ir.Expr) -> str | None:
    """The name of the backend ``expression`` reads from (``"postgres"``...), None when its
    tables are bound to none."""
    try:
        return str(expression._find_backend().name)
    except Exception:  # unbound tables: compiled for whatever engine runs them
        return None


@ibis.udf.scalar.builtin(name="date_mi")  # type: ignore[untyped-decorator]
def _date_mi(later: dt.Date, earlier: dt.Date) -> dt.Int32:
    """PostgreSQL's ``date - date``: whole days between two dates, an integer."""


_EPOCH = ibis.date(1970, 1, 1)


def day_number(day: ir.Value) -> ir.IntegerValue:
    """A :func:`purchase_day` (or its min or max) as days since 1970-01-01.

    On PostgreSQL, the integer date difference (``date_mi``): Ibis's generic
    ``epoch_days`` there extracts the epoch of an interval as a numeric and
    divides it, several times dearer per customer row.
    """
    value: Any = day
    if engine_of(day) == "postgres":
        return _date_mi(value, _EPOCH).cast("int64")
    return value.epoch_days().cast("int64")


def utc_day(column: ir.Value) -> ir.IntegerValue:
    """The UTC day number (days since 1970-01-01) of a timestamp column."""
    return day_number(purchase_day(column))


def day_of(when: datetime) -> int:
    """The UTC day number of an aware datetime (as :func:`utc_day` computes it)."""
    return math.floor(when.astimezone(UTC).timestamp() // SECONDS_PER_DAY)


def cents(amount: ir.NumericValue) -> ir.IntegerValue:
    """An amount column as integer hundredths, rounded half-even (as crmcore does).

    Exact for decimal columns: one with at most two decimals is a whole number of
    hundredths, cast as it is where decimals are exact; rounded to it on SQLite, which
    keeps a declared decimal as a float (NUMERIC(10,2) 0.29 as 0.28999..., which a cast
    truncates to 28), and where the engine is not known yet (unbound tables). A float
    column is first taken to the nearest hundredth (floats cannot hold ties exactly).
    """
    kind = amount.type()
    if kind.is_integer():
        return (amount * 100).cast("int64")  # exact: nothing to round
    exact = engine_of(amount) not in (None, "sqlite")
    if kind.is_decimal() and kind.scale is not None and kind.scale <= 2 and exact:
        return (amount * 100).cast("int64")  # a whole number of hundredths already
    if kind.is_decimal() and kind.scale is not None and kind.scale <= 2:
        whole: Any = (amount * 100).round()
        return whole.cast("int64")
    scaled: Any = amount * 100
    floor: Any = scaled.floor()
    rest: Any = scaled - floor
    odd: Any = (floor % 2).abs() == 1
    up = (rest > 0.5) | ((rest == 0.5) & odd)
    return (floor + ibis.cases((up, 1), else_=0)).cast("int64")


AGGREGATES: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue_cents",), "profit": ("profit_cents",),
    "transactions": ("transactions",), "average_order_value": ("revenue_cents", "transactions"),
    "frequency": ("frequency",), "recency_days": ("last_day",), "tenure_days": ("first_day",),
}
"""The aggregates each of crmcore's metrics (:data:`crmcore.grading.METRICS`) is made of."""


def needed_aggregates(only: Collection[str] | None) -> frozenset[str]:
    """The aggregates the metrics ``only`` need (all when None); unknown names are refused."""
    if only is None:
        return frozenset(name for names in AGGREGATES.values() for name in names)
    unknown = sorted(set(only) - set(AGGREGATES))
    if unknown:
        raise ConfigError(tr("metric: {value!r} is not a metric (known: {known})").format(
            value=unknown[0], known=", ".join(AGGREGATES)))
    return frozenset(name for metric in only for name in AGGREGATES[metric])


def grading_metrics(purchases: ir.Table, *, as_of: datetime, window_months: int = 12,
                    customers: ir.Table | None = None,
                    only: Collection[str] | None = None) -> ir.Table:
    """One row per customer with the grading metrics as of ``as_of``, in integers.

    Purchases with ``at < as_of`` count; the window is the ``window_months``
    calendar months before ``as_of`` (see :func:`crmcore.grading.window_start`).
    ``revenue_cents``, ``transactions`` and ``frequency`` (distinct UTC
    purchase days) cover the window and are 0 without purchases in it;
    ``profit_cents`` sums ``amount - cost`` over the window's purchases with a
    known cost (NULL when none); ``recency_days`` counts from the last
    purchase ever, ``tenure_days`` from the first purchase or ``acquired_at``,
    whichever is earlier (NULL when unknown). With ``customers``, each of
    them gets a row, bought or not. ``only`` names the metrics wanted (see
    :data:`AGGREGATES`): the others' aggregates are not computed and their
    columns are NULL (a scheme ranking by revenue spares the engine the
    distinct purchase days).
    """
    wanted = needed_aggregates(only)
    check_columns(purchases, PURCHASE_COLUMNS, "purchases")
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ConfigError(tr("as_of: {value!r} must be a timezone-aware datetime").format(
            value=as_of))
    at = purchases["at"]
    start = window_start(as_of, window_months)
    before = purchases.filter(at < moment(at, as_of))
    before = before.mutate(day=purchase_day(before["at"]),
                           inside=before["at"] >= moment(at, start))
    inside = before["inside"]
    amount = before["amount_cents"]
    has_cost = "cost_cents" in purchases.columns
    measures: dict[str, Any] = {
        "revenue_cents": lambda: amount.sum(where=inside),
        "transactions": lambda: amount.count(where=inside),
        "frequency": lambda: before["day"].nunique(where=inside),
        "first_day": lambda: before["day"].min(),
        "last_day": lambda: before["day"].max(),
    }
    if has_cost:
        known = inside & before["cost_cents"].notnull()
        measures["profit_cents"] = lambda: (amount - before["cost_cents"]).sum(where=known)
    chosen = {name: make() for name, make in measures.items() if name in wanted}
    per_customer = before.group_by("customer_id").aggregate(
        **(chosen or {"transactions": measures["transactions"]()}))
    for name in ("first_day", "last_day"):
        if name in per_customer.columns:
            per_customer = per_customer.mutate(**{name: day_number(per_customer[name])})
    per_customer = per_customer.mutate(**{
        name: ibis.null("int64") for name in ("revenue_cents", "transactions", "frequency",
                                              "first_day", "last_day", "profit_cents")
        if name not in per_customer.columns})
    if customers is not None:
        per_customer = _with_customers(per_customer, customers, as_of)
    as_of_day = day_of(as_of)
    return per_customer.select(
        customer_id=per_customer["customer_id"],
        revenue_cents=per_customer["revenue_cents"].fill_null(0).cast("int64"),
        profit_cents=per_customer["profit_cents"].cast("int64"),
        transactions=per_customer["transactions"].fill_null(0).cast("int64"),
        frequency=per_customer["frequency"].fill_null(0).cast("int64"),
        first_day=per_customer["first_day"].cast("int64"),
        last_day=per_customer["last_day"].cast("int64"),
        recency_days=(as_of_day - per_customer["last_day"]).cast("int64"),
        tenure_days=(as_of_day - per_customer["first_day"]).cast("int64"),
    )


def _with_customers(per_customer: ir.Table, customers: ir.Table, as_of: datetime) -> ir.Table:
    """Every customer and every buyer; ``first_day`` takes acquisitions before ``as_of``."""
    check_columns(customers, ("customer_id",), "customers")
    if "acquired_at" in customers.columns:
        acquired = customers["acquired_at"]
        acquired_day = ibis.cases((acquired < moment(acquired, as_of), utc_day(acquired)),
                                  else_=ibis.null("int64"))
    else:
        acquired_day = ibis.null("int64")
    # one row per customer, its earliest acquisition (distinct(on=) compiles to FIRST(),
    # which PostgreSQL and MariaDB lack)
    rows = customers.select(customer_id=customers["customer_id"], acquired_day=acquired_day)
    known = rows.group_by("customer_id").aggregate(acquired_day=rows["acquired_day"].min())
    joined = known.outer_join(per_customer, "customer_id")
    left, right = joined["customer_id"], joined["customer_id_right"]
    first: Any = joined["first_day"]
    acquired_first: Any = joined["acquired_day"]
    earliest = ibis.cases((first.isnull(), acquired_first),
                          (acquired_first.isnull(), first),
                          (acquired_first < first, acquired_first), else_=first)
    return joined.select(
        customer_id=left.fill_null(right), revenue_cents=joined["revenue_cents"],
        profit_cents=joined["profit_cents"], transactions=joined["transactions"],
        frequency=joined["frequency"], first_day=earliest, last_day=joined["last_day"])


def value_ranks(table: ir.Table, value: str, cut: RankCut, *, prefix: str = "",
                higher_is_better: bool = True) -> ir.Table:
    """``table`` with the rank outcome of column ``value`` cut by ``cut``, in the engine.

    Adds ``{prefix}ahead`` (customers with a strictly better value: the
    competition rank minus one, so a tie takes the better grade) and
    ``{prefix}code`` (the grade index, 0 the best). Count basis: grade ``i``
    ends at rank ``floor(c_i * N + 1/2)`` (round half up, in integers);
    value-share basis: the value of everyone strictly ahead is below ``c_i``
    of the total. A NULL value, and a value <= 0 when ``cut.nonpositive_last``,
    takes the last grade. ``higher_is_better=False`` ranks lower values first
    (as RFM recency does).
    """
    check_columns(table, (value,), "value")
    ahead_name, code_name = f"{prefix}ahead", f"{prefix}code"
    if cut.basis is Basis.COUNT:
        ahead, code = count_rank(table, value, cut, higher_is_better=higher_is_better)
        return table.mutate(**{ahead_name: ahead, code_name: code})
    keyed: Any = _keyed(table, value, higher_is_better)
    ranked = table.mutate(**{ahead_name: _ahead(keyed)})
    keyed = _keyed(ranked, value, higher_is_better)
    ranked, passed = _share_passed(ranked, keyed, cut)
    return ranked.mutate(**{code_name: _code(keyed, cut, passed)})


def _keyed(table: ir.Table, value: str, higher_is_better: bool) -> Any:
    raw: Any = table[value]
    return raw if higher_is_better else -raw


def _ahead(keyed: Any) -> Any:
    """How many rows have a strictly greater ``keyed`` (NULLs last): the tie rule."""
    return ibis.rank().over(order_by=[keyed.isnull(), keyed.desc()]).cast("int64")


def _code(keyed: Any, cut: RankCut, passed: list[Any]) -> Any:
    """The grade index: cut-offs passed, or the last grade when not eligible."""
    eligible = keyed.notnull()
    if cut.nonpositive_last:
        eligible = eligible & (keyed > 0)
    code = passed[0]
    for step in passed[1:]:
        code = code + step
    return ibis.cases((eligible, code), else_=len(cut.shares)).cast("int64")


def count_rank(table: ir.Table, value: str, cut: RankCut, *, higher_is_better: bool = True
               ) -> tuple[ir.IntegerValue, ir.IntegerValue]:
    """The ``(ahead, code)`` expressions of a count-basis cut, for one ``select`` of ``table``.

    Window functions only: several axes (RFM) fit in one query without nesting.
    """
    if cut.basis is not Basis.COUNT:
        raise ConfigError(tr("basis: {value!r}: count_rank needs the count basis").format(
            value=cut.basis.value))
    keyed = _keyed(table, value, higher_is_better)
    ahead = _ahead(keyed)
    population: Any = keyed.isnull().count().over()
    passed = [ibis.cases((ahead >= _boundary(share, population), 1), else_=0)
              for share in cut.cumulative]
    return ahead, _code(keyed, cut, passed)


def _boundary(share: Fraction, population: Any) -> Any:
    """``floor(share * population + 1/2)`` in integers: ``(2pN + q) // 2q``."""
    p, q = share.numerator, share.denominator
    return ((population * (2 * p) + q) // (2 * q)).cast("int64")


def _share_passed(ranked: ir.Table, keyed: Any, cut: RankCut) -> tuple[ir.Table, list[Any]]:
    """Value-share basis: per cut-off, whether the positive value strictly ahead reaches it."""
    positive = ibis.cases((keyed > 0, keyed), else_=0)
    ranked = ranked.mutate(_key=keyed, _positive=positive)
    groups = ranked.filter(ranked["_key"].notnull()).group_by("_key").aggregate(
        _group=ranked["_positive"].sum())
    window = ibis.window(order_by=groups["_key"].desc(), preceding=None, following=0)
    groups = groups.mutate(_through=groups["_group"].sum().over(window),
                           _total=groups["_group"].sum().over())
    groups = groups.mutate(_amount_ahead=groups["_through"] - groups["_group"])
    joined = ranked.left_join(groups.select("_key", "_amount_ahead", "_total"), "_key")
    joined = joined.drop(*(name for name in joined.columns if name.endswith("_right")))
    ahead: Any = joined["_amount_ahead"]
    total: Any = joined["_total"].max().over()
    passed = []
    for share in cut.cumulative:
        p, q = share.numerator, share.denominator
        passed.append(ibis.cases((ahead * q >= total * p, 1), else_=0))
    return joined, passed


def rfm_codes(metrics: ir.Table, *, recency: str = "recency_days",
              frequency: str = "frequency", monetary: str = "revenue_cents") -> ir.Table:
    """``metrics`` with RFM scores ``r``, ``f``, ``m`` (1-5 by quintile) computed in the engine.

    As :func:`crmcore.grading.rfm_scores`: fewer days since the last purchase
    is better; never bought scores R 1, no purchase days F 1, no revenue M 1.
    """
    check_columns(metrics, (recency, frequency, monetary), "rules")
    columns: dict[str, Any] = {}
    axes = ((recency, "r", False, False), (frequency, "f", True, True),
            (monetary, "m", True, True))
    for column, name, nonpositive_last, better in axes:
        ahead, code = count_rank(metrics, column, RankCut(QUINTILES, Basis.COUNT,
                                                          nonpositive_last),
                                 higher_is_better=better)
        columns.update({f"{name}_ahead": ahead, f"{name}_code": code, name: 5 - code})
    return metrics.mutate(**columns)


def lifecycle_evidence(purchases: ir.Table, *, until: datetime) -> ir.Table:
    """One row per buyer with the lifecycle evidence of purchases before ``until``.

    ``first_purchase_at``, ``last_purchase_at``, ``purchase_days`` (distinct
    UTC days), ``repeat_days`` (purchase days after the first) and
    ``rhythm_days``: the median of the gaps in days between consecutive
    purchase days (the average of the middle two for an even number; NULL
    with fewer than two purchase days), as the lifecycle rules compute it.
    """
    check_columns(purchases, ("customer_id", "at"), "purchases")
    at = purchases["at"]
    before = purchases.filter(at < moment(at, until))
    summary = before.group_by("customer_id").aggregate(
        first_purchase_at=before["at"].min(), last_purchase_at=before["at"].max())
    days = before.select(customer_id=before["customer_id"],
                         day=utc_day(before["at"])).distinct()
    by_customer = ibis.window(group_by="customer_id", order_by="day")
    gaps = days.mutate(gap=days["day"] - days["day"].lag().over(by_customer))
    counted = gaps.group_by("customer_id").aggregate(purchase_days=gaps["day"].count())
    gaps = gaps.filter(gaps["gap"].notnull())
    in_order = ibis.window(group_by="customer_id", order_by="gap")
    gaps = gaps.mutate(position=ibis.row_number().over(in_order),
                       count=gaps["gap"].count().over(ibis.window(group_by="customer_id")))
    twice: Any = gaps["position"] * 2  # row_number() counts from 0
    count: Any = gaps["count"]
    odd = count % 2 == 1
    central = gaps.filter((odd & (twice == count - 1))
                          | (~odd & ((twice == count - 2) | (twice == count))))
    rhythm = central.group_by("customer_id").aggregate(
        rhythm_days=central["gap"].cast("float64").mean())
    joined = summary.join(counted, "customer_id").left_join(rhythm, "customer_id")
    return joined.select(
        customer_id=joined["customer_id"], first_purchase_at=joined["first_purchase_at"],
        last_purchase_at=joined["last_purchase_at"],
        purchase_days=joined["purchase_days"].cast("int64"),
        repeat_days=(joined["purchase_days"] - 1).cast("int64"),
        rhythm_days=joined["rhythm_days"])
