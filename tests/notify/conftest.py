"""Real servers on 127.0.0.1 for the notifier tests: SMTP (aiosmtpd) and HTTP.

Nothing here leaves the machine: both servers bind to 127.0.0.1, and proxy
environment variables are removed so HTTP clients connect directly.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from crmcore_plugins.notify_webhook import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify_signature,
)

LOOPBACK = "127.0.0.1"
SECRET = "s3cret-for-tests"
SMTP_USER, SMTP_PASSWORD = "crm", "mail-pass-123"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                    "ALL_PROXY")


@pytest.fixture(autouse=True)
def _direct_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep HTTP clients (urllib, requests) off any configured proxy: loopback only."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("no_proxy", "*")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def unused_port() -> int:
    """A closed port on 127.0.0.1: connecting to it is refused."""
    return free_port()


# -- SMTP -----------------------------------------------------------------------------------


class MailHandler:
    """aiosmtpd handler keeping every accepted message; replies can be scripted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def event_ids(self) -> list[str]:
        """The ``X-Crmcore-Event-Id`` of every accepted message, in arrival order."""
        return [str(message[EVENT_ID_HEADER]) for message in self.messages]


@attrs.define
class MailServer:
    """A running SMTP server: where it listens and what it received."""

    host: str
    port: int
    handler: MailHandler


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (SMTP_USER.encode(),
                                                        SMTP_PASSWORD.encode()))
    return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself


def _start_smtp(**controller_options: Any) -> tuple[Controller, MailServer]:
    handler = MailHandler()
    for _attempt in range(3):  # the port is free-then-bound: retry the rare race
        port = free_port()
        controller = Controller(handler, hostname=LOOPBACK, port=port, ready_timeout=5,
                                **controller_options)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        return controller, MailServer(LOOPBACK, port, handler)
    raise RuntimeError("could not start the SMTP server on 127.0.0.1")


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no login)."""
    controller, server = _start_smtp()
    yield server
    controller.stop()


@attrs.frozen
class TlsFiles:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""

    cert: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throw-away certificate made by the ``openssl`` command (skip without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(files.key), "-out", str(files.cert)],
        check=True, capture_output=True, timeout=30,
    )
    return files


def _server_context(tls_files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    return context


@pytest.fixture
def smtp_tls_server(tls_files: TlsFiles) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1 that requires STARTTLS and a login."""
    controller, server = _start_smtp(
        tls_context=_server_context(tls_files), require_starttls=True,
        authenticator=_authenticate, auth_require_tls=True,
    )
    yield server
    controller.stop()


@pytest.fixture
def smtps_server(tls_files: TlsFiles) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1 speaking TLS from the first byte (like port 465)."""
    controller, server = _start_smtp(ssl_context=_server_context(tls_files))
    yield server
    controller.stop()


# -- HTTP -----------------------------------------------------------------------------------


@attrs.frozen
class Reply:
    """A scripted answer of the HTTP server (``delay``: seconds to stall first)."""

    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0


@attrs.frozen
class Request:
    """One request the HTTP server answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class HookServer(ThreadingHTTPServer):
    """Receives webhooks: verifies signatures on ``/hook``, takes anything on ``/plain``.

    ``script(...)`` queues answers for the next requests (then 200 again). A
    request whose signature is wrong gets 401 and is not ``received``.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _HookHandler)
        self.lock = threading.Lock()
        self.replies: deque[Reply] = deque()
        self.requests: list[Request] = []
        self.received: list[str] = []  # event ids of validly signed requests
        self.accepted: list[str] = []  # ... of those answered with 2xx
        self.release = threading.Event()  # ends scripted delays at teardown

    @property
    def url(self) -> str:
        """The signed-webhook endpoint."""
        return f"http://{LOOPBACK}:{self.server_address[1]}/hook"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server_address[1])

    def script(self, *replies: Reply | int) -> None:
        """Answer the next requests with these replies (a bare int is a status)."""
        with self.lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.popleft() if self.replies else Reply()


class _HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = dict(self.headers.items())
        event_id: str | None = None
        if self.path == "/hook":
            try:
                verify_signature(SECRET, headers.get(TIMESTAMP_HEADER, ""), body,
                                 headers.get(SIGNATURE_HEADER, ""), now=time.time())
            except SignatureError:
                self._answer(Reply(401), Request(self.path, headers, body, 401))
                return
            event_id = json.loads(body)["id"]
        reply = self.server.next_reply()
        if reply.delay:
            self.server.release.wait(reply.delay)
        with self.server.lock:
            if event_id is not None:
                self.server.received.append(event_id)
                if 200 <= reply.status < 300:
                    self.server.accepted.append(event_id)
        self._answer(reply, Request(self.path, headers, body, reply.status))

    def _answer(self, reply: Reply, request: Request) -> None:
        with self.server.lock:
            self.server.requests.append(request)
        try:
            self.send_response(reply.status)
            if reply.retry_after is not None:
                self.send_header("Retry-After", reply.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the client gave up (timeout test)


@pytest.fixture
def http_server() -> Iterator[HookServer]:
    """A real HTTP server on 127.0.0.1, serving in a thread."""
    server = HookServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
