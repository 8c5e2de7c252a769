"""A notifier that sends one plain-text e-mail per event over SMTP.

Registered as the notifier ``smtp``. Options:

``host`` (required), ``port``
    The SMTP server; the port defaults to 465 with ``ssl``, 587 with
    ``starttls`` and 25 otherwise.
``ssl``, ``starttls``
    TLS from the first byte (``ssl = true``) or upgraded with STARTTLS
    (``starttls = true``); at most one. The server certificate is verified
    against the system's CAs, or ``ca_file`` (a PEM file) when given.
``username``, ``password`` or ``password_env``
    Log in (only over TLS). ``password_env`` names the environment variable
    holding the password, read when the notifier is built; the password is
    never logged.
``from_address`` (required), ``to`` (required)
    The sender, and one recipient address or a list of them.
``subject``
    A template with the fields ``{type}``, ``{subject}``, ``{id}``,
    ``{customer_id}`` and ``{occurred_at}`` (default :data:`DEFAULT_SUBJECT`).
``timeout``
    Seconds to wait for the server (default 10).
``attach_json``
    Attach the event as ``event.json`` (default false).

Each message has ``Message-ID: <event id@sender domain>``, the same on every
retry, so mail systems and readers can drop repeats, and the headers
``X-Crmcore-Event-Id`` and ``X-Crmcore-Event-Type``. Connection errors and
4xx/5xx answers raise :class:`~crmcore_plugins.notify_webhook.DeliveryError`
so the outbox retries. When the server accepts some recipients and refuses
others, a temporary (4xx) refusal raises (everyone gets the message again on
the retry) and a permanent (5xx) refusal is only logged.

This module also holds the text rendering shared with the ``apprise`` notifier.
"""

from __future__ import annotations

import email.policy
import json
import logging
import smtplib
import ssl
import string
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from crmcore.errors import ConfigError
from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import NotifierFactory
from crmcore.serialization import unstructure
from crmcore_plugins.notify_webhook import (
    EVENT_ID_HEADER,
    DeliveryError,
    event_json,
    quoted_event_id,
)

EVENT_TYPE_HEADER = "X-Crmcore-Event-Type"
"""Mail header carrying the event type."""

DEFAULT_SUBJECT = "[crmcore] {type} {subject}"
"""The default subject (and apprise title) template."""

TEMPLATE_FIELDS = ("type", "subject", "id", "customer_id", "occurred_at")
"""The fields a subject or title template may use, as ``{name}``."""

_log = logging.getLogger(__name__)
_KeyNamer = Callable[[str], str]


# -- rendering, shared with the apprise notifier ------------------------------------------


def check_template(template: str, key: str) -> str:
    """Return ``template`` if it uses only :data:`TEMPLATE_FIELDS`, else raise ConfigError.

    ``key`` names the option in the message.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(tr("{key}: {value!r} is not a valid template: {error}").format(
            key=key, value=template, error=error)) from None
    for _literal, field, spec, _conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or "{" in (spec or ""):
            raise ConfigError(tr("{key}: {value!r} uses {field}; known fields: {known}").format(
                key=key, value=template, field=f"{{{field}}}",
                known=", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)))
    try:
        template.format_map(dict.fromkeys(TEMPLATE_FIELDS, ""))
    except ValueError as error:
        raise ConfigError(tr("{key}: {value!r} is not a valid template: {error}").format(
            key=key, value=template, error=error)) from None
    return template


def render_template(template: str, event: DomainEvent) -> str:
    """Fill a template checked by :func:`check_template`; the result is one line."""
    filled = template.format(
        type=event.type, subject=event.subject, id=event.id,
        customer_id=event.customer_id or "", occurred_at=event.occurred_at.isoformat(),
    )
    return " ".join(filled.split())


def event_text(event: DomainEvent) -> str:
    """A plain-text description of ``event`` for people: its fields, then its data as JSON."""
    data = json.dumps(unstructure(event.data), ensure_ascii=False, indent=2, sort_keys=True)
    return (
        f"Event type:  {event.type}\n"
        f"Subject:     {event.subject}\n"
        f"Customer:    {event.customer_id or '-'}\n"
        f"Occurred at: {event.occurred_at.isoformat()}\n"
        f"Event id:    {event.id}\n"
        f"\nData:\n{data}\n"
    )


# -- the notifier -------------------------------------------------------------------------


def _address(value: str, key: str) -> str:
    """The bare address of ``value`` (which may carry a display name), or ConfigError."""
    _name, address = parseaddr(value)
    local, _at, domain = address.rpartition("@")
    if not local or not domain or "\n" in value or "\r" in value or " " in address:
        raise ConfigError(tr("{key}: {value!r} is not an e-mail address").format(key=key,
                                                                                 value=value))
    return address


def _checked(
    *, host: str, port: int | None, username: str | None, password: str | None,
    use_ssl: bool, starttls: bool, ca_file: Path | None, from_address: str,
    to: Sequence[str], subject: str, timeout: float, key: _KeyNamer,
) -> int:
    """Check the settings, naming the option with ``key``; return the port to use."""
    if not host:
        raise ConfigError(tr("{key}: is empty").format(key=key("host")))
    if use_ssl and starttls:
        raise ConfigError(tr("{key}: cannot be combined with starttls; choose one (ssl for port "
                             "465, starttls for port 587)").format(key=key("ssl")))
    if username and not password:
        raise ConfigError(tr("{key}: is required when username is given (or give "
                             "password_env)").format(key=key("password")))
    if password and not username:
        raise ConfigError(tr("{key}: is required when a password is given").format(
            key=key("username")))
    if username and not (use_ssl or starttls):
        raise ConfigError(tr("{key}: logging in would send the password unencrypted; set "
                             "starttls = true or ssl = true").format(key=key("username")))
    if ca_file is not None and not (use_ssl or starttls):
        raise ConfigError(tr("{key}: is only used with starttls or ssl").format(
            key=key("ca_file")))
    if port is not None and not 0 < port < 65536:
        raise ConfigError(tr("{key}: {value!r} is not a TCP port (1-65535)").format(
            key=key("port"), value=port))
    if timeout <= 0:
        raise ConfigError(tr("{key}: {value!r} must be greater than 0").format(
            key=key("timeout"), value=timeout))
    _address(from_address, key("from_address"))
    if not to:
        raise ConfigError(tr("{key}: is an empty list").format(key=key("to")))
    for index, recipient in enumerate(to):
        _address(recipient, f"{key('to')}[{index}]")
    check_template(subject, key("subject"))
    if port is not None:
        return port
    return 465 if use_ssl else 587 if starttls else 25


def _describe(error: Exception) -> tuple[str, bool]:
    """A one-line description of an SMTP or socket error, and whether it is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return (f"all recipients refused: {_refusals(error.recipients)}",
                all(code >= 500 for code in codes))
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        return f"{type(error).__name__}: {error.smtp_code} {text}", error.smtp_code >= 500
    return f"{type(error).__name__}: {error}", False


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {text.decode('utf-8', 'replace')})"
                     for address, (code, text) in sorted(refused.items()))


