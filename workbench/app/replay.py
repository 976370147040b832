"""Replaying a request log through the application, in timestamp order, into the trace store;
the log's feedback is attached to the trace each request produced."""

from __future__ import annotations

import os
from typing import Any

from .. import trace
from ..errors import ParameterError
from ..progress import StepProgress
from .assistant import Assistant

MAX_REQUESTS = 5000  # a replay is bounded: a log longer than this needs an explicit limit
BATCH = 16  # requests answered together: one batched generation, one trace each


def replay(
    assistant: Assistant,
    rows: list[dict[str, Any]],
    limit: int | None = None,
    batch_size: int = BATCH,
) -> list[dict[str, Any]]:
    """Send each row's `input` through `assistant` (tracing must be on), `batch_size` requests
    at a time in timestamp order; one result per row."""
    if batch_size < 1:
        raise ParameterError(f"batch_size must be at least 1, got {batch_size}")
    store = trace.store()
    if store is None:
        raise ParameterError("replay needs tracing on (trace.enable) to fill a trace store")
    rows = sorted(rows, key=lambda r: (r.get("_time") is None, r.get("_time") or 0))
    if limit is None and len(rows) > MAX_REQUESTS:
        raise ParameterError(
            f"the log holds {len(rows)} requests; pass a limit (at most {MAX_REQUESTS} without one)"
        )
    rows = rows[:limit] if limit else rows
    bar = StepProgress(
        f"replaying through {assistant.spec.name}",
        len(rows),
        show_bar=not os.environ.get("WORKBENCH_HEADLESS"),
    )
    out = []
    try:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            answers = assistant.answer_many(
                [r["input"] for r in batch],
                [r.get("id") for r in batch],
                [r.get("timestamp") for r in batch],
            )
            for row, answer in zip(batch, answers, strict=True):
                out.append(_attach(store, row, answer))
            bar.update(len(batch))
    finally:
        bar.close()
    return out


def _attach(store: trace.TraceStore, row: dict[str, Any], answer) -> dict[str, Any]:
    """The log row's feedback onto the trace its request produced; the replay's result row."""
    feedback = row.get("feedback")
    if isinstance(feedback, dict) and answer.trace_id:
        store.add_feedback(
            answer.trace_id,
            thumbs=feedback.get("thumbs"),
            score=feedback.get("score"),
            comment=feedback.get("comment"),
        )
    return {
        "id": row.get("id"),
        "timestamp": row.get("timestamp"),
        "trace_id": answer.trace_id,
        "output": answer.text,
        "latency_s": answer.latency_s,
        "blocked": answer.blocked,
        "error": answer.error,
    }


def replay_into(
    path, rows: list[dict[str, Any]], config=None, batch_size: int = BATCH
) -> trace.TraceStore:
    """Replay `rows` through the application (file `config`) into a new trace store at `path`
    (an older store there is replaced, so it holds this replay only)."""
    from pathlib import Path

    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assistant = Assistant.load(config)
    trace.enable(path)
    try:
        replay(assistant, rows, batch_size=batch_size)
    finally:
        trace.disable()
    return trace.TraceStore(path)
