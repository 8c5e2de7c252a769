"""Peak resident memory of one piece of work, for the benchmarks' worker processes.

:func:`measure` resets the kernel's peak-RSS mark (``/proc/self/clear_refs``),
runs the work and reads ``VmHWM`` (the peak resident set) and the resident set
just before (``VmRSS``) from ``/proc/self/status``: "extra" is what the work
needed on top of its input. Without ``/proc``, ``ru_maxrss`` (the peak of the
whole process so far) is reported and the baseline is None.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any


def status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``), or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(work: Callable[[], Any]) -> dict[str, Any]:
    """Run ``work``; return ``peak_kib``, ``baseline_kib`` and ``seconds``."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        reset = True
    except OSError:
        reset = False
    baseline = status_kib("VmRSS") if reset else None
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM") if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_kib": peak, "baseline_kib": baseline, "seconds": seconds}
