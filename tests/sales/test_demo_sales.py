"""The demo's sales pipeline (M1, M2): stored through the service, reproducible, reported."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crmcore import CRM
from crmcore.demo import DEFAULT_AS_OF, ReportContext, generate_book
from crmcore.demo.sales import DEMO_TERRITORIES, sales_section, store_demo_pipeline
from crmcore.model import Customer
from crmcore.sales.pipeline import PipelineService


def test_m1_m2_the_demo_pipeline_is_stored_once_by_the_rules_and_reported(
        tmp_path: Path) -> None:
    with CRM.open("sqlite", path=str(tmp_path / "demo.db")) as crm:
        crm.import_entities(generate_book(300, as_of=DEFAULT_AS_OF).all(), source="test")
        made = store_demo_pipeline(crm, DEFAULT_AS_OF)
        assert made > 50
        assert store_demo_pipeline(crm, DEFAULT_AS_OF) == 0  # a second run stores nothing
        items = PipelineService(crm, territories=DEMO_TERRITORIES).opportunities()
        customers = {c.id: c for c in crm.find(Customer)}
        for item in items:  # every owner is authorised for the territory the rules give
            rule = DEMO_TERRITORIES.territory_of(customers[item.customer_id])
            assert item.territory == rule.name
            assert rule.authorises(str(item.owner))
        assert len({item.currency for item in items}) > 1
        closed = Counter((item.source, item.stage) for item in items
                         if item.stage in ("won", "lost"))
        rate = {source: closed[source, "won"] / max(1, closed[source, "won"] +
                                                    closed[source, "lost"])
                for source in ("referral", "cold call")}
        assert rate["referral"] > rate["cold call"]  # the generated ground truth
        section = sales_section(ReportContext(crm, DEFAULT_AS_OF))
    assert section.title == "Sales pipeline"
    text = "\n".join(section.lines)
    assert f"opportunities {len(items)}: open " in text
    assert "open amounts (per currency, never summed): " in text
    assert "expected close date unknown: " in text


def test_m1_the_sales_section_of_an_empty_pipeline_says_so(tmp_path: Path) -> None:
    with CRM.open("sqlite", path=str(tmp_path / "demo.db")) as crm:
        section = sales_section(ReportContext(crm, DEFAULT_AS_OF))
    assert section.lines == ("no opportunities in the pipeline",)
