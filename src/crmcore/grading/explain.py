"""Explanations as data: a code and its parameters, rendered to words only on demand.

Grading a million customers keeps, per customer, only numbers (grade code,
rank, value...). An :class:`~crmcore.grading.Explanation` holds a ``code``
naming the deciding rule and ``params`` (JSON data); :func:`render` turns
them into the sentence people read, when someone reads it. Every sentence
of grading is written here, in one place, ready for other languages.

Codes and their parameters:

``rank.no-value`` / ``rank.not-positive``
    rank, population, by (what was ranked), value, grade: the last grade.
``rank.count``
    ... plus low, high (the grade's ranks) and top (its cumulative share, %).
``rank.rest``
    ... plus after (the last rank of the grade before).
``rank.share`` / ``rank.share-rest``
    ... plus ahead (share of value strictly ahead, 0-1) and below (%).
``rule``
    rule (0-based), grade, label, when (the condition in words).
``rfm``
    r, f, m, axes ([name, value, rank] each), population, bounds, and the
    ``rule`` parameters of the deciding segment.
``matrix``
    axes ([axis, name, value, cut-off, split] each), grade, meaning.
``prospect``
    opportunity, title, reason, grade.
``text``
    text: a sentence stored by crmcore 0.1, before explanations were data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crmcore.grading.conditions import format_value
from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term

Params = Mapping[str, Any]
"""The parameters of one explanation (JSON data)."""


def percent(value: float) -> str:
    """A percentage for people: ``5%``, ``12.5%``."""
    return f"{format_value(float(value))}%"


RANK_HEAD = N_("rank {rank:,}{middle}{value}")
"""The message of :func:`rank_head` (``middle``: :func:`rank_middle`, ``value``:
:func:`rank_value`)."""


def rank_head(rank: int, population: int, by: str, value: float | None) -> str:
    """``rank 3 of 1,000 by revenue = 12,345.60`` (no ``= ...`` without a value)."""
    return tr(RANK_HEAD).format(rank=rank, middle=rank_middle(population, by),
                                value=rank_value(value))


def rank_middle(population: int, by: str) -> str:
    """The part of :func:`rank_head` shared by a whole population: `` of 1,000 by revenue``."""
    return tr(" of {population:,} by {by}").format(population=population, by=term(by))


def rank_value(value: float | None) -> str:
    """The value part of :func:`rank_head`: `` = 12,345.60``, or nothing without a value."""
    return "" if value is None else f" = {format_value(value)}"


def rank_tail(code: str, p: Params) -> str:
    """What follows :func:`rank_head`: the cut that placed the customer."""
    grade = term(p["grade"])
    if code == "rank.no-value":
        return tr(": no value, so the last grade {grade}").format(grade=grade)
    if code == "rank.not-positive":
        return tr(": not above 0, so the last grade {grade}").format(grade=grade)
    if code == "rank.count":
        return tr("; {grade}: ranks {low:,}-{high:,} (top {top} of {population:,}, rounded half "
                  "up; ties take the better grade)").format(
            grade=grade, low=p["low"], high=p["high"], top=percent(p["top"]),
            population=p["population"])
    if code == "rank.rest":
        return tr("; {grade}: ranks after {after:,} (the rest)").format(grade=grade,
                                                                       after=p["after"])
    ahead = tr("; {ahead:.1%} of the value is ahead; {grade}: ").format(ahead=p["ahead"],
                                                                        grade=grade)
    if code == "rank.share":
        return ahead + tr("less than {below} ahead").format(below=percent(p["below"]))
    return ahead + tr("the rest")


def _rank(code: str, p: Params) -> str:
    return rank_head(p["rank"], p["population"], p["by"], p.get("value")) + rank_tail(code, p)


def _rule(_code: str, p: Params) -> str:
    name = f" — {tr(p['label'])}" if p.get("label") else ""
    return tr("rule {number} ({grade}{name}): {when}").format(
        number=p["rule"] + 1, grade=term(p["grade"]), name=name, when=p["when"])


def _shown(value: float | None) -> str:
    return tr("none") if value is None else format_value(value)


def _rfm(code: str, p: Params) -> str:
    parts = ", ".join(tr("{name} {value} (rank {rank:,})").format(
        name=term(name), value=_shown(value), rank=rank) for name, value, rank in p["axes"])
    bounds = "/".join(f"{bound:,}" for bound in p["bounds"])
    return tr("R{r} F{f} M{m}: {parts} of {population:,}; scores 5..1 end at ranks {bounds}; "
              "{rule}").format(r=p["r"], f=p["f"], m=p["m"], parts=parts,
                               population=p["population"], bounds=bounds, rule=_rule(code, p))


AXIS_PARTS = {"contribution": N_("contribution {name} {value} {op} {split} {cut} ({level})"),
              "potential": N_("potential {name} {value} {op} {split} {cut} ({level})")}
"""One axis of a ``matrix`` explanation, by axis (``split``: :func:`split_words`)."""
SPLIT_WORDS = (N_("median"), N_("cut-off"))
"""The words of :meth:`crmcore.grading.matrix.AxisSplit.describe` (besides ``quantile Q``)."""


def split_words(split: str) -> str:
    """A stored axis split (``median``, ``quantile 0.75``, ``cut-off``) in words."""
    quantile = split.removeprefix("quantile ")
    if quantile != split:
        return tr("quantile {q}").format(q=quantile)
    return tr(split)


def _matrix(_code: str, p: Params) -> str:
    parts = []
    for axis, name, value, cut, split in p["axes"]:
        high = value is not None and cut is not None and value > cut
        shown_cut = "∞" if cut is None else format_value(cut)
        parts.append(tr(AXIS_PARTS[axis]).format(
            name=term(name), value=_shown(value), op=">" if high else "≤",
            split=split_words(split), cut=shown_cut, level=term("high" if high else "low")))
    meaning = ": ".join(tr(part) for part in str(p["meaning"]).split(": ", 1))
    return f"{'; '.join(parts)}; {term(p['grade'])} = {meaning}"


def _prospect(_code: str, p: Params) -> str:
    return tr("opportunity {id} ({title}) {reason}: {grade}").format(
        id=p["opportunity"], title=p["title"], reason=p["reason"], grade=term(p["grade"]))


def _text(_code: str, p: Params) -> str:
    return str(p["text"])


RENDERERS: dict[str, Callable[[str, Params], str]] = {
    "rank.no-value": _rank, "rank.not-positive": _rank, "rank.count": _rank,
    "rank.rest": _rank, "rank.share": _rank, "rank.share-rest": _rank,
    "rule": _rule, "rfm": _rfm, "matrix": _matrix, "prospect": _prospect, "text": _text,
}
"""The renderer of each explanation code."""


def render(code: str, params: Params) -> str:
    """The sentence of explanation ``code`` with ``params`` (unknown codes are shown as data)."""
    renderer = RENDERERS.get(code)
    if renderer is None:
        return f"{code} {dict(params)!r}"
    return renderer(code, params)
