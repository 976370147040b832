"""Sweep wall time: a grid of 4 small runs of notebook 01 with --max-parallel 2 against the same
4 runs one after another, on the local executor and on Ray.

Each side of each round starts from an empty response cache and its own reports folder, so
every run loads the model and generates its answers (nothing is skipped or cached). The Ray
session is started once before timing (a few seconds a sweep pays once) and reported apart.
Goal: parallel / sequential <= 0.65 for both executors, on this machine's cores.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, report, spread  # noqa: E402

ROUNDS = 3
GRID = "sweeps/discovery_sample_size.yaml"  # 4 runs of notebook 01, under datasets/


def main() -> None:
    from workbench import config, executors, sweep

    folder = Path(tempfile.mkdtemp(prefix="wb-bench-sweep-"))
    spec = sweep.load("01_model_discovery", config.datasets_dir() / GRID)
    started = time.perf_counter()
    executors.session()
    ray_start = time.perf_counter() - started
    counter = iter(range(10_000))

    def side(executor: str, parallel: int):
        def go() -> None:
            n = next(counter)
            os.environ["WORKBENCH_CACHE_DIR"] = str(folder / f"cache-{n}")
            record = sweep.run(
                spec, executor=executor, max_parallel=parallel, root=folder / f"reports-{n}"
            )
            if record["failed"] or record["skipped"]:
                raise SystemExit(f"{executor} x{parallel}: {record['failed']} failed run(s)")

        return go

    times = alternate(
        {
            "sequential": side("local", 1),
            "local_x2": side("local", 2),
            "ray_x2": side("ray", 2),
        },
        ROUNDS,
    )
    executors.shutdown()
    for name in ("local_x2", "ray_x2"):
        per_round = [a / b for a, b in zip(times[name], times["sequential"], strict=True)]
        report(
            f"sweep_{name}",
            statistics.median(times[name]) / statistics.median(times["sequential"]),
            "x sequential",
            "<= 0.65",
            rounds=ROUNDS,
            ratio_per_round=spread(per_round, 3),
            seconds={k: spread(v, 2) for k, v in times.items()},
            runs=len(spec.points),
            cores=os.cpu_count(),
            ray_start_s=round(ray_start, 2),
        )


if __name__ == "__main__":
    main()
