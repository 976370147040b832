"""Load tests of an HTTP model endpoint: closed-loop concurrency levels and open-loop Poisson
arrivals, through the same async streaming client the notebooks use (no cache, no retries:
a load test measures the endpoint, and a retry would hide a failure).

Per level, the figures `vllm bench serve` reports, under its names: completed and failed
requests, request and token throughput, and TTFT, TPOT, ITL and E2EL in milliseconds (mean,
median, p50, p90, p95, p99), with goodput: requests per second that met every SLO.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import numpy as np

from . import data, registry
from .errors import CatalogError, ParameterError, ProviderError
from .io import write_jsonl
from .llm import Request, Response, get_provider
from .models import get_model

PERCENTILES = (50, 90, 95, 99)
SLO_KEYS = {"ttft": "ttft", "tpot": "tpot", "itl": "itl", "e2e": "e2el", "e2el": "e2el"}
KNEE_GAIN = 1.10  # the knee: the last level before throughput grows by less than 10 %


def parse_levels(text: str, what: str, kind=int) -> list:
    """`"1,2,4"` as numbers, each > 0; `ParameterError` naming the option otherwise."""
    try:
        levels = [kind(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ParameterError(
            f"{what}: expected numbers separated by commas, got {text!r}"
        ) from None
    bad = [x for x in levels if x <= 0]
    if not levels or bad:
        raise ParameterError(f"{what}: every level must be > 0, got {text!r}")
    return levels


def parse_slo(text: str | None) -> dict[str, float]:
    """`"ttft=0.5,e2e=5"` (seconds) as {metric: seconds}; metrics ttft, tpot, itl, e2e."""
    slo: dict[str, float] = {}
    for item in filter(None, (text or "").split(",")):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in SLO_KEYS:
            raise ParameterError(
                f"--slo: expected name=seconds with name in ttft, tpot, itl, e2e; got {item!r}"
            )
        try:
            slo[SLO_KEYS[key.strip()]] = float(value)
        except ValueError:
            raise ParameterError(f"--slo: {key}={value!r} is not a number of seconds") from None
    return slo


def endpoint(model_id: str, base_url: str | None = None):
    """The streaming HTTP provider of `model_id`; `CatalogError` if it has no HTTP endpoint."""
    spec = get_model(model_id)
    found = registry.entry("provider", spec.provider, what=f"model {spec.id!r}")
    if found.info.get("local", False):
        raise CatalogError(
            f"model {spec.id!r} runs in-process and has no HTTP endpoint to load-test; serve it "
            f"(`workbench serve --model {spec.id}`) and test an HTTP entry of the catalog, "
            "e.g. smollm2-135m-instruct-http"
        )
    if base_url:
        spec = dataclasses.replace(spec, base_url=base_url, base_url_env=None)
    provider = get_provider(spec)
    if not provider.supports("streaming"):
        raise CatalogError(f"model {spec.id!r}: its provider cannot stream; TTFT needs streaming")
    return provider


def prompts(task: str, n: int, max_tokens: int) -> list[Request]:
    """`n` requests cycling through the cases of a task set (its instruction as system)."""
    t = data.load_task(task, track=False)
    cases = t.cases
    return [
        Request(
            messages=[
                {"role": "system", "content": t.instruction},
                {"role": "user", "content": t.prompt(cases[i % len(cases)])},
            ],
            max_tokens=max_tokens,
            temperature=0.0,
        )
        for i in range(n)
    ]


# --------------------------------------------------------------------------- measuring


async def _call(provider, request: Request, timeout: float, sent: float) -> dict[str, Any]:
    try:
        async with asyncio.timeout(timeout):
            resp: Response = (await provider.generate_batch([request], timeout))[0]
    except (ProviderError, TimeoutError) as exc:
        message = str(exc) or f"no answer within {timeout}s"
        return {"sent_s": sent, "ok": False, "error": message[:300]}
    except Exception as exc:  # a client-side failure is a failed request, not a crash
        return {"sent_s": sent, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    times = resp.chunk_times or []
    out_tokens = resp.completion_tokens if resp.completion_tokens is not None else len(times)
    return {
        "sent_s": sent,
        "ok": True,
        "error": None,
        "text": resp.text,
        "input_tokens": resp.prompt_tokens,
        "output_tokens": out_tokens,
        "ttft": resp.ttft_s,
        "e2el": resp.latency_s,
        "chunks": len(times),
        "itl": [b - a for a, b in zip(times, times[1:], strict=False)],
        "tpot": (resp.latency_s - resp.ttft_s) / (out_tokens - 1)
        if resp.ttft_s is not None and out_tokens > 1
        else None,
    }


async def closed_loop(provider, requests, concurrency: int, max_seconds: float, timeout: float):
    """`concurrency` clients, each sending its next request when the last one is answered."""
    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    queue = iter(enumerate(requests))

    async def client() -> None:
        for _, req in queue:
            if time.perf_counter() - start >= max_seconds:
                return
            results.append(await _call(provider, req, timeout, time.perf_counter() - start))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results, time.perf_counter() - start


async def open_loop(provider, requests, rate: float, max_seconds: float, timeout: float, seed=0):
    """Requests sent at Poisson arrivals of `rate` per second, whatever the answers' pace."""
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, len(requests))
    start = time.perf_counter()
    tasks = []
    for at, req in zip(np.cumsum(gaps), requests, strict=True):
        if at >= max_seconds:
            break
        await asyncio.sleep(max(0.0, at - (time.perf_counter() - start)))
        tasks.append(asyncio.create_task(_call(provider, req, timeout, float(at))))
    results = list(await asyncio.gather(*tasks))
    return results, time.perf_counter() - start


