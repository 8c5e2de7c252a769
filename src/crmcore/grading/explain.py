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

Params = Mapping[str, Any]
"""The parameters of one explanation (JSON data)."""


def percent(value: float) -> str:
    """A percentage for people: ``5%``, ``12.5%``."""
    return f"{format_value(float(value))}%"


def rank_head(rank: int, population: int, by: str, value: float | None) -> str:
    """``rank 3 of 1,000 by revenue = 12,345.60`` (no ``= ...`` without a value)."""
    return f"rank {rank:,}{rank_middle(population, by)}{rank_value(value)}"


def rank_middle(population: int, by: str) -> str:
    """The part of :func:`rank_head` shared by a whole population: `` of 1,000 by revenue``."""
    return f" of {population:,} by {by}"


def rank_value(value: float | None) -> str:
    """The value part of :func:`rank_head`: `` = 12,345.60``, or nothing without a value."""
    return "" if value is None else f" = {format_value(value)}"


def rank_tail(code: str, p: Params) -> str:
    """What follows :func:`rank_head`: the cut that placed the customer."""
    grade = p["grade"]
    if code == "rank.no-value":
        return f": no value, so the last grade {grade}"
    if code == "rank.not-positive":
        return f": not above 0, so the last grade {grade}"
    if code == "rank.count":
        return (f"; {grade}: ranks {p['low']:,}-{p['high']:,} (top {percent(p['top'])} of "
                f"{p['population']:,}, rounded half up; ties take the better grade)")
    if code == "rank.rest":
        return f"; {grade}: ranks after {p['after']:,} (the rest)"
    ahead = f"; {p['ahead']:.1%} of the value is ahead; {grade}: "
    if code == "rank.share":
        return f"{ahead}less than {percent(p['below'])} ahead"
    return f"{ahead}the rest"


def _rank(code: str, p: Params) -> str:
    return rank_head(p["rank"], p["population"], p["by"], p.get("value")) + rank_tail(code, p)


def _rule(_code: str, p: Params) -> str:
    name = f" — {p['label']}" if p.get("label") else ""
    return f"rule {p['rule'] + 1} ({p['grade']}{name}): {p['when']}"


def _shown(value: float | None) -> str:
    return "none" if value is None else format_value(value)


def _rfm(code: str, p: Params) -> str:
    parts = ", ".join(f"{name} {_shown(value)} (rank {rank:,})" for name, value, rank in p["axes"])
    bounds = "/".join(f"{bound:,}" for bound in p["bounds"])
    return (f"R{p['r']} F{p['f']} M{p['m']}: {parts} of {p['population']:,}; "
            f"scores 5..1 end at ranks {bounds}; {_rule(code, p)}")


def _matrix(_code: str, p: Params) -> str:
    parts = []
    for axis, name, value, cut, split in p["axes"]:
        high = value is not None and cut is not None and value > cut
        shown_cut = "∞" if cut is None else format_value(cut)
        parts.append(f"{axis} {name} {_shown(value)} {'>' if high else '≤'} {split} "
                     f"{shown_cut} ({'high' if high else 'low'})")
    return f"{'; '.join(parts)}; {p['grade']} = {p['meaning']}"


def _prospect(_code: str, p: Params) -> str:
    return f"opportunity {p['opportunity']} ({p['title']}) {p['reason']}: {p['grade']}"


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
