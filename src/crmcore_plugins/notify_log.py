"""A notifier that writes each event to :mod:`logging`.

Registered as the notifier ``log`` with the options ``logger`` (default
``"crmcore.events"``) and ``level`` (``DEBUG``, ``INFO``, ``WARNING`` or
``ERROR``; default ``INFO``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from crmcore.events import DomainEvent
from crmcore.hookspecs import hookimpl
from crmcore.options import Options
from crmcore.ports import NotifierFactory
from crmcore.serialization import unstructure

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""The level names the ``level`` option accepts."""


class LogNotifier:
    """Logs one line per event: its type, subject, id and data as JSON."""

    def __init__(self, logger: str = "crmcore.events", level: str = "INFO") -> None:
        self.logger = logging.getLogger(logger)
        self.level = logging.getLevelNamesMapping()[level]

    def notify(self, event: DomainEvent) -> None:
        """Write ``event`` to the logger."""
        self.logger.log(
            self.level, "%s %s id=%s data=%s", event.type, event.subject, event.id,
            json.dumps(unstructure(event.data), ensure_ascii=False, sort_keys=True),
        )


def open_log_notifier(options: Options) -> LogNotifier:
    """Factory for the ``log`` notifier: options ``logger`` and ``level``."""
    return LogNotifier(
        options.text("logger", "crmcore.events"), options.choice("level", LEVELS, "INFO")
    )


@hookimpl
def crmcore_register_notifiers(register: Callable[[str, NotifierFactory], None]) -> None:
    """Register the ``log`` notifier."""
    register("log", open_log_notifier)
