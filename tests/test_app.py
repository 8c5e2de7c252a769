"""The application service: one door, atomic writes, readable errors, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from tests.conftest import RecordingNotifier, customer, purchase

from crmcore import (
    CRM,
    ConflictError,
    Customer,
    DuplicateError,
    NotFoundError,
    PluginError,
    Transaction,
    ValidationError,
)
from crmcore.config import ComponentConfig


def _snapshot(crm: CRM) -> tuple[object, ...]:
    return (crm.find(Customer), crm.find(Transaction), [e.event.id for e in crm.events()])


def test_record_stores_and_emits_one_event_delivered_to_the_notifier(
    crm: CRM, recorder: RecordingNotifier
) -> None:
    assert crm.record(customer("C1"))
    assert crm.get(Customer, "C1") == customer("C1")
    [entry] = crm.events()
    assert entry.event.type == "customer.recorded"
    assert entry.event.subject == "customer:C1"
    assert entry.event.data["entity"]["name"] == "Customer C1"
    assert [e.id for e in recorder.events] == [entry.event.id]


def test_recording_the_same_entity_twice_is_harmless(crm: CRM) -> None:
    assert crm.record(customer("C1"))
    assert not crm.record(customer("C1"))
    assert crm.count(Customer) == 1
    assert len(crm.events()) == 1


def test_same_id_with_other_content_is_a_duplicate_and_changes_nothing(crm: CRM) -> None:
    crm.record(customer("C1"))
    before = _snapshot(crm)
    with pytest.raises(DuplicateError, match="customer 'C1' already exists"):
        crm.record(attrs.evolve(customer("C1"), name="Someone else"))
    assert _snapshot(crm) == before


def test_a_transaction_must_name_a_stored_customer(crm: CRM) -> None:
    with pytest.raises(NotFoundError, match="customer_id: customer 'C9' does not exist"):
        crm.record(purchase("T1", customer_id="C9"))
    assert crm.count(Transaction) == 0
    assert crm.events() == []


def test_record_many_is_all_or_nothing(crm: CRM) -> None:
    crm.record(customer("C1"))
    before = _snapshot(crm)
    batch = [purchase("T1"), purchase("T2"), purchase("T3", customer_id="ghost")]
    with pytest.raises(NotFoundError):
        crm.record_many(batch)
    assert _snapshot(crm) == before
    assert crm.record_many([customer("C2"), purchase("T1"), purchase("T2", "C2")]) == 3


def test_find_filters_by_customer_and_half_open_time_range(crm: CRM) -> None:
    crm.record_many([customer("C1"), customer("C2"), purchase("T1", day=1),
                     purchase("T2", day=2), purchase("T3", day=3), purchase("T4", "C2", day=2)])
    day = datetime(2025, 1, 2, tzinfo=UTC)
    assert [t.id for t in crm.find(Transaction, customer_id="C1")] == ["T1", "T2", "T3"]
    assert [t.id for t in crm.find(Transaction, since=day, until=day + timedelta(days=1))] == \
        ["T2", "T4"]
    assert crm.count(Transaction) == 4


def test_replace_bumps_the_version_and_detects_a_lost_update(crm: CRM) -> None:
    crm.record(customer("C1"))
    read_version = crm.version(Customer, "C1")
    assert read_version == 1
    assert crm.replace(attrs.evolve(customer("C1"), owner="li.wei"),
                       expected_version=read_version) == 2
    with pytest.raises(ConflictError, match="expected version 1, found 2"):
        crm.replace(attrs.evolve(customer("C1"), owner="zhang.min"), expected_version=1)
    assert crm.require(Customer, "C1").owner == "li.wei"
    assert [e.event.type for e in crm.events()] == ["customer.recorded", "customer.updated"]


def test_replace_of_a_missing_entity_is_not_found(crm: CRM) -> None:
    with pytest.raises(NotFoundError):
        crm.replace(customer("C404"))


def test_import_emits_one_event_per_kind_with_counts(crm: CRM) -> None:
    report = crm.import_entities([customer("C1"), purchase("T1"), purchase("T2")],
                                 source="erp.csv")
    assert (report.rows["transaction"], report.new["transaction"]) == (2, 2)
    again = crm.import_entities([purchase("T1"), purchase("T2")], source="erp.csv")
    assert again.skipped["transaction"] == 2
    assert again.new["transaction"] == 0
    types = [e.event.type for e in crm.events()]
    assert types == ["customer.imported", "transaction.imported", "transaction.imported"]
    assert crm.events()[-1].event.data == {"source": "erp.csv", "rows": 2, "new": 0}


def test_bad_entity_data_never_reaches_storage(crm: CRM) -> None:
    crm.record(customer("C1"))
    before = _snapshot(crm)
    with pytest.raises(ValidationError):
        crm.record_many([purchase("T1"), Transaction(id="T2", customer_id="C1",
                                                     occurred_at=datetime(2025, 1, 1),
                                                     amount=Decimal(1))])
    assert _snapshot(crm) == before


def test_unknown_backend_or_notifier_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match=r"^storage.backend: 'postgres' is not a registered"):
        CRM.open("postgres")
    with pytest.raises(PluginError, match=r"^notifiers\[0\].use: 'pager' is not a registered"):
        CRM.open("memory", notifiers=["pager"])
    with pytest.raises(Exception, match=r"storage.colour: is not a known option"):
        CRM.open("sqlite", path=str(tmp_path / "x.db"), colour="red")
    with pytest.raises(Exception, match=r"notifiers\[1\].name: 'log' is used twice"):
        CRM.open("memory", notifiers=["log", "log"])
    with pytest.raises(Exception, match=r"notifiers\[0\].level: 'LOUD' is not one of"):
        CRM.open("memory", notifiers=[ComponentConfig("log", {"level": "LOUD"})])


def test_transaction_groups_writes_and_events(crm: CRM) -> None:
    with crm.transaction() as work:
        work.repository(Customer).add(customer("C1"))
        work.repository(Transaction).add(purchase("T1"))
    assert crm.count(Transaction) == 1

    def fail_half_way() -> None:
        with crm.transaction() as work:
            work.repository(Transaction).add(purchase("T2"))
            raise RuntimeError("host code failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert crm.get(Transaction, "T2") is None


def test_open_describes_itself_with_the_configuration_it_was_given_by_name(
        tmp_path: Path) -> None:
    """CRM.open builds its CRMConfig when first read; it is the one the names describe,
    with or without notifiers, and the retry policy is the configuration's default."""
    from crmcore.config import CRMConfig
    from crmcore.outbox import RetryPolicy

    path = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=path, auto_deliver=False) as crm:
        assert crm.config == CRMConfig(storage=ComponentConfig("sqlite", {"path": path}),
                                       auto_deliver=False)
        assert crm.retry == RetryPolicy() == crm.config.retry
        assert crm.settings("run").has("scheme") is False
    with CRM.open("memory", notifiers=["log"]) as crm:
        assert crm.config == CRMConfig(storage=ComponentConfig("memory"),
                                       notifiers=(ComponentConfig("log"),))
        assert set(crm.notifiers) == {"log"}
    with CRM(CRM.open("memory").storage) as crm:
        assert crm.config == CRMConfig()
        crm.retry = RetryPolicy(first_delay=timedelta(seconds=1))
        assert crm.retry.first_delay == timedelta(seconds=1)
