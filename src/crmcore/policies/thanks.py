"""Thank-you letters for feedback, signed by a senior person, saying what will change (S2).

Feedback is a survey answer with a comment, or a complaint once resolved (the customer
told us what went wrong). For each one within ``lookback`` of the moment looked at,
:func:`thank_you_letters` lists a letter to write until an outbound contact whose
``subject`` is :func:`thanks_subject` of it is recorded. The letter is prepared by the
customer's owner and signed by the owner's superior (the reporting lines of the
escalation chain), or by "a senior person" where no line is configured.

>>> from datetime import UTC, datetime
>>> from crmcore.model import SurveyResponse
>>> answer = SurveyResponse(id="S1", customer_id="C1", survey="after-sales", csat=3,
...                         comment="the engineer came late",
...                         answered_at=datetime(2026, 3, 2, 10, tzinfo=UTC))
>>> [letter.subject for letter in thank_you_letters(
...     [answer], [], [], as_of=datetime(2026, 3, 3, tzinfo=UTC))]
['survey:S1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import attrs

from crmcore.i18n import N_, tr
from crmcore.i18n_terms import term
from crmcore.model import Direction, Interaction, SurveyResponse, Ticket, TicketKind
from crmcore.policies.escalation import Hierarchy

__all__ = ["ThankYouDue", "thank_you_letters", "thanks_subject"]

SENIOR_PERSON = N_("a senior person")
"""Who signs when no reporting line names the owner's superior."""


@attrs.frozen
class ThankYouDue:
    """A thank-you letter to write: for ``subject`` (``survey:S1``, ``ticket:T1``) of a
    customer, prepared by ``owner`` and signed by ``signer``, due at ``due_at``."""

    customer_id: str
    subject: str
    owner: str | None
    signer: str
    due_at: datetime
    why: str


def thanks_subject(feedback_subject: str) -> str:
    """The ``subject`` of the outbound contact that sends the letter: ``thanks:survey:S1``."""
    return f"thanks:{feedback_subject}"


def _feedback(surveys: Iterable[SurveyResponse], tickets: Iterable[Ticket]
              ) -> Iterable[tuple[str, str, datetime, str]]:
    """(customer, subject, when, what they told us and what will change)."""
    for answer in surveys:
        comment = (answer.comment or "").strip()
        if comment:
            yield (answer.customer_id, f"survey:{answer.id}", answer.answered_at,
                   tr("their {survey} survey comment {comment!r}; say what will change "
                      "because of it").format(survey=term(answer.survey), comment=comment))
    for ticket in tickets:
        if ticket.kind is TicketKind.COMPLAINT and ticket.resolved_at is not None:
            change = (tr("the fix at its cause (problem {id})").format(id=ticket.problem_id)
                      if ticket.problem_id else tr("what will change so it does not happen again"))
            yield (ticket.customer_id, f"ticket:{ticket.id}", ticket.resolved_at,
                   tr("their complaint {id} ({category}); say {change}").format(
                       id=ticket.id, category=term(ticket.category), change=change))


def thank_you_letters(surveys: Iterable[SurveyResponse], tickets: Iterable[Ticket],
                      interactions: Iterable[Interaction], *, as_of: datetime,
                      owners: Mapping[str, str | None] | None = None,
                      lines: Hierarchy | None = None,
                      within: timedelta = timedelta(days=5),
                      lookback: timedelta = timedelta(days=30)) -> list[ThankYouDue]:
    """The letters still to write as of ``as_of``: one per piece of feedback given in
    ``[as_of - lookback, as_of]`` with no outbound ``thanks:`` contact since, due
    ``within`` after it; by due time."""
    sent = {(i.customer_id, i.subject) for i in interactions
            if i.direction is Direction.OUTBOUND and i.subject and i.occurred_at <= as_of}
    found: list[ThankYouDue] = []
    for customer_id, subject, at, what in _feedback(surveys, tickets):
        if not as_of - lookback <= at <= as_of or (customer_id, thanks_subject(subject)) in sent:
            continue
        owner = (owners or {}).get(customer_id)
        superior = lines.superior(owner) if lines is not None and owner else None
        signer = superior or SENIOR_PERSON
        found.append(ThankYouDue(
            customer_id, subject, owner, signer, at + within,
            tr("thank them for {what}; signed by {signer} (S2); record the letter as a contact "
               "with subject {subject!r}").format(what=what, signer=term(signer),
                                                  subject=thanks_subject(subject))))
    return sorted(found, key=lambda due: (due.due_at, due.customer_id, due.subject))