class SmtpNotifier:
    """Sends one plain-text e-mail per event; see the module documentation for the options.

    ``ssl`` is spelt ``use_ssl`` here so as not to shadow the module.
    """

    def __init__(
        self,
        host: str,
        *,
        from_address: str,
        to: str | Sequence[str],
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool = False,
        starttls: bool = False,
        ca_file: str | Path | None = None,
        subject: str = DEFAULT_SUBJECT,
        timeout: float = 10.0,
        attach_json: bool = False,
    ) -> None:
        recipients = [to] if isinstance(to, str) else list(to)
        ca_path = Path(ca_file) if ca_file is not None else None
        self.port = _checked(
            host=host, port=port, username=username, password=password, use_ssl=use_ssl,
            starttls=starttls, ca_file=ca_path, from_address=from_address, to=recipients,
            subject=subject, timeout=timeout, key=str,
        )
        self.host = host
        self.username = username
        self._password = password
        self.use_ssl = use_ssl
        self.starttls = starttls
        self.ca_file = ca_path
        self.from_address = from_address
        self.to = tuple(recipients)
        self.subject = subject
        self.timeout = timeout
        self.attach_json = attach_json
        domain = _address(from_address, "from_address").rpartition("@")[2]
        self._id_domain = domain if domain.isascii() else "crmcore.invalid"

    def __repr__(self) -> str:
        return (f"SmtpNotifier({self.host!r}, port={self.port}, "
                f"to={list(self.to)!r})")

    def message(self, event: DomainEvent) -> EmailMessage:
        """The e-mail sent for ``event``: identical for every retry of the same event."""
        message = EmailMessage(policy=email.policy.SMTP)
        event_id = quoted_event_id(event.id)
        message["Subject"] = render_template(self.subject, event)
        message["From"] = self.from_address
        message["To"] = ", ".join(self.to)
        message["Date"] = format_datetime(event.occurred_at)
        message["Message-ID"] = f"<{event_id}@{self._id_domain}>"
        message[EVENT_ID_HEADER] = event_id
        message[EVENT_TYPE_HEADER] = " ".join(event.type.split())
        message.set_content(event_text(event))
        if self.attach_json:
            message.add_attachment(event_json(event), maintype="application", subtype="json",
                                   filename="event.json")
        return message

    def notify(self, event: DomainEvent) -> None:
        """Send the e-mail for ``event``; raise :class:`DeliveryError` if the server refused."""
        message = self.message(event)
        where = f"smtp {self.host}:{self.port}: event {event.id}"
        try:
            with self._connect() as client:
                if self.starttls:
                    client.starttls(context=self._tls_context())
                    client.ehlo()
                if self.username and self._password:
                    client.login(self.username, self._password)
                refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            text, permanent = _describe(error)
            raise DeliveryError(tr("{where}: {problem}").format(where=where, problem=text),
                                permanent=permanent) from error
        if any(code < 500 for code, _text in refused.values()):
            raise DeliveryError(tr("{where}: recipients refused for now: {refusals}").format(
                where=where, refusals=_refusals(refused)))
        if refused:
            _log.warning("%s: recipients refused: %s", where, _refusals(refused))

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=self._tls_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def open_smtp_notifier(options: Options) -> SmtpNotifier:
    """Factory for the ``smtp`` notifier; see the module documentation for the options."""
    settings: dict[str, Any] = {
        "host": options.text("host"),
        "port": options.integer("port", None),
        "username": options.text("username", None),
        "password": options.secret("password", required=False),
        "use_ssl": options.flag("ssl", False),
        "starttls": options.flag("starttls", False),
        "ca_file": options.path("ca_file", None),
        "from_address": options.text("from_address"),
        "to": options.texts("to"),
        "subject": options.text("subject", DEFAULT_SUBJECT),
        "timeout": options.number("timeout", 10.0),
    }
    _checked(**settings, key=options.key)
    return SmtpNotifier(**settings, attach_json=options.flag("attach_json", False))


@hookimpl
def crmcore_register_notifiers(register: Callable[[str, NotifierFactory], None]) -> None:
    """Register the ``smtp`` notifier."""
    register("smtp", open_smtp_notifier)
