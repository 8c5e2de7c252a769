"""Prospect grading by closing horizon (G4, ``prospect-abcd``), over open opportunities.

An open opportunity is graded by its expected close date as of ``as_of``:
within 3 calendar months = A, within 6 = B, within 12 = C, and D beyond that,
without a date, or when flagged for poor credit, low loyalty or haggling.
Only what the source says earns an A (high profit, trusts us, closes within
3 months): an opportunity with open concerns ("accepts us but has concerns to
resolve"), a loss (``estimated_profit`` below zero) or an expected close date
already passed (the date no longer says when it closes) is B at best, and says
why. A customer's grade is that of their best open opportunity; customers
without open opportunities are not prospects and get no grade. Rules table::

    [rules]
    within_months = [3, 6, 12]
    flags = ["poor_credit", "low_loyalty", "haggles"]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._document import Table
from crmcore.grading.conditions import join_pairwise
from crmcore.grading.metrics import shift_months
from crmcore.grading.results import Explanation, FunctionExplainer, GradeTable
from crmcore.i18n import N_, tr
from crmcore.model import Opportunity, OpportunityStatus

if TYPE_CHECKING:
    from datetime import datetime

    from crmcore.grading.schemes import GradeScheme

FLAGS = ("poor_credit", "low_loyalty", "haggles")
"""The opportunity flags that make a prospect D."""
FLAG_WORDS = {"poor_credit": N_("poor credit"), "low_loyalty": N_("low loyalty"),
              "haggles": N_("haggles")}
"""Each of :data:`FLAGS` in words (translated when a reason is worded)."""
AND = N_("{left} and {right}")
"""How the flags of a reason, and what holds it from A, are joined
(:func:`~crmcore.grading.conditions.join_pairwise`)."""


@attrs.frozen
class ProspectRules:
    """Closing horizons in months for A, B and C, and the flags that mean D."""

    within_months: tuple[int, int, int] = (3, 6, 12)
    flags: tuple[str, ...] = FLAGS


def parse_prospect_rules(table: Table) -> ProspectRules:
    """Read the ``[rules]`` of a prospect-abcd scheme."""
    months = table.array("within_months", [3, 6, 12])
    if (len(months) != 3 or not all(isinstance(m, int) and not isinstance(m, bool) and m > 0
                                    for m in months) or sorted(set(months)) != months):
        raise table.fail("within_months", months,
                         tr("is not three increasing whole numbers of months, e.g. [3, 6, 12]"))
    flags = table.array("flags", list(FLAGS))
    for index, flag in enumerate(flags):
        if flag not in FLAGS:
            raise table.fail(f"flags[{index}]", flag, tr("is not a flag ({flags})").format(
                flags=", ".join(FLAGS)))
    table.check_all_used()
    return ProspectRules((months[0], months[1], months[2]), tuple(flags))


def grade_opportunity(rules: ProspectRules, opportunity: Opportunity, today: date
                      ) -> tuple[int, str]:
    """The grade index (0 = A .. 3 = D) of one open opportunity, and why."""
    raised = [flag for flag in rules.flags if getattr(opportunity, flag)]
    if raised:
        return 3, tr("flagged {flags}").format(flags=join_pairwise(
            AND, [tr(FLAG_WORDS[f]) for f in raised]))
    close = opportunity.expected_close
    if close is None:
        return 3, tr("no expected close date")
    code, reason = 3, tr("expected to close {close}, beyond {months} months").format(
        close=close.isoformat(), months=rules.within_months[-1])
    for index, months in enumerate(rules.within_months):
        limit = shift_months(today, months)
        if close <= limit:
            code, reason = index, tr("expected to close {close}, within {months} months (by "
                                     "{limit})").format(close=close.isoformat(), months=months,
                                                        limit=limit.isoformat())
            break
    held = _not_a(opportunity, today)
    if code == 0 and held:
        return 1, tr("{reason}, but {held}: B at best until resolved").format(
            reason=reason, held=join_pairwise(AND, held))
    return code, reason


def _not_a(opportunity: Opportunity, today: date) -> list[str]:
    """What keeps an opportunity from grade A, in the source's terms (G4)."""
    held = []
    if opportunity.concerns:
        held.append(tr("concerns to resolve ({concerns})").format(
            concerns=", ".join(opportunity.concerns)))
    if opportunity.estimated_profit is not None and opportunity.estimated_profit < 0:
        held.append(tr("loss-making (estimated profit {profit})").format(
            profit=opportunity.estimated_profit))
    close = opportunity.expected_close
    if close is not None and close < today:
        held.append(tr("the expected close date {close} has passed: confirm a new one").format(
            close=close.isoformat()))
    return held


def grade_prospects(scheme: GradeScheme, opportunities: Iterable[Opportunity],
                    as_of: datetime) -> GradeTable:
    """Grade every customer with an open opportunity received before ``as_of``."""
    rules = scheme.rules
    if not isinstance(rules, ProspectRules):
        raise ConfigError(tr("scheme {name}: not a prospect-abcd scheme").format(
            name=scheme.name))
    today = as_of.date()
    best: dict[str, tuple[int, str, Opportunity]] = {}
    for opportunity in opportunities:
        if opportunity.status is not OpportunityStatus.OPEN or opportunity.received_at >= as_of:
            continue
        code, reason = grade_opportunity(rules, opportunity, today)
        current = best.get(opportunity.customer_id)
        if current is None or (code, opportunity.id) < (current[0], current[2].id):
            best[opportunity.customer_id] = (code, reason, opportunity)
    ids = tuple(sorted(best))
    codes = [best[customer_id][0] for customer_id in ids]

    def explain(position: int) -> Explanation:
        code, reason, opportunity = best[ids[position]]
        grade = scheme.grade_names[code]
        return Explanation(
            scheme=scheme.name, version=scheme.version, code="prospect",
            params={"opportunity": opportunity.id, "title": opportunity.title,
                    "reason": reason, "grade": grade},
            rule=code,
        )

    return GradeTable(scheme, as_of, ids, codes, FunctionExplainer(explain))
