"""K2 erasure: after ``erase_customer`` no stored byte holds the person's data.

A demo book with one person recorded in full (contacts, purchases, a complaint
with a promise, events carrying their bodies) goes through a daily run, so
flow histories, grades and agenda snapshots mention the person too; then it
is erased and the raw SQLite file and its write-ahead log are searched.
"""

from __future__ import annotations

import doctest
import json
import re
import runpy
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, FixedClock
from crmcore.cli import main
from crmcore.daily import run_daily
from crmcore.demo.generator import generate_book
from crmcore.erasure import (
    CUSTOMER_ERASED,
    ERASED,
    RECORD_MODULES,
    Erasure,
    erase_customer,
    scrub,
)
from crmcore.errors import NotFoundError, StorageError, ValidationError
from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.model import (
    Commitment,
    ContactPerson,
    Customer,
    Interaction,
    InteractionKind,
    PartyKind,
    Ticket,
    TicketKind,
    Transaction,
)
from crmcore.model.registry import registered_entity_types
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.policies.complaints import ProblemRecord
from crmcore.ports import REDACTED_ERROR, BatchFallbacks

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
PERSON = "C90001"
NEIGHBOUR = "C90002"
PERSONAL = ("Zhao Xiaoyan 赵晓燕", "Zhao Mingyu", "xiaoyan.zhao@mail.example",
            "+86 138 0013 8000")
SRC = Path(__file__).parents[1] / "src"


def _person_file(customer_id: str, name: str, contact: str, email: str, phone: str
                 ) -> list[Any]:
    joined = AS_OF - timedelta(days=400)
    return [
        Customer(id=customer_id, name=name, kind=PartyKind.PERSON, owner="li.wei",
                 acquired_at=joined),
        ContactPerson(id=f"{customer_id}-P1", customer_id=customer_id, name=contact,
                      email=email, phone=phone),
        Transaction(id=f"{customer_id}-T1", customer_id=customer_id,
                    occurred_at=AS_OF - timedelta(days=30), amount=Decimal("880.00")),
        Interaction(id=f"{customer_id}-I1", customer_id=customer_id,
                    occurred_at=AS_OF - timedelta(days=20), kind=InteractionKind.CALL,
                    owner="li.wei", subject=f"spoke with {contact} on {phone}"),
        Ticket(id=f"{customer_id}-K1", customer_id=customer_id,
               opened_at=AS_OF - timedelta(days=3), kind=TicketKind.COMPLAINT,
               category="delivery", owner="li.wei"),
        Commitment(id=f"{customer_id}-K1-promise", customer_id=customer_id,
                   made_at=AS_OF - timedelta(days=3), due_at=AS_OF + timedelta(hours=20),
                   description=f"call {contact} back at {email}", owner="li.wei",
                   ticket_id=f"{customer_id}-K1"),
    ]


@pytest.fixture(scope="module")
def book_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo book, the person and a neighbour recorded one by one, after a daily run."""
    path = tmp_path_factory.mktemp("erasure") / "book.db"
    with CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF)) as crm:
        crm.import_entities(generate_book(30, seed=5).all(), source="demo")
        crm.record_many(_person_file(PERSON, *PERSONAL))
        crm.record_many(_person_file(NEIGHBOUR, "Qian Lili", "Sun Hao", "sun.hao@mail.example",
                                     "+86 139 0000 1111"))
        run_daily(crm, AS_OF)
    return path


@pytest.fixture
def db(book_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "crm.db"
    shutil.copy(book_db, target)
    return target


def _needles(values: tuple[str, ...]) -> list[bytes]:
    """Each value as it may be stored: UTF-8 or JSON-escaped, compared in lower case."""
    found = set()
    for value in values:
        for part in (value, *value.split(" ")):
            if len(part) >= 6 or not part.isascii():
                found.add(part.lower().encode())
                found.add(json.dumps(part)[1:-1].lower().encode())
    return sorted(found)


def _raw_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as stored."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _leaks(path: Path, values: tuple[str, ...] = PERSONAL) -> list[bytes]:
    raw = _raw_bytes(path).lower()
    return [needle for needle in _needles(values) if needle in raw]


def _stored_forms() -> set[bytes]:
    return {value.lower().encode() for value in PERSONAL}


def _dump(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored record and outbox row, for before/after comparisons."""
    with sqlite3.connect(path) as connection:
        records = connection.execute(
            "SELECT kind, id, version, customer_id, at, body FROM all_records ORDER BY kind, id"
        ).fetchall()
        events = connection.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
    connection.close()
    return records, events


