"""Time of the MMD² permutation test for 1,000 vs 1,000 requests (384-dimensional vectors, the
size of all-MiniLM-L6-v2 embeddings), printed with the number of permutations. All permutations
are scored in one matrix product, so the time grows slowly with their number."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import pin_threads, report, spread  # noqa: E402

from workbench.monitor import compare, stats, traffic  # noqa: E402
from workbench.stats import proportion_ci  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "datasets" / "traffic"))
import make_traffic  # noqa: E402

N, DIM, PERMUTATIONS, ROUNDS = 1000, 384, 1000, 3
SAME_DISTRIBUTION_WINDOWS = 80


def main() -> None:
    pin_threads(2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, DIM))
    y = rng.normal(size=(N, DIM)) + 0.05
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    times = []
    for r in range(ROUNDS):
        started = time.perf_counter()
        result = stats.mmd(x, y, n_permutations=PERMUTATIONS, seed=r)
        times.append(time.perf_counter() - started)
    report(
        "drift_mmd_1000x1000",
        statistics.median(times),
        "s",
        "informational",
        meaning="MMD² with an RBF kernel and a permutation test, 1,000 vs 1,000 vectors",
        permutations=PERMUTATIONS,
        dimensions=DIM,
        threads=2,
        seconds=spread(times),
        p_value=result.p_value,
    )
    validity()


def validity() -> None:
    """False alarms on same-distribution windows, and power on the shipped log's shifts."""
    import random

    rows = traffic.read_log(Path(__file__).parents[1] / "datasets/traffic/hr_assistant_log.jsonl")
    days = traffic.windows(rows, "1d")
    reference = [r["input"] for r in days[0][1]]
    alarms = []
    for s in range(SAME_DISTRIBUTION_WINDOWS):
        rng = random.Random(1000 + s)
        window = [make_traffic.ordinary(rng) for _ in range(make_traffic.PER_DAY)]
        alarms.append(compare(reference, window, seed=s).drifted)
    rate = sum(alarms) / len(alarms)
    low, high = proportion_ci(sum(alarms), len(alarms))
    report(
        "drift_false_alarm_rate",
        rate,
        "share of windows",
        "<= 0.05",
        meaning="windows of ordinary requests (the generator of days 1-2, fresh seeds) that "
        "alert against day 1 at the default settings",
        windows=len(alarms),
        ci95=[round(low, 3), round(high, 3)],
    )
    detected = {}
    for start, members in days[1:]:
        shift = sorted({r["shift"] for r in members} - {"none"}) or ["none"]
        found = compare(reference, [r["input"] for r in members])
        detected[f"{start.date()} ({', '.join(shift)})"] = found.verdict()
    power = sum(v.startswith("drift") for k, v in detected.items() if "(none)" not in k)
    report(
        "drift_power",
        power,
        "shifted days detected",
        f">= {len(days) - 2}",
        meaning="days of the shipped log with a documented shift that alert against day 1",
        days=detected,
    )


if __name__ == "__main__":
    main()
