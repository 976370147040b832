"""Aggregate tokens/s of generate_many on the embedded model: batched vs one request at a time.

The same 32 requests (greedy, 32 new tokens at most) run twice with the cache off: once in
batches (the default), once with batch_size=1. Goal: batching >= 4x the tokens/s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import report  # noqa: E402

from workbench.llm import Request, generate_many, get_provider  # noqa: E402

MODEL = "smollm2-135m-instruct"
TOPICS = ["tea", "trains", "rivers", "bicycles", "libraries", "winter", "bread", "maps"]
REQUESTS = [
    Request.from_prompt(f"Write two sentences about {t} (variant {i}).", max_tokens=32)
    for i in range(4)
    for t in TOPICS
]


def measure(batch_size: int | None) -> tuple[float, int]:
    started = time.perf_counter()
    out = generate_many(MODEL, REQUESTS, cache=False, progress=False, batch_size=batch_size)
    elapsed = time.perf_counter() - started
    if not all(r.ok for r in out):
        raise SystemExit(f"errors: {[r.error for r in out if r.error][:3]}")
    return elapsed, sum(r.completion_tokens for r in out)


def main() -> None:
    get_provider(MODEL).load()
    generate_many(MODEL, REQUESTS[:2], cache=False, progress=False)  # warm-up
    batched_s, batched_tokens = measure(batch_size=None)  # the default batch size
    single_s, single_tokens = measure(batch_size=1)
    batched_tps, single_tps = batched_tokens / batched_s, single_tokens / single_s
    report(
        "local_batching",
        batched_tps / single_tps,
        "x tokens/s",
        ">= 4",
        batched_tokens_per_s=round(batched_tps, 1),
        single_tokens_per_s=round(single_tps, 1),
        requests=len(REQUESTS),
        batched_s=round(batched_s, 2),
        single_s=round(single_s, 2),
    )


if __name__ == "__main__":
    main()