def _open(path: Path) -> CRM:
    return CRM.open("sqlite", path=str(path), clock=FixedClock(AS_OF + timedelta(days=1)))


def test_k2_book_holds_the_person_everywhere_before_erasure(db: Path) -> None:
    records, events = _dump(db)
    kinds = {row[0] for row in records if row[3] == PERSON}
    assert {"customer", "contact", "transaction", "interaction", "ticket", "commitment",
            "flow_state", "flow_history"} <= kinds
    assert any(f'"customer_id":"{PERSON}"' in row[5].replace(" ", "")
               for row in records if row[0] == "agenda_snapshot")
    assert sum(PERSONAL[2] in row[-1] for row in events) >= 2
    assert set(_leaks(db)) >= _stored_forms()


def test_k2_erasure_leaves_no_personal_data_in_the_file_or_its_log(db: Path) -> None:
    with _open(db) as crm:
        erase_customer(crm, PERSON, reason="PIPL Art. 47 request 2026-0042", actor="dpo")
        assert _leaks(db) == []  # the live file and log, with the connection open
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(FULL)")
    connection.close()
    assert _leaks(db) == []
    assert _leaks(db, ("Qian Lili", "sun.hao@mail.example")) != []  # the neighbour stays


def test_k2_no_record_event_or_flow_history_of_the_person_remains(db: Path) -> None:
    with _open(db) as crm:
        done = erase_customer(crm, PERSON, reason="customer request", actor="dpo")
        with crm.storage.transaction() as session:
            for entity_type in registered_entity_types():
                ids = [i for chunk in session.scan(entity_type.kind, {"id": "text"},
                                                   customer_id=PERSON) for i in chunk["id"]]
                assert ids == ([done.id] if entity_type.kind == "erasure" else []), ids
        about = [e.event for e in crm.events() if e.event.customer_id == PERSON]
    assert about[-1].type == CUSTOMER_ERASED
    assert all(e.data == {"erased": True, "erasure": done.id} for e in about[:-1])
    assert len(about) - 1 == done.events_redacted >= 6
    assert done.removed["flow_history"] >= 1
    assert done.removed["customer"] == 1
    assert done.scrubbed == {"agenda_snapshot": 1}
    records, _ = _dump(db)
    assert not any(PERSON in row[5] for row in records if row[0] == "agenda_snapshot")


def test_k2_tombstone_keeps_who_when_why_and_counts_but_no_personal_data(db: Path) -> None:
    with _open(db) as crm:
        done = erase_customer(crm, PERSON, reason="  GDPR Art. 17 request 7 ", actor="dpo")
        stored = crm.require(Erasure, done.id)
        erased_event = crm.events()[-1].event
    assert stored == done
    assert (done.customer_id, done.actor) == (PERSON, "dpo")
    assert done.reason == "GDPR Art. 17 request 7"
    assert done.erased_at == AS_OF + timedelta(days=1)
    assert done.removed["contact"] == 1
    assert done.removed["commitment"] == 1
    assert erased_event.type == CUSTOMER_ERASED
    assert erased_event.data["removed"] == done.removed
    text = json.dumps([stored.__repr__(), erased_event.data], ensure_ascii=False).lower()
    assert not any(value.lower() in text for value in PERSONAL)


