"""Helpers shared by the benchmarks: pinned threads, alternating rounds, one JSON line each.

A ratio measured on a shared 2-core machine swings with whatever else runs. So each
benchmark times both sides in alternating rounds (A B, B A, A B, ...), reports the
min / median / max of each side and of the per-round ratio, and pins the thread count of
both sides, so a difference in parallelism is not mistaken for a difference in code.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(n: int = 1) -> None:
    """Every BLAS / OpenMP pool (and torch, when loaded) to `n` threads, on both sides."""
    for var in (*THREAD_VARS, "WORKBENCH_THREADS"):  # the last one fixes local models' count
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def spread(values: list[float], digits: int = 4) -> dict[str, float]:
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def alternate(sides: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Wall seconds of each side per round; the order flips every round (A B, B A, ...).

    Each side starts from a collected heap, so a full garbage collection of what the previous
    side left behind is not charged to the next one (the collector stays on while timing).
    A side that returns a float has measured itself (leaving its own setup out).
    """
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            gc.collect()
            started = time.perf_counter()
            measured = sides[name]()
            elapsed = time.perf_counter() - started
            times[name].append(measured if isinstance(measured, float) else elapsed)
    return times


def ratio_report(
    name: str, times: dict[str, list[float]], ours: str, theirs: str, goal: str, **details
) -> float:
    """Print the result line for ours / theirs: median ratio, spreads, per-round ratios."""
    per_round = [a / b for a, b in zip(times[ours], times[theirs], strict=True)]
    value = statistics.median(times[ours]) / statistics.median(times[theirs])
    report(
        name,
        value,
        f"x {theirs}",
        goal,
        rounds=len(per_round),
        ratio_per_round=spread(per_round, 3),
        seconds={side: spread(t) for side, t in times.items()},
        **details,
    )
    return value


def report(name: str, value: float, unit: str, goal: str, **details) -> None:
    """Print the benchmark's result line: {"name", "value", "unit", "goal", ...details}."""
    print(
        json.dumps({"name": name, "value": round(value, 3), "unit": unit, "goal": goal, **details}),
        flush=True,
    )
