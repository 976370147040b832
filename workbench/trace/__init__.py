"""Tracing of an application's work (OpenTelemetry spans, GenAI semantic conventions) into a
local SQLite trace store, OTLP JSON import and export, and user feedback attached to traces.

- `tracer`: `enable` / `disable`, `span` (a block), `record` (finished work), `start` / `use` /
  `end` and `traceparent` (one root per request of a batch), `call_tool` (an `execute_tool`
  span), the exporter.
- `store`: `TraceStore`, spans and feedback in SQLite (WAL; several writers; kill-safe).
- `otlp`: OTLP JSON files in and out, so other OpenTelemetry applications can be analysed.
"""

from .otlp import export_otlp, import_otlp
from .store import TraceStore, default_path
from .tracer import (
    attributes,
    call_tool,
    current_trace_id,
    disable,
    enable,
    enabled,
    end,
    record,
    set_attributes,
    span,
    start,
    store,
    traceparent,
    use,
)

__all__ = [
    "TraceStore",
    "attributes",
    "call_tool",
    "current_trace_id",
    "default_path",
    "disable",
    "enable",
    "enabled",
    "end",
    "export_otlp",
    "import_otlp",
    "record",
    "set_attributes",
    "span",
    "start",
    "store",
    "traceparent",
    "use",
]