def test_k2_other_customers_records_and_events_are_untouched(db: Path) -> None:
    shared = {t.kind for t in registered_entity_types() if t.customer_field == "filed_under"}
    before_records, before_events = _dump(db)
    with _open(db) as crm:
        erase_customer(crm, PERSON, reason="customer request", actor="dpo")
    after_records, after_events = _dump(db)

    def others(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [r for r in rows if r[3] != PERSON and r[0] not in shared]

    assert others(after_records) == others(before_records)
    kept = [e for e in before_events if json.loads(e[-1]).get("customer_id") != PERSON]
    assert [e for e in after_events if e in kept] == kept
    assert len(after_events) == len(before_events) + 1


def test_k2_a_failure_midway_leaves_everything_as_it_was(db: Path) -> None:
    with sqlite3.connect(db) as connection:  # the outbox refuses rewrites: a real failure
        connection.execute("CREATE TRIGGER no_rewrite BEFORE UPDATE ON outbox "
                           "BEGIN SELECT RAISE(ABORT, 'outbox is read-only'); END")
    connection.close()
    before = _dump(db)
    with _open(db) as crm, pytest.raises(sqlite3.IntegrityError, match="read-only"):
        erase_customer(crm, PERSON, reason="customer request", actor="dpo")
    assert _dump(db) == before
    assert set(_leaks(db)) >= _stored_forms()


def test_k2_a_reason_naming_the_person_is_refused_and_withheld(db: Path) -> None:
    before = _dump(db)
    with _open(db) as crm, pytest.raises(ValidationError) as refused:
        erase_customer(crm, PERSON, reason="asked by XIAOYAN.ZHAO@mail.example", actor="dpo")
    assert refused.value.field == "reason"
    assert "xiaoyan" not in str(refused.value).lower()
    with _open(db) as crm, pytest.raises(ValidationError, match="actor"):
        erase_customer(crm, PERSON, reason="request", actor=" ")
    assert _dump(db) == before


def test_k2_unknown_customer_is_refused_and_a_second_erasure_returns_the_tombstone(
        db: Path) -> None:
    with _open(db) as crm:
        with pytest.raises(NotFoundError, match="C99999"):
            erase_customer(crm, "C99999", reason="request", actor="dpo")
        first = erase_customer(crm, PERSON, reason="request", actor="dpo")
        events = len(crm.events())
        assert erase_customer(crm, PERSON, reason="again", actor="dpo") == first
        assert len(crm.events()) == events
        crm.record_many(_person_file(PERSON, "New Person", "Ma Lin", "ma.lin@mail.example",
                                     "+86 137 1234 5678"))
        second = erase_customer(crm, PERSON, reason="second request", actor="dpo")
        assert second.id != first.id
        assert {e.id for e in crm.find(Erasure, customer_id=PERSON)} == {first.id, second.id}


def test_k2_a_customer_of_a_0_1_database_is_erased_and_the_rest_still_reads(
        tmp_path: Path) -> None:
    copy = tmp_path / "released.db"
    shutil.copy(Path(__file__).parent / "data" / "crmcore-0.1.db", copy)
    with _open(copy) as crm:
        customers = crm.find(Customer)
        victim = next(c for c in sorted(customers, key=lambda c: c.id)  # a name no other holds
                      if not any(c.name in other.name for other in customers if other != c))
        assert victim.name.encode() in _raw_bytes(copy)
        done = erase_customer(crm, victim.id, reason="request", actor="dpo")
        assert done.removed["customer"] == 1
        assert sum(done.removed.values()) > 1
        for entity_type in registered_entity_types():
            stored = crm.find(entity_type.cls)
            assert all(getattr(e, entity_type.customer_field) != victim.id for e in stored
                       if entity_type.kind != "erasure"), entity_type.kind
        assert len(crm.find(Customer)) == 24
    assert victim.name.encode() not in _raw_bytes(copy)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_k2_erasure_works_the_same_on_every_builtin_backend(backend: str, tmp_path: Path
                                                            ) -> None:
    options = {"path": str(tmp_path / "b.db")} if backend == "sqlite" else {}
    with CRM.open(backend, clock=FixedClock(AS_OF), **options) as crm:
        crm.record_many(_person_file(PERSON, *PERSONAL))
        crm.record_many(_person_file(NEIGHBOUR, "Qian Lili", "Sun Hao", "sun.hao@mail.example",
                                     "+86 139 0000 1111"))
        done = erase_customer(crm, PERSON, reason="request", actor="dpo")
        assert done.removed == {"customer": 1, "contact": 1, "transaction": 1,
                                "interaction": 1, "ticket": 1, "commitment": 1}
        assert done.events_redacted == 6
        assert crm.get(Customer, NEIGHBOUR) is not None
        assert len(crm.find(ContactPerson, customer_id=NEIGHBOUR)) == 1
        text = json.dumps([str(e.event) for e in crm.events()], ensure_ascii=False).lower()
    assert not any(value.lower() in text for value in PERSONAL)
    assert "sun.hao@mail.example" in text


class _Bouncing:
    """A notifier whose error quotes what the event carried, as a mail relay's may."""

    def notify(self, event: DomainEvent) -> None:
        raise ConnectionError(f"rejected {json.dumps(event.data, ensure_ascii=False)}")

    @hookimpl
    def crmcore_register_notifiers(self, register: Any) -> None:
        register("bouncing", lambda options: self)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_k2_erasure_also_clears_delivery_errors_that_quote_the_person(
        backend: str, tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "b.db")} if backend == "sqlite" else {}
    host = PluginHost(make_plugin_manager(load_entry_points=False, extra_plugins=[_Bouncing()]))
    with CRM.open(backend, clock=FixedClock(AS_OF), notifiers=["bouncing"], plugins=host,
                  **options) as crm:
        crm.record_many(_person_file(PERSON, *PERSONAL))
        with crm.storage.transaction() as session:
            failed = session.pending_deliveries("bouncing", now=AS_OF + timedelta(days=9),
                                                limit=100)
        assert PERSONAL[0] in (failed[0].last_error or "")
        erase_customer(crm, PERSON, reason="request", actor="dpo")
        with crm.storage.transaction() as session:
            pending = session.pending_deliveries("bouncing", now=AS_OF + timedelta(days=9),
                                                 limit=100)
    errors = {p.last_error for p in pending if p.last_error is not None}
    assert REDACTED_ERROR in errors
    assert not any(value in error for error in errors for value in PERSONAL)
    if backend == "sqlite":
        assert _leaks(tmp_path / "b.db") == []


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_k2_a_record_that_concerns_other_customers_is_kept_for_them(
        backend: str, tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "b.db")} if backend == "sqlite" else {}
    with CRM.open(backend, clock=FixedClock(AS_OF), **options) as crm:
        crm.record_many(_person_file(PERSON, *PERSONAL))
        crm.record_many(_person_file(NEIGHBOUR, "Qian Lili", "Sun Hao", "sun.hao@mail.example",
                                     "+86 139 0000 1111"))
        opened = AS_OF - timedelta(days=1)
        crm.record_many([
            ProblemRecord(id="P1", customer_id=PERSON, key="category:delivery", opened_at=opened,
                          incident_ids=(f"{PERSON}-K1", f"{NEIGHBOUR}-K1"),
                          customer_ids=(PERSON, NEIGHBOUR),
                          summary=f"late deliveries to {PERSONAL[0]} and Qian Lili"),
            ProblemRecord(id="P2", customer_id=NEIGHBOUR, key="category:billing",
                          opened_at=opened, incident_ids=(f"{NEIGHBOUR}-K1",),
                          customer_ids=(NEIGHBOUR, PERSON)),
            ProblemRecord(id="P3", customer_id=PERSON, key=f"customer:{PERSON}",
                          opened_at=opened, incident_ids=(f"{PERSON}-K1",)),
        ])
        done = erase_customer(crm, PERSON, reason="request", actor="dpo")
        problems = {p.id: p for p in crm.find(ProblemRecord)}
    assert done.removed["problem"] == 1
    assert done.scrubbed["problem"] == 2
    assert set(problems) == {"P1", "P2"}
    assert (problems["P1"].customer_id, problems["P1"].customer_ids) == (NEIGHBOUR, (NEIGHBOUR,))
    assert problems["P1"].summary == f"late deliveries to {ERASED} and Qian Lili"
    assert (problems["P2"].customer_id, problems["P2"].customer_ids) == (NEIGHBOUR, (NEIGHBOUR,))


