"""Any OpenAI-compatible chat completions endpoint, through the async `openai` SDK."""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from typing import Any

from .. import registry
from ..errors import ProviderError
from ..models import ModelSpec
from ._types import Provider, Request, Response


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


@registry.provider(
    "openai", local=False, description="any OpenAI-compatible chat completions endpoint"
)
class OpenAIProvider(Provider):
    """Any OpenAI-compatible chat completions endpoint, through the `openai` SDK (async)."""

    capabilities = frozenset({"generate", "streaming", "json_schema", "tools"})

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
        if req.tools:
            kwargs["tools"] = req.tools
        started = time.perf_counter()
        try:
            if self.stream and not req.tools:  # tool calls come whole, not streamed
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
        resp = self._response(
            choice.message.content or "", choice.finish_reason, usage, latency, None
        )
        if choice.message.tool_calls:
            resp.tool_calls = [
                {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                for c in choice.message.tool_calls
            ]
        return resp

    async def _streamed(self, kwargs: dict[str, Any], started: float) -> Response:
        stream = await self._client().chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        times: list[float] = []
        finish = usage = None
        async for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    times.append(time.perf_counter() - started)
                    parts.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
        latency = time.perf_counter() - started
        resp = self._response("".join(parts), finish, usage, latency, times[0] if times else None)
        resp.chunk_times = times
        return resp

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
