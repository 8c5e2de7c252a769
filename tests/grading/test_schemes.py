"""Scheme documents (TOML and attrs), G2 thresholds with gap/overlap checks, G6/G8."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.grading import (
    Always,
    Between,
    Compare,
    FieldRef,
    Grade,
    GradeScheme,
    RankCut,
    RankedRules,
    SchemeKind,
    Source,
    ThresholdRule,
    ThresholdRules,
    builtin_schemes,
    check_ranges,
    grade_metrics,
    load_scheme,
    parse_scheme,
)
from crmcore.grading.metrics import MetricTable
from crmcore.model import Priority

from .helpers import AS_OF

TURNOVER = FieldRef(Source.ATTRIBUTE, "annual_turnover")


def thresholds(tiers: str, extra: str = "") -> str:
    return textwrap.dedent("""
        name = "tiers"
        version = 3
        kind = "thresholds"
        [[grades]]
        name = "A"
        [[grades]]
        name = "B"
        [[grades]]
        name = "C"
        [rules]
        """) + textwrap.dedent(tiers) + textwrap.dedent(extra)


CATCH_ALL = """
    [[rules.tiers]]
    grade = "C"
    otherwise = true
"""


def test_every_builtin_scheme_loads_and_names_its_version() -> None:
    names = builtin_schemes()
    assert set(names) >= {"pareto-abc", "pareto-abc-value-share", "thresholds", "value-matrix",
                          "prospect-abcd", "pyramid", "rfm"}
    for name in names:
        scheme = load_scheme(name)
        assert scheme.name == name
        assert scheme.version >= 1


def test_g2_builtin_thresholds_follow_the_catalogue() -> None:
    scheme = load_scheme("thresholds")
    ids = ("big", "mid", "mid-no-change", "small")
    attributes = (
        {"annual_turnover": 60_000_000, "training_spend": 200_000, "reputation": "high"},
        {"annual_turnover": 20_000_000, "training_spend": 100_000, "wants_change": True},
        {"annual_turnover": 20_000_000, "training_spend": 100_000, "wants_change": False},
        {"annual_turnover": 50_000, "training_spend": 0},
    )
    metrics = MetricTable(ids, {"revenue": [1.0] * 4}, AS_OF, attributes=attributes)
    graded = grade_metrics(scheme, metrics)
    assert graded.grade_list == ["A", "B", "C", "C"]
    explanation = graded.explain("mid")
    assert explanation.rule == 1
    assert "attributes.annual_turnover in [10,000,000, 50,000,000)" in explanation.decided_by
    assert explanation.attributes["annual_turnover"] == 20_000_000


def test_g2_first_matching_rule_wins_and_conditions_need_no_eval() -> None:
    scheme = parse_scheme(thresholds("""
        [[rules.tiers]]
        grade = "A"
        when.any = [{ metric = "revenue", op = ">", value = 100 },
                    { attribute = "industry", in = ["media", "retail"] }]
        [[rules.tiers]]
        grade = "B"
        when = { metric = "frequency", op = ">=", value = 2 }
    """ + CATCH_ALL))
    metrics = MetricTable(("a", "b", "c", "d"), {"revenue": [500.0, 5.0, 5.0, 5.0],
                                                 "frequency": [9.0, 9.0, 1.0, 1.0]},
                          AS_OF, attributes=({}, {}, {}, {"industry": "media"}))
    assert grade_metrics(scheme, metrics).grade_list == ["A", "B", "C", "A"]


@pytest.mark.parametrize(("tiers", "message"), [
    ("""
     [[rules.tiers]]
     grade = "A"
     when = { attribute = "annual_turnover", op = ">=", value = 50 }
     [[rules.tiers]]
     grade = "B"
     when = { attribute = "annual_turnover", between = [10, 49], bounds = "[]" }
     """, "leave a gap on attributes.annual_turnover: (49, 50) is covered by neither"),
    ("""
     [[rules.tiers]]
     grade = "A"
     when = { attribute = "annual_turnover", op = ">=", value = 50 }
     [[rules.tiers]]
     grade = "B"
     when = { attribute = "annual_turnover", between = [10, 60], bounds = "[)" }
     """, "overlap on attributes.annual_turnover: [50, 60) is covered by both"),
    ("""
     [[rules.tiers]]
     grade = "A"
     when = { attribute = "annual_turnover", between = [50, 90], bounds = "(]" }
     [[rules.tiers]]
     grade = "B"
     when = { attribute = "annual_turnover", between = [10, 50], bounds = "[)" }
     """, "gap on attributes.annual_turnover: 50 is covered by neither"),
])
def test_g2_gaps_and_overlaps_are_rejected_showing_them(tiers: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")):
        parse_scheme(thresholds(tiers + CATCH_ALL))


def test_g2_ranges_that_meet_exactly_are_accepted_and_bounds_are_required() -> None:
    parse_scheme(thresholds("""
        [[rules.tiers]]
        grade = "A"
        when = { attribute = "t", between = [50, 90], bounds = "[]" }
        [[rules.tiers]]
        grade = "B"
        when = { attribute = "t", between = [10, 50], bounds = "[)" }
    """ + CATCH_ALL))
    with pytest.raises(ConfigError, match=r"rules\.tiers\[0\]\.when\.bounds: is required"):
        parse_scheme(thresholds("""
            [[rules.tiers]]
            grade = "A"
            when = { attribute = "t", between = [50, 90] }
        """ + CATCH_ALL))


@given(a=st.integers(0, 20), b=st.integers(0, 20), c=st.integers(0, 20), d=st.integers(0, 20),
       first=st.sampled_from(["[)", "[]", "(]", "()"]),
       second=st.sampled_from(["[)", "[]", "(]", "()"]))
def test_g2_gap_and_overlap_detection_matches_a_point_check(a: int, b: int, c: int, d: int,
                                                            first: str, second: str) -> None:
    low1, high1, low2, high2 = min(a, b), max(a, b), min(c, d), max(c, d)
    ranges = [Between(TURNOVER, low1, high1, first), Between(TURNOVER, low2, high2, second)]
    if any(r.low == r.high and r.bounds != "[]" for r in ranges):
        return
    points = [x / 2 for x in range(-2, 44)]
    lookups = {p: (lambda field, p=p: p) for p in points}
    covered = [sum(r.test(lookups[p]) for r in ranges) for p in points]
    overlap = any(count == 2 for count in covered)
    span = [i for i, count in enumerate(covered) if count]
    gap = bool(span) and any(covered[i] == 0 for i in range(span[0], span[-1] + 1))
    # integer ends and half-step points: every gap or overlap contains a point
    if overlap or gap:
        with pytest.raises(ConfigError, match="overlap" if overlap else "gap"):
            check_ranges([("one", ranges[0]), ("two", ranges[1])])
    else:
        check_ranges([("one", ranges[0]), ("two", ranges[1])])


@pytest.mark.parametrize(("document", "message"), [
    ('name = "x"\nversion = 1\nkind = "nope"\n[rules]\n', r"kind: 'nope' is not one of"),
    ('name = "x"\nversion = 0\nkind = "pyramid"\n', r"version: 0 must be at least 1"),
    ('name = "x"\nversion = 1\nkind = "pareto-abc"\n[rules]\nshares = [0.05, 2]\n',
     r"rules\.shares\[1\]: 2 is not a share between 0 and 1"),
    ('name = "x"\nversion = 1\nkind = "pareto-abc"\n[rules]\nshares = [0.5]\nmetirc = "a"\n',
     r"rules\.metirc: is not a known option"),
    ('name = "x"\nversion = "one"\n', r"version: 'one' is not a whole number"),
    ("name = \n", r"not valid TOML"),
])
def test_bad_scheme_documents_name_the_key_and_value(document: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_scheme(document, source="mine.toml")


def test_g2_catch_all_is_required_and_last() -> None:
    with pytest.raises(ConfigError, match="explicit catch-all"):
        parse_scheme(thresholds("""
            [[rules.tiers]]
            grade = "A"
            when = { metric = "revenue", op = ">", value = 1 }
        """))
    with pytest.raises(ConfigError, match=r"rules\.tiers\[0\]: only the last rule"):
        parse_scheme(thresholds(CATCH_ALL + CATCH_ALL))


def test_g2_comparison_types_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"value: 'big' is not a number \(needed by op '>='\)"):
        parse_scheme(thresholds("""
            [[rules.tiers]]
            grade = "A"
            when = { attribute = "size", op = ">=", value = "big" }
        """ + CATCH_ALL))


def test_scheme_as_attrs_object_equals_the_toml_document() -> None:
    built = GradeScheme(
        name="tiers", version=3, kind=SchemeKind.THRESHOLDS,
        grades=(Grade("A"), Grade("B"), Grade("C")),
        rules=ThresholdRules((
            ThresholdRule("A", Compare(FieldRef(Source.METRIC, "revenue"), ">=", 100)),
            ThresholdRule("C", Always()),
        )),
    )
    parsed = parse_scheme(thresholds("""
        [[rules.tiers]]
        grade = "A"
        when = { metric = "revenue", op = ">=", value = 100 }
    """ + CATCH_ALL))
    assert built == parsed


def test_attrs_scheme_is_checked_like_a_document() -> None:
    with pytest.raises(ConfigError, match="the rules make 3"):
        GradeScheme("x", 1, SchemeKind.PARETO_ABC, (Grade("A"), Grade("B")),
                    RankedRules(RankCut(PARETO_SHARES)))


PARETO_SHARES = load_scheme("pareto-abc").rules.cut.shares  # type: ignore[union-attr]


def test_load_scheme_from_a_file_and_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(thresholds("""
        [[rules.tiers]]
        grade = "A"
        when = { metric = "revenue", op = ">=", value = 100 }
    """ + CATCH_ALL))
    assert load_scheme(path).name == "tiers"
    assert load_scheme(str(path)).version == 3
    scheme = load_scheme("pareto-abc", overrides={"rules": {"basis": "value-share",
                                                             "shares": [0.8, 0.15]}})
    assert scheme.rules.cut.basis.value == "value-share"  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="neither a built-in scheme"):
        load_scheme("no-such-scheme")


def test_g5_pyramid_never_by_number_of_uses() -> None:
    with pytest.raises(ConfigError, match=r"rules\.metric: 'transactions' is not allowed"):
        load_scheme("pyramid", overrides={"rules": {"metric": "transactions"}})


def test_g6_each_grade_carries_its_follow_up_policy() -> None:
    scheme = load_scheme("pareto-abc")
    a, b, c = (scheme.policy(grade) for grade in ("A", "B", "C"))
    assert a is not None
    assert b is not None
    assert c is not None
    assert a.complaint_priority is Priority.URGENT
    assert a.contact_every_days == 7
    assert b.nurture_toward == "A"
    assert c.nurture_toward == "B"
    assert a.response_hours is not None
    assert b.response_hours is not None
    assert a.response_hours < b.response_hours
    assert "over-invest" in load_scheme("thresholds").policy("C").notes  # type: ignore[union-attr]
    d = load_scheme("value-matrix").policy("D")
    assert d is not None
    assert d.nurture_toward == "C"


def test_g6_follow_up_must_name_real_grades() -> None:
    with pytest.raises(ConfigError, match=r"followup\.B\.nurture_toward: 'Z' is not a grade"):
        load_scheme("pareto-abc", overrides={"followup": {"B": {"nurture_toward": "Z"}}})
    with pytest.raises(ConfigError, match=r"followup\.A\.complaint_priority: 'soon' is not"):
        load_scheme("pareto-abc", overrides={"followup": {"A": {"complaint_priority": "soon"}}})


def test_g8_other_classifications_are_aliases() -> None:
    pyramid = load_scheme("pyramid")
    assert [pyramid.grade(n).name for n in ("VIP", "main", "ordinary", "small")] == \
        ["VIP", "major", "ordinary", "small"]
    matrix = load_scheme("value-matrix")
    assert [matrix.grade(n).name for n in ("key", "potential", "main", "junk")] == \
        ["A", "C", "B", "D"]
    assert pyramid.policy("platinum") == pyramid.policy("VIP")
