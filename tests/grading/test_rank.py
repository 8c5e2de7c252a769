"""Rank-based grading: G1 (value ABC) and G5 (pyramid), tie and rounding rules."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.grading import Basis, RankCut, grade_metrics, load_scheme, rank_cut

from .helpers import table

PARETO = RankCut((Fraction(5, 100), Fraction(20, 100)))
VALUE_SHARE = RankCut((Fraction(80, 100), Fraction(15, 100)), Basis.VALUE_SHARE)
FAST = [False, True]

values_lists = st.lists(
    st.one_of(st.integers(0, 50).map(float),
              st.floats(0, 1e9, allow_nan=False, allow_infinity=False), st.just(math.nan)),
    min_size=1, max_size=120)
cuts = st.sampled_from([PARETO, VALUE_SHARE, RankCut((Fraction(1, 100), Fraction(4, 100),
                                                     Fraction(15, 100))),
                        RankCut((Fraction(1, 5),) * 4, nonpositive_last=False)])


@pytest.mark.parametrize("fast", FAST)
def test_g1_count_basis_top_5_and_next_20_percent(fast: bool) -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 distinct values, C0 the largest
    outcome = rank_cut(values, PARETO, fast=fast)
    codes = list(outcome.codes)
    assert codes.count(0) == 5
    assert codes.count(1) == 20
    assert codes.count(2) == 75
    assert codes[:5] == [0] * 5
    assert codes[5:25] == [1] * 20
    assert outcome.boundaries == (5, 25)
    assert outcome.cutoffs == (96.0, 76.0, 1.0)


@pytest.mark.parametrize("fast", FAST)
def test_g1_ties_never_split_and_take_the_better_grade(fast: bool) -> None:
    # 20 customers: k_A = round(0.05 * 20) = 1; three customers tie for first place
    values = [50.0, 50.0, 50.0] + [float(v) for v in range(17, 0, -1)]
    outcome = rank_cut(values, PARETO, fast=fast)
    assert list(outcome.codes[:3]) == [0, 0, 0]
    assert list(outcome.ranks[:4]) == [1, 1, 1, 4]  # competition ranking "1114"


@pytest.mark.parametrize(("n", "expected"), [(10, (1, 3)), (9, (0, 2)), (30, (2, 8)),
                                             (100, (5, 25)), (1_000_000, (50_000, 250_000))])
def test_g1_rounding_is_half_up_of_the_cumulative_share(n: int, expected: tuple[int, int]
                                                        ) -> None:
    # 5% of 10 = 0.5 -> 1; 25% of 10 = 2.5 -> 3; 5% of 9 = 0.45 -> 0; 5% of 30 = 1.5 -> 2
    assert PARETO.boundaries(n) == expected


@pytest.mark.parametrize("fast", FAST)
def test_g1_value_share_basis_80_15_5(fast: bool) -> None:
    values = [50.0, 30.0, 10.0, 5.0, 3.0, 2.0]  # total 100
    outcome = rank_cut(values, VALUE_SHARE, fast=fast)
    # ahead: 0, 50, 80, 90, 95, 98 -> A while ahead < 80, B while < 95
    assert list(outcome.codes) == [0, 0, 1, 1, 2, 2]
    assert outcome.shares_ahead is not None
    assert [round(float(s), 2) for s in outcome.shares_ahead] == [0, .5, .8, .9, .95, .98]


@pytest.mark.parametrize("fast", FAST)
def test_g1_no_value_is_the_last_grade(fast: bool) -> None:
    values = [0.0] * 19 + [math.nan]  # the zeros tie for rank 1, which would make them A
    outcome = rank_cut(values, PARETO, fast=fast)
    assert [int(code) for code in outcome.codes] == [2] * 20
    kept = rank_cut(values, RankCut(PARETO.shares, nonpositive_last=False), fast=fast)
    assert [int(code) for code in kept.codes] == [0] * 19 + [2]


@pytest.mark.parametrize("fast", FAST)
def test_g1_explanation_names_scheme_rank_and_cutoff(fast: bool) -> None:
    scheme = load_scheme("pareto-abc")
    graded = grade_metrics(scheme, table([float(v) for v in range(40, 0, -1)]), fast=fast)
    explanation = graded.explain("C1")
    assert (explanation.scheme, explanation.version) == ("pareto-abc", 1)
    assert explanation.rank == 2
    assert explanation.population == 40
    assert explanation.cutoff == 39.0  # k_A = 2: the lowest value in A
    assert explanation.metrics == {"revenue": 39.0}
    assert "rank 2 of 40 by revenue = 39" in explanation.decided_by
    assert "A: ranks 1-2" in explanation.decided_by


def test_g5_pyramid_default_cut_and_aliases() -> None:
    scheme = load_scheme("pyramid")
    graded = grade_metrics(scheme, table([float(v) for v in range(200, 0, -1)]))
    assert graded.counts() == {"VIP": 2, "major": 8, "ordinary": 30, "small": 160}
    assert scheme.grade("platinum").name == "VIP"
    assert scheme.grade("lead").name == "small"
    assert scheme.grade("iron").name == "ordinary"
    assert scheme.grade("gold").name == "major"


def test_g5_pyramid_by_profit() -> None:
    scheme = load_scheme("pyramid", overrides={"rules": {"metric": "profit"}})
    graded = grade_metrics(scheme, table([1.0] * 100, profit=[float(v) for v in range(100)]))
    assert graded.grade_of("C99") == "VIP"
    assert graded.explain("C99").metrics == {"profit": 99.0}


# -- hypothesis properties -------------------------------------------------------------------

@given(values=values_lists, cut=cuts, fast=st.booleans())
def test_g1_g5_grades_partition_the_customers(values: list[float], cut: RankCut,
                                              fast: bool) -> None:
    codes = list(rank_cut(values, cut, fast=fast).codes)
    assert len(codes) == len(values)
    assert all(0 <= int(code) <= len(cut.shares) for code in codes)


@given(values=values_lists, cut=cuts)
def test_g1_g5_more_value_never_gives_a_worse_grade(values: list[float], cut: RankCut) -> None:
    codes = rank_cut(values, cut).codes
    for a, value_a in enumerate(values):
        for b, value_b in enumerate(values):
            if value_a > value_b or (value_a == value_a and value_b != value_b):
                assert codes[a] <= codes[b]


@given(values=values_lists, cut=cuts, data=st.data())
def test_g1_g5_input_order_never_changes_a_grade(values: list[float], cut: RankCut,
                                                 data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(values))))
    before = rank_cut(values, cut).codes
    after = rank_cut([values[i] for i in order], cut).codes
    assert [int(after[j]) for j in range(len(order))] == [int(before[i]) for i in order]


@given(values=values_lists, cut=cuts)
def test_g1_g5_ties_stay_together(values: list[float], cut: RankCut) -> None:
    codes = rank_cut(values, cut).codes
    by_value: dict[float, set[int]] = {}
    for value, code in zip(values, codes, strict=True):
        by_value.setdefault(-1.0 if value != value else value, set()).add(int(code))
    assert all(len(grades) == 1 for grades in by_value.values())


@given(values=st.lists(st.integers(1, 30).map(float), min_size=1, max_size=200), cut=cuts)
def test_g1_g5_count_shares_match_targets_up_to_rounding_and_ties(values: list[float],
                                                                  cut: RankCut) -> None:
    if cut.basis is not Basis.COUNT:
        return
    outcome = rank_cut(values, cut)
    n = len(values)
    for grade, target in enumerate(cut.boundaries(n)):
        assert abs(target - float(cut.cumulative[grade]) * n) <= 0.5  # rounding
        within = sorted(v for v, c in zip(values, outcome.codes, strict=True) if c <= grade)
        assert len(within) >= target
        if len(within) > target:  # only because a tie straddles the cut-off
            assert within.count(within[0]) > len(within) - target


@given(values=st.lists(st.integers(0, 1000).map(float), min_size=1, max_size=200))
def test_g1_value_shares_match_targets_up_to_ties(values: list[float]) -> None:
    outcome = rank_cut(values, VALUE_SHARE)
    total = sum(values)
    for grade, limit in enumerate(VALUE_SHARE.cumulative):
        members = [v for v, c in zip(values, outcome.codes, strict=True) if c <= grade]
        if members and total:
            smallest = min(members)
            ahead = sum(v for v in values if v > smallest)
            assert ahead < float(limit) * total  # every member started below the share


@settings(max_examples=200)
@given(values=values_lists, cut=cuts)
def test_fast_rank_path_equals_the_reference(values: list[float], cut: RankCut) -> None:
    fast = rank_cut(values, cut, fast=True)
    plain = rank_cut(values, cut, fast=False)
    assert [int(c) for c in fast.codes] == list(plain.codes)
    assert [int(r) for r in fast.ranks] == list(plain.ranks)
    assert fast.cutoffs == plain.cutoffs
    assert fast.boundaries == plain.boundaries
