"""Probability alive with a ``[source]`` equals probability alive from crmcore's storage.

The whole CDNOW purchase log is written to a real PostgreSQL database (a
shop's ``customers`` and ``orders``, with a draft order the mapping leaves
out) and imported into crmcore's own storage. The ``clv`` strategy's
probability alive computed from the source (purchase-day figures summarised
inside PostgreSQL) must equal the one computed from the storage for every
customer, and advancing the lifecycle from the source must move every
customer as advancing from the storage does, with the model in use.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from crmcore import CRM, Customer, Transaction
from crmcore.book import read_purchases
from crmcore.lifecycle.evidence import Thresholds
from crmcore.lifecycle.service import LifecycleService
from crmcore_plugins.pushdown.service import source_evidence
from crmcore_plugins.pushdown.sources import MappedSource, connect
from crmcore_plugins.scoring_clv import ClvScoring

from .conftest import Purchases
from .test_source_lifecycle import MAPPING

AS_OF = [datetime(1997, 9, 30, 12, tzinfo=UTC), datetime(1998, 7, 1, tzinfo=UTC)]


def _load(url: str, cdnow: Purchases) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE customers (id text PRIMARY KEY, name text)"))
        connection.execute(sa.text("CREATE TABLE orders (id integer PRIMARY KEY, customer_id "
                                   "text, at timestamp, amount numeric(12, 2), state text)"))
        connection.execute(sa.text("INSERT INTO customers VALUES (:id, :name)"),
                           [{"id": c, "name": f"customer {c}"}
                            for c in sorted(set(cdnow.customer_id))])
        rows = [{"id": n, "customer_id": c, "at": at.replace(tzinfo=None), "amount": a,
                 "state": "done"}
                for n, (c, at, a) in enumerate(zip(cdnow.customer_id, cdnow.at, cdnow.amount,
                                                   strict=True))]
        rows.append({"id": len(rows), "customer_id": cdnow.customer_id[0],
                     "at": datetime(1997, 6, 1), "amount": "99.00", "state": "draft"})
        connection.execute(sa.text("INSERT INTO orders VALUES (:id, :customer_id, :at, :amount,"
                                   " :state)"), rows)
    engine.dispose()


@pytest.fixture
def source(pg_database: str, cdnow: Purchases) -> Iterator[MappedSource]:
    """CDNOW in a shop's tables in PostgreSQL, as a mapped source."""
    _load(pg_database, cdnow)
    backend = connect(pg_database)
    try:
        yield MappedSource(backend, MAPPING)
    finally:
        backend.disconnect()


@pytest.fixture
def stored(cdnow: Purchases) -> Iterator[CRM]:
    """The same purchases in crmcore's own (memory) storage."""
    with CRM.open("memory") as crm:
        crm.import_entities([Customer(id=c, name=f"customer {c}")
                             for c in sorted(set(cdnow.customer_id))], source="test")
        crm.import_entities([Transaction(id=str(n), customer_id=c, occurred_at=at,
                                         amount=Decimal(a))
                             for n, (c, at, a) in enumerate(zip(cdnow.customer_id, cdnow.at,
                                                                cdnow.amount, strict=True))],
                            source="test")
        yield crm


@pytest.mark.parametrize("as_of", AS_OF, ids=["mid-history", "after"])
def test_p_alive_from_the_source_equals_p_alive_from_storage(
        source: MappedSource, stored: CRM, as_of: datetime) -> None:
    strategy = ClvScoring("probability_alive")
    until = as_of  # what the lifecycle passes is a microsecond later; both paths cut at as_of
    with stored.storage.transaction() as session:
        expected = dict(strategy.score_columns(read_purchases(session, until=until),
                                               as_of=as_of))
        found = source_evidence(source).scores(strategy, session, until, as_of)
    assert len(expected) > 1000
    assert found.keys() == expected.keys()
    assert found == expected


# Silence alone never flags anyone here, so every at-risk move is the model's.
MODEL_ONLY = Thresholds(at_risk_min_days=5000, churn_min_days=9000, p_alive_threshold=0.5)


def _moves(service: LifecycleService) -> tuple[list[Any], tuple[str, ...]]:
    report = service.advance(AS_OF[1])
    return (sorted((m.customer_id, m.event, m.at, m.rule, m.reason) for m in report.moves),
            report.evidence)


def test_advancing_from_the_source_uses_the_model_and_moves_as_storage(
        source: MappedSource, stored: CRM) -> None:
    with CRM.open("memory") as crm:
        from_source, evidence = _moves(LifecycleService(crm, evidence=source_evidence(source),
                                                        thresholds=MODEL_ONLY))
    from_storage, stored_evidence = _moves(LifecycleService(stored, thresholds=MODEL_ONLY))
    assert evidence == stored_evidence
    assert "probability alive from the 'clv' scoring strategy" in evidence
    assert from_source == from_storage
    assert any("probability alive" in reason for *_, reason in from_storage)  # the model moved
