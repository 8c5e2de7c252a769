"""The ``apprise`` notifier, sending to the local HTTP server through apprise's ``json://``."""

from __future__ import annotations

import re
import sys

import pytest

from crmcore.errors import ConfigError
from crmcore.options import Options
from crmcore.plugins import PluginHost, make_plugin_manager
from crmcore.testing import NotifierContract, ReceivedIds, make_domain_event
from crmcore_plugins.notify_apprise import AppriseNotifier, open_apprise_notifier
from crmcore_plugins.notify_smtp import event_text
from crmcore_plugins.notify_webhook import DeliveryError

from .conftest import HookServer

pytest.importorskip("apprise")
pytestmark = pytest.mark.filterwarnings(
    "ignore:'imghdr' is deprecated:DeprecationWarning")  # inside apprise, Python 3.11/3.12

_EVENT_ID = re.compile(r"^Event id: +(\S+)$", re.MULTILINE)


def json_url(server: HookServer) -> str:
    return f"json://127.0.0.1:{server.port}/plain"


def event_ids(server: HookServer) -> list[str]:
    """Event ids in the messages the server accepted from apprise."""
    return [match.group(1) for request in server.requests
            if request.path == "/plain" and request.status == 200
            for match in [_EVENT_ID.search(request.json["message"])] if match]


class TestAppriseNotifier(NotifierContract):
    """The apprise notifier meets the notifier contract."""

    @pytest.fixture
    def notifier(self, http_server: HookServer) -> AppriseNotifier:
        return open_apprise_notifier(Options({"urls": json_url(http_server)}, "notifiers[0]"))

    @pytest.fixture
    def received(self, http_server: HookServer) -> ReceivedIds:
        return lambda: event_ids(http_server)

    @pytest.fixture
    def failing_notifier(self, unused_port: int) -> AppriseNotifier:
        return AppriseNotifier.from_urls([f"json://127.0.0.1:{unused_port}/plain"])


def test_title_and_body(http_server: HookServer) -> None:
    event = make_domain_event(data={"text": "客户"})
    options = Options({"urls": [json_url(http_server)], "title": "CRM: {type}"}, "n")
    open_apprise_notifier(options).notify(event)
    options.check_all_used()
    (request,) = http_server.requests
    assert request.json["title"] == "CRM: customer.recorded"
    assert request.json["message"] == event_text(event).rstrip()  # apprise strips the end


def test_every_url_receives_the_event(http_server: HookServer) -> None:
    urls = [json_url(http_server), json_url(http_server)]
    AppriseNotifier.from_urls(urls).notify(make_domain_event())
    assert len(http_server.requests) == 2


def test_refusing_service_raises(http_server: HookServer) -> None:
    http_server.script(500)
    notifier = AppriseNotifier.from_urls([json_url(http_server)])
    with pytest.raises(DeliveryError, match="apprise: event .* not accepted"):
        notifier.notify(make_domain_event())


def test_registered_as_builtin() -> None:
    host = PluginHost(make_plugin_manager(load_entry_points=False))
    assert host.notifiers().get("apprise") is open_apprise_notifier


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"n\.urls: is required"),
        ({"urls": []}, r"n\.urls: is an empty list"),
        ({"urls": ["json://127.0.0.1/", "nope://x/secret-token"]},
         r"n\.urls\[1\]: apprise does not understand this nope:// URL"),
        ({"urls": "json://127.0.0.1/", "title": "{nope}"}, r"n\.title: .* uses \{nope\}"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        open_apprise_notifier(Options(options, "n"))
    assert "secret-token" not in str(caught.value)


def test_missing_apprise_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # makes "import apprise" fail
    with pytest.raises(ConfigError, match=r"n\.urls: .*pip install 'crmcore\[apprise\]'"):
        open_apprise_notifier(Options({"urls": "json://127.0.0.1/"}, "n"))
