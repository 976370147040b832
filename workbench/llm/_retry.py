"""The retry policy of model calls (tenacity): which failures are tried again, how long to wait,
and a log line plus a run-record count for every retry, with its reason."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from .. import tracking
from ..errors import ProviderError

log = logging.getLogger("workbench.llm")


def reason(exc: BaseException | None) -> str:
    """A short, stable reason for a failed attempt (the key it is counted under)."""
    if isinstance(exc, ProviderError):
        if exc.status:
            return f"HTTP {exc.status}"
        text = str(exc)
        if text.startswith("no answer"):
            return "timeout"
        if text.startswith("cannot connect"):
            return "connection refused or lost"
        return text[:60]
    return type(exc).__name__ if exc else "unknown"


class _Wait:
    """The server's `Retry-After` when it sent one, otherwise exponential backoff with jitter;
    never longer than `cap` seconds."""

    def __init__(self, base: float, cap: float):
        self.base, self.cap = base, cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(float(after), self.cap)
        attempt = state.attempt_number - 1
        return min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)


def policy(
    model_id: str,
    should_retry: Callable[[BaseException], bool],
    *,
    max_retries: int,
    backoff_base: float,
    backoff_cap: float,
) -> AsyncRetrying:
    """An `AsyncRetrying` for one batch of calls to `model_id`; the last error is re-raised."""

    def note(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        why = reason(exc)
        log.info(
            "%s: attempt %d failed (%s); retrying in %.2fs",
            model_id,
            state.attempt_number,
            why,
            state.upcoming_sleep,
        )
        tracking.current().record_retry(model_id, why)

    return AsyncRetrying(
        stop=stop_after_attempt(max_retries + 1),
        wait=_Wait(backoff_base, backoff_cap),
        retry=retry_if_exception(should_retry),
        before_sleep=note,
        reraise=True,
    )
