"""The rule catalogue's Chinese terms, accepted wherever the English codes are.

Users of Chinese ERPs write 竞争流失, 电话 or 紧急 where crmcore stores
``competitive``, ``phone`` or ``urgent``. :func:`member` turns any accepted
spelling into the enum member: the code itself, the code in another case or width
(``PHONE``, ``ｐｈｏｎｅ``), or one of its Chinese terms (the catalogue's, and common
short forms: 竞争 for 竞争流失). Comparison is NFKC-normalised and case-folded,
and ``_``, ``-`` and spaces are the same (``super value`` is ``super-value``).
Stored data keeps the codes; an unknown term is a
:class:`~crmcore.errors.ValidationError` listing every code with its terms.

Terms are registered per enum by class name (:data:`TERMS`), so the model, the
lifecycle taxonomy and serialization share one normaliser without importing each
other. Churn reasons (an extensible catalogue) are read by :func:`reason_code`;
the lifecycle entry fields together by :func:`lifecycle_fields`.

>>> from crmcore.lifecycle.taxonomy import ChurnType
>>> from crmcore.vocabulary import member
>>> member(ChurnType, "竞争流失", "churn_type")
<ChurnType.COMPETITIVE: 'competitive'>
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from crmcore.errors import ValidationError
from crmcore.i18n import tr

if TYPE_CHECKING:
    from crmcore.lifecycle.taxonomy import ChurnReason

__all__ = ["TERMS", "fold", "known_terms", "lifecycle_fields", "member", "reason_code",
           "term_of"]

E = TypeVar("E", bound=Enum)

TERMS: dict[str, dict[str, tuple[str, ...]]] = {
    "ChurnType": {  # L3 流失类型
        "natural": ("自然流失", "自然"), "malicious": ("恶意流失", "恶意"),
        "competitive": ("竞争流失", "竞争"), "negligence": ("过失流失", "过失"),
        "unknown": ("原因不明", "未知"),
    },
    "ChurnCause": {  # L3 流失原因类别
        "value": ("因价值", "价值"), "system": ("因系统", "系统"),
        "employee": ("因员工", "员工"), "unknown": ("原因不明", "未知"),
    },
    "LoyaltyType": {  # L4 客户忠诚分类
        "monopoly": ("垄断忠诚", "垄断"), "convenience": ("方便忠诚", "方便"),
        "potential": ("潜在忠诚", "潜在"), "price": ("价格忠诚", "价格"),
        "incentive": ("激励忠诚", "激励"), "super-value": ("超值忠诚", "超值"),
        "unknown": ("未知",),
    },
    "Channel": {  # S1 the customer's channels
        "phone": ("电话",), "sms": ("短信",), "email": ("邮件", "电子邮件", "电邮"),
        "website": ("网站",), "fax": ("传真",), "in_person": ("面谈", "当面", "上门"),
        "instant_message": ("微信", "即时消息", "企业微信", "QQ"), "post": ("邮寄", "信函"),
    },
    "InteractionKind": {
        "visit": ("拜访", "走访"), "call": ("电话", "通话"), "sms": ("短信",),
        "email": ("邮件", "电子邮件"), "meeting": ("面谈", "会面", "会议"),
        "message": ("消息", "微信"),
    },
    "TicketKind": {"complaint": ("投诉", "抱怨"), "request": ("请求", "服务请求")},
    "Priority": {"urgent": ("紧急",), "high": ("高",), "normal": ("普通", "一般", "中"),
                 "low": ("低",)},
    "TicketStatus": {
        "new": ("新建",), "open": ("处理中",), "waiting_on_customer": ("等待客户",),
        "on_hold": ("挂起",), "resolved": ("已解决",), "closed": ("已关闭",),
    },
    "PartyKind": {"person": ("个人",), "organisation": ("企业", "组织", "公司", "单位")},
    "Direction": {"inbound": ("呼入", "来访"), "outbound": ("呼出", "外呼")},
}
"""Chinese terms per enum (by class name) and code, the catalogue's word first."""

_SEPARATORS = re.compile(r"[\s_\-]+")
_LIST = re.compile(r"[,，、;；]")


