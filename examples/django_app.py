"""A one-file Django app embedding crmcore and receiving its signed webhooks on 127.0.0.1.

Same shape as ``flask_app.py``: views record customers through one shared
:class:`crmcore.CRM` (opened once per process, used by every request thread),
its background deliverer posts each event to this app's webhook view, which
checks the Standard Webhooks signature and the envelope, and drops repeats by
``webhook-id``. In a project the CRM would be opened in ``AppConfig.ready()``
and closed at exit; here ``main`` does both.

Run with ``python examples/django_app.py``: it serves the app with the standard
library's WSGI server on a free port of 127.0.0.1 in a thread, drives it with
Django's test client, waits for the deliveries, prints them and stops.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

from crmcore import CRM, Customer
from crmcore.config import ComponentConfig
from crmcore.errors import CrmError
from crmcore.event_catalogue import check_envelope
from crmcore_plugins.notify_webhook import SignatureError, verify_standard_signature

SECRET = "whsec_Y3JtY29yZS1leGFtcGxlLXNlY3JldC0zMi1ieXRlcyE="

settings.configure(
    DEBUG=False, SECRET_KEY="example-only", ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "testserver"], MIDDLEWARE=[], INSTALLED_APPS=[],
    DATABASES={},  # crmcore keeps its own SQLite file; Django needs no database here
)
django.setup()

from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402 - after setup
from django.urls import path  # noqa: E402

STATE: dict[str, Any] = {"crm": None, "received": {}}


def _crm() -> CRM:
    crm = STATE["crm"]
    assert isinstance(crm, CRM), "main() opens the CRM before serving"
    return crm


def customers(request: HttpRequest) -> HttpResponse:
    """``POST /customers`` with ``{"id", "name"}``: record a customer."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    try:
        data = json.loads(request.body)
        new = _crm().record(Customer(id=data["id"], name=data["name"]))
    except (CrmError, KeyError, TypeError, ValueError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"recorded": new}, status=201 if new else 200)


def customer(request: HttpRequest, customer_id: str) -> HttpResponse:
    """``GET /customers/<id>``."""
    found = _crm().get(Customer, customer_id)
    if found is None:
        return JsonResponse({"error": f"customer {customer_id!r} does not exist"}, status=404)
    return JsonResponse({"id": found.id, "name": found.name})


def crmcore_hook(request: HttpRequest) -> HttpResponse:
    """``POST /hooks/crmcore``: verify, check, keep once."""
    headers = {name: str(value) for name, value in request.headers.items()}
    try:
        message_id = verify_standard_signature(SECRET, headers, request.body, now=time.time())
    except SignatureError:
        return HttpResponse("bad signature", status=401)
    envelope = json.loads(request.body)
    check_envelope(envelope)
    STATE["received"].setdefault(message_id, envelope)
    return HttpResponse(status=204)


urlpatterns = [
    path("customers", customers),
    path("customers/<str:customer_id>", customer),
    path("hooks/crmcore", crmcore_hook),
]


class _ThreadingServer(WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log lines."""


def main() -> None:
    """Serve, record three customers, wait for their events, report, stop."""
    from django.core.wsgi import get_wsgi_application
    from django.test import Client

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as folder:
        hook = ComponentConfig("webhook", {
            "url": f"http://127.0.0.1:{server.server_port}/hooks/crmcore", "secret": SECRET,
            "timeout": 5})
        crm = STATE["crm"] = CRM.open("sqlite", path=str(Path(folder) / "crm.db"),
                                      notifiers=[hook])
        try:
            crm.start_delivery(interval=1.0)
            client = Client()
            for number in range(1, 4):
                answer = client.post("/customers", {"id": f"C{number}", "name": f"Kunde {number}"},
                                     content_type="application/json")
                print(f"POST /customers C{number}: {answer.status_code}")
            assert client.get("/customers/C3").json()["name"] == "Kunde 3"
            assert client.get("/customers/C9").status_code == 404
            crm.stop_delivery(timeout=30)
            for envelope in STATE["received"].values():
                print(f"received {envelope['type']} for {envelope['subject']}")
            assert len(STATE["received"]) == 3, STATE["received"]
        finally:
            crm.close()
            server.shutdown()
            thread.join(timeout=5)


if __name__ == "__main__":
    main()
