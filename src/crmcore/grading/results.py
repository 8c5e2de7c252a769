"""Grade results and their explanations; results are storable (kind ``grade_result``).

A grading run gives a :class:`GradeTable` (columnar, cheap for a million
customers); explanations and :class:`GradeResult` records are built on
demand from it. A stored :class:`GradeResult` is one change of a customer's
grade in force (or their first grade); crmcore 0.1 stored one per customer
per run, which reads the same way.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from crmcore.csv_import import content_id
from crmcore.grading._backend import to_list
from crmcore.grading.explain import render
from crmcore.model import AttributeValue
from crmcore.model.registry import EntityType, register_entity_type
from crmcore.serialization import default_converter
from crmcore.validation import aware_datetime, identifier, non_empty_text, optional_identifier

if TYPE_CHECKING:
    from crmcore.grading.metrics import MetricTable
    from crmcore.grading.schemes import GradeScheme


@attrs.frozen
class Explanation:
    """Why a customer got a grade: a ``code`` and its ``params``, rendered on demand.

    ``code`` names the deciding rule or cut-off and ``params`` holds its
    numbers and names (see :mod:`crmcore.grading.explain`); ``decided_by``
    renders them. ``metrics`` and ``attributes`` are the values used.
    Rank-based schemes add ``rank`` (1 = best, competition ranking),
    ``population`` and ``cutoff`` (the lowest value still in the grade);
    rule-based ones add ``rule`` (0-based index of the deciding rule). RFM
    adds ``scores`` (``r``, ``f``, ``m``, 1-5). ``held`` says why hysteresis
    kept the previous grade, if it did.
    """

    scheme: str
    version: int
    code: str
    params: dict[str, Any] = attrs.field(factory=dict)
    metrics: dict[str, float] = attrs.field(factory=dict)
    attributes: dict[str, AttributeValue] = attrs.field(factory=dict)
    rank: int | None = None
    population: int | None = None
    cutoff: float | None = None
    rule: int | None = None
    scores: dict[str, int] = attrs.field(factory=dict)
    held: str | None = None

    @property
    def decided_by(self) -> str:
        """The rule or cut-off in words (rendered now, from ``code`` and ``params``)."""
        return render(self.code, self.params)

    def text(self) -> str:
        """One line for people: the rule, then the hysteresis note."""
        return self.decided_by + (f"; {self.held}" if self.held else "")

    def as_dict(self) -> dict[str, Any]:
        """The explanation as people's JSON: ``decided_by`` in words instead of the code."""
        return {"scheme": self.scheme, "version": self.version, "decided_by": self.decided_by,
                "metrics": dict(self.metrics), "attributes": dict(self.attributes),
                "rank": self.rank, "population": self.population, "cutoff": self.cutoff,
                "rule": self.rule, "scores": dict(self.scores), "held": self.held}


def explanation_data(explanation: Explanation) -> dict[str, Any]:
    """``attrs.asdict(explanation)`` (the stored shape) without its generic, slow recursion."""
    return {name: _plain(getattr(explanation, name)) for name in _EXPLANATION_FIELDS}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    return value


class Summary(NamedTuple):
    """What a table or CSV row shows of one explanation."""

    rank: int | None
    population: int | None
    cutoff: float | None
    metrics: Mapping[str, float]
    text: str


@attrs.frozen
class SummaryColumns:
    """The :class:`Summary` of many positions as columns, for tables and CSV in bulk.

    ``metrics`` maps each metric shown to one value per position, None where
    the summary does not show it (a metric that is not finite).
    """

    rank: Sequence[int | None]
    population: Sequence[int | None]
    cutoff: Sequence[float | None]
    metrics: Mapping[str, Sequence[float | None]]
    text: Sequence[str]

    @classmethod
    def of(cls, summaries: Iterable[Summary]) -> SummaryColumns:
        """Columns of summaries given one by one (the reference the bulk paths equal)."""
        rows = list(summaries)
        names = list(dict.fromkeys(name for row in rows for name in row.metrics))
        return cls([row.rank for row in rows], [row.population for row in rows],
                   [row.cutoff for row in rows],
                   {name: [row.metrics.get(name) for row in rows] for name in names},
                   [row.text for row in rows])


class Explainer:
    """Explains the grades of one table on demand, one customer or many.

    Subclasses implement :meth:`explain`; those graded in bulk (rank-based
    schemes) also make :meth:`summaries` cheap, without an
    :class:`Explanation` per customer.
    """

    def explain(self, position: int) -> Explanation:
        """The explanation of the customer at ``position``."""
        raise NotImplementedError

    def __call__(self, position: int) -> Explanation:
        return self.explain(position)

    def summaries(self, positions: Iterable[int]) -> Iterator[Summary]:
        """A :class:`Summary` per position, equal to what :meth:`explain` says."""
        for position in positions:
            e = self.explain(position)
            yield Summary(e.rank, e.population, e.cutoff, e.metrics, e.decided_by)

    def texts(self, positions: Iterable[int]) -> Iterator[str]:
        """The ``decided_by`` sentence of each position."""
        return (summary.text for summary in self.summaries(positions))

    def summary_columns(self, positions: Sequence[int]) -> SummaryColumns:
        """The summaries of ``positions`` as columns (bulk explainers make it cheap)."""
        return SummaryColumns.of(self.summaries(positions))


