"""The playground's second identical generation: served from the response cache.

One prompt to the embedded model through `playground.generate` (what the Generate button calls),
first with an empty cache (the model answers), then 20 identical requests (the cache answers).
Goal: the cached generation under 100 ms (median; min and max reported).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import report, spread  # noqa: E402

REPEATS = 20


def main() -> None:
    os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="wb-bench-playground-")
    from workbench import playground

    msgs = playground.messages(playground.FREE_TEXT, {}, "Name three primary colours.")
    started = time.perf_counter()
    first = playground.generate(["smollm2-135m-instruct"], msgs, max_tokens=32)
    uncached = time.perf_counter() - started
    assert not first["cached"].iloc[0] and first["error"].isna().all()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        again = playground.generate(["smollm2-135m-instruct"], msgs, max_tokens=32)
        times.append(time.perf_counter() - started)
        assert again["cached"].iloc[0] and again["answer"].iloc[0] == first["answer"].iloc[0]
    report(
        "playground_cached_generation",
        statistics.median(times) * 1000,
        "ms",
        "< 100",
        seconds=spread(times, 5),
        first_generation_s=round(uncached, 2),
        repeats=REPEATS,
    )


if __name__ == "__main__":
    main()
