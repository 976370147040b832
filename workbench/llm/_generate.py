"""The generate loop: provider lookup, cache, batching, bounded concurrency, retries, usage.

In-process generation has no wall-clock timeout: the work is local, a busy CPU only makes
it slower, and a batch that was computed must never be thrown away. It runs to completion
or until the user interrupts it, on the cores other processes leave free (`cpu.free_cores`).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import aio, config, executors, registry, trace, tracking
from ..cache import ResponseCache, cache_key, default_cache
from ..errors import ProviderError
from ..models import ModelSpec, get_model
from ..progress import StepProgress
from . import _retry, _sharded
from ._types import Provider, Request, Response

_PROVIDERS: dict[str, Provider] = {}
_PROVIDERS_LOCK = threading.Lock()


def _new_provider(spec: ModelSpec) -> Provider:
    found = registry.entry("provider", spec.provider, what=f"model {spec.id!r}")
    if not (isinstance(found.obj, type) and issubclass(found.obj, Provider)):
        raise ProviderError(f"model {spec.id!r} ({spec.provider}) does not generate text")
    return found.obj(spec)


def _store(cache: ResponseCache | None | bool) -> ResponseCache | None:
    """True: the default cache; a ResponseCache: that one; anything else: no cache."""
    if cache is True:
        return default_cache()
    return cache if isinstance(cache, ResponseCache) else None


def _fingerprint(provider: Provider) -> str:
    return str(provider.identity().get("weights_sha256", ""))


def get_provider(model: str | ModelSpec | Provider) -> Provider:
    """The provider for a catalog id or an ad-hoc `ModelSpec` (reused within a process).

    The key is the whole spec plus its resolved URL, so an ad-hoc spec that shares an id with
    a catalog entry never gets the catalog model's provider, and a loaded local model is kept.
    """
    if isinstance(model, Provider):
        return model
    spec = get_model(model)
    key = json.dumps([spec.public_dict(), spec.resolved_base_url()], sort_keys=True, default=str)
    with _PROVIDERS_LOCK:
        if key not in _PROVIDERS:
            if len(_PROVIDERS) >= 8:  # bound the loaded models kept alive
                _PROVIDERS.pop(next(iter(_PROVIDERS)))
            _PROVIDERS[key] = _new_provider(spec)
        return _PROVIDERS[key]


# --------------------------------------------------------------------------- generate_many


@dataclass
class _Stats:
    hits: int = 0
    misses: int = 0


async def agenerate_many(
    model: str | ModelSpec | Provider,
    requests: Sequence[Request],
    *,
    concurrency: int = 4,
    timeout: float = 120.0,
    max_retries: int = 3,
    backoff_base: float = 0.5,
    backoff_cap: float = 30.0,
    cache: ResponseCache | None | bool = True,
    progress: bool | None = None,
    batch_size: int | None = None,
    executor: str = "local",
    shards: int | None = None,
) -> list[Response]:
    """Async form of `generate_many`."""
    provider = get_provider(model)
    spec = provider.spec
    executors.check(executor)
    if executor == "ray" and provider.remote:
        _sharded.pool(provider, shards)  # the error for an HTTP model, before any work
    store = _store(cache)
    identity = provider.identity()
    results: list[Response | None] = [None] * len(requests)
    keys = [
        cache_key({**identity, "messages": r.messages, **r.params()}) if store is not None else ""
        for r in requests
    ]
    stats = _Stats()
    if progress is None:
        progress = not os.environ.get("WORKBENCH_HEADLESS")
    bar = StepProgress(spec.id, len(requests), show_bar=progress)

    todo: list[int] = []
    hits: list[int] = []
    for i, key in enumerate(keys):
        hit = store.get(key) if store is not None else None
        if hit is not None:
            results[i] = Response(**{**hit, "cached": True, "metadata": requests[i].metadata})
            hits.append(i)
        else:
            todo.append(i)
    stats.hits = len(hits)
    if hits and trace.enabled():
        _cached_span(spec, [requests[i] for i in hits], [results[i] for i in hits])
    bar.update(stats.hits)

    # Group misses into batches of compatible requests, shortest prompts together.
    size = batch_size or provider.max_batch
    groups: dict[tuple, list[int]] = {}
    for i in todo:
        groups.setdefault(provider.batch_key(requests[i]), []).append(i)
    units: list[list[int]] = []
    for members in groups.values():
        members.sort(key=lambda i: sum(len(m.get("content") or "") for m in requests[i].messages))
        units += [members[j : j + size] for j in range(0, len(members), size)]

    # Actors start only when something is left to generate (cache hits need none).
    runner = _sharded.pool(provider, shards) if executor == "ray" and units else provider
    lanes = runner.shards if runner is not provider else provider.max_concurrency or concurrency
    sem = asyncio.Semaphore(max(1, min(concurrency, lanes) if executor == "local" else lanes))

    async def attempt(batch: list[Request]) -> list[Response]:
        try:
            # A remote call gets a safety net over the SDK's own timeout (a stream that
            # trickles can outlast per-read timeouts); asyncio.timeout adds no task per
            # call. In-process generation runs to the end: a computed batch is kept.
            async with asyncio.timeout(timeout + 5 if provider.remote else None):
                return await runner.generate_batch(batch, timeout)
        except TimeoutError:
            raise ProviderError(f"no answer within {timeout}s", retryable=True) from None

    async def run_unit(unit: list[int]) -> None:
        batch = [requests[i] for i in unit]
        retrying = _retry.policy(
            spec.id,
            provider.should_retry,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        tries = 0
        async with sem:
            try:
                async for trial in retrying:
                    with trial:
                        tries += 1
                        out = await attempt(batch)
            except ProviderError as exc:
                message = config.redact(f"{spec.id}: {exc} (after {tries} attempt(s))")
                out = [Response(error=message) for _ in batch]
            except Exception as exc:  # an unexpected failure must not lose other results
                message = config.redact(f"{spec.id}: {type(exc).__name__}: {exc}")
                out = [Response(error=message) for _ in batch]
        for i, resp in zip(unit, out, strict=True):
            resp.attempts, resp.model, resp.metadata = tries, spec.id, requests[i].metadata
            results[i] = resp
            _span(spec, requests[i], resp)
            if resp.ok:
                stats.misses += 1
                if store is not None:
                    record = {
                        k: v
                        for k, v in resp.to_dict().items()
                        if k not in ("metadata", "chunk_times")
                    }
                    store.put(keys[i], {**identity, **requests[i].params()}, record)
            bar.update(1)

    try:
        await asyncio.gather(*(run_unit(u) for u in units))
    finally:
        bar.close()
        done = [r for r in results if r is not None]
        tracking.current().record_calls(
            spec, done, hits=stats.hits, misses=stats.misses, fingerprint=_fingerprint(provider)
        )
    return results  # type: ignore[return-value]


def _span(spec: ModelSpec, request: Request, resp: Response) -> None:
    """A `chat` span (OpenTelemetry GenAI conventions) for one answered request, when tracing."""
    if not trace.enabled():
        return
    trace.record(
        f"chat {spec.model}",
        0.0 if resp.cached else resp.latency_s,
        error=resp.error,
        parent=request.traceparent,
        **_chat_attributes(spec, request),
        gen_ai__response__finish_reasons=[resp.finish_reason] if resp.finish_reason else None,
        gen_ai__usage__input_tokens=resp.prompt_tokens,
        gen_ai__usage__output_tokens=resp.completion_tokens,
        gen_ai__input__messages=request.messages,
        gen_ai__output__messages=[{"role": "assistant", "content": resp.text}],
        workbench__cached=resp.cached,
        workbench__cost_usd=0.0 if resp.cached else resp.cost_usd,
        workbench__ttft_s=resp.ttft_s,
    )


def _chat_attributes(spec: ModelSpec, request: Request | None) -> dict[str, Any]:
    attrs = {
        "gen_ai__operation__name": "chat",
        "gen_ai__provider__name": spec.provider,
        "gen_ai__request__model": spec.model,
        "workbench__model_id": spec.id,
    }
    if request is not None:
        attrs["gen_ai__request__max_tokens"] = request.max_tokens
        attrs["gen_ai__request__temperature"] = request.temperature
        attrs["gen_ai__request__seed"] = request.seed
    return attrs


def _cached_span(spec: ModelSpec, requests: list[Request], resps: list[Response]) -> None:
    """The cache hits of one `generate_many` call: one span, since none of them called the model.

    A span each would cost ~0.1 ms against ~15 µs for the hit itself; one span keeps tracing
    cheap on cached work. A single hit (an application's request) keeps its messages, and so
    does a hit that belongs to a trace of its own (`Request.traceparent`).
    """
    shared = [i for i, r in enumerate(requests) if not r.traceparent]
    for i, request in enumerate(requests):
        if request.traceparent or len(shared) == 1:
            _span(spec, request, resps[i])
    if len(shared) > 1:
        hits = [resps[i] for i in shared]
        trace.record(
            f"chat {spec.model}",
            0.0,
            **_chat_attributes(spec, None),
            gen_ai__usage__input_tokens=sum(r.prompt_tokens or 0 for r in hits),
            gen_ai__usage__output_tokens=sum(r.completion_tokens or 0 for r in hits),
            workbench__cached=True,
            workbench__cached_calls=len(hits),
            workbench__cost_usd=0.0,
        )


def generate_many(
    model: str | ModelSpec | Provider, requests: Sequence[Request], **kwargs: Any
) -> list[Response]:
    """Run `requests` against `model`; one `Response` per request, in order.

    Failures never raise: a response carries `error` instead, so results already
    computed are kept. Keyword arguments: concurrency, timeout, max_retries,
    backoff_base, backoff_cap, cache (True, False or a ResponseCache), progress,
    batch_size, executor ("local", or "ray": an in-process model's batches go to Ray actors
    that each load it, `shards` of them; cache, retries, traces and usage stay here).
    """
    return aio.run_sync(agenerate_many(model, requests, **kwargs))


def label_logprobs(
    model: str | ModelSpec | Provider,
    conversations: list[list[dict[str, str]]],
    labels: list[str],
    cache: ResponseCache | None | bool = True,
) -> list[dict[str, float]]:
    """Score each allowed label as the reply to each conversation (local models only), cached."""
    provider = get_provider(model)
    if not provider.supports("local_logprobs"):
        raise ProviderError(
            f"{provider.spec.id}: label scoring needs an in-process model; HTTP models "
            "answer with JSON output instead"
        )
    store = _store(cache)
    identity = {**provider.identity(), "kind": "label_logprobs", "labels": labels}
    keys = [cache_key({**identity, "messages": conv}) for conv in conversations]
    results: list[dict[str, float] | None] = [
        (store.get(k) or {}).get("logprobs") if store is not None else None for k in keys
    ]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        fresh = provider.label_logprobs([conversations[i] for i in todo], labels)
        for i, scores in zip(todo, fresh, strict=True):
            results[i] = scores
            if store is not None:
                store.put(keys[i], identity, {"logprobs": scores, "error": None})
    tracking.current().record_labels(
        provider.spec,
        hits=len(keys) - len(todo),
        misses=len(todo),
        fingerprint=_fingerprint(provider),
    )
    return results  # type: ignore[return-value]


def generate(model: str | ModelSpec | Provider, request: Request, **kwargs: Any) -> Response:
    """One call; see `generate_many`."""
    return generate_many(model, [request], progress=False, **kwargs)[0]
