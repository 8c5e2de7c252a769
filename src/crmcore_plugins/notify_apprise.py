"""A notifier that sends each event through `apprise <https://github.com/caronc/apprise>`_.

apprise speaks to many services (chat, push, mail, SMS, generic JSON
endpoints) through URLs such as ``mailto://``, ``slack://`` or ``json://``.
Registered as the notifier ``apprise``. Options:

``urls`` (required)
    One apprise URL or a list of them. They often hold tokens: keep the
    configuration file private. URLs are never logged by crmcore.
``title``
    A template with the fields ``{type}``, ``{subject}``, ``{id}``,
    ``{customer_id}`` and ``{occurred_at}`` (default
    :data:`~crmcore_plugins.notify_smtp.DEFAULT_SUBJECT`).

The body is :func:`~crmcore_plugins.notify_smtp.event_text`, which ends with
the event id so people (and scripts) can spot repeats: most services have no
idempotency key. ``notify`` raises
:class:`~crmcore_plugins.notify_webhook.DeliveryError` unless every URL
accepted the message; the outbox then retries all of them.

apprise is optional: install it with ``pip install 'crmcore[apprise]'``.
Importing this module does not import apprise; building the notifier does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from crmcore.errors import ConfigError
from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.i18n import tr
from crmcore.options import Options
from crmcore.ports import NotifierFactory
from crmcore_plugins.notify_smtp import (
    DEFAULT_SUBJECT,
    check_template,
    event_text,
    render_template,
)
from crmcore_plugins.notify_webhook import DeliveryError

INSTALL_HINT = "pip install 'crmcore[apprise]'"
"""How to install the optional apprise dependency."""


class AppriseClient(Protocol):
    """The part of :class:`apprise.Apprise` this notifier uses."""

    def notify(self, body: str, title: str = ...) -> Any:
        """Send to every added URL; truthy only when all of them succeeded."""

    def __len__(self) -> int:
        """How many URLs were added."""


def apprise_client(urls: Sequence[str], key: str = "urls") -> AppriseClient:
    """An :class:`apprise.Apprise` with ``urls`` added; ConfigError names ``key``.

    Raises :class:`~crmcore.errors.ConfigError` when apprise is not installed
    or does not understand a URL (the message shows the URL's scheme only).
    """
    try:
        apprise = importlib.import_module("apprise")
    except ImportError:
        raise ConfigError(tr("{key}: the apprise notifier needs the apprise package: "
                             "{hint}").format(key=key, hint=INSTALL_HINT)) from None
    if not urls:
        raise ConfigError(tr("{key}: is an empty list").format(key=key))
    client = apprise.Apprise()
    for index, url in enumerate(urls):
        if not client.add(url):
            scheme = url.partition("://")[0] if "://" in url else "?"
            raise ConfigError(tr("{key}: apprise does not understand this {scheme}:// URL (see "
                                 "apprise's documentation)").format(key=f"{key}[{index}]",
                                                                    scheme=scheme))
    checked: AppriseClient = client
    return checked


class AppriseNotifier:
    """Sends each event to every URL of an apprise client; raises unless all accepted.

    Build one with :meth:`from_urls`, or pass an :class:`apprise.Apprise`
    object you configured yourself (tags, assets, config files).
    """

    def __init__(self, client: AppriseClient, *, title: str = DEFAULT_SUBJECT) -> None:
        self.client = client
        self.title = check_template(title, "title")

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, title: str = DEFAULT_SUBJECT) -> AppriseNotifier:
        """A notifier for apprise ``urls`` (needs apprise installed)."""
        return cls(apprise_client(urls), title=title)

    def __repr__(self) -> str:
        return f"AppriseNotifier({len(self.client)} URL(s))"

    def notify(self, event: DomainEvent) -> None:
        """Send ``event``; raise :class:`DeliveryError` unless every URL accepted it."""
        result = self.client.notify(body=event_text(event), title=render_template(self.title,
                                                                                  event))
        if not result:
            status = getattr(result, "status", None)
            detail = tr(" (status {status})").format(status=getattr(status, "name", status)) \
                if status is not None else ""
            raise DeliveryError(tr("apprise: event {event}: not accepted by every one of {count} "
                                   "URL(s){detail}; see apprise's log").format(
                                       event=event.id, count=len(self.client), detail=detail))


def open_apprise_notifier(options: Options) -> AppriseNotifier:
    """Factory for the ``apprise`` notifier: options ``urls`` and ``title``."""
    urls = options.texts("urls")
    title = check_template(options.text("title", DEFAULT_SUBJECT), options.key("title"))
    return AppriseNotifier(apprise_client(urls, options.key("urls")), title=title)


@hookimpl
def crmcore_register_notifiers(register: Callable[[str, NotifierFactory], None]) -> None:
    """Register the ``apprise`` notifier."""
    register("apprise", open_apprise_notifier)