def test_k2_a_backend_without_redact_events_refuses_with_a_clear_error() -> None:
    with pytest.raises(StorageError, match="cannot erase the events about customer 'C1'.*"
                                           "redact_events"):
        BatchFallbacks().redact_events("C1", {"erased": True})


def test_k2_every_module_registering_an_entity_kind_is_imported_before_erasing() -> None:
    registering = {
        ".".join(path.relative_to(SRC).with_suffix("").parts)
        for path in (SRC / "crmcore").rglob("*.py")
        if re.search(r"register_entity_type\(\s*EntityType\(", path.read_text("utf-8"))
    }
    assert registering - {"crmcore.model.registry", "crmcore.erasure"} <= set(RECORD_MODULES)


_TEXT = st.text(alphabet="abcXYZ赵 .@+0", max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["customer_id", "name", "why"]), inner, max_size=3),
    max_leaves=20)


@given(_JSON, st.lists(st.text(alphabet="abcXYZ赵", min_size=1, max_size=4), max_size=3))
def test_k2_scrub_leaves_no_personal_value_in_any_text(value: Any, personal: list[str]) -> None:
    cleaned = scrub(value, "C1", personal)

    def texts(item: Any) -> list[str]:
        if isinstance(item, str):
            return [item.replace(ERASED, "\0")]
        if isinstance(item, dict):
            return [t for inner in item.values() for t in texts(inner)]  # keys are schema
        if isinstance(item, list):
            return [t for inner in item for t in texts(inner)]
        return []

    for text in texts(cleaned):
        assert not any(p.lower() in text.lower() for p in personal)
    if not personal:
        assert scrub(value, "not-there", personal) == json.loads(json.dumps(value))


