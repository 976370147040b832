"""Persistent response cache: SQLite in WAL mode, one row per successful call.

The key covers everything that changes an answer (provider, base URL, model, weights,
messages, every generation parameter, seed, repeat index). Errors are never stored.
Each row is committed as soon as its call completes, so a run killed with `kill -9`
keeps every finished call and a re-run resumes from there.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from . import config


def cache_key(payload: dict[str, Any]) -> str:
    """Stable hash of a canonical JSON rendering of `payload`."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash; only an OS crash may lose the last commits.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(schema)
    conn.commit()
    return conn


class ResponseCache:
    """A key -> JSON-document store shared safely between threads and processes."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else config.cache_dir() / "responses.sqlite"
        self._lock = threading.Lock()
        self._conn = _connect(
            self.path,
            "CREATE TABLE IF NOT EXISTS responses ("
            " key TEXT PRIMARY KEY, created REAL NOT NULL,"
            " request TEXT NOT NULL, response TEXT NOT NULL)",
        )

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT response FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        if response.get("error"):
            raise ValueError("errors are never cached")
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses (key, created, request, response) VALUES (?, ?, ?, ?)",
                (key, time.time(), json.dumps(request), json.dumps(response)),
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM responses")
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_default: ResponseCache | None = None


def default_cache() -> ResponseCache:
    """The project's shared cache (`.cache/workbench/responses.sqlite` unless overridden)."""
    global _default
    wanted = config.cache_dir() / "responses.sqlite"
    if _default is None or _default.path != wanted:
        _default = ResponseCache(wanted)
    return _default


class EmbeddingCache:
    """Vectors keyed by (model fingerprint, text hash), so a text is embedded once per model."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else config.cache_dir() / "embeddings.sqlite"
        self._lock = threading.Lock()
        self._conn = _connect(
            self.path,
            "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)",
        )

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._conn.execute(
                        f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk
                    ).fetchall()
                )
        return found

    def put_many(self, items: dict[str, bytes]) -> None:
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)", items.items()
            )
            self._conn.commit()
