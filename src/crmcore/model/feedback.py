"""Survey responses: the raw material of satisfaction measures (P5)."""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.errors import ValidationError
from crmcore.validation import (
    as_dict,
    aware_datetime,
    identifier,
    int_between,
    non_empty_text,
    optional,
)


def _answers(_instance: object, _attribute: object, value: dict[str, object]) -> None:
    for key, answer in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValidationError("answers", key, "is not a question name")
        if isinstance(answer, bool) or not isinstance(answer, int | str):
            raise ValidationError(f"answers.{key}", answer, "is not a whole number or a text")


@attrs.frozen
class SurveyResponse:
    """One customer's answers to a satisfaction survey.

    ``csat`` is 1-5 (5 = very satisfied); ``nps`` is the 0-10 likelihood to
    recommend; ``answers`` holds other questions (reputation, awareness...).
    """

    id: str = attrs.field(validator=identifier)
    customer_id: str = attrs.field(validator=identifier)
    answered_at: datetime = attrs.field(validator=aware_datetime)
    survey: str = attrs.field(validator=non_empty_text)
    csat: int | None = attrs.field(default=None, validator=optional(int_between(1, 5)))
    nps: int | None = attrs.field(default=None, validator=optional(int_between(0, 10)))
    answers: dict[str, int | str] = attrs.field(factory=dict, converter=as_dict, validator=_answers)
    comment: str | None = None
