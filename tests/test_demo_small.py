"""``crmcore demo`` on small books: every section is printed (issue 12).

A book of a few customers may have no complaint in the year the PDCA section
analyses; the demo crashed there because a plan without a cause cannot start.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.demo import DEFAULT_AS_OF, generate_book
from crmcore.improvement.cycle import Cycle
from crmcore.improvement.report import DEMO_CYCLE, pareto_period, run_demo_cycle
from crmcore.model import Ticket, TicketKind
from crmcore.policies.demo import policy_records

SECTIONS = ("Book of business", "Revenue", "Purchase rhythm", "Service", "Satisfaction",
            "Pipeline", "Lifecycle", "Sales pipeline", "Grading", "Improvement (PDCA)",
            "Agenda (CCPR)", "Receivables")


def complaints_analysed(database: str) -> int:
    """How many complaints the demo cycle's Pareto analysis sees."""
    period = pareto_period(DEFAULT_AS_OF)
    with CRM.open("sqlite", path=database) as crm:
        return sum(t.kind is TicketKind.COMPLAINT
                   for t in crm.find(Ticket, since=period.start, until=period.end))


def stored_cycle(database: str) -> Cycle | None:
    with CRM.open("sqlite", path=database) as crm:
        return crm.get(Cycle, DEMO_CYCLE)


@pytest.mark.parametrize("customers", range(1, 13))
def test_demo_of_a_small_book_prints_every_section_twice_alike(
        customers: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "demo.db")
    assert main(["demo", "--customers", str(customers), "--db", database]) == 0
    first = capsys.readouterr().out
    titles = [block.split("\n", 1)[0] for block in first.split("\n\n")[2:]]
    assert titles == list(SECTIONS)
    improvement = first.split("Improvement (PDCA)\n", 1)[1].split("\n\n", 1)[0]
    if complaints_analysed(database):
        assert f"cycle {DEMO_CYCLE} " in improvement
        assert stored_cycle(database) is not None
    else:
        assert f"no complaint opened over {pareto_period(DEFAULT_AS_OF).label}" in improvement
        assert stored_cycle(database) is None
    assert main(["demo", "--customers", str(customers), "--db", database]) == 0
    second = capsys.readouterr().out
    assert "Stored 0 new records" in second
    assert first.split("\n\n", 1)[1] == second.split("\n\n", 1)[1]  # the same report


@pytest.mark.parametrize(("customers", "cycle_run"), [(1, False), (12, True)])
def test_the_sizes_cover_books_with_and_without_complaints(
        customers: int, cycle_run: bool, tmp_path: Path) -> None:
    """Both branches of the PDCA section are taken by the sizes above."""
    database = str(tmp_path / "demo.db")
    with CRM.open("sqlite", path=database) as crm:
        book = generate_book(customers, as_of=DEFAULT_AS_OF)
        crm.import_entities([*book.all(), *policy_records(book, seed=7, as_of=DEFAULT_AS_OF)],
                            source="test")
        cycle = run_demo_cycle(crm, DEFAULT_AS_OF)
    assert (cycle is not None) is cycle_run
    assert bool(complaints_analysed(database)) is cycle_run


@pytest.mark.parametrize("seed", [12, 22, 24])
def test_every_seed_generates_a_book_whose_promises_fall_due_after_they_are_made(
        seed: int) -> None:
    """Seeds 12, 22, 24... with 400 customers made a promise due before it was made (an
    open ticket opened in the last days before the as-of) and the demo crashed."""
    from crmcore.model import Commitment

    book = generate_book(400, seed=seed, as_of=DEFAULT_AS_OF)
    promises = [item for item in book.all() if isinstance(item, Commitment)]
    assert promises
    assert all(promise.due_at > promise.made_at for promise in promises)
