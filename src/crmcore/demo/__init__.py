"""The demo: a generated book of business, its stored grades and a report on it."""

from crmcore.demo.generator import DEFAULT_AS_OF, DemoBook, Rhythm, generate_book
from crmcore.demo.grades import store_demo_grades
from crmcore.demo.report import (
    SECTIONS,
    ReportContext,
    ReportSection,
    build_report,
    render_report,
)

__all__ = [
    "DEFAULT_AS_OF",
    "SECTIONS",
    "DemoBook",
    "ReportContext",
    "ReportSection",
    "Rhythm",
    "build_report",
    "generate_book",
    "render_report",
    "store_demo_grades",
]
