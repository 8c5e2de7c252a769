"""The event catalogue: every type has a schema, every emitted event matches its schema."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from crmcore import CRM
from crmcore.cli import main
from crmcore.errors import NotFoundError, ValidationError
from crmcore.event_catalogue import (
    ENVELOPE_VERSION,
    catalogue,
    check_envelope,
    event_envelope,
    event_schema,
    schema_problems,
)
from crmcore.events import ENTITY_RECORDED, entity_event
from crmcore.model import Customer
from crmcore.testing import NOW, make_customer

EVERY_TYPE_THE_BOOK_EMITS = {
    "customer.imported", "transaction.imported", "flow.started", "flow.transitioned",
    "grading.completed", "grade.changed", "task.escalated", "problem.opened",
    "customer.recorded", "customer.updated", "customer.erased", "improvement.warning",
}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """The envelopes of every event a demo book, a later daily run and an erasure stored."""
    database = str(tmp_path_factory.mktemp("catalogue") / "book.db")
    assert main(["demo", "--db", database, "--customers", "80"]) == 0
    assert main(["run", "--db", database, "--as-of", "2026-09-30"]) == 0
    from crmcore.erasure import erase_customer
    from crmcore.improvement.early_warning import EarlyWarning, warning_event

    with CRM.open("sqlite", path=database) as crm:
        crm.record(Customer(id="NEW-1", name="客户 ✓"))
        crm.replace(Customer(id="NEW-1", name="客户 renamed"))
        erase_customer(crm, "NEW-1", reason="asked to be forgotten", actor="dpo")
        envelopes = [event_envelope(entry.event) for entry in crm.events()]
    warning = EarlyWarning(id="csat-low@2026-06", rule="csat-low", measure="csat",
                           text="CSAT below 4", periods=("2026-05", "2026-06"),
                           values=(3.5, 3.2), sample_sizes=(40, 38), small_sample=False,
                           raised_at=NOW)
    return [*envelopes, event_envelope(warning_event(warning))]


def test_every_catalogued_type_has_a_schema_with_a_versioned_envelope() -> None:
    names = [entry.name for entry in catalogue()]
    assert len(names) == len(set(names))
    for name in names:
        schema = event_schema(name)
        assert schema["properties"]["version"] == {"const": ENVELOPE_VERSION}
        assert schema["properties"]["type"] == {"const": name}
        json.dumps(schema)  # JSON all the way down


def test_every_emitted_event_is_catalogued_and_matches_its_schema(
        emitted: list[dict[str, object]]) -> None:
    seen = Counter(str(envelope["type"]) for envelope in emitted)
    assert set(seen) >= EVERY_TYPE_THE_BOOK_EMITS, EVERY_TYPE_THE_BOOK_EMITS - set(seen)
    for envelope in emitted:
        problems = list(schema_problems(envelope, event_schema(str(envelope["type"]))))
        assert problems == [], (envelope["type"], problems[:3])


def test_redacted_events_still_match(emitted: list[dict[str, object]]) -> None:
    erased = [e for e in emitted if e["data"] == {"erased": True, "erasure": "NEW-1#1"}]
    assert {e["type"] for e in erased} == {"customer.recorded", "customer.updated"}


def test_schema_catches_a_wrong_field_type_and_names_its_path() -> None:
    envelope = event_envelope(entity_event(ENTITY_RECORDED, make_customer(), at=NOW))
    check_envelope(envelope)
    envelope["data"] = {"entity": {**envelope["data"]["entity"], "name": 5}}
    problems = list(schema_problems(envelope["data"]["entity"],
                                    event_schema("customer.recorded")["properties"]["data"]
                                    ["anyOf"][0]["properties"]["entity"]))
    assert [(p.field, p.value) for p in problems] == [("name", 5)]
    with pytest.raises(ValidationError, match="data"):
        check_envelope(envelope)
    with pytest.raises(ValidationError, match="version"):
        check_envelope({**event_envelope(entity_event(ENTITY_RECORDED, make_customer(), at=NOW)),
                        "version": 2})
    with pytest.raises(ValidationError, match="occurred_at"):
        check_envelope({**event_envelope(entity_event(ENTITY_RECORDED, make_customer(), at=NOW)),
                        "occurred_at": datetime(2026, 1, 1).isoformat()})
    with pytest.raises(NotFoundError, match="'no.such'"):
        check_envelope({"type": "no.such"})


def test_events_command_lists_shows_and_prints_schemas(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == listed
    assert listed["envelope_version"] == ENVELOPE_VERSION
    assert {t["type"] for t in listed["types"]} == {e.name for e in catalogue()}
    assert main(["events", "show", "grade.changed", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["data"]["from"] == "string"
    assert shown["data"]["as_of"] == "string (date-time)"
    assert main(["events", "schema", "task.transferred"]) == 0
    assert json.loads(capsys.readouterr().out) == event_schema("task.transferred")
    assert main(["events", "schema", "no.such"]) != 0
    assert "'no.such' does not exist" in capsys.readouterr().err


