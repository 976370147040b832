"""OTLP JSON (the OpenTelemetry protocol's JSON encoding: resourceSpans > scopeSpans > spans,
hex ids, nanosecond times as strings, typed attribute values) in and out of a trace store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import read_text
from .store import TraceStore

KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
STATUSES = ["UNSET", "OK", "ERROR"]


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list | tuple):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _plain(v: dict[str, Any]) -> Any:
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [_plain(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return json.dumps({kv["key"]: _plain(kv["value"]) for kv in v["kvlistValue"]["values"]})
    return v.get("stringValue", "")


def _attrs(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in mapping.items()]


def _mapping(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {a["key"]: _plain(a.get("value", {})) for a in items or []}


def export_otlp(store: TraceStore, path: str | Path, trace_ids: list[str] | None = None) -> int:
    """Write the store's spans (or those of `trace_ids`) as one OTLP JSON file; returns the count."""
    spans = [s for s in store.spans() if trace_ids is None or s["trace_id"] in trace_ids]
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        by_resource.setdefault(json.dumps(s["resource"], sort_keys=True), []).append(s)
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs(json.loads(key))},
                "scopeSpans": [
                    {
                        "scope": {"name": "workbench"},
                        "spans": [
                            {
                                "traceId": s["trace_id"],
                                "spanId": s["span_id"],
                                "parentSpanId": s["parent_id"] or "",
                                "name": s["name"],
                                "kind": KINDS.index(s["kind"]) if s["kind"] in KINDS else 0,
                                "startTimeUnixNano": str(s["start_ns"]),
                                "endTimeUnixNano": str(s["end_ns"]),
                                "attributes": _attrs(s["attributes"]),
                                "events": [
                                    {
                                        "name": e["name"],
                                        "timeUnixNano": str(e["time_ns"]),
                                        "attributes": _attrs(e.get("attributes") or {}),
                                    }
                                    for e in s["events"]
                                ],
                                "status": {
                                    "code": STATUSES.index(s["status"])
                                    if s["status"] in STATUSES
                                    else 0,
                                    **(
                                        {"message": s["status_message"]}
                                        if s["status_message"]
                                        else {}
                                    ),
                                },
                            }
                            for s in group
                        ],
                    }
                ],
            }
            for key, group in by_resource.items()
        ]
    }
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(spans)


def import_otlp(path: str | Path, store: TraceStore) -> int:
    """Read an OTLP JSON file (one document, or one per line as the file exporter writes them)
    into the store; returns the number of spans. Errors name the file and line or span."""
    text = read_text(path, "OTLP JSON file")
    try:
        docs = [json.loads(text)]
    except ValueError:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except ValueError as exc:
                    raise DataError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    rows = []
    for doc in docs:
        if not isinstance(doc, dict) or "resourceSpans" not in doc:
            raise DataError(f"{path}: not OTLP JSON (no resourceSpans)")
        for rs in doc["resourceSpans"]:
            resource = _mapping(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    rows.append(_row(s, resource, path))
    store.write(rows)
    return len(rows)


def _row(s: dict[str, Any], resource: dict[str, Any], path) -> dict[str, Any]:
    try:
        trace_id, span_id = _hex(s["traceId"], 32), _hex(s["spanId"], 16)
        kind, status = int(s.get("kind", 0)), s.get("status") or {}
        return {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_id": _hex(s["parentSpanId"], 16) if s.get("parentSpanId") else None,
            "name": str(s["name"]),
            "kind": KINDS[kind] if 0 <= kind < len(KINDS) else "UNSPECIFIED",
            "start_ns": int(s["startTimeUnixNano"]),
            "end_ns": int(s["endTimeUnixNano"]),
            "status": STATUSES[int(status.get("code", 0))],
            "status_message": status.get("message"),
            "attributes": _mapping(s.get("attributes")),
            "events": [
                {
                    "name": e.get("name", ""),
                    "time_ns": int(e.get("timeUnixNano", 0)),
                    "attributes": _mapping(e.get("attributes")),
                }
                for e in s.get("events", [])
            ],
            "resource": resource,
        }
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise DataError(f"{path}: span {s.get('spanId', '?')!r} is malformed: {exc!r}") from None


def _hex(value: str, width: int) -> str:
    """A trace or span id: OTLP JSON writes hex; some exporters write base64 instead."""
    value = str(value)
    if len(value) == width and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    import base64

    raw = base64.b64decode(value, validate=True)
    if len(raw) * 2 != width:
        raise ValueError(f"id {value!r} is not {width // 2} bytes")
    return raw.hex()
