"""CPU seconds by phase of ``crmcore lifecycle advance`` (``time.process_time`` around each).

Wraps the functions of each phase (planning, the batch door, writing and its
storage calls, probability alive, printing) and runs the command as the
``crmcore`` script would, then prints the seconds per phase to stderr. What
is left of "advance" besides them is reading the evidence, the per-customer
loop and the commits.

Run on a copy of a book made by ``lifecycle_books.py``::

    cp BOOK.db /tmp/copy.db
    PYTHONPATH=src python benchmarks/lifecycle_phases.py lifecycle advance \\
        --db /tmp/copy.db --as-of 1998-06-30 > /dev/null
"""

from __future__ import annotations

import collections
import contextlib
import functools
import sys
import time
from typing import Any

SPENT: collections.defaultdict[str, float] = collections.defaultdict(float)


def timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU seconds to ``SPENT[label]``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - start

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> None:
    """Run the ``crmcore`` command line ``argv`` with its phases timed."""
    import crmcore.cli.lifecycle as cli_lifecycle
    import crmcore.lifecycle.service as service
    import crmcore.transitions.door as door
    import crmcore_plugins.storage_sqlite as sqlite

    timed(service.LifecycleService, "advance", "advance (all of it)")
    timed(service, "plan_moves", "planning")
    timed(door.BatchDoor, "apply", "door")
    timed(door.BatchDoor, "start", "door")
    timed(service, "store_flow_runs", "writing")
    timed(sqlite._SqliteSession, "insert_rows", "  writing: insert_rows")
    timed(sqlite._SqliteSession, "append_encoded_events", "  writing: outbox")
    timed(sqlite._SqliteSession, "update_many", "  writing: update_many")
    timed(service.LifecycleService, "_probability_alive", "probability alive")
    timed(cli_lifecycle, "print_table", "printing")
    from crmcore.cli import main as cli

    start = time.process_time()
    with contextlib.suppress(SystemExit):
        cli(argv)
    SPENT["process (after imports)"] = time.process_time() - start
    for label, seconds in sorted(SPENT.items(), key=lambda item: -item[1]):
        print(f"{label:30s} {seconds:7.2f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
