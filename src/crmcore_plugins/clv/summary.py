"""Per-customer sufficient statistics of the BG/NBD and Gamma-Gamma models.

:func:`summarize_purchases` reduces raw purchases (customer id, date, amount) to
one :class:`RfmSummary`: for every customer with a purchase on or before the
calibration end, the number of *repeat* transactions (``frequency``), the time
from the first to the last transaction (``recency``), the time from the first
transaction to the calibration end (``T``) and the mean value of the repeat
transactions (``monetary_value``).

A transaction is one customer-day: several purchases by one customer on the
same calendar day are merged into one transaction whose value is their sum.
Times are whole days divided by the required ``unit_days`` (``7.0`` for
weeks); ``T`` counts the days from the first purchase day to the calibration
end day (a customer whose first purchase is on the end day has ``T = 0``),
which is the convention of the published CDNOW summary.

:func:`summarize_codes` does the same for purchases already given as columns
(customer codes into an id list, day numbers, amounts), as the stored book is
read: no per-purchase Python object is built, and the work needs a few int64
arrays of the purchases' length on top of the input.
:func:`summarize_day_statistics` builds it from per-customer figures a
database computed (first and last purchase day, purchase days, repeat value).

This module also holds the input validation shared by the models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crmcore.errors import ValidationError
from crmcore.i18n import N_, tr

__all__ = [
    "ClvInputError",
    "RfmSummary",
    "check_positive",
    "rfm_arrays",
    "summarize_codes",
    "summarize_day_statistics",
    "summarize_purchases",
]

FloatArray = npt.NDArray[np.float64]


class ClvInputError(ValidationError):
    """Bad input to a CLV function; names the argument, the value and the rule.

    It is a :class:`ValueError`; ``str(error)`` reads for example
    ``recency[3]: 12.0 is greater than T[3] = 10.0``.
    """


@dataclass(frozen=True, eq=False)
class RfmSummary:
    """Columnar per-customer statistics; all arrays share one length and order.

    ``customer_ids`` are sorted (by :func:`summarize_purchases`; in code
    order by :func:`summarize_codes`). ``frequency`` counts repeat customer-days,
    ``recency`` and ``T`` are in units of ``unit_days`` days and
    ``monetary_value`` is the mean value of the repeat transactions (``0.0``
    when ``frequency`` is 0). The arrays are read-only.
    """

    customer_ids: npt.NDArray[Any]
    frequency: npt.NDArray[np.int64]
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray
    calibration_end: dt.date
    unit_days: float

    def __len__(self) -> int:
        """Return the number of customers."""
        return len(self.customer_ids)


def summarize_purchases(
    customer_ids: Iterable[Any] | npt.ArrayLike,
    dates: Iterable[dt.date] | npt.ArrayLike,
    amounts: npt.ArrayLike,
    *,
    calibration_end: dt.date,
    unit_days: float,
) -> RfmSummary:
    """Build the :class:`RfmSummary` of raw purchases (one row per purchase).

    :param customer_ids: one id per purchase (any sortable scalars).
    :param dates: ``datetime.date``/``datetime.datetime`` objects (a datetime
        counts on its own calendar day, time zone ignored) or a
        ``datetime64`` array.
    :param amounts: purchase values, finite and not negative.
    :param calibration_end: last day of the calibration period (inclusive);
        later purchases are ignored, customers first buying later are dropped.
    :param unit_days: length of the time unit in days, e.g. ``7.0`` for weeks.
    :raises ClvInputError: on empty or mismatched input, bad dates or amounts,
        or a non-positive ``unit_days``.
    """
    check_positive("unit_days", unit_days)
    ids = _as_1d("customer_ids", customer_ids)
    days = _as_days(dates)
    values = _as_amounts(amounts)
    _check_lengths(ids, days, values)
    unique_ids, codes = _encode_ids(ids)
    return _summarize(unique_ids, codes, days, values, calibration_end, unit_days)


def summarize_codes(
    ids: Sequence[Any] | npt.ArrayLike,
    codes: npt.ArrayLike,
    days: npt.ArrayLike,
    amounts: npt.ArrayLike,
    *,
    calibration_end: dt.date,
    unit_days: float,
) -> RfmSummary:
    """Build the :class:`RfmSummary` of purchases given as columns.

    Purchase ``i`` is by customer ``ids[codes[i]]`` on day ``days[i]`` (days
    since 1970-01-01) for ``amounts[i]``; the summary lists the customers in
    code order. Equal to :func:`summarize_purchases` of the same purchases
    up to that order, without building an object per purchase.

    :raises ClvInputError: on empty or mismatched columns, a code outside
        ``ids``, a non-integer day, a bad amount or a non-positive ``unit_days``.
    """
    check_positive("unit_days", unit_days)
    customer_ids = np.asarray(ids, dtype=object if isinstance(ids, Sequence) else None)
    code = _integer_column("codes", codes)
    _first_bad("codes", code, (code < 0) | (code >= customer_ids.size),
               tr("is not a position in ids (0 to {last})").format(last=customer_ids.size - 1))
    day = _integer_column("days", days)
    values = _as_amounts(amounts)
    _check_lengths(code, day, values)
    return _summarize(customer_ids, code, day, values, calibration_end, unit_days)


def _summarize(ids: npt.NDArray[Any], codes: npt.NDArray[np.integer[Any]],
               days: npt.NDArray[np.int64], values: FloatArray, calibration_end: dt.date,
               unit_days: float) -> RfmSummary:
    """The summary of coded purchases on or before ``calibration_end``."""
    end = _as_date("calibration_end", calibration_end)
    end_day = _day_number(end)
    keep = days <= end_day
    if not np.any(keep):
        raise ClvInputError("calibration_end", calibration_end, N_("is before every purchase"))
    if not np.all(keep):
        codes, days, values = codes[keep], days[keep], values[keep]
    del keep
    customer, day, value = _merge_customer_days(codes, days, values, end_day)
    present, stats = _per_customer(customer, day, value, end_day, unit_days)
    return RfmSummary(
        customer_ids=_readonly(ids[present]),
        frequency=_readonly(stats[0].astype(np.int64)),
        recency=_readonly(stats[1]),
        T=_readonly(stats[2]),
        monetary_value=_readonly(stats[3]),
        calibration_end=end,
        unit_days=float(unit_days),
    )


def rfm_arrays(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803 - the literature's name
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate and broadcast BG/NBD statistics to float arrays of one shape.

    :raises ClvInputError: for a non-finite or negative value, a non-integer
        frequency, ``recency > T``, a positive recency with zero frequency,
        or shapes that do not broadcast.
    """
    x = finite_array("frequency", frequency)
    t_x = finite_array("recency", recency)
    t_cal = finite_array("T", T)
    _first_bad("frequency", x, x != np.floor(x), N_("is not a whole number"))
    try:
        x, t_x, t_cal = np.broadcast_arrays(x, t_x, t_cal)
    except ValueError:
        raise ClvInputError(
            "frequency, recency, T", (x.shape, t_x.shape, t_cal.shape), N_("do not broadcast")
        ) from None
    _check_recency(x, t_x, t_cal)
    return x, t_x, t_cal


