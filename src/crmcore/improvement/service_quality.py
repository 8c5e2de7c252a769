"""The service-quality survey (P5) and its importance/performance analysis.

The handbook measures service quality on five dimensions: reliability
(可靠性), tangibles (有形度), responsiveness (響應度), empathy (同理度) and
assurance (專業度). :data:`SERVICE_QUALITY` is a survey template with three
items per dimension; every item is asked twice, on the template's scale
(1-5 by default): how important it is to the customer, and how well we do
it. A :class:`~crmcore.model.SurveyResponse` of the template's ``survey``
name holds the answers under :meth:`SurveyTemplate.importance_key` and
:meth:`SurveyTemplate.performance_key` (``importance_reliability_promise``).

:func:`importance_performance` ranks the items (importance/performance
analysis, Martilla and James 1977): the mean importance and performance of
each item, its rank on both, and its quadrant around the crosshair (the
grand means, or the scale midpoint):

- ``concentrate_here`` (high importance, low performance): improve first
  (重點改善), the candidates for the next PDCA plan (P1);
- ``keep_up`` (high, high): keep up the good work (繼續保持);
- ``low_priority`` (low, low): improve later (次要改善);
- ``possible_overkill`` (low importance, high performance): effort that
  could go elsewhere (過度投入).

A value on the crosshair counts as high. :attr:`ImportancePerformance.priorities`
orders the items for action: quadrant first (in the order above), then the
largest gap (importance minus performance).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from statistics import fmean
from typing import Any, Literal

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.model import SurveyResponse
from crmcore.validation import as_tuple, identifier, int_between, non_empty_text

__all__ = [
    "SERVICE_QUALITY",
    "Dimension",
    "DimensionScore",
    "ImportancePerformance",
    "ItemScore",
    "Quadrant",
    "SurveyItem",
    "SurveyTemplate",
    "importance_performance",
]


class Dimension(StrEnum):
    """A service-quality dimension of the handbook (P5)."""

    RELIABILITY = "reliability"
    TANGIBLES = "tangibles"
    RESPONSIVENESS = "responsiveness"
    EMPATHY = "empathy"
    ASSURANCE = "assurance"

    @property
    def label_zh(self) -> str:
        """The handbook's name of the dimension, in Simplified Chinese (zh_CN; the
        handbook itself writes 響應度 and 專業度)."""
        return _DIMENSION_ZH[self]


_DIMENSION_ZH = {
    Dimension.RELIABILITY: "可靠性", Dimension.TANGIBLES: "有形度",
    Dimension.RESPONSIVENESS: "响应度", Dimension.EMPATHY: "同理度",
    Dimension.ASSURANCE: "专业度",
}


class Quadrant(StrEnum):
    """Where an item falls around the importance/performance crosshair, in order of action."""

    CONCENTRATE_HERE = "concentrate_here"
    KEEP_UP = "keep_up"
    LOW_PRIORITY = "low_priority"
    POSSIBLE_OVERKILL = "possible_overkill"


_ACTION_ORDER = {quadrant: position for position, quadrant in enumerate(Quadrant)}


@attrs.frozen
class SurveyItem:
    """One statement of the survey, rated for importance and for performance."""

    key: str = attrs.field(validator=identifier)
    dimension: Dimension = attrs.field(validator=attrs.validators.instance_of(Dimension))
    text: str = attrs.field(validator=non_empty_text)
    text_zh: str = attrs.field(validator=non_empty_text)


def _unique_items(_instance: Any, attribute: attrs.Attribute[Any],
                  value: tuple[SurveyItem, ...]) -> None:
    if not value:
        raise ValidationError(attribute.name, value, "is empty: a survey needs items")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, SurveyItem):
            raise ValidationError(f"{attribute.name}[{index}]", item, "is not a SurveyItem")
        if item.key in seen:
            raise ValidationError(f"{attribute.name}[{index}].key", item.key, "is listed twice")
        seen.add(item.key)


@attrs.frozen
class SurveyTemplate:
    """A satisfaction survey form: its items and the rating scale ``low``..``high``."""

    survey: str = attrs.field(validator=non_empty_text)
    items: tuple[SurveyItem, ...] = attrs.field(converter=as_tuple, validator=_unique_items)
    low: int = attrs.field(default=1, validator=int_between(0, 10))
    high: int = attrs.field(default=5, validator=int_between(1, 100))

    def __attrs_post_init__(self) -> None:
        if self.high <= self.low:
            raise ValidationError("high", self.high, tr("must be above low ({low})").format(
                low=self.low))

    @staticmethod
    def importance_key(item: str) -> str:
        """The answer key of the importance rating of ``item``."""
        return f"importance_{item}"

    @staticmethod
    def performance_key(item: str) -> str:
        """The answer key of the performance rating of ``item``."""
        return f"performance_{item}"

    def dimensions(self) -> tuple[Dimension, ...]:
        """The dimensions the items cover, in the order of :class:`Dimension`."""
        covered = {item.dimension for item in self.items}
        return tuple(d for d in Dimension if d in covered)

    def rating(self, response: SurveyResponse, key: str) -> int | None:
        """The answer to ``key`` in ``response``, checked on the scale (None if unanswered).

        Raises :class:`~crmcore.errors.ValidationError` naming the response and
        the answer when it is not a whole number from ``low`` to ``high``.
        """
        answer = response.answers.get(key)
        if answer is None:
            return None
        if isinstance(answer, bool) or not isinstance(answer, int) \
                or not self.low <= answer <= self.high:
            raise ValidationError(f"survey_response[{response.id!r}].answers.{key}", answer,
                                  tr("is not a rating from {low} to {high}").format(
                                      low=self.low, high=self.high))
        return answer

    def as_dict(self) -> dict[str, Any]:
        """The form as JSON values, for a host to render (two ratings per item)."""
        return {"survey": self.survey, "scale": [self.low, self.high], "items": [
            {"key": item.key, "dimension": item.dimension.value,
             "dimension_zh": item.dimension.label_zh, "text": item.text,
             "text_zh": item.text_zh, "importance": self.importance_key(item.key),
             "performance": self.performance_key(item.key)} for item in self.items]}


def _items(dimension: Dimension, *rows: tuple[str, str, str]) -> list[SurveyItem]:
    return [SurveyItem(key, dimension, text, text_zh) for key, text, text_zh in rows]


SERVICE_QUALITY = SurveyTemplate("service_quality", (
    *_items(Dimension.RELIABILITY,
            ("reliability_promise", "We do what we promised, by the time we promised.",
             "承诺的事情都能按时做到。"),
            ("reliability_right_first", "We get the service right the first time.",
             "第一次就把服务做好。"),
            ("reliability_records", "Our records about you are accurate.",
             "关于您的资料准确无误。")),
    *_items(Dimension.TANGIBLES,
            ("tangibles_facilities", "Our offices and equipment are modern and in order.",
             "办公场所与设备现代、整洁。"),
            ("tangibles_staff", "Our staff look neat and professional.",
             "员工仪表整洁、专业。"),
            ("tangibles_materials", "Our documents and materials are clear.",
             "文件与资料清楚易懂。")),
    *_items(Dimension.RESPONSIVENESS,
            ("responsiveness_time", "We tell you exactly when things will be done.",
             "明确告知服务完成的时间。"),
            ("responsiveness_prompt", "You get prompt service.", "服务迅速及时。"),
            ("responsiveness_willing", "We are always willing to help, however busy.",
             "再忙也乐意提供帮助。")),
    *_items(Dimension.EMPATHY,
            ("empathy_attention", "We give you individual attention.", "给予您个别的关怀。"),
            ("empathy_interests", "We have your best interests at heart.",
             "真心为您的利益着想。"),
            ("empathy_hours", "We are reachable at hours convenient to you.",
             "在您方便的时间都能联络到我们。")),
    *_items(Dimension.ASSURANCE,
            ("assurance_knowledge", "Our staff have the knowledge to answer your questions.",
             "员工具备回答问题的专业知识。"),
            ("assurance_trust", "You can trust our staff.", "员工值得信赖。"),
            ("assurance_courtesy", "Our staff are consistently courteous.",
             "员工始终彬彬有礼。")),
))
"""The handbook's service-quality survey: three items on each of the five dimensions."""


