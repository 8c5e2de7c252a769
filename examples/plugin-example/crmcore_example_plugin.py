"""An example crmcore plugin published as its own distribution.

It registers the notifier ``jsonl``, which appends every event as one JSON
line to a file (option ``path``). Install it next to crmcore and it shows up
in ``crmcore plugins``; choose it in a configuration file::

    [[notifiers]]
    use = "jsonl"
    path = "events.jsonl"
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from crmcore import DomainEvent, Options, hookimpl, unstructure


class JsonLinesNotifier:
    """Appends each event to a file, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def notify(self, event: DomainEvent) -> None:
        """Append ``event``; the event id lets readers drop repeats."""
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(unstructure(event), ensure_ascii=False) + "\n")


def open_jsonl_notifier(options: Options) -> JsonLinesNotifier:
    """Factory for ``jsonl``: option ``path`` (required)."""
    return JsonLinesNotifier(Path(options.path("path")))


@hookimpl
def crmcore_register_notifiers(register: Callable[[str, Callable[[Options], object]], None]
                               ) -> None:
    """Register the ``jsonl`` notifier."""
    register("jsonl", open_jsonl_notifier)
