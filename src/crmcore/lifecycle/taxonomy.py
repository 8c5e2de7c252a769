"""Why customers leave and why they stay: churn types, causes, reasons (L3), loyalty (L4).

Types, causes and loyalty types are fixed by the rule catalogue; the list
of churn *reasons* is a catalogue a host can extend
(:meth:`ChurnTaxonomy.with_reasons`). The reason ``other`` always exists
and needs a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import attrs

from crmcore.errors import ValidationError


class ChurnType(StrEnum):
    """How a customer was lost (流失类型, L3)."""

    NATURAL = "natural"          # 自然流失
    MALICIOUS = "malicious"      # 恶意流失
    COMPETITIVE = "competitive"  # 竞争流失
    NEGLIGENCE = "negligence"    # 过失流失
    UNKNOWN = "unknown"          # 原因不明: nobody has asked yet (L3: 问清楚原因)


class ChurnCause(StrEnum):
    """What the loss came from (L3)."""

    VALUE = "value"        # 因价值
    SYSTEM = "system"      # 因系统
    EMPLOYEE = "employee"  # 因员工
    UNKNOWN = "unknown"    # not known until the customer is asked


class LoyaltyType(StrEnum):
    """Why a loyal customer stays (客户忠诚分类, L4)."""

    MONOPOLY = "monopoly"        # 垄断忠诚
    CONVENIENCE = "convenience"  # 方便忠诚
    POTENTIAL = "potential"      # 潜在忠诚
    PRICE = "price"              # 价格忠诚
    INCENTIVE = "incentive"      # 激励忠诚
    SUPER_VALUE = "super-value"  # 超值忠诚
    UNKNOWN = "unknown"          # not known until evidence or a person says


@attrs.frozen
class ChurnReason:
    """One entry of the churn reason catalogue: a code and what it means."""

    code: str
    label: str
    label_zh: str = ""


OTHER = "other"
"""The reason code that needs a note."""

UNKNOWN_REASON = "unknown"
"""The reason of a churn inferred from silence: nobody asked yet (L3: ask why)."""

DEFAULT_CHURN_REASONS: tuple[ChurnReason, ...] = (
    ChurnReason("unstable-quality", "unstable quality", "质量不稳定"),
    ChurnReason("lack-of-innovation", "lack of innovation", "缺乏创新"),
    ChurnReason("poor-service", "poor service", "服务不好"),
    ChurnReason("weak-market-control", "weak market control", "市场监控不力"),
    ChurnReason("employee-left", "an employee leaving takes the customer", "员工跳槽带走客户"),
    ChurnReason("competitor-temptation", "competitor temptation", "竞争对手诱惑"),
    ChurnReason("harmed-interest", "harm to the customer's interest", "损害客户利益"),
    ChurnReason("unhappy-with-service", "unhappy with service", "对服务不满"),
    ChurnReason("complaint-not-followed-up", "long wait, no follow-up on a complaint",
                "投诉久等无人跟进"),
    ChurnReason("low-brand-credibility", "low brand credibility", "品牌信誉低"),
    ChurnReason("low-product-quality", "low product quality", "产品质量低"),
    ChurnReason("no-goodwill-after-purchase", "no goodwill after purchase", "购后无关怀"),
    ChurnReason("price-too-high", "price too high", "价格太高"),
    ChurnReason("no-perceived-benefit", "no perceived benefit", "感觉没有得到好处"),
    ChurnReason(OTHER, "other (explain in a note)", "其他"),
    ChurnReason(UNKNOWN_REASON, "reason unknown: ask the customer why", "原因不明，需问清楚"),
)
"""The churn reasons of rule L3, then ``other`` and ``unknown``."""


@attrs.frozen
class ChurnDetails:
    """Why one customer churned: type, cause, reasons and (for ``other``) a note."""

    churn_type: ChurnType
    churn_cause: ChurnCause
    churn_reasons: tuple[str, ...]
    churn_note: str = ""

    def as_fields(self) -> dict[str, Any]:
        """The entry fields of the ``churned`` state (JSON values)."""
        fields: dict[str, Any] = {"churn_type": self.churn_type.value,
                                  "churn_cause": self.churn_cause.value,
                                  "churn_reasons": list(self.churn_reasons)}
        if self.churn_note:
            fields["churn_note"] = self.churn_note
        return fields

    @property
    def explained(self) -> bool:
        """Whether type, cause and reasons are known (not ``unknown``): the customer
        was asked, or the evidence said why."""
        return (self.churn_type is not ChurnType.UNKNOWN
                and self.churn_cause is not ChurnCause.UNKNOWN
                and UNKNOWN_REASON not in self.churn_reasons)


@attrs.frozen
class ChurnTaxonomy:
    """The churn reason catalogue in use; build a larger one with :meth:`with_reasons`."""

    reasons: tuple[ChurnReason, ...] = DEFAULT_CHURN_REASONS

    def __attrs_post_init__(self) -> None:
        codes = [reason.code for reason in self.reasons]
        for reason in self.reasons:
            if not reason.code or reason.code != reason.code.strip() or not reason.label.strip():
                raise ValidationError("reasons", reason.code, "needs a code and a label")
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValidationError("reasons", duplicates[0], "is listed twice")
        for code in (OTHER, UNKNOWN_REASON):
            if code not in codes:
                raise ValidationError("reasons", code, "must stay in the catalogue")

    def with_reasons(self, extra: Iterable[ChurnReason]) -> ChurnTaxonomy:
        """A taxonomy with ``extra`` reasons added before ``other`` and ``unknown``."""
        fixed = (OTHER, UNKNOWN_REASON)
        own = [reason for reason in self.reasons if reason.code not in fixed]
        last = [reason for reason in self.reasons if reason.code in fixed]
        return ChurnTaxonomy((*own, *extra, *last))

    def codes(self) -> tuple[str, ...]:
        """Every reason code, in catalogue order."""
        return tuple(reason.code for reason in self.reasons)

    def label(self, code: str) -> str:
        """The label of reason ``code`` (the code itself if unknown)."""
        return next((r.label for r in self.reasons if r.code == code), code)

    def details(self, fields: Mapping[str, Any]) -> ChurnDetails:
        """Check churn entry fields and return them as :class:`ChurnDetails`.

        Raises :class:`~crmcore.errors.ValidationError` naming the field.
        """
        churn_type = _member(ChurnType, fields.get("churn_type"), "churn_type")
        cause = _member(ChurnCause, fields.get("churn_cause"), "churn_cause")
        reasons = fields.get("churn_reasons")
        if isinstance(reasons, str) or not isinstance(reasons, Sequence) or not reasons:
            raise ValidationError("churn_reasons", reasons, "must list one or more reasons")
        from crmcore.vocabulary import reason_code

        codes = self.codes()
        reasons = [code if code in codes else reason_code(code, self.reasons, "churn_reasons")
                   for code in reasons]
        for index, code in enumerate(reasons):
            if code not in codes:
                from crmcore.i18n import tr

                raise ValidationError(f"churn_reasons[{index}]", code, tr(
                    "is not a churn reason (known: {known})").format(known=", ".join(codes)))
        if len(set(reasons)) != len(reasons):
            raise ValidationError("churn_reasons", list(reasons), "lists a reason twice")
        note = fields.get("churn_note", "")
        if not isinstance(note, str):
            raise ValidationError("churn_note", note, "is not a text")
        if OTHER in reasons and not note.strip():
            raise ValidationError("churn_note", note, "must explain the reason 'other'")
        if UNKNOWN_REASON in reasons and len(reasons) > 1:
            from crmcore.i18n import tr

            raise ValidationError("churn_reasons", list(reasons), tr(
                "lists {code!r} beside known reasons").format(code=UNKNOWN_REASON))
        return ChurnDetails(churn_type, cause, tuple(reasons), note.strip())


def remembered_details(taxonomy: ChurnTaxonomy, size: int = 4096
                       ) -> Callable[[Mapping[str, Any]], ChurnDetails]:
    """``taxonomy.details``, remembering the answer for up to ``size`` distinct field values.

    An advance churns many customers with the same type, cause, reasons and
    often the same note: each distinct combination is checked once. Only
    answers are remembered (a refusal is raised again by ``details`` itself, so
    it reads the same), and only for texts and lists of texts; anything else
    is checked every time. The memory is emptied when full.
    """
    memo: dict[tuple[Any, ...], ChurnDetails] = {}

    def details(fields: Mapping[str, Any]) -> ChurnDetails:
        key = _details_key(fields)
        if key is None:
            return taxonomy.details(fields)
        found = memo.get(key)
        if found is None:
            found = taxonomy.details(fields)
            if len(memo) >= size:
                memo.clear()
            memo[key] = found
        return found

    return details


def _details_key(fields: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What :meth:`ChurnTaxonomy.details` reads of ``fields``, when all of it is text (or an
    absent type or cause); None otherwise."""
    churn_type, cause = fields.get("churn_type"), fields.get("churn_cause")
    reasons, note = fields.get("churn_reasons"), fields.get("churn_note", "")
    if (type(reasons) not in (list, tuple) or not reasons or type(note) is not str
            or any(type(code) is not str for code in reasons)
            or any(value is not None and type(value) is not str
                   for value in (churn_type, cause))):
        return None
    return churn_type, cause, tuple(reasons), note


def _member(enum: type[StrEnum], value: Any, field: str) -> Any:
    """The member ``value`` names: its code or Chinese term (:mod:`crmcore.vocabulary`)."""
    from crmcore.vocabulary import member

    return member(enum, value, field)


def loyalty_type(value: Any, field: str = "loyalty_type") -> LoyaltyType:
    """``value`` as a :class:`LoyaltyType`, or :class:`~crmcore.errors.ValidationError`."""
    found: LoyaltyType = _member(LoyaltyType, value, field)
    return found
