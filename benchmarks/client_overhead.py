"""Overhead of generate_many over a bare asyncio + openai loop, against the same loopback server.

Part 1 (the figure): the test double of an OpenAI-compatible server (tests/fake_openai.py), in
its own process, answering every request after 50 ms, so model compute does not drown the
client's own cost. 400 requests at concurrency 8 through (a) generate_many, streaming, cache
off, (b) a bare asyncio + openai loop, streaming, (c) the same bare loop without streaming.
Goal: (a) / (b) <= 1.05; (a) / (c) is reported too.

Part 2 (`--served`): the same comparison against `workbench serve` running the embedded model
(16 requests at concurrency 4): there the model's compute dominates both sides.

Both parts time the sides in alternating rounds and report min / median / max.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, ratio_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
INSTANT = {"n": 400, "concurrency": 8, "delay_s": 0.05, "max_tokens": 16, "rounds": 9}
SERVED = {"n": 16, "concurrency": 4, "max_tokens": 24, "rounds": 3}
MODEL = "smollm2-135m-instruct"


async def bare(
    base_url: str, model: str, prompts: list[str], concurrency: int, max_tokens: int, stream: bool
) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    sem = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> str:
        kwargs = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_p": 1.0,
            "seed": 0,
        }
        async with sem:
            if not stream:
                done = await client.chat.completions.create(**kwargs)
                return done.choices[0].message.content or ""
            chunks = await client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
            return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])

    await asyncio.gather(*(one(p) for p in prompts))
    await client.close()


def catalog_with(model_id: str, served_name: str, base_url: str) -> None:
    """A private catalog copy (WORKBENCH_DATASETS) with one HTTP entry for the server."""
    import shutil

    import yaml

    from workbench import config

    tmp = Path(tempfile.mkdtemp())
    shutil.copy(config.datasets_dir() / "models.yaml", tmp / "models.yaml")
    catalog = yaml.safe_load((tmp / "models.yaml").read_text())
    catalog["models"].append(
        {
            "id": model_id,
            "provider": "openai",
            "kind": "chat",
            "model": served_name,
            "base_url": base_url,
        }
    )
    (tmp / "models.yaml").write_text(yaml.safe_dump(catalog))
    os.environ["WORKBENCH_DATASETS"] = str(tmp)


def compare(name: str, base_url: str, served_name: str, cfg: dict, goal: str) -> None:
    from workbench.llm import Request, generate_many

    catalog_with("bench-http", served_name, base_url)
    prompts = [f"Give one tip about saving energy at home, number {i}." for i in range(cfg["n"])]
    requests = [Request.from_prompt(p, max_tokens=cfg["max_tokens"]) for p in prompts]

    def ours() -> None:
        out = generate_many(
            "bench-http", requests, concurrency=cfg["concurrency"], cache=False, progress=False
        )
        failed = [r.error for r in out if r.error]
        if failed:
            raise SystemExit(f"{len(failed)} failed calls, e.g. {failed[0]}")

    def bare_side(stream: bool):
        return lambda: asyncio.run(
            bare(base_url, served_name, prompts, cfg["concurrency"], cfg["max_tokens"], stream)
        )

    sides = {
        "generate_many": ours,
        "bare_stream": bare_side(True),
        "bare_no_stream": bare_side(False),
    }
    generate_many("bench-http", requests[:4], cache=False, progress=False)  # warm-up
    times = alternate(sides, cfg["rounds"])
    ratio_report(
        name,
        times,
        "generate_many",
        "bare_stream",
        goal,
        **{k: v for k, v in cfg.items() if k != "rounds"},
    )
    ratio_report(f"{name}_vs_non_streaming", times, "generate_many", "bare_no_stream", "reported")


def instant() -> None:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_openai.py"), str(INSTANT["delay_s"])],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        compare("client_overhead", base_url, "fake-model", INSTANT, "<= 1.05")
    finally:
        server.kill()
        server.wait()


@contextlib.contextmanager
def serving_model(model: str = MODEL):
    """`workbench serve` of `model` on a free loopback port, for the block; yields its URL."""
    import socket

    from workbench import serving

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serving.start(model, port, device="cpu")
    try:
        serving.wait_ready(port, server)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        serving.stop(server)


def served() -> None:
    with serving_model() as url:
        compare("client_overhead_served", url, MODEL, SERVED, "<= 1.05")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--served", action="store_true", help="also against the embedded model")
    args = parser.parse_args()
    pin_threads(1)
    instant()
    if args.served:
        served()


if __name__ == "__main__":
    main()