def test_k2_scrub_drops_the_customers_items_and_masks_values_in_text() -> None:
    body = {"items": [{"customer_id": "C1", "why": "x"}, {"customer_id": "C2", "why":
                      "call Zhao Mingyu, ZHAO MINGYU"}], "owner": "li.wei"}
    assert scrub(body, "C1", ["Zhao Mingyu"]) == {
        "items": [{"customer_id": "C2", "why": f"call {ERASED}, {ERASED}"}], "owner": "li.wei"}


def test_k2_erase_command_refuses_without_yes_then_erases(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _dump(db)
    assert main(["erase", PERSON, "--reason", "request 42", "--db", str(db)]) == 1
    assert "add --yes" in capsys.readouterr().err
    assert _dump(db) == before
    assert main(["erase", PERSON, "--reason", "request 42", "--db", str(db), "--yes",
                 "--actor", "dpo", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["customer_id"], shown["actor"], shown["reason"]) == (PERSON, "dpo", "request 42")
    assert shown["removed"]["customer"] == 1
    assert _leaks(db) == []
    assert main(["erase", "C99999", "--reason", "x", "--db", str(db), "--yes"]) == 1
    assert "C99999" in capsys.readouterr().err


def test_k2_docstring_example_runs() -> None:
    import crmcore.erasure

    failed, attempted = doctest.testmod(crmcore.erasure)
    assert attempted
    assert not failed


def test_k2_benchmark_smoke_run(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    bench = Path(__file__).parents[1] / "benchmarks" / "bench_erasure.py"
    monkeypatch.setattr(sys, "argv", [str(bench), "--smoke"])
    runpy.run_path(str(bench), run_name="__main__")
    out = capsys.readouterr().out
    assert "crmcore erase_customer" in out
    assert "(3 erased)" in out
