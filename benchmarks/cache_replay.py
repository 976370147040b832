"""The model-discovery notebook run cold (empty response cache) vs fully cached.

Both runs go through `workbench.reports.run_notebook` (papermill, HTML export, run record),
with the notebook's default parameters. Model conversion happens before timing, so "cold"
means every answer is generated. Each round starts from an empty cache (cold, then cached);
the ratio is of the median round times, with min / median / max. Goal: cached >= 10x faster.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import pin_threads, ratio_report  # noqa: E402

NOTEBOOK = "01_model_discovery"
ROUNDS = 2


def main() -> None:
    pin_threads(2)
    from workbench import models, reports

    for mid in ("smollm2-135m-instruct", "gemma-3-270m"):
        models.local_model_dir(mid)  # one-time GGUF conversion is not what is measured
    times: dict[str, list[float]] = {"cold": [], "cached": []}
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["WORKBENCH_CACHE_DIR"] = str(Path(tmp) / "cache")
            os.environ["WORKBENCH_REPORTS"] = str(Path(tmp) / "reports")
            for label in ("cold", "cached"):  # cached needs the cold run first: no alternation
                started = time.perf_counter()
                result = reports.run_notebook(NOTEBOOK)
                times[label].append(time.perf_counter() - started)
                if not result.ok:
                    raise SystemExit(f"{label} run failed: {result.error}")
    ratio_report("cache_replay", times, "cold", "cached", ">= 10", meaning="x faster when cached")


if __name__ == "__main__":
    main()
