"""The trace store: spans and user feedback in one SQLite file (WAL).

Each export is one transaction, committed before the exporter returns, so several processes may
write at once (SQLite serialises writers; readers never block) and a writer killed with
`kill -9` loses at most the span it was exporting: every committed span survives, and the file
is never left half-written.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from .. import config
from ..cache import _connect
from ..errors import DataError

SPANS = (
    "CREATE TABLE IF NOT EXISTS spans ("
    " span_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, parent_id TEXT, name TEXT NOT NULL,"
    " kind TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,"
    " status TEXT NOT NULL, status_message TEXT, attributes TEXT NOT NULL, events TEXT NOT NULL,"
    " resource TEXT NOT NULL)"
)
FEEDBACK = (
    "CREATE TABLE IF NOT EXISTS feedback ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, trace_id TEXT NOT NULL, created REAL NOT NULL,"
    " thumbs INTEGER, score REAL, comment TEXT)"
)
COLUMNS = (
    "span_id",
    "trace_id",
    "parent_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status",
    "status_message",
    "attributes",
    "events",
    "resource",
)
JSON_COLUMNS = ("attributes", "events", "resource")


def default_path() -> Path:
    """The project's trace store (`.cache/workbench/traces.sqlite`, `WORKBENCH_TRACES` overrides)."""
    import os

    return Path(os.environ.get("WORKBENCH_TRACES") or config.cache_dir() / "traces.sqlite")


class TraceStore:
    """Spans (one row each, keyed by span id) and feedback attached to traces by id."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        self._lock = threading.Lock()
        self._conn = _connect(self.path, SPANS)
        with self._lock:
            self._conn.execute(FEEDBACK)
            self._conn.execute("CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns)")
            self._conn.commit()

    def write(self, spans: list[dict[str, Any]]) -> None:
        """Insert (or replace) spans in one committed transaction."""
        rows = [
            tuple(
                json.dumps(s.get(c) or ({} if c != "events" else []), ensure_ascii=False)
                if c in JSON_COLUMNS
                else s.get(c)
                for c in COLUMNS
            )
            for s in spans
        ]
        with self._lock:
            self._conn.executemany(
                f"INSERT OR REPLACE INTO spans ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})",
                rows,
            )
            self._conn.commit()

    def _rows(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, args)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            for c in JSON_COLUMNS:
                if c in item:
                    item[c] = json.loads(item[c])
            out.append(item)
        return out

    def spans(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        """Every span (of one trace, when given), oldest first."""
        where, args = ("WHERE trace_id = ?", (trace_id,)) if trace_id else ("", ())
        return self._rows(f"SELECT * FROM spans {where} ORDER BY start_ns, span_id", args)

    def traces(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Root spans (one per trace), newest first, with their duration in seconds."""
        sql = "SELECT * FROM spans WHERE parent_id IS NULL ORDER BY start_ns DESC"
        rows = self._rows(sql + (f" LIMIT {int(limit)}" if limit else ""))
        for r in rows:
            r["duration_s"] = (r["end_ns"] - r["start_ns"]) / 1e9
        return rows

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM spans").fetchone()[0])

    def tree(self, trace_id: str) -> list[dict[str, Any]]:
        """A trace's spans as a tree: each span gets `children`; the roots are returned."""
        spans = self.spans(trace_id)
        if not spans:
            raise DataError(f"{self.path}: no trace {trace_id!r}")
        by_id = {s["span_id"]: {**s, "children": []} for s in spans}
        roots = []
        for s in by_id.values():
            parent = by_id.get(s["parent_id"]) if s["parent_id"] else None
            (parent["children"] if parent else roots).append(s)
        return roots

    def add_feedback(
        self,
        trace_id: str,
        *,
        thumbs: int | None = None,
        score: float | None = None,
        comment: str | None = None,
    ) -> None:
        """Attach a user's verdict to a trace: thumbs +1/-1, a score, a comment (any of them)."""
        if thumbs not in (None, 1, -1):
            raise DataError(
                f"feedback for trace {trace_id!r}: thumbs must be 1 or -1, got {thumbs!r}"
            )
        if thumbs is None and score is None and not comment:
            raise DataError(f"feedback for trace {trace_id!r} carries no thumbs, score or comment")
        with self._lock:
            known = self._conn.execute(
                "SELECT 1 FROM spans WHERE trace_id = ? LIMIT 1", (trace_id,)
            ).fetchone()
            if not known:
                raise DataError(f"{self.path}: no trace {trace_id!r} to attach feedback to")
            self._conn.execute(
                "INSERT INTO feedback (trace_id, created, thumbs, score, comment) VALUES (?, ?, ?, ?, ?)",
                (trace_id, time.time(), thumbs, score, config.redact(comment) if comment else None),
            )
            self._conn.commit()

    def feedback(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE trace_id = ?", (trace_id,)) if trace_id else ("", ())
        return self._rows(f"SELECT * FROM feedback {where} ORDER BY id", args)
