"""Rank-based cut-offs (G1, G5, RFM quintiles) with the tie rule.

The tie rule: a customer's place is decided by how many customers have a
*strictly greater* value (competition ranking, "1224"). Customers with equal
values therefore always share a grade, and it is the better one.

Count basis: with ``N`` customers and cumulative shares ``c1 < c2 < ...``
(for the Pareto default 5% and 25%), grade ``i`` ends at rank
``k_i = floor(c_i * N + 1/2)`` (round half up, computed exactly with
fractions). A customer whose number of customers strictly ahead is ``r``
(rank ``r + 1``) gets the first grade with ``r < k_i``. So grade sizes match
the targets to within half a customer, plus the members of a tie group that
straddles a cut-off, which all move up.

Value-share basis: grade ``i`` holds the customers for whom the value of all
customers *strictly ahead* is below ``c_i`` of the total value (the customer
who crosses 80% is still A).

Customers without a value (missing metric) and, by default, customers whose
value is zero or negative get the last grade: a customer who brought
nothing is not a "gold" customer, whatever the shares say.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from enum import StrEnum
from fractions import Fraction
from typing import Any

import attrs

from crmcore.grading._backend import np, use_numpy
from crmcore.i18n import tr


class Basis(StrEnum):
    """How shares are counted: by number of customers or by share of value."""

    COUNT = "count"
    VALUE_SHARE = "value-share"


def _check_shares(_instance: Any, _attribute: Any, shares: tuple[Fraction, ...]) -> None:
    if any(share <= 0 for share in shares) or sum(shares, Fraction(0)) > 1:
        raise ValueError(tr("shares must be positive and add up to at most 1"))


@attrs.frozen
class RankCut:
    """Cut a population ranked by value into ``len(shares) + 1`` grades.

    ``shares`` are each grade's own share (the last grade takes the rest), as
    exact fractions: ``(Fraction(5, 100), Fraction(20, 100))`` is the Pareto
    default. ``nonpositive_last`` sends values <= 0 to the last grade.
    """

    shares: tuple[Fraction, ...] = attrs.field(validator=_check_shares)
    basis: Basis = Basis.COUNT
    nonpositive_last: bool = True

    @property
    def cumulative(self) -> tuple[Fraction, ...]:
        """The cumulative shares ``c_i``."""
        total, made = Fraction(0), []
        for share in self.shares:
            total += share
            made.append(total)
        return tuple(made)

    def boundaries(self, population: int) -> tuple[int, ...]:
        """Count basis: ``k_i = floor(c_i * N + 1/2)``, the last rank of each grade."""
        return tuple(math.floor(c * population + Fraction(1, 2)) for c in self.cumulative)


@attrs.frozen
class RankOutcome:
    """Where every customer landed: grade index, rank and the cut-offs used.

    ``ranks`` are 1-based competition ranks (1 + customers strictly ahead).
    ``shares_ahead`` (value-share basis) is each customer's share of value
    strictly ahead. ``cutoffs`` holds, per grade, the lowest value still in
    it (``None`` for an empty grade): the value a customer must reach.
    """

    codes: Sequence[int]
    ranks: Sequence[int]
    population: int
    boundaries: tuple[int, ...]
    shares_ahead: Sequence[float] | None
    cutoffs: tuple[float | None, ...]
    eligible: Sequence[bool]


def rank_cut(values: Sequence[float] | Any, cut: RankCut, *, fast: bool | None = None
             ) -> RankOutcome:
    """Grade ``values`` (higher is better; NaN is missing) by ``cut``."""
    if use_numpy(fast):
        return _rank_cut_numpy(values, cut)
    return _rank_cut_python([float(v) for v in values], cut)


def _eligible(value: float, cut: RankCut) -> bool:
    return value == value and (value > 0 or not cut.nonpositive_last)


def _rank_cut_python(values: list[float], cut: RankCut) -> RankOutcome:
    n = len(values)
    keyed = [-math.inf if v != v else v for v in values]
    ascending = sorted(keyed)
    ahead = [n - bisect_right(ascending, v) for v in keyed]
    last = len(cut.shares)
    eligible = [_eligible(v, cut) for v in values]
    boundaries = cut.boundaries(n)
    shares_ahead: list[float] | None = None
    if cut.basis is Basis.COUNT:
        codes = [bisect_right(boundaries, r) if ok else last
                 for r, ok in zip(ahead, eligible, strict=True)]
    else:
        running, exclusive = 0.0, []
        for v in reversed(ascending):
            exclusive.append(running)
            running += v if v > 0 else 0.0
        total = running
        limits = [float(c) * total for c in cut.cumulative]
        shares_ahead = [exclusive[r] / total if total > 0 else 0.0 for r in ahead]
        codes = [_first_below(exclusive[r], limits) if ok else last
                 for r, ok in zip(ahead, eligible, strict=True)]
    lowest: list[float | None] = [None] * (last + 1)
    for value, code, ok in zip(values, codes, eligible, strict=True):
        current = lowest[code]
        if ok and (current is None or value < current):
            lowest[code] = value
    return RankOutcome(codes, [r + 1 for r in ahead], n, boundaries, shares_ahead,
                       tuple(lowest), eligible)


def _first_below(amount: float, limits: list[float]) -> int:
    for index, limit in enumerate(limits):
        if amount < limit:
            return index
    return len(limits)


def _rank_cut_numpy(values: Any, cut: RankCut) -> RankOutcome:
    array = np.asarray(values, dtype=np.float64)
    n = int(array.size)
    keyed = np.where(np.isnan(array), -np.inf, array)
    # searching the sorted values for themselves (sorted queries) and scattering the
    # counts back is ~2.5x faster than searching with unsorted queries
    order = np.argsort(keyed, kind="stable")
    ascending = keyed[order]
    ahead = np.empty(n, dtype=np.int64)
    ahead[order] = n - np.searchsorted(ascending, ascending, side="right")
    last = len(cut.shares)
    eligible = ~np.isnan(array)
    if cut.nonpositive_last:
        eligible &= array > 0
    boundaries = cut.boundaries(n)
    shares_ahead = None
    if cut.basis is Basis.COUNT:
        codes = np.searchsorted(np.asarray(boundaries, dtype=np.int64), ahead, side="right")
    else:
        descending = ascending[::-1]
        positive = np.where(descending > 0, descending, 0.0)
        running = np.cumsum(positive)
        # the sum strictly before each position, accumulated in the same order as
        # the reference implementation, so both give bit-identical floats
        exclusive = np.concatenate(([0.0], running[:-1])) if n else running
        total = float(running[-1]) if n else 0.0
        limits = np.asarray([float(c) * total for c in cut.cumulative], dtype=np.float64)
        amount_ahead = exclusive[ahead] if n else exclusive
        codes = np.searchsorted(limits, amount_ahead, side="right")
        shares_ahead = amount_ahead / total if total > 0 else np.zeros(n)
    codes = np.where(eligible, codes, last).astype(np.int64)
    lowest: list[float | None] = []
    for code in range(last + 1):
        members = array[(codes == code) & eligible]
        lowest.append(float(members.min()) if members.size else None)
    return RankOutcome(codes, ahead + 1, n, boundaries, shares_ahead, tuple(lowest), eligible)
