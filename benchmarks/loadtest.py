"""The load generator's own overhead: throughput measured by `workbench loadtest`'s closed loop
against a bare asyncio + openai streaming loop at the same concurrency, same server.

Part 1 (the figure): `workbench serve` running the embedded model, 16 requests at concurrency 4,
24 output tokens each. Goal: ours / bare throughput >= 0.95.
Part 2 (reported): the test double of an OpenAI-compatible server answering after 50 ms, 400
requests at concurrency 8, where the client's own cost is all there is to see.

Sides alternate round by round; min / median / max per side and per round.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, report, spread  # noqa: E402
from client_overhead import bare, catalog_with, serving_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SERVED = {"n": 16, "concurrency": 4, "max_tokens": 24, "rounds": 5}
INSTANT = {"n": 400, "concurrency": 8, "max_tokens": 16, "rounds": 7, "delay_s": 0.05}
MODEL = "smollm2-135m-instruct"


def compare(name: str, base_url: str, served_name: str, cfg: dict, goal: str) -> None:
    from workbench import loadtest
    from workbench.llm import Request

    catalog_with(name, served_name, base_url)  # a catalog entry per part, named after it
    provider = loadtest.endpoint(name)
    prompts = [f"Give one tip about saving energy at home, number {i}." for i in range(cfg["n"])]
    requests = [Request.from_prompt(p, max_tokens=cfg["max_tokens"]) for p in prompts]
    completed: list[int] = []

    def ours() -> float:
        results, took = asyncio.run(
            loadtest.closed_loop(provider, requests, cfg["concurrency"], 600.0, 120.0)
        )
        completed.append(sum(r["ok"] for r in results))
        return took  # the loop's own wall time, as it reports throughput from

    def theirs() -> float:
        started = time.perf_counter()
        asyncio.run(
            bare(base_url, served_name, prompts, cfg["concurrency"], cfg["max_tokens"], True)
        )
        return time.perf_counter() - started

    asyncio.run(loadtest.closed_loop(provider, requests[:4], 2, 600.0, 120.0))  # warm-up
    times = alternate({"loadtest": ours, "bare": theirs}, cfg["rounds"])
    if min(completed) != cfg["n"]:
        raise SystemExit(f"{cfg['n'] - min(completed)} request(s) failed in a round")
    # Throughput is requests / seconds on both sides, so ours / bare = bare seconds / ours.
    per_round = [b / a for a, b in zip(times["loadtest"], times["bare"], strict=True)]
    value = statistics.median(times["bare"]) / statistics.median(times["loadtest"])
    report(
        name,
        value,
        "x bare throughput",
        goal,
        rounds=len(per_round),
        ratio_per_round=spread(per_round, 3),
        requests_per_s={side: spread([cfg["n"] / t for t in ts], 3) for side, ts in times.items()},
        **{k: v for k, v in cfg.items() if k != "rounds"},
    )


def main() -> None:
    pin_threads(1)
    with serving_model(MODEL) as url:
        compare("loadtest_overhead_served", url, MODEL, SERVED, ">= 0.95")
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_openai.py"), str(INSTANT["delay_s"])],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        compare(
            "loadtest_overhead_instant",
            fake.stdout.readline().strip(),
            "fake-model",
            INSTANT,
            "reported",
        )
    finally:
        fake.kill()
        fake.wait()


if __name__ == "__main__":
    main()
