"""Tracing on and off, spans following the OpenTelemetry GenAI semantic conventions, and the
exporter that writes them into the trace store.

Off (the default) every helper returns after one check of a module global: instrumented code
pays nothing measurable. On, an OpenTelemetry `TracerProvider` of our own (the process's global
provider is left alone) sends each ended span through a `SimpleSpanProcessor` to
`StoreExporter`, which commits it before returning: a killed process loses nothing it ended.
Every string attribute passes through the run records' secret scrubbing.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from .. import config
from .store import TraceStore

SERVICE = "workbench"
MAX_TEXT = 8000  # characters kept of one captured input or output
SECRETS_TTL_S = 0.5
_tracer = None
_provider = None
_store: TraceStore | None = None
_secrets: tuple[float, int, list[str]] = (float("-inf"), 0, [])


def _scrub(text: str) -> str:
    # Reading the environment for secret values costs more than a cached model call, so the
    # list is re-read when a variable is added or removed, at least every SECRETS_TTL_S seconds,
    # and whenever tracing is enabled.
    global _secrets
    now, size = time.monotonic(), len(os.environ)
    if now - _secrets[0] > SECRETS_TTL_S or size != _secrets[1]:
        _secrets = (now, size, config.secret_values())
    for value in _secrets[2]:
        text = text.replace(value, "***")
    return text


def _clean(value: Any) -> Any:
    """An attribute value OpenTelemetry accepts, secrets redacted, long text cut."""
    if isinstance(value, str):
        text = _scrub(value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str | bool | int | float) for v in value):
        return [_clean(v) for v in value]
    return _clean(json.dumps(value, ensure_ascii=False, default=str))


def attributes(**values: Any) -> dict[str, Any]:
    """Span attributes from keyword arguments: `__` in a name becomes `.`, None is dropped."""
    return {k.replace("__", "."): _clean(v) for k, v in values.items() if v is not None}


class StoreExporter:
    """An OpenTelemetry span exporter into a `TraceStore`."""

    def __init__(self, store: TraceStore):
        self.store = store

    def export(self, spans) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.store.write([to_dict(s) for s in spans])
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def to_dict(span) -> dict[str, Any]:
    """An OpenTelemetry `ReadableSpan` as the store's row."""
    ctx, parent = span.get_span_context(), span.parent
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_id": f"{parent.span_id:016x}" if parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "start_ns": int(span.start_time),
        "end_ns": int(span.end_time),
        "status": span.status.status_code.name,
        "status_message": span.status.description,
        "attributes": dict(span.attributes or {}),
        "events": [
            {"name": e.name, "time_ns": e.timestamp, "attributes": dict(e.attributes or {})}
            for e in span.events
        ],
        "resource": dict(span.resource.attributes),
    }


def enable(path: str | None = None, service: str = SERVICE) -> TraceStore:
    """Turn tracing on in this process, into the store at `path` (default: the project's)."""
    global _tracer, _provider, _store
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    global _secrets
    disable()
    _secrets = (float("-inf"), 0, [])
    _store = TraceStore(path)
    _provider = TracerProvider(resource=Resource.create({"service.name": service}))
    _provider.add_span_processor(SimpleSpanProcessor(StoreExporter(_store)))
    _tracer = _provider.get_tracer("workbench")
    return _store


def disable() -> None:
    """Turn tracing off (spans already ended are in the store)."""
    global _tracer, _provider, _store
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = _store = None


def enabled() -> bool:
    return _tracer is not None


def store() -> TraceStore | None:
    """The store spans go to, while tracing is on."""
    return _store


def _kind(name: str):
    from opentelemetry.trace import SpanKind

    return getattr(SpanKind, name.upper())


def _parent(traceparent: str | None):
    """An OpenTelemetry context from a W3C `traceparent` value (None: the current span)."""
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