def finite_array(name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a float array; reject NaN, infinities and negatives."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ClvInputError(name, values, N_("is not numeric")) from None
    _first_bad(name, array, ~np.isfinite(array), N_("is not a finite number"))
    _first_bad(name, array, array < 0, N_("is negative"))
    return array


def check_positive(name: str, value: float) -> None:
    """Raise :class:`ClvInputError` unless ``value`` is a finite number > 0."""
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
        raise ClvInputError(name, value, N_("is not a finite number > 0"))


def _first_bad(
    name: str, array: npt.NDArray[Any], bad: npt.NDArray[np.bool_], reason: str
) -> None:
    """Raise for the first element flagged in ``bad``, naming its index."""
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = "".join(f"[{i}]" for i in index)
        raise ClvInputError(f"{name}{where}", array[index].item(), reason)


def _check_recency(x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> None:
    """Enforce ``recency <= T`` and ``recency == 0`` when ``frequency == 0``."""
    above = t_x > t_cal
    if np.any(above):
        index = tuple(int(i) for i in np.argwhere(above)[0])
        where = "".join(f"[{i}]" for i in index)
        raise ClvInputError(
            f"recency{where}", float(t_x[index]),
            tr("is greater than {name} = {value}").format(name=f"T{where}", value=t_cal[index])
        )
    _first_bad(
        "recency", t_x, (x == 0) & (t_x > 0),
        N_("is positive although frequency is 0 (recency is first-to-last purchase time)"),
    )


def _as_1d(name: str, values: Iterable[Any] | npt.ArrayLike) -> npt.NDArray[Any]:
    """Return a non-empty one-dimensional array (iterators are materialised)."""
    if not isinstance(values, np.ndarray):
        values = np.asarray(values if hasattr(values, "__len__") else list(values))  # type: ignore[arg-type]
    if values.ndim != 1:
        raise ClvInputError(name, values.shape, N_("is not one-dimensional"))
    if values.size == 0:
        raise ClvInputError(name, [], N_("is empty"))
    return values


def _as_amounts(amounts: npt.ArrayLike) -> FloatArray:
    """Validate purchase amounts."""
    values = finite_array("amounts", amounts)
    if values.ndim != 1:
        raise ClvInputError("amounts", values.shape, N_("is not one-dimensional"))
    return values


def _integer_column(name: str, values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """A non-empty 1-d array of whole numbers (integer dtype; no copy when int64)."""
    array = _as_1d(name, values)
    if not np.issubdtype(array.dtype, np.integer):
        raise ClvInputError(name, array[:3].tolist(), tr("are not integers ({type})").format(
            type=array.dtype))
    return array.astype(np.int64, copy=False)


def _as_days(dates: Iterable[dt.date] | npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return day numbers (days since 1970-01-01) of dates, datetimes or datetime64."""
    array = _as_1d("dates", dates)
    if np.issubdtype(array.dtype, np.datetime64):
        _first_bad("dates", array, np.isnat(array), N_("is a missing date (NaT)"))
        return array.astype("datetime64[D]", copy=False).view(np.int64)
    return np.array(
        [_day_number(_as_date(f"dates[{i}]", d)) for i, d in enumerate(array)], dtype=np.int64
    )


def _as_date(name: str, value: object) -> dt.date:
    """Return the calendar day of a date or datetime."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ClvInputError(name, value, N_("is not a date or datetime"))


_EPOCH = dt.date(1970, 1, 1)


def _day_number(day: dt.date) -> int:
    """Return days since 1970-01-01."""
    return (day - _EPOCH).days


def _check_lengths(*arrays: npt.NDArray[Any]) -> None:
    """Require customer_ids, dates and amounts of one length."""
    lengths = tuple(len(a) for a in arrays)
    if len(set(lengths)) != 1:
        raise ClvInputError("customer_ids, dates, amounts", lengths, N_("differ in length"))


def _encode_ids(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """Return the sorted distinct ids and each row's index into them."""
    try:
        unique, codes = np.unique(ids, return_inverse=True)
    except TypeError:
        raise ClvInputError("customer_ids", ids[:3].tolist(),
                            N_("are not mutually sortable")) from None
    return unique, codes.reshape(-1)


def _merge_customer_days(
    codes: npt.NDArray[np.integer[Any]], days: npt.NDArray[np.int64], values: FloatArray,
    end_day: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Sum the values of each (customer, day); return rows sorted by both.

    One int64 key ``code * span + day - first_day`` per purchase, one sort of
    it: about four arrays of the purchases' length at the peak.
    """
    first_day = int(days.min())
    span = end_day - first_day + 1
    if (int(codes.max()) + 1) * span >= 2**63:
        raise ClvInputError("dates", f"{first_day} to {end_day}", N_("span too many days to sort"))
    key = codes.astype(np.int64)
    key *= span
    key += days
    key -= first_day
    order = np.argsort(key, kind="stable")
    key = key[order]
    values = values[order]
    del order
    change = np.empty(key.size, dtype=bool)
    change[0] = True
    np.not_equal(key[1:], key[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    del change
    merged = np.add.reduceat(values, starts)
    del values
    key = key[starts]
    del starts
    customer, day = np.divmod(key, span)
    del key
    day += first_day
    return customer, day, merged


def _per_customer(
    customer: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    value: FloatArray,
    end_day: int,
    unit_days: float,
) -> tuple[npt.NDArray[np.int64], tuple[FloatArray, FloatArray, FloatArray, FloatArray]]:
    """Reduce sorted customer-day transactions to per-customer statistics."""
    first = np.flatnonzero(np.r_[True, np.diff(customer) != 0])
    last = np.r_[first[1:], customer.size] - 1
    repeats = (last - first).astype(np.float64)
    repeat_total = np.add.reduceat(value, first) - value[first]
    return customer[first], _statistics(repeats, repeat_total, day[first], day[last], end_day,
                                        unit_days)


def _statistics(repeats: FloatArray, repeat_total: FloatArray, first_day: npt.ArrayLike,
                last_day: npt.ArrayLike, end_day: int, unit_days: float
                ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Frequency, recency, age (T) and mean repeat value from per-customer day figures."""
    monetary = np.divide(repeat_total, repeats, out=np.zeros_like(repeats), where=repeats > 0)
    first = np.asarray(first_day, dtype=np.int64)
    recency = (np.asarray(last_day, dtype=np.int64) - first) / unit_days
    age = (end_day - first) / unit_days
    return repeats, recency, age, monetary


def summarize_day_statistics(
    ids: Sequence[Any] | npt.ArrayLike,
    first_day: npt.ArrayLike,
    last_day: npt.ArrayLike,
    purchase_days: npt.ArrayLike,
    repeat_total: npt.ArrayLike,
    *,
    calibration_end: dt.date,
    unit_days: float,
) -> RfmSummary:
    """The :class:`RfmSummary` of customers given by their purchase-day figures.

    Per customer ``ids[i]``: the first and last purchase day (days since
    1970-01-01, on or before ``calibration_end``), the number of distinct
    purchase days and the total value of the days after the first: what a
    database computes in one grouping (see
    :func:`crmcore_plugins.pushdown.clv.clv_day_statistics`). Equal to
    :func:`summarize_codes` of the purchases they come from, customers in
    the given order.

    :raises ClvInputError: on mismatched lengths, a day after ``calibration_end``
        or a customer without a purchase day.
    """
    check_positive("unit_days", unit_days)
    end_day = _day_number(_as_date("calibration_end", calibration_end))
    first = _integer_column("first_day", first_day)
    last = _integer_column("last_day", last_day)
    days = _integer_column("purchase_days", purchase_days)
    total = _as_amounts(repeat_total)
    customer_ids = np.asarray(ids, dtype=object)
    lengths = {len(a) for a in (customer_ids, first, last, days, total)}
    if len(lengths) != 1:
        raise ClvInputError("ids, first_day, last_day, purchase_days, repeat_total",
                            sorted(lengths), "differ in length")
    _first_bad("last_day", last, last > end_day, "is after calibration_end")
    _first_bad("purchase_days", days, days < 1, "is not a positive count")
    stats = _statistics((days - 1).astype(np.float64), total, first, last, end_day, unit_days)
    return RfmSummary(
        customer_ids=_readonly(customer_ids),
        frequency=_readonly(stats[0].astype(np.int64)),
        recency=_readonly(stats[1]),
        T=_readonly(stats[2]),
        monetary_value=_readonly(stats[3]),
        calibration_end=_as_date("calibration_end", calibration_end),
        unit_days=float(unit_days),
    )


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return ``array`` with its write flag cleared."""
    array.setflags(write=False)
    return array
