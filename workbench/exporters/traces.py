"""A trace store's traces as MLflow traces: each span with its name, times, attributes and
status, under its parent; linked to the exported run and tagged with the workbench trace id,
so a re-export adds only the traces not exported before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TRACE_TAG = "workbench.trace_id"
_TYPES = {
    "chat": "CHAT_MODEL",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "retrieve": "RETRIEVER",
}


def _span_type(name: str) -> str:
    return _TYPES.get(name.split(" ", 1)[0], "UNKNOWN")


def _exported(client, exp_id: str, run_id: str) -> set[str]:
    done: set[str] = set()
    token = None
    while True:
        page = client.search_traces(
            locations=[exp_id], run_id=run_id, include_spans=False, page_token=token
        )
        done.update((t.info.tags or {}).get(TRACE_TAG, "") for t in page)
        token = page.token
        if not token:
            return done


def _plain(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attribute values MLflow stores as they are: scalars; the rest as JSON text."""
    return {
        k: v if isinstance(v, str | int | float | bool) else json.dumps(v, ensure_ascii=False)
        for k, v in attributes.items()
        if v is not None
    }


def export_store(client, path: Path, run_id: str, exp_id: str, limit: int) -> int:
    """Export up to `limit` traces (newest first) of the store at `path`; how many are new."""
    import mlflow

    from ..trace.store import TraceStore

    store = TraceStore(path)
    done = _exported(client, exp_id, run_id)
    added = 0
    for root in store.traces(limit=limit):
        if root["trace_id"] in done:
            continue
        spans = store.spans(root["trace_id"])
        live: dict[str, Any] = {}
        ordered = sorted(spans, key=lambda s: (s["parent_id"] is not None, s["start_ns"]))
        pending = list(ordered)
        while pending:  # parents before children, whatever their start times
            s = pending.pop(0)
            parent = live.get(s["parent_id"]) if s["parent_id"] else None
            if (
                s["parent_id"]
                and parent is None
                and s["parent_id"] in {p["span_id"] for p in pending}
            ):
                pending.append(s)
                continue
            attrs = _plain(s["attributes"] or {})
            # Only a root span takes the experiment, the run link and the tag.
            root_only = (
                {
                    "experiment_id": exp_id,
                    "metadata": {"mlflow.sourceRun": run_id},
                    "tags": {TRACE_TAG: root["trace_id"]},
                }
                if parent is None
                else {}
            )
            live[s["span_id"]] = mlflow.start_span_no_context(
                s["name"],
                span_type=_span_type(s["name"]),
                parent_span=parent,
                attributes=attrs,
                start_time_ns=s["start_ns"],
                **root_only,
            )
        depth: dict[str, int] = {}
        for s in ordered:  # a root has depth 0; children end before their parents
            depth[s["span_id"]] = depth.get(s["parent_id"], -1) + 1 if s["parent_id"] else 0
        for s in sorted(spans, key=lambda s: -depth.get(s["span_id"], 0)):
            live[s["span_id"]].end(
                status="ERROR" if s["status"] == "ERROR" else "OK", end_time_ns=s["end_ns"]
            )
        added += 1
    return added