@attrs.frozen
class ItemScore:
    """One item's mean importance and performance, ranks (1 = highest) and quadrant.

    ``n_importance`` and ``n_performance`` count the ratings behind each mean;
    ``small_sample`` is set when either is below the minimum sample. Ranks
    are competition ranks (equal means share the better rank).
    """

    item: SurveyItem
    importance: float
    performance: float
    n_importance: int
    n_performance: int
    importance_rank: int
    performance_rank: int
    quadrant: Quadrant
    small_sample: bool

    @property
    def gap(self) -> float:
        """Importance minus performance: how far the item falls short."""
        return self.importance - self.performance

    def as_dict(self) -> dict[str, Any]:
        """The score as JSON values."""
        return {"item": self.item.key, "dimension": self.item.dimension.value,
                "importance": self.importance, "performance": self.performance,
                "gap": self.gap, "n_importance": self.n_importance,
                "n_performance": self.n_performance, "importance_rank": self.importance_rank,
                "performance_rank": self.performance_rank, "quadrant": self.quadrant.value,
                "small_sample": self.small_sample}


@attrs.frozen
class DimensionScore:
    """A dimension's importance and performance: the means of its items' means."""

    dimension: Dimension
    importance: float
    performance: float

    @property
    def gap(self) -> float:
        """Importance minus performance."""
        return self.importance - self.performance


