"""One client interface over model providers, and `generate_many`.

Providers are registered by name (`workbench.registry.provider`): in-process `transformers`
(batched `generate`, left padding, chat template, constrained JSON decoding, label
log-probabilities) and any OpenAI-compatible HTTP server through the `openai` SDK. Each
declares its capabilities (`Provider.supports`). `generate_many` adds bounded concurrency,
per-request timeouts for HTTP calls, retries (tenacity: exponential backoff with jitter that
honours `Retry-After`; each retry logged and counted in the run record), a progress bar, the
persistent response cache, and usage/cost accounting into the current run record.

Private modules: `_types` (requests, responses, the provider base), `_generate` (the loop and
the sync bridge), `_retry` (the retry policy), `_transformers` and `_openai` (the providers).
"""

from ..errors import ProviderError
from ._generate import agenerate_many, generate, generate_many, get_provider, label_logprobs
from ._openai import OpenAIProvider, _retry_after  # noqa: F401  (_retry_after: tests)
from ._transformers import TransformersProvider
from ._types import Provider, Request, Response

__all__ = [
    "Request",
    "Response",
    "ProviderError",
    "Provider",
    "TransformersProvider",
    "OpenAIProvider",
    "get_provider",
    "generate",
    "generate_many",
    "agenerate_many",
    "label_logprobs",
]
