"""The notifier contract on the ``log`` notifier, built through the plugin manager."""

from __future__ import annotations

import logging

import pluggy
import pytest

from crmcore import PluginHost
from crmcore.options import Options
from crmcore.testing import NotifierContract, ReceivedIds, make_domain_event
from crmcore_plugins.notify_log import LogNotifier

LOGGER = "crmcore.tests.contract"


class TestLogNotifier(NotifierContract):
    """:class:`~crmcore_plugins.notify_log.LogNotifier` meets the notifier contract.

    Logging cannot fail, so ``failing_notifier`` keeps its default (skip).
    """

    @pytest.fixture
    def notifier(self, crmcore_plugin_manager: pluggy.PluginManager) -> LogNotifier:
        factory = PluginHost(crmcore_plugin_manager).notifiers().get("log")
        built = factory(Options({"logger": LOGGER, "level": "INFO"}, "notifiers[0]"))
        assert isinstance(built, LogNotifier)
        return built

    @pytest.fixture
    def received(self, caplog: pytest.LogCaptureFixture) -> ReceivedIds:
        caplog.set_level(logging.INFO, logger=LOGGER)

        def event_ids() -> list[str]:
            # The log line is "<type> <subject> id=<id> data=<json>"; the id is argument 3.
            return [str(record.args[2]) for record in caplog.records
                    if record.name == LOGGER and isinstance(record.args, tuple)]

        return event_ids


def test_log_line_names_type_subject_and_id(caplog: pytest.LogCaptureFixture) -> None:
    event = make_domain_event(data={"text": "客户"})
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    LogNotifier(LOGGER, "WARNING").notify(event)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f'customer.recorded customer:C001 id={event.id} data={{"text": "客户"}}'
    )
