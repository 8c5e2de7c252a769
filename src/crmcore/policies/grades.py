"""Grades as the policies see them: plain names, best first (G6).

The policies take a customer's grade as an input (a mapping customer id ->
grade name, from the grading capability); they never grade. A customer
without a grade is treated as the last grade of the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_GRADES: tuple[str, ...] = ("A", "B", "C", "D")
"""The grade names the default policies know, best first."""

Grades = Mapping[str, str]
"""Customer id -> grade name."""


def grade_rank(grade: str | None, order: Sequence[str] = DEFAULT_GRADES) -> int:
    """0 for the best grade of ``order``; unknown or missing grades rank after all."""
    if grade is not None and grade in order:
        return list(order).index(grade)
    return len(order)


def grade_or_last(grade: str | None, order: Sequence[str] = DEFAULT_GRADES) -> str:
    """``grade`` if it is in ``order``, else the last grade (the ungraded default)."""
    return grade if grade is not None and grade in order else order[-1]
