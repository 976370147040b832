"""The model-discovery notebook run cold (empty response cache) vs fully cached.

Both runs go through `workbench.reports.run_notebook` (papermill, HTML export, run record),
with the notebook's default parameters. Model conversion happens before timing, so "cold"
means every answer is generated. Goal: the cached run >= 10x faster.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import report  # noqa: E402

NOTEBOOK = "01_model_discovery"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WORKBENCH_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ["WORKBENCH_REPORTS"] = str(Path(tmp) / "reports")
        from workbench import models, reports

        for mid in ("smollm2-135m-instruct", "gemma-3-270m"):
            models.local_model_dir(mid)  # one-time GGUF conversion is not what is measured
        timings = {}
        for label in ("cold", "cached"):
            started = time.perf_counter()
            result = reports.run_notebook(NOTEBOOK)
            timings[label] = time.perf_counter() - started
            if not result.ok:
                raise SystemExit(f"{label} run failed: {result.error}")
    report(
        "cache_replay",
        timings["cold"] / timings["cached"],
        "x faster",
        ">= 10",
        cold_s=round(timings["cold"], 2),
        cached_s=round(timings["cached"], 2),
    )


if __name__ == "__main__":
    main()