@contextlib.contextmanager
def span(
    name: str, kind: str = "internal", parent: str | None = None, **attrs: Any
) -> Iterator[Any]:
    """A span around a block, under `parent` (a W3C traceparent, e.g. a client's header) or
    else the current span; None when tracing is off."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(
        name, context=_parent(parent), kind=_kind(kind), attributes=attributes(**attrs)
    ) as s:
        yield s


def start(name: str, kind: str = "internal", parent: str | None = None, **attrs: Any) -> Any:
    """A span started now under `parent` (a W3C traceparent) or else the current span, not made
    current, ended by `end`: for work on several requests at once (one root each). None when
    tracing is off."""
    if _tracer is None:
        return None
    return _tracer.start_span(
        name, context=_parent(parent), kind=_kind(kind), attributes=attributes(**attrs)
    )


@contextlib.contextmanager
def use(target) -> Iterator[None]:
    """Make a span from `start` the current one within a block (it stays open)."""
    if target is None:
        yield
        return
    from opentelemetry import trace as otel

    with otel.use_span(target, end_on_exit=False):
        yield


def end(target, error: str | None = None, **attrs: Any) -> str | None:
    """End a span from `start` with `attrs` added (it is written to the store then), failed
    when `error` is set; its trace id, or None when tracing is off."""
    if target is None:
        return None
    target.set_attributes(attributes(**attrs))
    trace_id = f"{target.get_span_context().trace_id:032x}"
    if error:
        from opentelemetry.trace import Status, StatusCode

        target.set_attribute("error.type", "workbench.call_failed")
        target.set_status(Status(StatusCode.ERROR, config.redact(error)))
    target.end()
    return trace_id


def traceparent(target=None) -> str | None:
    """The W3C `traceparent` of a span (default: the current one), for work done elsewhere
    (a batch, another thread) to record its spans under it; None when there is none."""
    if _tracer is None:
        return None
    from opentelemetry import trace as otel

    ctx = (target or otel.get_current_span()).get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01" if ctx.is_valid else None


def set_attributes(target, **attrs: Any) -> None:
    """Add attributes to a span from `span()` (nothing when tracing is off)."""
    if target is not None:
        target.set_attributes(attributes(**attrs))


def record(
    name: str,
    seconds: float | None,
    *,
    kind: str = "client",
    error: str | None = None,
    parent: str | None = None,
    **attrs: Any,
) -> None:
    """A span for work that has just finished and took `seconds`, under `parent` (a W3C
    traceparent) or else the current span."""
    if _tracer is None:
        return
    from opentelemetry.trace import Status, StatusCode

    end = time.time_ns()
    start = end - int((seconds or 0.0) * 1e9)
    s = _tracer.start_span(
        name,
        context=_parent(parent),
        kind=_kind(kind),
        start_time=start,
        attributes=attributes(**attrs),
    )
    if error:
        s.set_attribute("error.type", "workbench.call_failed")
        s.set_status(Status(StatusCode.ERROR, config.redact(error)))
    s.end(end_time=end)


def current_trace_id() -> str | None:
    """The trace id of the current span (hex), or None."""
    if _tracer is None:
        return None
    from opentelemetry import trace as otel

    ctx = otel.get_current_span().get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else None


def call_tool(fn, name: str, arguments: dict[str, Any], call_id: str | None = None) -> Any:
    """Run tool `fn(**arguments)`; with tracing on, inside an `execute_tool <name>` span (GenAI
    conventions: tool name, call id, arguments and result, secrets scrubbed). An exception is
    recorded on the span and raised again."""
    if _tracer is None:
        return fn(**arguments)
    from opentelemetry.trace import Status, StatusCode

    with _tracer.start_as_current_span(
        f"execute_tool {name}",
        kind=_kind("internal"),
        attributes=attributes(
            gen_ai__operation__name="execute_tool",
            gen_ai__tool__name=name,
            gen_ai__tool__call__id=call_id,
            gen_ai__tool__call__arguments=arguments,
        ),
        record_exception=False,
        set_status_on_exception=False,
    ) as s:
        try:
            result = fn(**arguments)
        except Exception as exc:
            s.set_attribute("error.type", type(exc).__name__)
            s.set_status(Status(StatusCode.ERROR, config.redact(f"{type(exc).__name__}: {exc}")))
            raise
        s.set_attributes(attributes(gen_ai__tool__call__result=result))
        return result
