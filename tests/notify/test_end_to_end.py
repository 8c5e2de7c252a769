"""Through ``CRM.open``: the outbox retries a webhook until it is accepted, at least once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from crmcore import CRM, Customer, FixedClock
from crmcore.config import ComponentConfig, parse_config
from crmcore.plugins import make_plugin_manager
from crmcore.testing import NOW

from .conftest import SECRET, HookServer


def open_crm(path: Path, server: HookServer, clock: FixedClock) -> CRM:
    webhook = ComponentConfig("webhook", {"url": server.url, "secret": SECRET, "timeout": 2,
                                          "max_attempts": 2, "backoff_seconds": 0.01})
    return CRM.open("sqlite", path=str(path), notifiers=[webhook], clock=clock,
                    plugins=make_plugin_manager(load_entry_points=False))


def test_outbox_retries_until_the_receiver_accepts(tmp_path: Path,
                                                   http_server: HookServer) -> None:
    http_server.script(503, 503, 503)  # the first run's 2 attempts, then 1 of the second run
    clock = FixedClock(NOW)
    with open_crm(tmp_path / "crm.db", http_server, clock) as crm:
        crm.record(Customer(id="C1", name="Acme"))  # delivered right away: fails twice
        (entry,) = crm.events()
        assert http_server.accepted == []
        assert crm.deliver_events().delivered == 0  # not due yet: no request
        assert len(http_server.requests) == 2
        clock.advance(timedelta(minutes=1))
        report = crm.deliver_events()  # 503, then 200 within the same notify call
        assert (report.delivered, report.failed) == (1, 0)
        clock.advance(timedelta(days=1))
        assert crm.deliver_events().delivered == 0  # delivered once, never again
    assert http_server.accepted == [entry.event.id]
    # The receiver saw every attempt; had it acted on the ones it answered 503 (an answer
    # lost on the way back looks the same to the sender), dropping repeated ids keeps one.
    assert http_server.received == [entry.event.id] * 4
    assert list(dict.fromkeys(http_server.received)) == [entry.event.id]
    body = http_server.requests[-1].json
    assert (body["id"], body["type"], body["subject"]) == (
        entry.event.id, "customer.recorded", "customer:C1")


def test_webhook_from_a_toml_file(http_server: HookServer) -> None:
    config = parse_config(f"""
        [storage]
        backend = "memory"

        [[notifiers]]
        use = "webhook"
        name = "erp"
        url = "{http_server.url}"
        secret = "{SECRET}"
        timeout = 2
        max_attempts = 2
        backoff_seconds = 0.01
        headers = {{ Authorization = "Bearer t0k3n" }}
    """)
    clock = FixedClock(NOW)
    with CRM.from_config(config, clock=clock,
                         plugins=make_plugin_manager(load_entry_points=False)) as crm:
        crm.record(Customer(id="C1", name="Acme"))
    (request,) = http_server.requests
    assert request.headers["Authorization"] == "Bearer t0k3n"
    assert request.json["subject"] == "customer:C1"
