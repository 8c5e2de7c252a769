"""An example crmcore plugin published as its own distribution.

It registers the notifier ``jsonl``, which appends every event as one JSON
line to a file (option ``path``). Install it next to crmcore and it shows up
in ``crmcore plugins``; choose it in a configuration file::

    [[notifiers]]
    use = "jsonl"
    path = "events.jsonl"

It also adds the command ``crmcore jsonl-count FILE``, which counts the
events of such a file by type.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
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


def open_jsonl_count(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Count the events of a file the jsonl notifier wrote, by type.

    Prints one line per event type, most frequent first; an event delivered
    twice (the same id) counts once.
    """
    parser.add_argument("file", type=Path, help="a file written by the jsonl notifier")

    def run(arguments: argparse.Namespace) -> int:
        seen: dict[str, str] = {}
        with arguments.file.open(encoding="utf-8") as file:
            for line in file:
                event = json.loads(line)
                seen[event["id"]] = event["type"]
        for event_type, count in Counter(seen.values()).most_common():
            print(f"{count}\t{event_type}")
        return 0

    return run


@hookimpl
def crmcore_register_commands(
    register: Callable[[str, Callable[[argparse.ArgumentParser], object]], None]
) -> None:
    """Add the command ``crmcore jsonl-count``."""
    register("jsonl-count", open_jsonl_count)