def fold(text: str) -> str:
    """``text`` compared as users mean it: NFKC, case-folded, ``_``/``-``/spaces as one."""
    return _SEPARATORS.sub("-", unicodedata.normalize("NFKC", text).casefold().strip())


def _index(enum: type[Enum]) -> dict[str, Enum]:
    index: dict[str, Enum] = {}
    terms = TERMS.get(enum.__name__, {})
    for item in enum:
        for word in (str(item.value), *terms.get(str(item.value), ())):
            index.setdefault(fold(word), item)
    return index


_INDEXES: dict[type[Enum], dict[str, Enum]] = {}


def known_terms(enum: type[Enum]) -> str:
    """``自然流失 (natural), 恶意流失 (malicious), ...``: each first term with its code."""
    terms = TERMS.get(enum.__name__, {})
    return ", ".join(f"{terms[str(item.value)][0]} ({item.value})" for item in enum
                     if str(item.value) in terms)


def member(enum: type[E], value: Any, field: str, *, label: str | None = None) -> E:
    """The member of ``enum`` that ``value`` names (code or Chinese term, any case or width).

    Raises :class:`~crmcore.errors.ValidationError` naming ``field`` and listing the
    codes, then the Chinese terms: ``'x' is not one of natural, ... nor a term of one:
    自然流失 (natural), ...`` (``is not a {label} (known: ...)`` when ``label`` is given).
    """
    if isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        pass
    if isinstance(value, str):
        index = _INDEXES.get(enum)
        if index is None:
            index = _INDEXES[enum] = _index(enum)
        found = index.get(fold(value))
        if found is not None:
            return found  # type: ignore[return-value]
    codes = ", ".join(str(item.value) for item in enum)
    reason = (tr("is not a {label} (known: {known})").format(label=tr(label), known=codes)
              if label else tr("is not one of {known}").format(known=codes))
    terms = known_terms(enum)
    if terms:
        reason += tr(" nor a term of one: {terms}").format(terms=terms)
    raise ValidationError(field, value, reason)


def term_of(enum: type[E]) -> Callable[[str], E]:
    """A one-argument reader of ``enum`` members by code or term (for row readers); a
    :class:`ValueError` for anything else."""
    return lambda text: member(enum, text, enum.__name__)


def reason_code(value: Any, reasons: Iterable[ChurnReason], field: str) -> Any:
    """The churn reason code ``value`` names (code, label or Chinese label), else ``value``
    unchanged for the taxonomy to refuse with its list."""
    if not isinstance(value, str):
        return value
    wanted = fold(value)
    for reason in reasons:
        if wanted in (fold(reason.code), fold(reason.label), fold(reason.label_zh or reason.code)):
            return reason.code
    return value


def lifecycle_fields(fields: Mapping[str, Any] | None,
                     reasons: Iterable[ChurnReason] | None = None) -> dict[str, Any]:
    """Lifecycle entry fields with their terms as codes (L3, L4): ``churn_type``,
    ``churn_cause``, ``loyalty_type`` and each of ``churn_reasons`` (a list, or one text
    of reasons separated by ``,``, ``，`` or ``、``). Other fields are kept as given; a
    term that names nothing is kept for the flow's validators to refuse."""
    from crmcore.lifecycle.taxonomy import (
        DEFAULT_CHURN_REASONS,
        ChurnCause,
        ChurnType,
        LoyaltyType,
    )

    result = dict(fields or {})
    for name, enum in (("churn_type", ChurnType), ("churn_cause", ChurnCause),
                       ("loyalty_type", LoyaltyType)):
        if isinstance(result.get(name), str):
            with contextlib.suppress(ValidationError):  # the validators name the field
                result[name] = member(enum, result[name], name).value
    given = result.get("churn_reasons")
    if isinstance(given, str):
        given = [part.strip() for part in _LIST.split(given) if part.strip()]
    if isinstance(given, list):
        catalogue = tuple(reasons if reasons is not None else DEFAULT_CHURN_REASONS)
        result["churn_reasons"] = [reason_code(item, catalogue, "churn_reasons")
                                   for item in given]
    return result