def _stats(name: str, values: list[float]) -> dict[str, float | None]:
    """mean/median/pXX of `values` (seconds) in milliseconds, under vllm's names."""
    arr = np.asarray([v for v in values if v is not None], dtype=float) * 1000
    out: dict[str, float | None] = {}
    out[f"mean_{name}_ms"] = float(arr.mean()) if arr.size else None
    out[f"median_{name}_ms"] = float(np.median(arr)) if arr.size else None
    for p in PERCENTILES:
        out[f"p{p}_{name}_ms"] = float(np.percentile(arr, p)) if arr.size else None
    return out


def summarise(results, duration: float, slo: dict[str, float], planned: int) -> dict[str, Any]:
    """One level's figures from its requests."""
    ok = [r for r in results if r["ok"]]
    out_tokens = sum(r["output_tokens"] or 0 for r in ok)
    in_tokens = sum(r["input_tokens"] or 0 for r in ok)
    met = [
        r
        for r in ok
        if all(
            (max(r["itl"], default=0.0) if k == "itl" else r[k]) is not None
            and (max(r["itl"], default=0.0) if k == "itl" else r[k]) <= limit
            for k, limit in slo.items()
        )
    ]
    row: dict[str, Any] = {
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "not_sent": planned - len(results),
        "duration": duration,
        "total_input_tokens": in_tokens,
        "total_output_tokens": out_tokens,
        "request_throughput": len(ok) / duration if duration else 0.0,
        "output_throughput": out_tokens / duration if duration else 0.0,
        "total_token_throughput": (in_tokens + out_tokens) / duration if duration else 0.0,
        "request_goodput": len(met) / duration if slo and duration else None,
        "slo_met": len(met) if slo else None,
    }
    for name in ("ttft", "tpot", "e2el"):
        row.update(_stats(name, [r[name] for r in ok]))
    row.update(_stats("itl", [g for r in ok for g in r["itl"]]))
    return row


