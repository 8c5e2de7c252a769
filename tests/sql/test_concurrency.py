"""Optimistic concurrency across processes: two writers race on one customer.

Each round, two processes read the same version of customer ``C1``, wait for
each other, then both replace it with ``expected_version`` set to what they
read. Exactly one wins; the other gets :class:`~crmcore.errors.ConflictError`,
re-reads and retries, so after every round both changes are stored.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import attrs
import pytest

from crmcore import CRM, ConflictError, Customer

ROUNDS = 5


def _open(url: str, schema: str | None) -> CRM:
    options: dict[str, Any] = {"url": url} if schema is None else {"url": url, "schema": schema}
    return CRM.open("sql", **options)


def _with_attribute(customer: Customer, name: str) -> Customer:
    return attrs.evolve(customer, attributes={**customer.attributes, name: True})


def _writer(url: str, schema: str | None, writer: str, start: Any, results: Any) -> None:
    """One racing process: per round, read, wait for the other, write; retry on conflict."""
    with _open(url, schema) as crm:
        for number in range(ROUNDS):
            attribute = f"round{number}_{writer}"
            customer = crm.require(Customer, "C1")
            version = crm.version(Customer, "C1")
            start.wait(timeout=60)
            try:
                crm.replace(_with_attribute(customer, attribute), expected_version=version)
                results.put((number, writer, "won", None))
            except ConflictError as conflict:
                while True:  # the loser re-reads and applies its change to the new version
                    fresh = crm.require(Customer, "C1")
                    try:
                        crm.replace(_with_attribute(fresh, attribute),
                                    expected_version=crm.version(Customer, "C1"))
                        break
                    except ConflictError:
                        continue
                results.put((number, writer, "conflict",
                             (conflict.expected_version, conflict.actual_version)))
            start.wait(timeout=60)  # both have written before the next round reads


@pytest.mark.slow
def test_two_processes_racing_on_one_customer_lose_nothing(
    sql_target: tuple[str, str | None],
) -> None:
    url, schema = sql_target
    with _open(url, schema) as crm:
        crm.record(Customer(id="C1", name="Contested Ltd"))
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    writers = [context.Process(target=_writer, args=(url, schema, name, start, results))
               for name in ("a", "b")]
    for process in writers:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    for number in range(ROUNDS):
        this_round = sorted(o[2:] for o in outcomes if o[0] == number)
        version_read = 1 + 2 * number
        assert this_round == [("conflict", (version_read, version_read + 1)),
                              ("won", None)], this_round
    with _open(url, schema) as crm:
        final = crm.require(Customer, "C1")
        assert final.attributes == {f"round{n}_{w}": True for n in range(ROUNDS) for w in "ab"}
        assert crm.version(Customer, "C1") == 1 + 2 * ROUNDS
        updates = [e.event for e in crm.events() if e.event.type == "customer.updated"]
        assert len(updates) == 2 * ROUNDS
