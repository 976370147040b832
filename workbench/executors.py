"""Where independent work runs: a local pool of processes, or Ray (a local one, or a cluster).

Sweeps run each notebook as its own `workbench run` process (papermill is process-safe, not
thread-safe), so the local executor is a pool of threads that each wait on one child process.
The Ray executor submits each item as a Ray task; `session` starts a local Ray when no
cluster is configured and joins the one at `RAY_ADDRESS` otherwise, after checking that it
answers (Ray's own connect retries for minutes before it gives up).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any
from urllib.parse import urlparse

from .errors import ParameterError, WorkbenchError

EXECUTORS = ("local", "ray")
_lock = threading.Lock()


class ExecutorError(WorkbenchError):
    """An executor that cannot be used: Ray missing, or its cluster not reachable."""


def check(name: str) -> str:
    """`name` if it is a known executor; `ParameterError` naming the known ones otherwise."""
    if name not in EXECUTORS:
        raise ParameterError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    return name


def check_parallel(max_parallel: int) -> int:
    if not isinstance(max_parallel, int) or isinstance(max_parallel, bool) or max_parallel < 1:
        raise ParameterError(f"--max-parallel must be a whole number >= 1, got {max_parallel!r}")
    return max_parallel


def _ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "the ray executor needs Ray: pip install -e '.[scale]' (make install does)"
        ) from None
    return ray


def _reachable(address: str, timeout: float = 5.0) -> None:
    """`ExecutorError` unless something listens at a `RAY_ADDRESS` of the form [ray://]host:port."""
    if address in ("auto", "local"):
        return
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    if not parsed.hostname or not parsed.port:
        raise ExecutorError(f"RAY_ADDRESS={address!r} is not host:port or ray://host:port")
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            pass
    except OSError as exc:
        raise ExecutorError(
            f"Ray is not reachable at RAY_ADDRESS={address} ({exc}); start the cluster "
            "(`ray start --head`) or unset RAY_ADDRESS to run on a local Ray"
        ) from None


def session(num_cpus: int | None = None):
    """The `ray` module, initialised once per process: joins `RAY_ADDRESS`, else starts locally.

    A local Ray gets `num_cpus` (default: every core), no dashboard, and the driver's
    environment and working folder, so its workers import this package as the driver does.
    """
    ray = _ray()
    with _lock:
        if ray.is_initialized():
            return ray
        address = os.environ.get("RAY_ADDRESS")
        if address:
            _reachable(address)
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        else:
            # Ray starts its workers at niceness 15; on a machine something else keeps busy, such
            # a worker (and every run it starts) gets a sliver of a core: measured here with two
            # busy loops, a sweep's run took 91 s on Ray against 18 s on the local pool.
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="ERROR",
                configure_logging=True,
            )
    return ray


def shutdown() -> None:
    """Stop (or leave) the Ray session of this process, if any."""
    try:
        import ray
    except ImportError:
        return
    with _lock:
        if ray.is_initialized():
            ray.shutdown()


def map_unordered(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    executor: str = "local",
    max_parallel: int = 1,
    num_cpus: float = 1,
) -> Iterator[tuple[int, Any]]:
    """(index, result) of `fn(item)` for every item, as each finishes, at most `max_parallel`
    at once. `fn` must catch its own failures: one that raises stops the iteration.

    On Ray, `fn` runs as a task holding `num_cpus` CPUs, on whichever node has them free.
    """
    check(executor)
    check_parallel(max_parallel)
    if executor == "local":
        with ThreadPoolExecutor(max_workers=max_parallel) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        return
    ray = session()
    task = ray.remote(num_cpus=num_cpus, max_retries=0)(fn)
    pending: dict[Any, int] = {}
    queue = list(enumerate(items))
    while queue or pending:
        while queue and len(pending) < max_parallel:
            i, item = queue.pop(0)
            pending[task.remote(item)] = i
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            yield pending.pop(ref), ray.get(ref)
