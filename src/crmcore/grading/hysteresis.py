"""Hysteresis: keep grades from flapping between runs (optional).

Upgrades take effect at once. A downgrade takes effect only when

* the rules proposed a worse grade in ``downgrade_runs`` consecutive runs
  (this one included), and
* for rank-based schemes with a ``margin``, the customer's value fell more
  than ``margin`` (a fraction) below the lowest value of their current grade
  in this run.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from crmcore.errors import ConfigError
from crmcore.grading.conditions import format_value
from crmcore.grading.schemes import GradeScheme
from crmcore.i18n import tr
from crmcore.i18n_terms import term


def _check_margin(_instance: object, _attribute: object, value: float) -> None:
    if not 0 <= value < 1:
        raise ConfigError(tr("{key}: {value!r} must be from 0 up to (not including) 1").format(
            key="margin", value=value))


def _check_runs(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(tr("{key}: {value!r} must be a whole number of at least 1").format(
            key="downgrade_runs", value=value))


@attrs.frozen
class Hysteresis:
    """When a downgrade may take effect; the default never holds one back."""

    downgrade_runs: int = attrs.field(default=1, validator=_check_runs)
    margin: float = attrs.field(default=0.0, validator=_check_margin)

    @property
    def history_needed(self) -> int:
        """How many earlier proposals :func:`settle` looks at."""
        return self.downgrade_runs - 1


def settle(scheme: GradeScheme, policy: Hysteresis, *, current: str | None, proposed: str,
           earlier: Sequence[str] = (), value: float | None = None,
           cutoffs: Sequence[float | None] | None = None) -> tuple[str, str | None]:
    """The grade in force after this run, and why a downgrade was held (or None).

    ``earlier`` are the grades proposed in previous runs, most recent first;
    ``value`` and ``cutoffs`` (lowest value per grade) come from rank-based
    schemes.
    """
    streak = 1
    if current is not None:
        held_at = scheme.order(current)
        for grade in earlier[:policy.history_needed]:
            if scheme.order(grade) <= held_at:
                break
            streak += 1
    return decide(scheme, policy, current=current, proposed=proposed, streak=streak,
                  value=value, cutoffs=cutoffs)


def decide(scheme: GradeScheme, policy: Hysteresis, *, current: str | None, proposed: str,
           streak: int, value: float | None = None,
           cutoffs: Sequence[float | None] | None = None) -> tuple[str, str | None]:
    """:func:`settle` given ``streak``: the consecutive runs, this one included, whose
    proposal was worse than ``current`` (what a stored run keeps per customer)."""
    if current is None or proposed == current:
        return proposed, None
    held_at = scheme.order(current)
    if scheme.order(proposed) < held_at:
        return proposed, None
    if policy.margin and value is not None and cutoffs is not None:
        cutoff = cutoffs[held_at]
        if cutoff is not None and value >= cutoff * (1 - policy.margin):
            return current, tr("kept {grade}: {value} is within {margin:.0%} of the {grade} "
                               "cut-off {cutoff}").format(grade=term(current),
                                                          value=format_value(value),
                                                          margin=policy.margin,
                                                          cutoff=format_value(cutoff))
    if streak < policy.downgrade_runs:
        return current, tr("kept {grade}: a downgrade to {proposed} was proposed in {streak} "
                           "of the {runs} consecutive runs needed").format(
            grade=term(current), proposed=term(proposed), streak=streak,
            runs=policy.downgrade_runs)
    return proposed, None
