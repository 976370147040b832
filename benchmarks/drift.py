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

from workbench.monitor import stats  # noqa: E402

N, DIM, PERMUTATIONS, ROUNDS = 1000, 384, 200, 3


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


if __name__ == "__main__":
    main()
