"""One client interface over model providers, and `generate_many`.

Providers: in-process `transformers` (batched `generate`, left padding, chat template,
`accelerate` device placement) and any OpenAI-compatible HTTP server through the
`openai` SDK. `generate_many` adds bounded concurrency, per-request timeouts for HTTP
calls, retries with exponential backoff and jitter that honour `Retry-After`, a progress
bar, the persistent response cache, and usage/cost accounting into the current run record.

In-process generation has no wall-clock timeout: the work is local, a busy CPU only makes
it slower, and a batch that was computed must never be thrown away. It runs to completion
or until the user interrupts it, on the cores other processes leave free (`cpu.free_cores`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import config, cpu, tracking
from .cache import ResponseCache, cache_key, default_cache
from .models import ModelSpec, get_model, local_model_dir, weights_fingerprint
from .progress import StepProgress

__all__ = [
    "Request",
    "Response",
    "ProviderError",
    "get_provider",
    "generate",
    "generate_many",
    "agenerate_many",
    "label_logprobs",
]


@dataclass
class Request:
    """One chat call: messages plus every parameter that changes the answer."""

    messages: list[dict[str, str]]
    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int = 0
    repeat: int = 0
    # OpenAI-style structured output request, e.g. {"type": "json_schema", "json_schema": {...}}.
    response_format: dict[str, Any] | None = None
    # Free-form labels (case id, task, ...) carried to the response; not part of the cache key.
    metadata: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
            "seed": self.seed,
            "repeat": self.repeat,
        } | ({"response_format": self.response_format} if self.response_format else {})

    @classmethod
    def from_prompt(cls, prompt: str, system: str | None = None, **kw: Any) -> Request:
        messages = [{"role": "system", "content": system}] if system else []
        return cls(messages=[*messages, {"role": "user", "content": prompt}], **kw)


@dataclass
class Response:
    """What a call produced, or the error that stopped it."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    cost_usd: float = 0.0
    cached: bool = False
    error: str | None = None
    attempts: int = 0
    model: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def tokens_per_s(self) -> float | None:
        if not self.completion_tokens or not self.latency_s:
            return None
        return self.completion_tokens / self.latency_s

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ProviderError(Exception):
    """A failed call; `retryable` says whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


# --------------------------------------------------------------------------- providers


class Provider:
    """Base class: a provider turns a batch of requests into responses."""

    max_batch = 1
    # In-process providers run one batch at a time; HTTP ones take the caller's concurrency.
    max_concurrency: int | None = None
    # Whether a per-request wall-clock timeout applies (remote calls) or not (in-process work).
    remote = True

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def identity(self) -> dict[str, Any]:
        """Everything about the model that changes an answer (part of the cache key)."""
        return {
            "provider": self.spec.provider,
            "model": self.spec.model,
            "model_stop": list(self.spec.stop),
        }

    async def generate_batch(self, requests: list[Request], timeout: float) -> list[Response]:
        raise NotImplementedError

    def batch_key(self, request: Request) -> tuple:
        """Requests with equal keys may share a batch."""
        fmt = json.dumps(request.response_format, sort_keys=True) if request.response_format else ""
        return (request.max_tokens, request.temperature, request.top_p, tuple(request.stop), fmt)


class _FirstTokenClock:
    """StoppingCriteria that notes when the first new token was produced (TTFT)."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        if self.first is None:
            self.first = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class TransformersProvider(Provider):
    """In-process generation with batched `generate` on a converted local model."""

    max_concurrency = 1
    remote = False

    def __init__(self, spec: ModelSpec, batch_size: int = 16):
        super().__init__(spec)
        self.max_batch = batch_size
        self._lock = threading.Lock()
        self._model = None
        self._tokenizer = None
        self._compiler = None
        self.fingerprint = weights_fingerprint(spec)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "weights_sha256": self.fingerprint}

    def load(self):
        """Load tokenizer and model once (converting the GGUF on first use)."""
        with self._lock:
            if self._model is None:
                import torch

                # Imported here, under the lock: transformers' lazy imports are not thread-safe.
                from transformers import (
                    AutoModelForCausalLM,
                    AutoTokenizer,
                    StoppingCriteriaList,
                    set_seed,
                )
                from transformers.utils import logging as hf_logging

                self._criteria_list, self._set_seed = StoppingCriteriaList, set_seed
                if os.environ.get("WORKBENCH_HEADLESS"):
                    hf_logging.disable_progress_bar()

                folder = local_model_dir(self.spec)
                tok = AutoTokenizer.from_pretrained(folder, padding_side="left")
                if tok.pad_token is None:
                    tok.pad_token = tok.eos_token
                model = AutoModelForCausalLM.from_pretrained(
                    folder, dtype=torch.float32, device_map="auto"
                )
                model.eval()
                self._tokenizer, self._model = tok, model
        return self._model, self._tokenizer

    @property
    def device(self) -> str:
        model, _ = self.load()
        return str(model.device)

    async def generate_batch(self, requests: list[Request], timeout: float) -> list[Response]:
        return await asyncio.to_thread(self._generate_sync, requests, timeout)

    def _generate_sync(self, requests: list[Request], timeout: float) -> list[Response]:
        import torch

        model, tok = self.load()
        StoppingCriteriaList, set_seed = self._criteria_list, self._set_seed
        first = requests[0]
        stop = [*self.spec.stop, *first.stop]
        prompts = [
            tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
            for r in requests
        ]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            model.device
        )
        clock = _FirstTokenClock()
        kwargs: dict[str, Any] = {
            "max_new_tokens": first.max_tokens,
            "pad_token_id": tok.pad_token_id,
            "stopping_criteria": StoppingCriteriaList([clock]),
        }
        if first.temperature > 0:
            set_seed(first.seed)
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=tok)
        if first.response_format:
            kwargs["logits_processor"] = self._grammar(first.response_format)
        with self._lock, torch.inference_mode():
            torch.set_num_threads(cpu.free_cores())
            started = time.perf_counter()
            out = model.generate(**enc, **kwargs)
            latency = time.perf_counter() - started
        ttft = (clock.first - started) if clock.first else None
        new = out[:, enc["input_ids"].shape[1] :]
        eos_ids = set(_as_list(model.generation_config.eos_token_id)) | {tok.eos_token_id}
        responses = []
        for row, mask in zip(new.tolist(), enc["attention_mask"], strict=True):
            n = next((i for i, t in enumerate(row) if t in eos_ids), None)
            tokens = row if n is None else row[:n]
            text = tok.decode(tokens, skip_special_tokens=True)
            finish = "stop" if n is not None else "length"
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
            prompt_tokens = int(mask.sum())
            responses.append(
                Response(
                    text=text.strip(),
                    finish_reason=finish,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(tokens),
                    latency_s=latency,
                    ttft_s=ttft,
                    cost_usd=self.spec.cost(prompt_tokens, len(tokens)),
                )
            )
        return responses

    def _grammar(self, response_format: dict[str, Any]):
        """A logits processor that only lets the model write JSON matching `response_format`.

        Constrained decoding (xgrammar) is how a small local model answers with the structured
        output a caller such as ragas requires: the JSON cannot be malformed.
        """
        import xgrammar as xgr
        from transformers import LogitsProcessorList

        model, tok = self.load()
        if self._compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=model.config.vocab_size)
            self._compiler = xgr.GrammarCompiler(info)
        kind = response_format.get("type")
        if kind == "json_schema":
            schema = response_format["json_schema"].get("schema", {})
            compiled = self._compiler.compile_json_schema(json.dumps(schema))
        elif kind == "json_object":
            compiled = self._compiler.compile_builtin_json_grammar()
        else:
            raise ProviderError(f"unsupported response_format type {kind!r}")
        return LogitsProcessorList([xgr.contrib.hf.LogitsProcessor(compiled)])

    def label_logprobs(
        self, conversations: list[list[dict[str, str]]], labels: list[str], batch_size: int = 16
    ) -> list[dict[str, float]]:
        """Log-probability of each label as the assistant's whole reply, per conversation.

        Scoring every allowed label (instead of sampling text and parsing it) makes the answer
        one of the labels by construction.
        """
        import torch

        model, tok = self.load()
        label_ids = [tok(label, add_special_tokens=False).input_ids for label in labels]
        prompts = [
            tok(tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False),
                add_special_tokens=False).input_ids
            for c in conversations
        ]  # fmt: skip
        if all(len(ids) == 1 for ids in label_ids):
            # Single-token labels: one forward pass per conversation scores every label at once.
            pairs = [(p, 0) for p in prompts]
            columns = [ids[0] for ids in label_ids]
        else:
            pairs = [(p + ids, len(ids)) for p in prompts for ids in label_ids]
            columns = None
        keep = max(len(ids) for ids in label_ids) + 1
        scores: list[float] = []
        with self._lock, torch.inference_mode():
            torch.set_num_threads(cpu.free_cores())
            for start in range(0, len(pairs), batch_size):
                chunk = pairs[start : start + batch_size]
                width = max(len(seq) for seq, _ in chunk)
                ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, (seq, _) in enumerate(chunk):  # left padding: every row ends together
                    ids[row, width - len(seq) :] = torch.tensor(seq)
                    mask[row, width - len(seq) :] = 1
                out = model(
                    input_ids=ids.to(model.device),
                    attention_mask=mask.to(model.device),
                    logits_to_keep=keep,
                )
                logprobs = torch.log_softmax(out.logits.float(), dim=-1)
                for row, (seq, n) in enumerate(chunk):
                    if columns is not None:
                        scores += [float(logprobs[row, -1, c]) for c in columns]
                        continue
                    # logits at position i predict token i+1; the kept window ends at the last token
                    scores.append(
                        sum(
                            float(logprobs[row, keep - 1 - n + j, seq[len(seq) - n + j]])
                            for j in range(n)
                        )
                    )
        per_label = len(labels)
        return [
            dict(zip(labels, scores[i * per_label : (i + 1) * per_label], strict=True))
            for i in range(len(conversations))
        ]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` / `Retry-After` (seconds or HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # neither seconds nor an HTTP date: back off as usual
        return None
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class OpenAIProvider(Provider):
    """Any OpenAI-compatible chat completions endpoint, through the `openai` SDK (async)."""

    def __init__(self, spec: ModelSpec, stream: bool = True):
        super().__init__(spec)
        self.stream = stream
        self.base_url = spec.resolved_base_url()
        if not self.base_url:
            raise ProviderError(f"model {spec.id!r}: set {spec.base_url_env} to the server's URL")
        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env and not key and not spec.api_key_optional:
            raise ProviderError(f"model {spec.id!r}: set {spec.api_key_env} (environment or .env)")
        self._api_key = key or "not-needed"
        self._clients: dict[int, Any] = {}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "base_url": self.base_url}

    def _client(self):
        # One AsyncOpenAI per event loop: its connection pool is bound to the loop.
        import openai

        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._clients:
            self._clients[loop_id] = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._api_key, max_retries=0
            )
        return self._clients[loop_id]

    async def generate_batch(self, requests: list[Request], timeout: float) -> list[Response]:
        return [await self._one(r, timeout) for r in requests]

    async def _one(self, req: Request, timeout: float) -> Response:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.spec.model,
            "messages": req.messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": req.seed,
            "timeout": timeout,
        }
        stop = [*self.spec.stop, *req.stop]
        if stop:
            kwargs["stop"] = stop
        if req.response_format:
            kwargs["response_format"] = req.response_format
        started = time.perf_counter()
        try:
            if self.stream:
                return await self._streamed(kwargs, started)
            completion = await self._client().chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            status = exc.status_code
            body = str(exc.message)[:300]
            raise ProviderError(
                f"HTTP {status} from {self.base_url}: {body}",
                retryable=status in (408, 409, 429) or status >= 500,
                retry_after=_retry_after(exc.response.headers),
                status=status,
            ) from None
        except openai.APITimeoutError:
            raise ProviderError(
                f"no answer from {self.base_url} within {timeout}s", retryable=True
            ) from None
        except openai.APIConnectionError as exc:
            raise ProviderError(
                f"cannot connect to {self.base_url}: {exc.__cause__ or exc}", retryable=True
            ) from None
        latency = time.perf_counter() - started
        choice = completion.choices[0]
        usage = completion.usage
        return self._response(
            choice.message.content or "", choice.finish_reason, usage, latency, None
        )

    async def _streamed(self, kwargs: dict[str, Any], started: float) -> Response:
        stream = await self._client().chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        ttft = finish = usage = None
        async for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    parts.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
        latency = time.perf_counter() - started
        return self._response("".join(parts), finish, usage, latency, ttft)

    def _response(self, text, finish, usage, latency, ttft) -> Response:
        prompt_tokens = usage.prompt_tokens if usage else None
        completion_tokens = usage.completion_tokens if usage else None
        return Response(
            text=text.strip(),
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            ttft_s=ttft,
            cost_usd=self.spec.cost(prompt_tokens, completion_tokens),
        )


_PROVIDERS: dict[str, Provider] = {}
_PROVIDERS_LOCK = threading.Lock()


def _new_provider(spec: ModelSpec) -> Provider:
    if spec.provider == "transformers":
        return TransformersProvider(spec)
    if spec.provider == "openai":
        return OpenAIProvider(spec)
    raise ProviderError(f"model {spec.id!r} ({spec.provider}) does not generate text")


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
    errors: int = 0
    retries: int = 0


def _backoff(attempt: int, base: float, cap: float) -> float:
    return min(cap, base * 2**attempt) * (0.5 + random.random() / 2)


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
) -> list[Response]:
    """Async form of `generate_many`."""
    provider = get_provider(model)
    spec = provider.spec
    store = (
        default_cache() if cache is True else (cache if isinstance(cache, ResponseCache) else None)
    )
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
    for i, key in enumerate(keys):
        hit = store.get(key) if store is not None else None
        if hit is not None:
            results[i] = Response(**{**hit, "cached": True, "metadata": requests[i].metadata})
            stats.hits += 1
        else:
            todo.append(i)
    bar.update(stats.hits)

    # Group misses into batches of compatible requests, shortest prompts together.
    size = batch_size or provider.max_batch
    groups: dict[tuple, list[int]] = {}
    for i in todo:
        groups.setdefault(provider.batch_key(requests[i]), []).append(i)
    units: list[list[int]] = []
    for members in groups.values():
        members.sort(key=lambda i: sum(len(m["content"]) for m in requests[i].messages))
        units += [members[j : j + size] for j in range(0, len(members), size)]

    sem = asyncio.Semaphore(max(1, min(concurrency, provider.max_concurrency or concurrency)))

    async def run_unit(unit: list[int]) -> None:
        batch = [requests[i] for i in unit]
        attempt = 0
        async with sem:
            while True:
                attempt += 1
                try:
                    # A remote call gets a safety net over the SDK's own timeout (a stream that
                    # trickles can outlast per-read timeouts); asyncio.timeout adds no task per
                    # call. In-process generation runs to the end: a computed batch is kept.
                    async with asyncio.timeout(timeout + 5 if provider.remote else None):
                        out = await provider.generate_batch(batch, timeout)
                    break
                except (TimeoutError, ProviderError) as exc:
                    if isinstance(exc, asyncio.TimeoutError):
                        exc = ProviderError(f"no answer within {timeout}s", retryable=True)
                    if not exc.retryable or attempt > max_retries:
                        message = config.redact(f"{spec.id}: {exc} (after {attempt} attempt(s))")
                        out = [Response(error=message) for _ in batch]
                        break
                    stats.retries += 1
                    delay = exc.retry_after if exc.retry_after is not None else None
                    if delay is None:
                        delay = _backoff(attempt - 1, backoff_base, backoff_cap)
                    await asyncio.sleep(min(delay, backoff_cap))
                except Exception as exc:  # an unexpected failure must not lose other results
                    message = config.redact(f"{spec.id}: {type(exc).__name__}: {exc}")
                    out = [Response(error=message) for _ in batch]
                    break
        for i, resp in zip(unit, out, strict=True):
            resp.attempts, resp.model, resp.metadata = attempt, spec.id, requests[i].metadata
            results[i] = resp
            if resp.ok:
                stats.misses += 1
                if store is not None:
                    record = {k: v for k, v in resp.to_dict().items() if k != "metadata"}
                    store.put(keys[i], {**identity, **requests[i].params()}, record)
            else:
                stats.errors += 1
            bar.update(1)

    try:
        await asyncio.gather(*(run_unit(u) for u in units))
    finally:
        bar.close()
        done = [r for r in results if r is not None]
        tracking.current().record_calls(spec, done, hits=stats.hits, misses=stats.misses)
    return results  # type: ignore[return-value]


def _run_coroutine(coro):
    """Run `coro` to completion, also from inside Jupyter's already-running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def generate_many(
    model: str | ModelSpec | Provider, requests: Sequence[Request], **kwargs: Any
) -> list[Response]:
    """Run `requests` against `model`; one `Response` per request, in order.

    Failures never raise: a response carries `error` instead, so results already
    computed are kept. Keyword arguments: concurrency, timeout, max_retries,
    backoff_base, backoff_cap, cache (True, False or a ResponseCache), progress,
    batch_size.
    """
    return _run_coroutine(agenerate_many(model, requests, **kwargs))


def label_logprobs(
    model: str | ModelSpec | Provider,
    conversations: list[list[dict[str, str]]],
    labels: list[str],
    cache: ResponseCache | None | bool = True,
) -> list[dict[str, float]]:
    """Score each allowed label as the reply to each conversation (local models only), cached."""
    provider = get_provider(model)
    if not isinstance(provider, TransformersProvider):
        raise ProviderError(
            f"{provider.spec.id}: label scoring needs an in-process model; HTTP models "
            "answer with JSON output instead"
        )
    store = (
        default_cache() if cache is True else (cache if isinstance(cache, ResponseCache) else None)
    )
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
    tracking.current().record_labels(provider.spec, hits=len(keys) - len(todo), misses=len(todo))
    return results  # type: ignore[return-value]


def generate(model: str | ModelSpec | Provider, request: Request, **kwargs: Any) -> Response:
    """One call; see `generate_many`."""
    return generate_many(model, [request], progress=False, **kwargs)[0]
