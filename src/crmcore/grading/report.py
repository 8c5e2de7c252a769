"""The demo report's grading section: grade counts per scheme and one explanation.

Read-only: it grades the stored book as of the report date without storing
results (use :func:`crmcore.grading.run_grading` for that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcore.grading.engine import grade_book
from crmcore.grading.schemes import load_scheme
from crmcore.i18n import tr
from crmcore.i18n_terms import term

if TYPE_CHECKING:
    from crmcore.demo.report import ReportContext, ReportSection

REPORT_SCHEMES = ("pareto-abc", "pyramid", "rfm")
"""The schemes the demo report shows."""


def grading_section(context: ReportContext) -> ReportSection:
    """Customers per grade for each of :data:`REPORT_SCHEMES`, and why the best is best."""
    from crmcore.demo.report import ReportSection  # the report imports this module

    lines: list[str] = []
    first = None
    for name in REPORT_SCHEMES:
        scheme = load_scheme(name)
        table = grade_book(scheme, as_of=context.as_of, transactions=context.transactions,
                           customers=context.customers)
        counts = ", ".join(f"{term(grade)} {count}" for grade, count in table.counts().items()
                           if count or scheme.kind.value != "rfm")
        lines.append(f"{scheme.label:<14}{counts}")
        if first is None and len(table):
            best = min(range(len(table)), key=lambda i: (
                int(table.codes[i]), -(table.value_of(i) or 0.0), table.ids[i]))
            first = tr("why {customer} is {grade}: {why}").format(
                customer=table.ids[best], grade=term(table.grade_list[best]),
                why=table.explainer(best).text())
    if first:
        lines.append(first)
    return ReportSection(tr("Grading"), tuple(lines))