class FunctionExplainer(Explainer):
    """An :class:`Explainer` over a function of the position."""

    def __init__(self, explain: Callable[[int], Explanation]) -> None:
        self._explain = explain

    def explain(self, position: int) -> Explanation:
        """The explanation the function gives."""
        return self._explain(position)


_EXPLANATION_FIELDS = tuple(field.name for field in attrs.fields(Explanation))


def _legacy_explanation_hook(converter: Any) -> None:
    """Read explanations stored by crmcore 0.1 (``decided_by`` text, no code)."""
    generated = converter.get_structure_hook(Explanation)

    def structure_explanation(data: Any, cls: type[Explanation]) -> Explanation:
        if isinstance(data, Mapping) and "decided_by" in data and "code" not in data:
            sentence = data["decided_by"]
            data = {key: value for key, value in data.items() if key != "decided_by"}
            data.update(code="text", params={"text": sentence})
        return generated(data, cls)  # type: ignore[no-any-return]

    converter.register_structure_hook(Explanation, structure_explanation)


@attrs.frozen
class GradeResult:
    """One customer's grade in one grading run of one scheme.

    ``grade`` is the grade in force; ``proposed`` is what the rules gave
    before hysteresis (they differ only when a downgrade was held back);
    ``previous`` is the grade in force before this run, if any. ``run`` is
    the id of the stored run record that made it (None before crmcore 0.2).
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    scheme: str = attrs.field(validator=non_empty_text)
    version: int
    as_of: datetime = attrs.field(validator=aware_datetime)
    grade: str = attrs.field(validator=non_empty_text)
    proposed: str = attrs.field(validator=non_empty_text)
    explanation: Explanation
    previous: str | None = None
    value: float | None = None
    run: str | None = attrs.field(default=None, validator=optional_identifier)

    @property
    def changed(self) -> bool:
        """Whether the grade differs from the previous one (a first grade is no change)."""
        return self.previous is not None and self.previous != self.grade


GRADE_RESULT = register_entity_type(EntityType("grade_result", GradeResult, "customer_id",
                                               "as_of"))
"""The storable entity kind of :class:`GradeResult`."""

_legacy_explanation_hook(default_converter())


def result_id(scheme: str, as_of: datetime, customer_id: str) -> str:
    """The stable id of a result: one per scheme, as-of time and customer."""
    return content_id("g-", scheme, as_of.isoformat(), customer_id)


def finite(values: Mapping[str, float]) -> dict[str, float]:
    """The entries with a finite value (missing metrics are left out)."""
    return {name: value for name, value in values.items() if math.isfinite(value)}


@attrs.define(frozen=True)
class GradeTable:
    """The grades of one run, aligned with ``ids``, and how to explain each.

    ``codes[i]`` indexes ``scheme.grades``; ``values`` (rank-based schemes)
    is the ranking value, ``cutoffs`` the lowest value in each grade.
    """

    scheme: GradeScheme
    as_of: datetime
    ids: tuple[str, ...]
    codes: Sequence[int] | Any
    explainer: Explainer
    values: Sequence[float] | Any | None = None
    cutoffs: tuple[float | None, ...] | None = None
    metrics: MetricTable | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {customer_id: position for position, customer_id in enumerate(self.ids)}

    @cached_property
    def grade_list(self) -> list[str]:
        """Every customer's grade name, aligned with ``ids``."""
        names = self.scheme.grade_names
        return [names[code] for code in to_list(self.codes)]

    def grade_of(self, customer_id: str) -> str:
        """The grade of one customer."""
        return self.grade_list[self._positions[customer_id]]

    def explain(self, customer_id: str) -> Explanation:
        """The explanation of one customer's grade."""
        return self.explainer(self._positions[customer_id])

    def value_of(self, position: int) -> float | None:
        """The ranking value of the customer at ``position`` (None if not rank-based)."""
        if self.values is None:
            return None
        value = float(self.values[position])
        return value if math.isfinite(value) else None

    def counts(self) -> dict[str, int]:
        """How many customers got each grade (every grade listed, best first)."""
        counted = Counter(self.grade_list)
        return {name: counted[name] for name in self.scheme.grade_names}

    def result(self, position: int) -> GradeResult:
        """The :class:`GradeResult` of the customer at ``position`` (no hysteresis)."""
        customer_id = self.ids[position]
        grade = self.grade_list[position]
        return GradeResult(
            id=result_id(self.scheme.name, self.as_of, customer_id),
            customer_id=customer_id, scheme=self.scheme.name,
            version=self.scheme.version, as_of=self.as_of, grade=grade, proposed=grade,
            explanation=self.explainer.explain(position), value=self.value_of(position),
        )

    def results(self) -> Iterator[GradeResult]:
        """A :class:`GradeResult` per customer, built one at a time."""
        return map(self.result, range(len(self.ids)))
