"""How many CPU cores are free for in-process compute right now.

On a machine that something else keeps busy, asking torch for every core makes its threads
wait on each other at every parallel step (a descheduled thread stalls the rest): measured here
with two busy loops on two cores, a batch took 13.9 s on two threads and 6.5 s on one, against
3.0 s and 4.4 s on the idle machine. So local models use the cores that other processes
leave free, measured from /proc/stat over the interval since the last look.
"""

from __future__ import annotations

import os
import threading
import time

ENV = "WORKBENCH_THREADS"  # a fixed thread count, when set, overrides the measurement
_lock = threading.Lock()
_last: tuple[float, float, float] | None = None  # (wall, busy seconds of all, cpu of this process)
_free: int | None = None


def _busy_seconds() -> float | None:
    """Busy CPU seconds of the whole machine since boot (None where /proc/stat is missing)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _sample() -> tuple[float, float, float] | None:
    busy = _busy_seconds()
    if busy is None:
        return None
    t = os.times()
    return time.monotonic(), busy, t.user + t.system


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_cores(min_interval: float = 0.2) -> int:
    """Cores not used by other processes since the last call (at least 1).

    The first call looks over `min_interval` seconds. `WORKBENCH_THREADS` fixes the answer.
    """
    global _last, _free
    if os.environ.get(ENV):
        return max(1, int(os.environ[ENV]))
    total = cores()
    with _lock:
        if _last is None:
            _last = _sample()
            if _last is None:
                return total
            time.sleep(min_interval)
        now = _sample()
        if now is None:
            return total
        wall = now[0] - _last[0]
        if wall < min_interval and _free is not None:
            return _free  # too short a look to say more than the last one did
        others = max(0.0, (now[1] - _last[1]) - (now[2] - _last[2])) / wall
        _last = now
        _free = max(1, min(total, round(total - others)))
        return _free
