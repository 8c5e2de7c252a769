"""Benchmark what a slow webhook costs a write: in line (auto) versus the background worker.

Starts a real HTTP server on 127.0.0.1 that takes ``--delay`` seconds
(default 2) to answer each POST, then records N customers one write at a time
(default 20) on a SQLite file with the ``webhook`` notifier, twice:

* ``auto``: ``[delivery] auto = true`` without a worker, the write delivers
  before it returns (measured on at most 3 writes, since each waits ``delay``);
* ``background``: after ``crm.start_delivery()`` the write returns at commit.

Reports milliseconds per write (median and max) for each; the target for the
background worker is <= 50 ms per write (issue 14).

Run: ``python benchmarks/bench_delivery.py [--writes N] [--delay S] [--smoke]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crmcore import CRM, Customer
from crmcore.config import ComponentConfig

TARGET_MS = 50.0


class _SlowHandler(BaseHTTPRequestHandler):
    delay = 2.0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _writes(crm: CRM, prefix: str, count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        crm.record(Customer(id=f"{prefix}{i}", name=f"Customer {i}"))
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(writes: int, delay: float) -> dict[str, list[float]]:
    """Milliseconds per write for each mode."""
    _SlowHandler.delay = delay
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    hook = ComponentConfig("webhook", {"url": url, "secret": "bench-secret",
                                       "timeout": delay + 5, "max_attempts": 1})
    results: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = str(Path(folder) / "crm.db")
            with CRM.open("sqlite", path=path, notifiers=[hook]) as crm:
                results["auto"] = _writes(crm, "A", min(writes, 3))
                crm.start_delivery(interval=1.0)
                results["background"] = _writes(crm, "B", writes)
                crm.stop_delivery(timeout=0)  # do not wait out the slow server here
    finally:
        server.shutdown()
        server.server_close()
    return results


def main() -> None:
    """Parse arguments, run, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--smoke", action="store_true", help="5 writes, 0.5 s webhook")
    arguments = parser.parse_args()
    writes, delay = (5, 0.5) if arguments.smoke else (arguments.writes, arguments.delay)
    logging.getLogger("crmcore").setLevel(logging.ERROR)  # the unfinished flush is expected
    results = run(writes, delay)
    print(f"webhook answering in {delay:g} s; ms per write (target background <= {TARGET_MS:g})")
    for mode, times in results.items():
        print(f"  {mode:<10} writes {len(times):>3}  median {statistics.median(times):9.1f}  "
              f"max {max(times):9.1f}")


if __name__ == "__main__":
    main()
