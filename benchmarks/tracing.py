"""The cost of tracing: `generate_many` on cached calls with tracing on vs off, and spans
written per second to the trace store.

1,000 requests are answered once (filling the response cache), then served from the cache
with tracing off and on, in alternating rounds: a cached call is the cheapest path, so it shows
the tracing overhead at its largest. Goal: tracing on <= 1.05x the time of tracing off.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, ratio_report, report  # noqa: E402

from workbench import trace  # noqa: E402
from workbench.llm import Request, generate_many  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from fake_openai import FakeOpenAIServer  # noqa: E402

N, ROUNDS = 1000, 5


def main() -> None:
    pin_threads(1)
    requests = [Request.from_prompt(f"question {i}", max_tokens=8) for i in range(N)]
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        from workbench.models import ModelSpec

        spec = ModelSpec(
            id="fake", provider="openai", kind="chat", model="fake-model", base_url=server.base_url
        )
        from workbench.cache import ResponseCache

        cache = ResponseCache(Path(tmp) / "responses.sqlite")
        generate_many(spec, requests, cache=cache, progress=False, concurrency=8)  # fill
        store_path = Path(tmp) / "traces.sqlite"

        def off() -> None:
            trace.disable()
            generate_many(spec, requests, cache=cache, progress=False)

        def on() -> None:
            trace.enable(store_path)
            generate_many(spec, requests, cache=cache, progress=False)
            trace.disable()

        times = alternate({"off": off, "on": on}, ROUNDS)
        ratio_report(
            "tracing_overhead",
            times,
            "on",
            "off",
            "<= 1.05",
            meaning="generate_many on cached calls, tracing on over off",
            requests=N,
            threads=1,
        )

        store = trace.TraceStore(Path(tmp) / "spans.sqlite")
        rates = []
        for _ in range(3):
            trace.enable(store.path)
            started = time.perf_counter()
            for i in range(2000):
                trace.record("chat m", 0.001, gen_ai__request__model="m", workbench__i=i)
            rates.append(2000 / (time.perf_counter() - started))
            trace.disable()
        report(
            "tracing_spans_per_s",
            sorted(rates)[1],
            "spans/s",
            "informational",
            meaning="spans ended and committed to the SQLite store, one transaction each",
            per_round=[round(r) for r in rates],
        )


if __name__ == "__main__":
    main()
