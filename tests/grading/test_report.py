"""The demo report's grading section."""

from __future__ import annotations

from crmcore import CRM
from crmcore.demo import DEFAULT_AS_OF, SECTIONS, build_report, generate_book
from crmcore.grading.report import grading_section


def test_demo_report_has_a_grading_section() -> None:
    assert grading_section in SECTIONS
    book = generate_book(60, seed=2)
    with CRM.open("memory") as crm:
        crm.import_entities(book.all(), source="test")
        section = next(s for s in build_report(crm, DEFAULT_AS_OF) if s.title == "Grading")
    text = section.render()
    assert "pareto-abc@1  A 3, B 12, C 45" in text  # 5% and 20% of 60
    assert "pyramid@1" in text
    assert "rfm@1" in text
    assert "why C" in text
    assert "is A: rank 1 of 60" in text
