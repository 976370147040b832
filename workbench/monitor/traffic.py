"""Request logs: JSONL with at least `input` (optional `timestamp`, `output`, `latency_s`,
`feedback`), checked line by line, and cut into time windows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError
from ..io import read_text

_WINDOW = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_window(value: str) -> timedelta:
    """'30m', '6h', '1d', '1w' as a duration; anything else is a parameter error."""
    match = _WINDOW.match(str(value).strip())
    if not match or int(match.group(1)) == 0:
        raise ParameterError(
            f"window {value!r}: expected a number and a unit m, h, d or w (e.g. 1d)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _time(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise DataError(
            f"{where}: timestamp {value!r} is not ISO 8601 (e.g. 2026-11-02T08:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


TRACE_STORES = (".sqlite", ".sqlite3", ".db")


def _user_text(value: Any) -> str | None:
    """The last user turn of GenAI-convention messages (a JSON string or a list)."""
    try:
        turns = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value if isinstance(value, str) and value.strip() else None
    if not isinstance(turns, list):
        return None
    texts = [t.get("content") for t in turns if isinstance(t, dict) and t.get("role") == "user"]
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    return texts[-1] if texts else None


def _assistant_text(value: Any) -> str | None:
    try:
        turns = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value if isinstance(value, str) else None
    if not isinstance(turns, list):
        return None
    texts = [t.get("content") for t in turns if isinstance(t, dict)]
    return next((t for t in reversed(texts) if isinstance(t, str)), None)


def _exchange(root: dict[str, Any], spans: list[dict[str, Any]]) -> tuple[str | None, Any]:
    """(input, output) of a request: the workbench application's own attributes, else those of
    another OpenTelemetry application (OpenInference `input.value` / `output.value` on the
    root, or the GenAI messages of the root or of its trace's first `chat` span)."""
    a = root["attributes"]
    if "workbench.request.input" in a:
        return a["workbench.request.input"], a.get("workbench.response.output")
    if isinstance(a.get("input.value"), str):
        return a["input.value"], a.get("output.value")
    for s in [root, *(x for x in spans if x["attributes"].get("gen_ai.operation.name") == "chat")]:
        text = _user_text(s["attributes"].get("gen_ai.input.messages"))
        if text:
            return text, _assistant_text(s["attributes"].get("gen_ai.output.messages"))
    return None, None


def application_requests(store) -> list[dict[str, Any]]:
    """The requests in a trace store, oldest first: one per root span whose trace carries an
    input (see `_exchange`: this application's, or another OpenTelemetry application's), with
    its output, latency, original timestamp, status and the latest thumbs of its feedback."""
    votes: dict[str, int] = {}
    for f in store.feedback():
        if f["thumbs"] in (1, -1):
            votes[f["trace_id"]] = f["thumbs"]
    roots = list(reversed(store.traces()))
    foreign = {r["trace_id"] for r in roots if "workbench.request.input" not in r["attributes"]}
    spans: dict[str, list[dict[str, Any]]] = {}
    if foreign:  # only another application's traces need their child spans read
        for s in store.spans():
            if s["trace_id"] in foreign:
                spans.setdefault(s["trace_id"], []).append(s)
    rows = []
    for n, root in enumerate(roots, 1):
        a = root["attributes"]
        text, output = _exchange(root, spans.get(root["trace_id"], []))
        if not text:
            continue
        stamp = a.get("workbench.request.timestamp")
        moment = (
            _time(stamp, f"{store.path}: trace {root['trace_id']}")
            if stamp
            else datetime.fromtimestamp(root["start_ns"] / 1e9, UTC)
        )
        row = {
            "id": a.get("workbench.request.id") or root["trace_id"],
            "input": text,
            "output": output,
            "latency_s": root["duration_s"],
            "trace_id": root["trace_id"],
            "timestamp": moment.isoformat(),
            "_time": moment,
            "_status": root["status"],
            "_line": n,
        }
        if root["trace_id"] in votes:
            row["feedback"] = {"thumbs": votes[root["trace_id"]]}
        rows.append(row)
    return rows


def read_traces(path: str | Path) -> list[dict[str, Any]]:
    """The requests of a trace store file (see `application_requests`); none is an error."""
    from ..trace import TraceStore

    if not Path(path).is_file():
        raise DataError(f"trace store not found: {path}")
    rows = application_requests(TraceStore(path))
    if not rows:
        raise DataError(f"{path}: no application requests in this trace store")
    return rows


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """Every request of a JSONL log (or of a trace store); a line that is not a JSON object,
    lacks a non-empty `input` or has an unparseable `timestamp` is an error naming the file
    and line."""
    if Path(path).suffix.lower() in TRACE_STORES:
        return read_traces(path)
    rows = []
    for n, line in enumerate(read_text(path, "request log").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
        if not isinstance(row.get("input"), str) or not row["input"].strip():
            raise DataError(f"{where}: missing field 'input' (the request's text)")
        if "timestamp" in row:
            row["_time"] = _time(row["timestamp"], where)
        row["_line"] = n
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no requests")
    return rows


def windows(rows: list[dict[str, Any]], size: str) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """Consecutive windows of `size` from the first request, in time order; empty windows kept
    (a window with no traffic is a finding, not a gap to skip)."""
    missing = [r["_line"] for r in rows if "_time" not in r]
    if missing:
        raise DataError(f"request log has no timestamp on line(s) {missing[:5]}; windows need one")
    step = parse_window(size)
    rows = sorted(rows, key=lambda r: r["_time"])
    start, end = rows[0]["_time"], rows[-1]["_time"]
    out, i = [], 0
    while start <= end:
        members = []
        while i < len(rows) and rows[i]["_time"] < start + step:
            members.append(rows[i])
            i += 1
        out.append((start, members))
        start += step
    return out


def sample(
    windows: list[tuple[datetime, list[dict[str, Any]]]], per_window: int, seed: int = 0
) -> list[dict[str, Any]]:
    """Up to `per_window` requests of each window, chosen reproducibly by `seed`."""
    import random

    rng = random.Random(seed)
    out = []
    for _, rows in windows:
        out += rng.sample(rows, min(per_window, len(rows)))
    return out