def knee(levels: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The closed-loop level after which more concurrency adds < 10 % throughput (None: the
    throughput still grew at the highest level tested, or fewer than two levels)."""
    closed = [lv for lv in levels if lv["mode"] == "closed"]
    for here, after in zip(closed, closed[1:], strict=False):
        if after["request_throughput"] < KNEE_GAIN * here["request_throughput"]:
            return here
    return None


# --------------------------------------------------------------------------- the run

NAME = "loadtest"


def run(
    model_id: str,
    *,
    concurrency: list[int] | None = None,
    rates: list[float] | None = None,
    requests: int = 32,
    max_seconds: float = 60.0,
    slo: dict[str, float] | None = None,
    task: str = "customer_service",
    max_tokens: int = 32,
    timeout: float = 60.0,
    base_url: str | None = None,
    max_error_rate: float = 0.0,
    seed: int = 0,
    root=None,
    echo=None,
):
    """Run every level against `model_id`'s endpoint; write the run folder; (folder, record)."""
    from . import loadtest_page, runs, tracking

    if requests < 1:
        raise ParameterError(f"--requests must be >= 1, got {requests}")
    if max_seconds <= 0:
        raise ParameterError(f"--max-seconds must be > 0, got {max_seconds}")
    concurrency = [] if concurrency is None and rates else (concurrency or [1, 2, 4, 8])
    rates, slo = rates or [], slo or {}
    provider = endpoint(model_id, base_url)  # errors before anything is sent
    batch = prompts(task, requests, max_tokens)
    plan = [("closed", c) for c in concurrency] + [("open", r) for r in rates]
    started = time.time()
    levels, rows = [], []

    async def go():
        for mode, value in plan:
            if mode == "closed":
                results, took = await closed_loop(provider, batch, value, max_seconds, timeout)
            else:
                results, took = await open_loop(provider, batch, value, max_seconds, timeout, seed)
            label = f"concurrency={value}" if mode == "closed" else f"rate={value:g}/s"
            level = {"level": label, "mode": mode, "value": value}
            level.update(summarise(results, took, slo, len(batch)))
            levels.append(level)
            rows.extend({"level": label, **r} for r in results)
            if echo:
                echo(_line(level))

    asyncio.run(go())
    found = knee(levels)
    failed = sum(lv["failed"] for lv in levels)
    sent = sum(lv["completed"] + lv["failed"] for lv in levels)
    budget = {
        "calls": sent,
        "errors": failed,
        "max_error_rate": max_error_rate,
        "exceeded": sent > 0 and failed / sent > max_error_rate,
    }
    status = "failed" if budget["exceeded"] or not sent else "succeeded"
    best = max(levels, key=lambda lv: lv["request_throughput"])
    metrics: dict[str, Any] = {
        "peak_request_throughput": round(best["request_throughput"], 3),
        "peak_at": best["level"],
        "knee": found["level"] if found else _no_knee(concurrency),
        "failed_requests": failed,
    }
    if found:
        metrics["knee_p50_e2el_ms"] = round(found["median_e2el_ms"] or 0.0, 1)
    if slo:
        good = max(levels, key=lambda lv: lv["request_goodput"] or 0.0)
        metrics["peak_request_goodput"] = round(good["request_goodput"] or 0.0, 3)
    run_id, stage = runs.stage(NAME, root)
    write_jsonl(stage / "levels.jsonl", levels)
    write_jsonl(stage / "requests.jsonl", rows)
    finished = time.time()
    error = None
    if status == "failed":
        error = {
            "type": "ErrorBudgetExceeded",
            "message": f"{failed} of {sent} requests failed (max_error_rate {max_error_rate})",
        }
    record = {
        **tracking.run_header(
            run_id,
            NAME,
            {
                "model": model_id,
                "base_url": provider.base_url,
                "concurrency": concurrency,
                "rates": rates,
                "requests": requests,
                "max_seconds": max_seconds,
                "slo": slo,
                "task": task,
                "max_tokens": max_tokens,
                "timeout": timeout,
                "max_error_rate": max_error_rate,
                "seed": seed,
            },
            started,
            finished,
        ),
        "status": status,
        "models": {model_id: {"provider": provider.spec.provider, "model": provider.spec.model}},
        "metrics": metrics,
        "levels": levels,
        "usage": {"calls": sent, "errors": failed},
        "error_budget": budget,
        "warnings": [
            f"{lv['level']}: {lv['failed']} failed request(s)" for lv in levels if lv["failed"]
        ],
        "error": error,
        "files": {"report": runs.REPORT, "levels": "levels.jsonl", "requests": "requests.jsonl"},
    }
    failures = [{"level": r["level"], "error": r["error"]} for r in rows if not r["ok"]][:50]
    loadtest_page.write(stage, record, failures)
    runs.write_record(stage, record)
    return runs.finalise(stage), record


def _no_knee(concurrency: list[int]) -> str:
    if len(concurrency) < 2:
        return "not measured (needs two or more concurrency levels)"
    return "not reached (throughput still grew at the highest concurrency)"


def _line(level: dict[str, Any]) -> str:
    line = f"{level['level']}: {level['completed']} ok, {level['failed']} failed"
    if level["median_e2el_ms"] is None:
        return line
    return (
        f"{line}, {level['request_throughput']:.2f} req/s, "
        f"{level['output_throughput']:.1f} tok/s, median e2el {level['median_e2el_ms']:.0f} ms"
    )