@attrs.frozen
class ImportancePerformance:
    """The importance/performance analysis of one survey's responses (P5).

    ``items`` are in the template's order (items nobody rated on both are
    left out); ``crosshair`` is the (importance, performance) point the
    quadrants are split at; ``responses`` counts the responses read.
    """

    survey: str
    responses: int
    crosshair: tuple[float, float]
    items: tuple[ItemScore, ...]
    dimensions: tuple[DimensionScore, ...]

    @property
    def priorities(self) -> list[ItemScore]:
        """The items in order of action: quadrant (concentrate here first), then largest gap."""
        return sorted(self.items, key=lambda s: (_ACTION_ORDER[s.quadrant], -s.gap, s.item.key))

    def quadrant(self, quadrant: Quadrant) -> list[ItemScore]:
        """The items in ``quadrant``, largest gap first."""
        return [s for s in self.priorities if s.quadrant is quadrant]


def _ranks(values: Sequence[float]) -> list[int]:
    """Competition ranks, highest value first: (5, 4, 4, 3) -> (1, 2, 2, 4)."""
    return [1 + sum(other > value for other in values) for value in values]


def _quadrant(importance: float, performance: float, crosshair: tuple[float, float]
              ) -> Quadrant:
    important, done_well = importance >= crosshair[0], performance >= crosshair[1]
    if important:
        return Quadrant.KEEP_UP if done_well else Quadrant.CONCENTRATE_HERE
    return Quadrant.POSSIBLE_OVERKILL if done_well else Quadrant.LOW_PRIORITY


def importance_performance(
        responses: Iterable[SurveyResponse], template: SurveyTemplate = SERVICE_QUALITY, *,
        crosshair: Literal["mean", "scale"] = "mean",
        minimum_sample: int = 30) -> ImportancePerformance:
    """Rank the template's items by importance and performance and place them in quadrants.

    Reads the responses of ``template.survey`` (others are skipped). The
    crosshair is the grand mean of the item means (``"mean"``) or the middle
    of the scale (``"scale"``). Raises
    :class:`~crmcore.errors.ValidationError` naming the response and answer
    for a rating off the scale, and when no item was rated on both questions.
    """
    if crosshair not in ("mean", "scale"):
        raise ValidationError("crosshair", crosshair, "is not 'mean' or 'scale'")
    ratings: dict[str, tuple[list[int], list[int]]] = {i.key: ([], []) for i in template.items}
    read = 0
    for response in responses:
        if response.survey != template.survey:
            continue
        read += 1
        for item in template.items:
            for key, into in ((template.importance_key(item.key), ratings[item.key][0]),
                              (template.performance_key(item.key), ratings[item.key][1])):
                if (rating := template.rating(response, key)) is not None:
                    into.append(rating)
    rated = [(item, fmean(imp), fmean(perf), len(imp), len(perf))
             for item in template.items
             for imp, perf in [ratings[item.key]] if imp and perf]
    if not rated:
        raise ValidationError("responses", read, tr("rate no item of survey {survey!r} on both "
                                                    "importance and performance").format(
            survey=template.survey))
    middle = (template.low + template.high) / 2
    point = ((fmean(r[1] for r in rated), fmean(r[2] for r in rated))
             if crosshair == "mean" else (middle, middle))
    importance_ranks = _ranks([r[1] for r in rated])
    performance_ranks = _ranks([r[2] for r in rated])
    items = tuple(
        ItemScore(item, imp, perf, n_imp, n_perf, importance_ranks[i], performance_ranks[i],
                  _quadrant(imp, perf, point), min(n_imp, n_perf) < minimum_sample)
        for i, (item, imp, perf, n_imp, n_perf) in enumerate(rated))
    dimensions = tuple(
        DimensionScore(d, fmean(s.importance for s in scores), fmean(s.performance for s in scores))
        for d in template.dimensions()
        if (scores := [s for s in items if s.item.dimension is d]))
    return ImportancePerformance(template.survey, read, point, items, dimensions)
