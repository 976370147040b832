"""Overhead of generate_many over a bare asyncio + openai loop, against the same local server.

Starts `workbench serve` for the embedded model on loopback, then times the same 16 streamed
requests at concurrency 4 through (a) generate_many (cache off) and (b) a bare asyncio loop
with the openai SDK, alternating a/b three times and comparing medians.
Goal: generate_many / bare <= 1.05.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import report  # noqa: E402

from workbench import serving  # noqa: E402

MODEL = "smollm2-135m-instruct"
N, CONCURRENCY, MAX_TOKENS = 16, 4, 24
PROMPTS = [f"Give one tip about saving energy at home, number {i}." for i in range(N)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def bare(base_url: str) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(prompt: str) -> str:
        async with sem:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": prompt}],
                max_tokens=MAX_TOKENS,
                temperature=0.0,
                top_p=1.0,
                seed=0,
                stream=True,
                stream_options={"include_usage": True},
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    await asyncio.gather(*(one(p) for p in PROMPTS))
    await client.close()


def main() -> None:
    import yaml

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    server = serving.start(MODEL, port, device="cpu")
    try:
        serving.wait_ready(port, server)
        import tempfile

        from workbench import config

        tmp = Path(tempfile.mkdtemp())
        catalog = yaml.safe_load((config.datasets_dir() / "models.yaml").read_text())
        catalog["models"].append(
            {
                "id": "bench-served",
                "provider": "openai",
                "kind": "chat",
                "model": MODEL,
                "base_url": base_url,
            }
        )
        (tmp / "models.yaml").write_text(yaml.safe_dump(catalog))
        os.environ["WORKBENCH_DATASETS"] = str(tmp)

        from workbench.llm import Request, generate_many

        requests = [Request.from_prompt(p, max_tokens=MAX_TOKENS) for p in PROMPTS]
        ours, theirs = [], []
        generate_many("bench-served", requests[:2], cache=False, progress=False)  # warm-up
        for _ in range(3):
            t = time.perf_counter()
            out = generate_many(
                "bench-served", requests, concurrency=CONCURRENCY, cache=False, progress=False
            )
            ours.append(time.perf_counter() - t)
            if not all(r.ok for r in out):
                raise SystemExit(f"errors: {[r.error for r in out if r.error][:2]}")
            t = time.perf_counter()
            asyncio.run(bare(base_url))
            theirs.append(time.perf_counter() - t)
    finally:
        serving.stop(server)
    ratio = statistics.median(ours) / statistics.median(theirs)
    report(
        "client_overhead",
        ratio,
        "x wall time",
        "<= 1.05",
        generate_many_s=[round(x, 2) for x in ours],
        bare_openai_s=[round(x, 2) for x in theirs],
    )


if __name__ == "__main__":
    main()
