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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, ratio_report, report  # noqa: E402

from workbench import trace  # noqa: E402
from workbench.llm import Request, generate_many  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from fake_openai import FakeOpenAIServer  # noqa: E402

N, ROUNDS = 1000, 9


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

        def timed(batch, use_cache) -> float:
            started = time.perf_counter()
            generate_many(spec, batch, cache=use_cache, progress=False, concurrency=8)
            return time.perf_counter() - started

        def side(tracing: bool, batch, use_cache) -> Callable[[], float]:
            def run() -> float:
                if not tracing:
                    trace.disable()
                    return timed(batch, use_cache)
                # Once per process in use, so not part of a call's cost: enabling, and the
                # first span's one-off work (reading the secrets to scrub, the first write).
                trace.enable(store_path)
                trace.record("warm-up", 0.0)
                try:
                    return timed(batch, use_cache)
                finally:
                    trace.disable()

            return run

        times = alternate(
            {"off": side(False, requests, cache), "on": side(True, requests, cache)}, ROUNDS
        )
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

        # Calls that reach the model (a local HTTP server answering at once) get a span each.
        calls = requests[:200]
        times = alternate(
            {"off": side(False, calls, False), "on": side(True, calls, False)}, ROUNDS
        )
        ratio_report(
            "tracing_overhead_uncached",
            times,
            "on",
            "off",
            "informational",
            meaning="generate_many on 200 uncached calls to a loopback server, a span each",
            requests=len(calls),
            concurrency=8,
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
