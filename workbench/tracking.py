"""Run records: what a notebook run used and measured.

Inside a `workbench run`, the CLI points `WORKBENCH_RUN_DIR` at the run folder being
written; the notebook's kernel then appends to `tracking.json` there as it goes (so a
failed run still records what it did), and the CLI folds it into `run.json`. In an
interactive session the record just lives in memory (`workbench.current_run()`).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import config
from .errors import WorkbenchError
from .io import sha256_file, write_json_atomic

__all__ = ["RunTracker", "current", "sha256_file", "write_json_atomic"]

TRACKING_FILE = "tracking.json"
# run.json lists failed calls one by one up to this many (the count is always complete).
MAX_LISTED_FAILURES = 200
# Request labels that identify a failed call in the list (whichever the workflow set).
FAILURE_LABELS = ("task", "case_id", "variant", "config", "attack_id", "guards", "kind", "purpose")


def _empty() -> dict[str, Any]:
    return {
        "models": {},
        "datasets": {},
        "prompts": {},
        "metrics": {},
        "cache": {"hits": 0, "misses": 0, "embedding_hits": 0, "embedding_misses": 0},
        "judges": {},
        "usage": {
            "calls": 0,
            "errors": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
        },
    }


class RunTracker:
    """Accumulates a run's models, datasets, prompts, metrics, cache and usage figures."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.data = _empty()
        if folder and (folder / TRACKING_FILE).exists():
            self.data.update(json.loads((folder / TRACKING_FILE).read_text()))

    def _flush(self) -> None:
        if self.folder:
            write_json_atomic(self.folder / TRACKING_FILE, self.data)

    def log_model(self, model_id: str, fingerprint: str = "", **info: Any) -> None:
        entry = self.data["models"].setdefault(model_id, {})
        entry.update({"weights_sha256": fingerprint, **info} if fingerprint else info)
        self._flush()

    def log_dataset(self, path: str | Path, fingerprint: str | None = None) -> str:
        """Record a dataset file by path (relative to the project) and sha256."""
        p = Path(path)
        fingerprint = fingerprint or sha256_file(p)
        key = str(p)
        # Files the run wrote itself are named relative to the run folder (its staging name
        # changes when the run is published); project files relative to the project.
        for base, prefix in ((self.folder, "<run>/"), (config.PROJECT_ROOT, "")):
            try:
                key = prefix + str(p.resolve().relative_to(Path(base).resolve()))
                break
            except (ValueError, TypeError):
                continue
        self.data["datasets"][key] = fingerprint
        self._flush()
        return fingerprint

    def log_prompt(self, name: str, version: str) -> None:
        self.data["prompts"][name] = version
        self._flush()

    def log_metric(self, name: str, value: Any) -> None:
        self.data["metrics"][name] = value
        self._flush()

    def warn(self, message: str) -> None:
        """A caveat about this run's numbers, shown in the report header and on the index."""
        warnings = self.data.setdefault("warnings", [])
        if message not in warnings:
            warnings.append(message)
            self._flush()

    def log_judge_check(self, name: str, check: dict[str, Any]) -> None:
        """A judge's discrimination check (see `judge.check_discrimination`)."""
        self.data.setdefault("judge_checks", {})[name] = check
        self._flush()

    def set_error_budget(self, max_error_rate: float) -> None:
        """The share of failed model calls this run tolerates (0 = any failure fails the run)."""
        if not 0.0 <= float(max_error_rate) <= 1.0:
            raise WorkbenchError(f"max_error_rate must be between 0 and 1, got {max_error_rate!r}")
        self.data["max_error_rate"] = float(max_error_rate)
        self._flush()

    def log_section(self, name: str, value: Any) -> None:
        """A named block of the run record (e.g. `adapter`, `training`), replaced as a whole."""
        self.data[name] = value
        self._flush()

    def log_metrics(self, metrics: dict[str, Any]) -> None:
        self.data["metrics"].update(metrics)
        self._flush()

    def record_embeddings(self, model_id: str, hits: int, misses: int, fingerprint: str) -> None:
        """Fold one embedding call into the cache totals (`fingerprint`: the weights' sha256)."""
        self.data["models"].setdefault(model_id, {"weights_sha256": fingerprint})
        cache = self.data["cache"]
        cache["embedding_hits"] = cache.get("embedding_hits", 0) + hits
        cache["embedding_misses"] = cache.get("embedding_misses", 0) + misses
        self._flush()

    def record_judge(self, name: str, counts: dict[str, int]) -> None:
        """Add a judge's judged / parse_failures / errors counts to the run record."""
        self._add_counts(self.data.setdefault("judges", {}).setdefault(name, {}), counts)

    def record_guards(self, **counts: int) -> None:
        """Add guarded-call counts (checked, blocked_input, blocked_output, redacted) to the run record."""
        self._add_counts(self.data.setdefault("guards", {}), counts)

    def _add_counts(self, entry: dict[str, int], counts: dict[str, int]) -> None:
        for key, value in counts.items():
            entry[key] = entry.get(key, 0) + value
        self._flush()

    def record_labels(self, spec, hits: int, misses: int, fingerprint: str = "") -> None:
        """Fold one constrained label-scoring call into the cache totals."""
        self._note_model(spec, fingerprint)
        self.data["cache"]["hits"] += hits
        self.data["cache"]["misses"] += misses
        self._flush()

    def _note_model(self, spec, fingerprint: str) -> None:
        if spec.id not in self.data["models"]:
            self.data["models"][spec.id] = {
                "provider": spec.provider,
                "model": spec.model,
                "weights_sha256": fingerprint,
            }
            if getattr(spec, "adapter", None):
                self.data["models"][spec.id].update(
                    adapter=spec.adapter, adapter_sha256=spec.adapter_sha256
                )

    def record_retry(self, model_id: str, reason: str) -> None:
        """Count one retried model call and its reason (`retries` in the run record)."""
        retries = self.data.setdefault("retries", {"total": 0, "by_reason": {}})
        retries["total"] += 1
        key = f"{model_id}: {reason}"
        retries["by_reason"][key] = retries["by_reason"].get(key, 0) + 1
        self._flush()

    def record_calls(self, spec, responses, hits: int, misses: int, fingerprint: str = "") -> None:
        """Fold one `generate_many` call into the cache and usage totals (`fingerprint`: the
        local weights' sha256, empty for a remote model)."""
        self._note_model(spec, fingerprint)
        self.data["cache"]["hits"] += hits
        self.data["cache"]["misses"] += misses
        usage = self.data["usage"]
        failures = self.data.setdefault("failures", [])
        for r in responses:
            usage["calls"] += 1
            if r.error:
                usage["errors"] += 1
                if len(failures) < MAX_LISTED_FAILURES:
                    labels = {k: r.metadata[k] for k in FAILURE_LABELS if k in (r.metadata or {})}
                    failures.append({"model": spec.id, **labels, "error": r.error})
            elif not r.cached:  # usage is what this run spent; cached answers cost nothing
                usage["prompt_tokens"] += r.prompt_tokens or 0
                usage["completion_tokens"] += r.completion_tokens or 0
                usage["cost_usd"] = round(usage["cost_usd"] + (r.cost_usd or 0.0), 8)
        self._flush()


