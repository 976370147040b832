"""Human labels: one JSON line per decision, appended as it is made, so nothing is lost if the
kernel dies, and a reviewer who comes back resumes where they stopped.

Each line holds the label file's format version, the set's fingerprint, the item's id and
fingerprint, the reviewer, when, how long the decision took, the label and its details (a
reason, an edited text, which answer was shown first). Lines are appended under an exclusive
lock with one write each, so two reviewers writing the same file never interleave or lose a
line. A file that belongs to another set (its set fingerprint differs) is refused, by name.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import DataError, ParameterError

FORMAT = 1
KINDS = ("rubric", "pairwise", "decision")
DECISIONS = ("accept", "reject", "edit")
PICKS = ("X", "Y", "tie")


def fingerprint(item: dict[str, Any]) -> str:
    """A short hash of an item's content (its id included), so a changed item is a new item."""
    text = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def set_fingerprint(items: Sequence[dict[str, Any]]) -> str:
    return hashlib.sha256("".join(sorted(fingerprint(i) for i in items)).encode()).hexdigest()[:16]


@dataclass
class Label:
    item_id: str
    label: Any
    reviewer: str
    seconds: float | None = None
    reason: str = ""
    edited: str | None = None
    shown_first: str | None = None  # pairwise: which answer ("X" or "Y") was shown as A
    at: str | None = None  # when the decision was made (default: now)


class LabelStore:
    """The labels of one reviewed set, in an append-only JSONL file."""

    def __init__(self, path: str | Path, items: Sequence[dict[str, Any]], kind: str):
        if kind not in KINDS:
            raise ParameterError(f"unknown label kind {kind!r}; known: {', '.join(KINDS)}")
        if not items:
            raise ParameterError("nothing to review: the set is empty")
        ids = [str(i.get("id", "")) for i in items]
        if "" in ids or len(set(ids)) != len(ids):
            raise ParameterError("every item to review needs a unique, non-empty 'id'")
        self.path = Path(path)
        self.kind = kind
        self.items = list(items)
        self.fingerprints = {str(i["id"]): fingerprint(i) for i in items}
        self.set_id = set_fingerprint(items)
        self._check_file()

    def _check_file(self) -> None:
        for n, row in enumerate(self._lines(), 1):
            if row.get("set") != self.set_id:
                raise DataError(
                    f"{self.path}:{n}: these labels belong to another set (set {row.get('set')}, "
                    f"this set is {self.set_id}): its items differ; choose another labels file"
                )

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        rows = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{self.path}:{n}: not JSON ({exc.msg})") from None
        return rows

    def labels(self, reviewer: str | None = None) -> list[dict[str, Any]]:
        """Every label line (of one reviewer), oldest first; a later line on an item wins."""
        rows = self._lines()
        return [r for r in rows if reviewer is None or r["reviewer"] == reviewer]

    def latest(self, reviewer: str | None = None) -> dict[str, dict[str, Any]]:
        """The last label per item id."""
        return {r["item_id"]: r for r in self.labels(reviewer)}

    def next_index(self, reviewer: str) -> int:
        """The first item this reviewer has not labelled (len(items) when all are done)."""
        done = self.latest(reviewer)
        for n, item in enumerate(self.items):
            if str(item["id"]) not in done:
                return n
        return len(self.items)

    def add(self, label: Label) -> dict[str, Any]:
        """Check and append one decision (one locked write, flushed to disk)."""
        if label.item_id not in self.fingerprints:
            raise ParameterError(f"no item {label.item_id!r} in this set")
        self._check_label(label)
        row = {
            "format": FORMAT,
            "set": self.set_id,
            "kind": self.kind,
            "item_id": label.item_id,
            "item": self.fingerprints[label.item_id],
            "reviewer": label.reviewer,
            "at": label.at or datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": None if label.seconds is None else round(label.seconds, 2),
            "label": label.label,
            "reason": label.reason,
            "edited": label.edited,
            "shown_first": label.shown_first,
        }
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return row

    def _check_label(self, label: Label) -> None:
        value = label.label
        if self.kind == "rubric" and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ParameterError(f"a rubric label is a whole number, got {value!r}")
        if self.kind == "pairwise" and value not in PICKS:
            raise ParameterError(f"a preference is X, Y or tie, got {value!r}")
        if self.kind == "decision":
            if value not in DECISIONS:
                raise ParameterError(f"a decision is accept, reject or edit, got {value!r}")
            if value == "edit" and not (label.edited or "").strip():
                raise ParameterError("an edit needs the edited text")


def reviewer_name() -> str:
    """Who is reviewing: $WORKBENCH_REVIEWER, else the login name."""
    return os.environ.get("WORKBENCH_REVIEWER") or getpass.getuser()


class Clock:
    """Seconds since the current item was shown."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def lap(self) -> float:
        now = time.monotonic()
        took, self.started = now - self.started, now
        return took
