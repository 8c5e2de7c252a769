"""K2: the last-verified date of customer data and the stale-data report."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore import CRM, FixedClock
from crmcore.cli import main
from crmcore.errors import NotFoundError, ValidationError
from crmcore.model import Customer
from crmcore.verification import StaleCustomer, mark_verified, stale_customers

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
RELEASED = Path(__file__).parent / "data" / "crmcore-0.1.db"


def _stale(crm: CRM, days: int, owner: str | None = None) -> list[StaleCustomer]:
    with crm.storage.transaction() as session:
        return stale_customers(session, as_of=AS_OF, older_than=timedelta(days=days),
                               owner=owner)


def _reference(customers: list[Customer], days: int, owner: str | None) -> list[str]:
    """The report as a reader would write it: one customer object at a time."""
    cutoff = AS_OF - timedelta(days=days)
    due = [c for c in customers if (owner is None or c.owner == owner)
           and (c.verified_at is None or c.verified_at < cutoff)]
    due.sort(key=lambda c: (c.verified_at is not None, c.verified_at or AS_OF, c.id))
    return [c.id for c in due]


def test_k2_customers_of_a_0_1_database_read_as_never_verified(tmp_path: Path) -> None:
    copy = tmp_path / "released.db"
    shutil.copy(RELEASED, copy)
    with CRM.open("sqlite", path=str(copy), clock=FixedClock(AS_OF)) as crm:
        customers = crm.find(Customer)
        assert len(customers) == 25
        assert {c.verified_at for c in customers} == {None}
        stale = _stale(crm, 365)
        assert [s.customer_id for s in stale] == sorted(c.id for c in customers)
        assert {(s.verified_at, s.days_since) for s in stale} == {(None, None)}
        verified = mark_verified(crm, customers[0].id)
        assert crm.require(Customer, customers[0].id).verified_at == AS_OF == verified.verified_at
        assert customers[0].id not in [s.customer_id for s in _stale(crm, 0)]


def test_k2_stale_report_orders_never_verified_first_then_oldest() -> None:
    with CRM.open("memory", clock=FixedClock(AS_OF)) as crm:
        crm.record_many([
            Customer(id="A", name="a", owner="li", verified_at=AS_OF - timedelta(days=400)),
            Customer(id="B", name="b", owner="wu"),
            Customer(id="C", name="c", owner="li", verified_at=AS_OF - timedelta(days=30)),
            Customer(id="D", name="d", owner="li", verified_at=AS_OF - timedelta(days=90)),
        ])
        assert [s.customer_id for s in _stale(crm, 60)] == ["B", "A", "D"]
        assert [s.days_since for s in _stale(crm, 60)] == [None, 400, 90]
        assert [s.customer_id for s in _stale(crm, 60, owner="li")] == ["A", "D"]
        assert _stale(crm, 60)[1].verified_at == AS_OF - timedelta(days=400)
        with pytest.raises(NotFoundError, match="nobody"):
            mark_verified(crm, "nobody")
        with crm.storage.transaction() as session, pytest.raises(ValidationError,
                                                                 match="older_than"):
            stale_customers(session, as_of=AS_OF, older_than=timedelta(days=-1))


_CUSTOMERS = st.lists(
    st.tuples(st.sampled_from(["li", "wu", None]),
              st.none() | st.integers(-10, 800).map(
                  lambda d: AS_OF - timedelta(days=d, seconds=7))),
    max_size=25)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_CUSTOMERS, days=st.integers(0, 500), owner=st.sampled_from(["li", None]))
def test_k2_columnar_stale_report_equals_the_object_by_object_reference(
        backend: str, tmp_path: Path, rows: list[tuple[str | None, datetime | None]], days: int,
        owner: str | None) -> None:
    options = {"path": str(tmp_path / f"s{len(rows)}-{days}.db")} if backend == "sqlite" else {}
    customers = [Customer(id=f"C{i:03d}", name=f"n{i}", owner=who, verified_at=at)
                 for i, (who, at) in enumerate(rows)]
    with CRM.open(backend, clock=FixedClock(AS_OF), **options) as crm:
        with crm.transaction() as work:
            work.session.delete_many("customer", [c.id for c in customers])
        crm.import_entities(customers, source="test")
        found = _stale(crm, days, owner)
    assert [s.customer_id for s in found] == _reference(customers, days, owner)
    by_id = {c.id: c for c in customers}
    assert all(s.verified_at == by_id[s.customer_id].verified_at for s in found)


def test_k2_stale_command_prints_table_and_json(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "crm.db"
    with CRM.open("sqlite", path=str(db)) as crm:
        crm.record_many([Customer(id="A", name="Alpha", owner="li",
                                  verified_at=AS_OF - timedelta(days=200)),
                         Customer(id="B", name="Beta", verified_at=AS_OF)])
    base = ["stale", "--older-than", "100", "--db", str(db), "--as-of", "2026-06-30T12:00+00:00"]
    assert main(base) == 0
    table = capsys.readouterr().out
    assert "Alpha" in table
    assert "2025-12-12" in table
    assert "Beta" not in table
    assert "1 customer(s) not verified for 100 day(s)" in table
    assert main([*base, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{
        "customer_id": "A", "name": "Alpha", "owner": "li", "days_since": 200,
        "verified_at": "2025-12-12T12:00:00+00:00"}]
    assert main(["stale", "--older-than", "-1", "--db", str(db)]) == 1
    assert "--older-than: -1" in capsys.readouterr().err
