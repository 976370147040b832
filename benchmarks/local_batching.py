"""Aggregate tokens/s of generate_many on the embedded model: batched vs one request at a time.

The same 32 requests (greedy, 32 new tokens at most) run twice with the cache off: once in
batches (the default), once with batch_size=1, in alternating rounds with torch pinned to the
machine's two cores on both sides. Goal: batching >= 4x the tokens/s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, ratio_report  # noqa: E402

from workbench.llm import Request, generate_many, get_provider  # noqa: E402

MODEL = "smollm2-135m-instruct"
ROUNDS = 3
TOPICS = ["tea", "trains", "rivers", "bicycles", "libraries", "winter", "bread", "maps"]
REQUESTS = [
    Request.from_prompt(f"Write two sentences about {t} (variant {i}).", max_tokens=32)
    for i in range(4)
    for t in TOPICS
]


def run(batch_size: int | None, tokens: list[int]) -> None:
    out = generate_many(MODEL, REQUESTS, cache=False, progress=False, batch_size=batch_size)
    if not all(r.ok for r in out):
        raise SystemExit(f"errors: {[r.error for r in out if r.error][:3]}")
    tokens.append(sum(r.completion_tokens for r in out))


def main() -> None:
    pin_threads(2)
    get_provider(MODEL).load()
    generate_many(MODEL, REQUESTS[:2], cache=False, progress=False)  # warm-up
    tokens: dict[str, list[int]] = {"batched": [], "one_at_a_time": []}
    times = alternate(
        {
            "one_at_a_time": lambda: run(1, tokens["one_at_a_time"]),
            "batched": lambda: run(None, tokens["batched"]),
        },
        ROUNDS,
    )
    # Seconds per generated token, so the ratio reads as "x tokens/s" (greedy: equal counts).
    per_token = {k: [t / n for t, n in zip(times[k], tokens[k], strict=True)] for k in times}
    ratio_report(
        "local_batching",
        per_token,
        "one_at_a_time",
        "batched",
        ">= 4",
        meaning="tokens/s of batched over one-at-a-time",
        requests=len(REQUESTS),
        tokens=tokens,
        threads=2,
    )


if __name__ == "__main__":
    main()
