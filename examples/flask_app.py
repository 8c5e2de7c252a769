"""A Flask app embedding crmcore and receiving its signed webhooks on 127.0.0.1.

The app records customers (``POST /customers``) through one shared
:class:`crmcore.CRM`, whose background deliverer sends each event to the
webhook receiver of the same app (``POST /hooks/crmcore``), which checks the
Standard Webhooks signature, checks the envelope against the event catalogue
and drops repeats by ``webhook-id``. A write returns at commit; delivery never
holds it up.

Run with ``python examples/flask_app.py``: it serves on a free port of
127.0.0.1 in a thread, drives the app with Flask's test client, waits for the
deliveries, prints what arrived and shuts everything down.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from crmcore import CRM, Customer
from crmcore.config import ComponentConfig
from crmcore.errors import CrmError
from crmcore.event_catalogue import check_envelope
from crmcore_plugins.notify_webhook import SignatureError, verify_standard_signature

SECRET = "whsec_Y3JtY29yZS1leGFtcGxlLXNlY3JldC0zMi1ieXRlcyE="  # base64 of the key bytes


def create_app(database: Path, hook_url: str) -> tuple[Flask, CRM]:
    """The host app and its CRM (one per process; shared by the server's threads)."""
    crm = CRM.open("sqlite", path=str(database), notifiers=[
        ComponentConfig("webhook", {"url": hook_url, "secret": SECRET, "timeout": 5})])
    crm.start_delivery(interval=1.0)
    app = Flask(__name__)
    received: dict[str, dict[str, Any]] = {}
    app.config["RECEIVED"] = received

    @app.post("/customers")
    def record_customer() -> tuple[Response, int]:
        data = request.get_json(force=True)
        try:
            new = crm.record(Customer(id=data["id"], name=data["name"]))
        except (CrmError, KeyError, TypeError) as error:
            return jsonify(error=str(error)), 400
        return jsonify(recorded=new), 201 if new else 200

    @app.get("/customers/<customer_id>")
    def show_customer(customer_id: str) -> tuple[Response, int]:
        customer = crm.get(Customer, customer_id)
        if customer is None:
            return jsonify(error=f"customer {customer_id!r} does not exist"), 404
        return jsonify(id=customer.id, name=customer.name), 200

    @app.post("/hooks/crmcore")
    def receive_event() -> tuple[str, int]:
        body = request.get_data()
        try:
            message_id = verify_standard_signature(SECRET, dict(request.headers), body,
                                                   now=time.time())
        except SignatureError:
            return "bad signature", 401
        envelope = json.loads(body)
        check_envelope(envelope)  # the catalogue's schema for its type
        received.setdefault(message_id, envelope)  # at least once: drop repeats
        return "", 204

    return app, crm


def main() -> None:
    """Serve, record three customers, wait for their events, report, stop."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines
    with tempfile.TemporaryDirectory() as folder:
        server = make_server("127.0.0.1", 0, Flask(__name__), threaded=True)
        hook_url = f"http://127.0.0.1:{server.server_port}/hooks/crmcore"
        app, crm = create_app(Path(folder) / "crm.db", hook_url)
        server.app = app  # serve the real app on the port chosen above
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            client = app.test_client()
            for number in range(1, 4):
                started = time.perf_counter()
                answer = client.post("/customers", json={"id": f"C{number}",
                                                         "name": f"Customer {number}"})
                took = (time.perf_counter() - started) * 1000
                print(f"POST /customers C{number}: {answer.status_code} in {took:.0f} ms")
            assert client.get("/customers/C2").get_json()["name"] == "Customer 2"
            assert client.get("/customers/C9").status_code == 404
            crm.stop_delivery(timeout=30)  # flush: deliver what is left, then stop
            received = app.config["RECEIVED"]
            for envelope in received.values():
                print(f"received {envelope['type']} for {envelope['subject']} "
                      f"(envelope version {envelope['version']})")
            assert len(received) == 3, received
        finally:
            crm.close()
            server.shutdown()
            thread.join(timeout=5)


if __name__ == "__main__":
    main()