def error_budget(record: dict[str, Any]) -> dict[str, Any]:
    """Failed calls against the run's budget: counts, rate and whether the budget is exceeded.

    Without a declared budget the default is 0: a run whose calls failed is not whole.
    """
    usage = record.get("usage") or {}
    calls, errors = int(usage.get("calls", 0)), int(usage.get("errors", 0))
    budget = float(record.get("max_error_rate", 0.0))
    rate = errors / calls if calls else 0.0
    return {
        "calls": calls,
        "errors": errors,
        "error_rate": rate,
        "max_error_rate": budget,
        "exceeded": errors > 0 and rate > budget,
    }


def budget_message(budget: dict[str, Any]) -> str:
    """One line for a run whose failed calls exceed its budget."""
    return (
        f"{budget['errors']} of {budget['calls']} model calls failed "
        f"(error rate {budget['error_rate']:.1%} > max_error_rate {budget['max_error_rate']:.1%})"
    )


_current: RunTracker | None = None


def current() -> RunTracker:
    """The tracker of the run this process belongs to."""
    global _current
    folder = os.environ.get("WORKBENCH_RUN_DIR")
    wanted = Path(folder) if folder else None
    if _current is None or _current.folder != wanted:
        _current = RunTracker(wanted)
    return _current


def git_state(root: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the project's git checkout (None when not a checkout)."""
    root = root or config.PROJECT_ROOT

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str]:
    """Every installed distribution and its version (the environment, reproducibly)."""
    versions = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions[name.lower()] = dist.version
    return dict(sorted(versions.items()))


def run_header(
    run_id: str, name: str, parameters: dict[str, Any], started: float, finished: float
) -> dict[str, Any]:
    """The fields every run record opens with, for runs that a command (not a notebook) makes."""
    from datetime import UTC, datetime

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")

    return {
        "run_id": run_id,
        "notebook": name,
        "parameters": parameters,
        "started_at": iso(started),
        "finished_at": iso(finished),
        "duration_s": round(finished - started, 2),
        "git": git_state(),
        **environment(),
    }


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
    }
