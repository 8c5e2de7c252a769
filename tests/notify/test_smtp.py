"""The ``smtp`` notifier against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from crmcore.errors import ConfigError
from crmcore.event_catalogue import event_envelope
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.testing import NotifierContract, ReceivedIds, make_domain_event
from crmcore_plugins.notify_smtp import SmtpNotifier, event_text, open_smtp_notifier
from crmcore_plugins.notify_webhook import DeliveryError

from .conftest import SMTP_PASSWORD, SMTP_USER, MailServer, TlsFiles


def notifier_for(server: MailServer, **overrides: object) -> SmtpNotifier:
    options: dict[str, object] = {"host": server.host, "port": server.port,
                                  "from_address": "CRM <crm@example.com>",
                                  "to": ["sales@example.com", "ops@example.com"],
                                  "timeout": 5, **overrides}
    return open_smtp_notifier(Options(options, "notifiers[0]"))


class TestSmtpNotifier(NotifierContract):
    """The SMTP notifier meets the notifier contract."""

    @pytest.fixture
    def notifier(self, smtp_server: MailServer) -> SmtpNotifier:
        return notifier_for(smtp_server)

    @pytest.fixture
    def received(self, smtp_server: MailServer) -> ReceivedIds:
        return smtp_server.handler.event_ids

    @pytest.fixture
    def failing_notifier(self, unused_port: int) -> SmtpNotifier:
        return SmtpNotifier("127.0.0.1", port=unused_port, from_address="crm@example.com",
                            to="ops@example.com", timeout=2)


def only_message(server: MailServer) -> EmailMessage:
    (message,) = server.handler.messages
    return message


def test_message_content_and_headers(smtp_server: MailServer) -> None:
    event = make_domain_event(type="ticket.escalated", subject="ticket:K-7 «紧急»",
                              data={"text": "Zhāng 客户", "n": 3})
    notifier_for(smtp_server, subject="{type} for {customer_id}: {subject}").notify(event)
    message = only_message(smtp_server)
    assert message["Subject"] == "ticket.escalated for C001: ticket:K-7 «紧急»"
    assert message["From"] == "CRM <crm@example.com>"
    assert message["To"] == "sales@example.com, ops@example.com"
    assert message["Message-ID"] == f"<{event.id}@example.com>"
    assert message["X-Crmcore-Event-Id"] == event.id
    assert message["X-Crmcore-Event-Type"] == "ticket.escalated"
    assert parsedate_to_datetime(message["Date"]) == event.occurred_at
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert body.replace("\r\n", "\n") == event_text(event)
    assert f"Event id:    {event.id}" in body
    assert '"text": "Zhāng 客户"' in body
    assert smtp_server.handler.envelopes == [
        ("crm@example.com", ["sales@example.com", "ops@example.com"])]


def test_retry_sends_the_same_message_id(smtp_server: MailServer) -> None:
    event = make_domain_event()
    notifier = notifier_for(smtp_server, to="ops@example.com")
    notifier.notify(event)
    notifier.notify(event)
    first, second = smtp_server.handler.messages
    assert first["Message-ID"] == second["Message-ID"] == f"<{event.id}@example.com>"


def test_odd_event_ids_are_quoted_in_headers(smtp_server: MailServer) -> None:
    event = make_domain_event(id="evt 1/ü.x")
    notifier_for(smtp_server).notify(event)
    message = only_message(smtp_server)
    assert message["X-Crmcore-Event-Id"] == "evt%201%2F%C3%BC%2Ex"
    assert message["Message-ID"] == "<evt%201%2F%C3%BC%2Ex@example.com>"
    assert "Event id:    evt 1/ü.x" in message.get_content()


def test_json_attachment(smtp_server: MailServer) -> None:
    event = make_domain_event(data={"x": "é"})
    notifier_for(smtp_server, attach_json=True).notify(event)
    message = only_message(smtp_server)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "event.json"
    assert attachment.get_content_type() == "application/json"
    assert json.loads(attachment.get_content()) == event_envelope(event)


def test_connection_refused_raises(unused_port: int) -> None:
    notifier = SmtpNotifier("127.0.0.1", port=unused_port, from_address="crm@example.com",
                            to="ops@example.com", timeout=2)
    with pytest.raises(DeliveryError, match=f"smtp 127.0.0.1:{unused_port}: .*refused"):
        notifier.notify(make_domain_event())


@pytest.mark.parametrize(("reply", "permanent"), [("451 4.3.0 Try again later", False),
                                                  ("554 5.7.1 Rejected", True)])
def test_smtp_error_answers_raise(smtp_server: MailServer, reply: str, permanent: bool) -> None:
    smtp_server.handler.data_reply = reply
    with pytest.raises(DeliveryError, match=reply) as caught:
        notifier_for(smtp_server).notify(make_domain_event())
    assert caught.value.permanent is permanent


def test_all_recipients_refused_raises(smtp_server: MailServer) -> None:
    smtp_server.handler.refuse = {"ops@example.com": "550 5.1.1 No such user"}
    with pytest.raises(DeliveryError, match="all recipients refused: ops@example.com"):
        notifier_for(smtp_server, to="ops@example.com").notify(make_domain_event())


def test_temporarily_refused_recipient_raises_for_a_retry(smtp_server: MailServer) -> None:
    smtp_server.handler.refuse = {"ops@example.com": "450 4.2.1 Mailbox busy"}
    with pytest.raises(DeliveryError, match="refused for now: ops@example.com"):
        notifier_for(smtp_server).notify(make_domain_event())
    assert len(smtp_server.handler.messages) == 1  # sales@ got it; the retry repeats it


def test_permanently_refused_recipient_is_logged(smtp_server: MailServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.handler.refuse = {"ops@example.com": "550 5.1.1 No such user"}
    notifier_for(smtp_server).notify(make_domain_event())
    assert smtp_server.handler.envelopes[0][1] == ["sales@example.com"]
    assert "ops@example.com (550" in caplog.text
    assert caplog.records[0].levelno == logging.WARNING


def test_starttls_and_login(smtp_tls_server: MailServer, tls_files: TlsFiles,
                            monkeypatch: pytest.MonkeyPatch,
                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CRM_SMTP_PASSWORD", SMTP_PASSWORD)
    caplog.set_level(logging.DEBUG)
    notifier = notifier_for(smtp_tls_server, starttls=True, ca_file=str(tls_files.cert),
                            username=SMTP_USER, password_env="CRM_SMTP_PASSWORD")
    event = make_domain_event()
    notifier.notify(event)
    assert smtp_tls_server.handler.event_ids() == [event.id]
    assert SMTP_PASSWORD not in caplog.text + repr(notifier)


def test_implicit_tls(smtps_server: MailServer, tls_files: TlsFiles) -> None:
    event = make_domain_event()
    notifier_for(smtps_server, ssl=True, ca_file=str(tls_files.cert)).notify(event)
    assert smtps_server.handler.event_ids() == [event.id]


def test_wrong_password_raises_permanent_error(smtp_tls_server: MailServer,
                                               tls_files: TlsFiles) -> None:
    notifier = notifier_for(smtp_tls_server, starttls=True, ca_file=str(tls_files.cert),
                            username=SMTP_USER, password="wrong")
    with pytest.raises(DeliveryError, match="SMTPAuthenticationError: 535") as caught:
        notifier.notify(make_domain_event())
    assert caught.value.permanent
    assert "wrong" not in str(caught.value)


def test_untrusted_certificate_raises(smtp_tls_server: MailServer) -> None:
    notifier = notifier_for(smtp_tls_server, starttls=True)  # system CAs only
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        notifier.notify(make_domain_event())
    assert smtp_tls_server.handler.messages == []


def test_server_without_starttls_is_not_used_in_clear(smtp_server: MailServer,
                                                      tls_files: TlsFiles) -> None:
    notifier = notifier_for(smtp_server, starttls=True, ca_file=str(tls_files.cert))
    with pytest.raises(DeliveryError, match="STARTTLS"):
        notifier.notify(make_domain_event())
    assert smtp_server.handler.messages == []


# -- options ----------------------------------------------------------------------------------

BASE = {"host": "127.0.0.1", "from_address": "crm@example.com", "to": "ops@example.com"}


def test_registered_as_builtin() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    assert host.notifiers().get("smtp") is open_smtp_notifier


@pytest.mark.parametrize(
    ("options", "port"),
    [({}, 25), ({"starttls": True}, 587), ({"ssl": True}, 465), ({"port": 2525}, 2525)],
)
def test_default_port_follows_tls_mode(options: dict[str, object], port: int) -> None:
    assert open_smtp_notifier(Options({**BASE, **options}, "n")).port == port


def test_relative_ca_file_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    options = Options({**BASE, "ssl": True, "ca_file": "ca.pem"}, "n", base_dir=tmp_path)
    assert open_smtp_notifier(options).ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": None}, r"n\.host: is required"),
        ({"from_address": None}, r"n\.from_address: is required"),
        ({"from_address": "nobody"}, r"n\.from_address: 'nobody' is not an e-mail address"),
        ({"to": None}, r"n\.to: is required \(a text or a list of texts\)"),
        ({"to": []}, r"n\.to: is an empty list"),
        ({"to": ["a@example.com", 3]}, r"n\.to\[1\]: 3 is not a non-empty text"),
        ({"to": ["a@example.com", "b"]}, r"n\.to\[1\]: 'b' is not an e-mail address"),
        ({"to": {"a": 1}}, r"n\.to: \{'a': 1\} is not a text or a list of texts"),
        ({"ssl": True, "starttls": True}, r"n\.ssl: cannot be combined with starttls"),
        ({"starttls": "yes"}, r"n\.starttls: 'yes' is not true or false"),
        ({"username": "u", "starttls": True}, r"n\.password: is required when username"),
        ({"password": "p", "starttls": True}, r"n\.username: is required when a password"),
        ({"username": "u", "password": "p"},
         r"n\.username: logging in would send the password unencrypted"),
        ({"username": "u", "password": "p", "password_env": "X", "ssl": True},
         r"n\.password: give either password or password_env"),
        ({"username": "u", "password_env": "CRMCORE_TEST_UNSET_VARIABLE", "ssl": True},
         r"n\.password_env: environment variable 'CRMCORE_TEST_UNSET_VARIABLE' is not set"),
        ({"ca_file": "ca.pem"}, r"n\.ca_file: is only used with starttls or ssl"),
        ({"port": 0}, r"n\.port: 0 is not a TCP port"),
        ({"timeout": -1}, r"n\.timeout: -1.0 must be greater than 0"),
        ({"subject": "{type} {nope}"}, r"n\.subject: '\{type\} \{nope\}' uses \{nope\}"),
        ({"subject": "{type.__class__}"}, r"n\.subject: .* uses \{type.__class__\}"),
        ({"subject": "{}"}, r"n\.subject: '\{\}' uses \{\}"),
        ({"subject": "{type"}, r"n\.subject: '\{type' is not a valid template"),
        ({"subject": "{type:%%%}"}, r"n\.subject: .* is not a valid template"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, object], message: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMCORE_TEST_UNSET_VARIABLE", raising=False)
    values = {key: value for key, value in {**BASE, **options}.items() if value is not None}
    with pytest.raises(ConfigError, match=message):
        open_smtp_notifier(Options(values, "n"))


def test_password_never_in_config_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        open_smtp_notifier(Options({**BASE, "username": "u", "password": "hunter2"}, "n"))
    assert "hunter2" not in str(caught.value)
