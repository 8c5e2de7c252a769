"""Early warning (P7): thresholds on measures that raise ``improvement.warning`` events.

A :class:`WarningRule` is data (a TOML ``[[warnings]]`` table, see
:func:`rules_from_toml`): a measure, ``above`` or ``below`` a threshold, for
a number of consecutive periods. :func:`evaluate` applies rules to a series
of measure values, oldest first, and returns an :class:`EarlyWarning` for
each rule whose latest periods all breach it. A period with no data breaks
the run; a small sample still counts and is flagged in the warning.
:func:`rules_from_targets` turns a cycle's targets into rules ("complaint
rate above target two periods in a row"). The application service stores
each warning once and emits :func:`warning_event` through the CRM, so the
notifiers receive it.

The module is not called ``warnings`` so as not to shadow the standard one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from crmcore.errors import ConfigError, InvalidDataError
from crmcore.events import DomainEvent
from crmcore.i18n import N_, tr
from crmcore.improvement.cycle import IMPROVEMENT_FILE, Cycle
from crmcore.improvement.measures import Better, MeasureValue, measure_definition
from crmcore.lifecycle.measures import Period, periods
from crmcore.serialization import structure
from crmcore.validation import aware_datetime, identifier, int_between, non_empty_text

WARNING_EVENT = "improvement.warning"
"""The type of the domain event an early warning raises."""


class Comparison(StrEnum):
    """Which side of the threshold is a breach."""

    ABOVE = "above"
    BELOW = "below"


def _measure_name(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_empty_text(_instance, attribute, value)
    measure_definition(value)


@attrs.frozen
class WarningRule:
    """Warn when ``measure`` is ``when`` ``threshold`` for ``consecutive`` periods in a row."""

    name: str = attrs.field(validator=identifier)
    measure: str = attrs.field(validator=_measure_name)
    when: Comparison
    threshold: float
    consecutive: int = attrs.field(default=1, validator=int_between(1, 120))
    message: str = ""

    def breached_by(self, value: MeasureValue) -> bool:
        """Whether ``value`` is on the wrong side of the threshold (no data: no)."""
        if value.value is None:
            return False
        if self.when is Comparison.ABOVE:
            return value.value > self.threshold
        return value.value < self.threshold

    def describe(self) -> str:
        """``complaint_rate above 0.1 for 2 periods`` style text."""
        times = "period" if self.consecutive == 1 else f"{self.consecutive} periods"
        return f"{self.measure} {self.when.value} {self.threshold:g} for {times}"


@attrs.frozen
class EarlyWarning:
    """A raised warning: the rule, the periods that breached it and their values.

    ``id`` is ``rule@last period``, so the same warning is raised once.
    """

    id: str = attrs.field(validator=identifier)
    rule: str
    measure: str
    text: str
    periods: tuple[str, ...]
    values: tuple[float, ...]
    sample_sizes: tuple[int, ...]
    small_sample: bool
    raised_at: datetime = attrs.field(validator=aware_datetime)

    @property
    def filed_under(self) -> str:
        """The owner id storage files the warning under."""
        return IMPROVEMENT_FILE


def evaluate(rules: Iterable[WarningRule], series: Mapping[str, Sequence[MeasureValue]], *,
             at: datetime) -> list[EarlyWarning]:
    """The warnings ``rules`` raise on ``series`` (measure name -> values, oldest first)."""
    raised = []
    for rule in rules:
        latest = list(series.get(rule.measure, ()))[-rule.consecutive:]
        if len(latest) < rule.consecutive or not all(rule.breached_by(v) for v in latest):
            continue
        last = latest[-1].period.label
        raised.append(EarlyWarning(
            id=f"{rule.name}@{last}", rule=rule.name, measure=rule.measure,
            text=rule.message or rule.describe(), periods=tuple(v.period.label for v in latest),
            values=tuple(v.value for v in latest if v.value is not None),
            sample_sizes=tuple(v.n for v in latest),
            small_sample=any(v.small_sample for v in latest), raised_at=at))
    return raised


def warning_event(warning: EarlyWarning) -> DomainEvent:
    """The ``improvement.warning`` event of ``warning``."""
    return DomainEvent(
        type=WARNING_EVENT, occurred_at=warning.raised_at, subject=f"measure:{warning.measure}",
        data={"warning": warning.id, "rule": warning.rule, "measure": warning.measure,
              "text": warning.text, "periods": list(warning.periods),
              "values": list(warning.values), "sample_sizes": list(warning.sample_sizes),
              "small_sample": warning.small_sample})


_SOURCE = N_("warning rules")  # the default name of the rules in refusals, in words


def rules_from_toml(text: str, *, source: str = _SOURCE) -> tuple[WarningRule, ...]:
    """Rules from a TOML document of ``[[warnings]]`` tables (keys as in :class:`WarningRule`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("{source}: is not valid TOML: {error}").format(
            source=tr(source), error=error)) from None
    unknown = sorted(set(data) - {"warnings"})
    if unknown:
        raise ConfigError(tr("{source}: {key}: is not a known key (known: {known})").format(
            source=tr(source), key=unknown[0], known="warnings"))
    return rules_from_data(data.get("warnings", []), source=source)


def rules_from_data(items: Any, *, source: str = _SOURCE,
                    path: str = "warnings") -> tuple[WarningRule, ...]:
    """Rules from parsed ``[[warnings]]`` tables (a list of mappings); ``path`` names them."""
    try:
        rules = structure(items, list[WarningRule], path=path)
    except InvalidDataError as error:
        raise ConfigError(tr("{source}: {error}").format(source=tr(source), error=error)) from None
    names = [rule.name for rule in rules]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(tr("{source}: {path}: rule {name!r} is declared twice").format(
                source=tr(source), path=path, name=name))
    return tuple(rules)


def warning_periods(rules: Iterable[WarningRule], as_of: datetime, *,
                    unit: str = "quarter") -> list[Period]:
    """The complete calendar periods of ``unit`` before ``as_of``, as many as the longest run.

    The period ``as_of`` falls in is not complete, so it is left out: a rule
    over two quarters as of 2026-07-15 reads 2026-Q1 and 2026-Q2.
    """
    needed = max((rule.consecutive for rule in rules), default=1)
    current = periods(as_of, as_of + timedelta(microseconds=1), unit)[0]
    return periods(current.start - timedelta(days=366 * needed), current.start, unit)[-needed:]


def rules_from_targets(cycle: Cycle, *, consecutive: int = 2) -> tuple[WarningRule, ...]:
    """One rule per target of ``cycle``: the measure on the wrong side of its goal."""
    return tuple(
        WarningRule(name=f"{cycle.id}:{t.problem}:{t.measure}", measure=t.measure,
                    when=Comparison.ABOVE if t.better is Better.LOWER else Comparison.BELOW,
                    threshold=t.goal, consecutive=consecutive,
                    message=tr("{measure} outside the target of cycle {cycle} ({target}) for "
                               "{count} periods in a row").format(
                        measure=t.measure, cycle=cycle.id, target=t.describe(),
                        count=consecutive))
        for t in cycle.plan.targets)
