"""What flows through the LLM client: requests, responses, and the provider base class."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProviderError
from ..models import ModelSpec

__all__ = ["Provider", "ProviderError", "Request", "Response"]


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
    # W3C traceparent of the span this request's spans go under when tracing (default: the
    # current span), so a batch of requests can belong to one trace each.
    traceparent: str | None = None
    # OpenAI tool definitions (`{"type": "function", "function": {...}}`) for a provider with
    # the `tools` capability; the calls come back in `Response.tool_calls`.
    tools: list[dict[str, Any]] | None = None

    def params(self) -> dict[str, Any]:
        return (
            {
                "max_tokens": self.max_tokens,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "stop": list(self.stop),
                "seed": self.seed,
                "repeat": self.repeat,
            }
            | ({"response_format": self.response_format} if self.response_format else {})
            | ({"tools": self.tools} if self.tools else {})
        )

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
    # Tool calls of a reply to a request with `tools`: {"id", "name", "arguments"} each, the
    # arguments as the model wrote them (a JSON string, parsed by the caller).
    tool_calls: list[dict[str, Any]] | None = None
    # Arrival of each streamed text chunk, seconds after the request was sent (load tests read
    # inter-token latency from it); never cached.
    chunk_times: list[float] | None = None

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


# --------------------------------------------------------------------------- providers


class Provider:
    """Base class: a provider turns a batch of requests into responses."""

    max_batch = 1
    # In-process providers run one batch at a time; HTTP ones take the caller's concurrency.
    max_concurrency: int | None = None
    # Whether a per-request wall-clock timeout applies (remote calls) or not (in-process work).
    remote = True
    # What the provider can do beyond `generate_batch`, e.g. "local_logprobs" (label scoring),
    # "constrained_decoding" (JSON by grammar), "streaming" (time to first token). Callers ask
    # `supports`, never the class.
    capabilities: frozenset[str] = frozenset()

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def identity(self) -> dict[str, Any]:
        """Everything about the model that changes an answer (part of the cache key)."""
        return {
            "provider": self.spec.provider,
            "model": self.spec.model,
            "model_stop": list(self.spec.stop),
        }

    def supports(self, capability: str) -> bool:
        """Whether the provider declares `capability`."""
        return capability in self.capabilities

    def should_retry(self, exc: BaseException) -> bool:
        """Whether a call that raised `exc` may succeed if tried again (override per provider)."""
        return isinstance(exc, ProviderError) and exc.retryable

    async def generate_batch(self, requests: list[Request], timeout: float) -> list[Response]:
        raise NotImplementedError

    def batch_key(self, request: Request) -> tuple:
        """Requests with equal keys may share a batch."""
        fmt = json.dumps(request.response_format, sort_keys=True) if request.response_format else ""
        tools = json.dumps(request.tools, sort_keys=True) if request.tools else ""
        return (
            request.max_tokens,
            request.temperature,
            request.top_p,
            tuple(request.stop),
            fmt,
            tools,
        )
