"""Generate the pictures of the improvement chapter (docs/improvement.rst).

Runs a worked example through :class:`crmcore.improvement.ImprovementService`
on an in-memory CRM: 200 customers whose complaints fall from 30% (2026-Q1)
to 22% (Q2, target 15% missed, carried over) and 12% (Q3, achieved). Writes
reproducible SVGs to ``docs/_static/improvement/``::

    python docs/make_charts.py            # needs crmcore[charts]
    python docs/make_charts.py --check    # fail if the committed SVGs are stale
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmcore import CRM, Customer, Ticket, Transaction
from crmcore.improvement import (
    ImprovementService,
    countermeasure,
    pareto_chart,
    run_chart,
    run_points,
)
from crmcore.model import TicketKind
from crmcore.transitions import to_svg

OUT = Path(__file__).resolve().parent / "_static" / "improvement"
Q1, Q2, Q3, Q4 = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 4, 7, 10))
Q1_CATEGORIES = {"late delivery": 30, "billing error": 14, "packaging": 7, "price": 5,
                 "service attitude": 4}


def book() -> list[Any]:
    """200 customers; complaints by 60 of them in Q1, 44 in Q2 and 24 in Q3."""
    ids = [f"C{n:03d}" for n in range(1, 201)]
    made: list[Any] = [Customer(id=c, name=c) for c in ids]
    made += [Transaction(id=f"{c}-T", customer_id=c, occurred_at=datetime(2025, 12, 1,
                                                                          tzinfo=UTC),
                         amount=Decimal(100)) for c in ids]
    q1 = [category for category, count in Q1_CATEGORIES.items() for _ in range(count)]
    for start, categories in ((Q1, q1), (Q2, ["late delivery"] * 24 + ["billing error"] * 20),
                              (Q3, ["billing error"] * 14 + ["late delivery"] * 10)):
        made += [Ticket(id=f"{c}-{start.month}", customer_id=c, opened_at=start +
                        timedelta(days=10), kind=TicketKind.COMPLAINT, category=category)
                 for c, category in zip(ids, categories, strict=False)]
    return made


def worked_example(service: ImprovementService) -> str:
    """Two cycles on the complaint rate; returns the id of the first."""
    service.open_cycle(measure="complaint_rate", period="2026-Q1", goal=0.15,
                       problem="Too many customers complain", problem_key="complaints",
                       cycle_id="PDCA-001", actor="quality.team", at=Q2)
    service.plan_from_pareto("PDCA-001", service.complaint_pareto("2026-Q1"),
                             source="complaints", actor="quality.team", at=Q2)
    service.revise_plan("PDCA-001", actor="quality.team", at=Q2, countermeasures=[
        countermeasure("cm-1", "confirm delivery dates by phone", "li.wei", "2026-05-15",
                       "late delivery"),
        countermeasure("cm-2", "second check of every invoice", "zhang.min", "2026-05-15",
                       "billing error")])
    service.start_do("PDCA-001", actor="quality.team", at=Q2 + timedelta(days=1))
    for key in ("cm-1", "cm-2"):
        service.track("PDCA-001", key, "done", actor="quality.team", at=Q2 + timedelta(days=40))
    service.start_check("PDCA-001", actor="quality.team", at=Q3)
    service.check("PDCA-001", "2026-Q2", actor="quality.team", at=Q3)
    service.start_act("PDCA-001", actor="quality.team", at=Q3)
    service.act("PDCA-001", standardised=["confirm delivery dates by phone"],
                next_cycle_id="PDCA-002", actor="quality.team", at=Q3)

    service.plan_from_pareto("PDCA-002", service.complaint_pareto("2026-Q2"),
                             source="complaints", actor="quality.team", at=Q3)
    service.revise_plan("PDCA-002", actor="quality.team", at=Q3, countermeasures=[
        countermeasure("cm-3", "invoice from the order system, no retyping", "zhang.min",
                       "2026-08-15", "billing error")])
    service.start_do("PDCA-002", actor="quality.team", at=Q3 + timedelta(days=1))
    service.track("PDCA-002", "cm-3", "done", actor="quality.team", at=Q3 + timedelta(days=40))
    service.start_check("PDCA-002", actor="quality.team", at=Q4)
    service.check("PDCA-002", "2026-Q3", actor="quality.team", at=Q4)
    service.start_act("PDCA-002", actor="quality.team", at=Q4)
    service.act("PDCA-002", standardised=["invoice from the order system"],
                actor="quality.team", at=Q4)
    return "PDCA-001"


def make(out: Path) -> list[Path]:
    """Write the chapter's pictures to ``out``."""
    with CRM.open("memory") as crm:
        crm.record_many(book())
        service = ImprovementService(crm)
        first = worked_example(service)
        chain = service.chain(first)
        table = service.complaint_pareto("2026-Q1")
    out.mkdir(parents=True, exist_ok=True)
    flow = out / "pdca-flow.svg"
    flow.write_text(to_svg(service.flow), encoding="utf-8")
    return [
        pareto_chart(table, out / "pareto.svg", title="Complaint categories, 2026-Q1"),
        run_chart(run_points(chain, "complaint_rate"), out / "run.svg",
                  measure="complaint_rate", title="Complaint rate across two cycles"),
        flow,
    ]


def main(argv: list[str] | None = None) -> int:
    """Write the pictures, or with ``--check`` compare them with the committed ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if the committed pictures differ from fresh ones")
    arguments = parser.parse_args(argv)
    if not arguments.check:
        for path in make(OUT):
            print(f"wrote {path}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        stale = [path.name for path in make(Path(scratch))
                 if not (OUT / path.name).exists()
                 or (OUT / path.name).read_bytes() != path.read_bytes()]
    for name in stale:
        print(f"stale: docs/_static/improvement/{name} (run python docs/make_charts.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
