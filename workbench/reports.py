"""Execute a notebook with papermill into a versioned run folder, export HTML, rebuild the index.

The run folder (`workbench.runs` owns its layout) gets the executed notebook, the
self-contained `report.html` (code hidden) and `run.json`; it is staged and renamed into
place at the end, so a half-written run is never listed as complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import config, progress, runs, tracking
from .exporters import mlflow as mlflow_export
from .pages import render
from .params import (  # noqa: F401  (re-exported: the CLI and callers use reports.<name>)
    ParameterError,
    notebook_parameters,
    parse_cli_value,
    resolve_notebook,
    validate_parameters,
)
from .report_html import check_self_contained, export_html, one_line  # noqa: F401


@dataclass
class RunResult:
    path: Path
    status: str
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


# --------------------------------------------------------------------------- execution


def _parameterized(path: Path, given: dict[str, Any], kernel_name: str):
    """The notebook with its parameters injected (already validated by `validate_parameters`).

    Injected here rather than by papermill's own inspection, which misreads a help comment
    holding "=" and then warns that a parameter it applies is unknown.
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(path))
    if given:
        nb = parameterize_notebook(nb, given, kernel_name=kernel_name, language="python")
    return nb


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def run_notebook(
    notebook: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    reports_root: str | Path | None = None,
    kernel_name: str = "python3",
    cell_timeout: int | None = 1800,
    rebuild: bool = True,
    show_progress: bool = False,
    progress_stream: Any = None,
) -> RunResult:
    """Execute `notebook` with papermill and write its run folder (also when it fails).

    `show_progress` prints a status line per notebook (cell, section, the current step's
    progress) on `progress_stream` (stderr by default).
    """
    import papermill
    from traitlets.config import Config

    path = resolve_notebook(notebook)
    given = dict(parameters or {})
    effective = validate_parameters(path, given)
    root = Path(reports_root) if reports_root else config.reports_dir()
    run_id, stage = runs.stage(path.stem, root)
    started = time.time()
    status, error = "succeeded", None
    saved_env = {k: os.environ.get(k) for k in ("WORKBENCH_RUN_DIR", "WORKBENCH_HEADLESS")}
    os.environ["WORKBENCH_RUN_DIR"] = str(stage)
    os.environ["WORKBENCH_HEADLESS"] = "1"
    try:
        with tempfile.TemporaryDirectory(prefix="wb-kernel-") as sockets:
            nb = _parameterized(path, given, kernel_name)
            bar = progress.NotebookProgress(path.stem, nb.cells, stage, stream=progress_stream)
            with bar if show_progress else contextlib.nullcontext():
                papermill.execute_notebook(
                    nb,
                    str(stage / runs.NOTEBOOK),
                    kernel_name=kernel_name,
                    cwd=str(path.parent),
                    progress_bar=False,
                    execution_timeout=cell_timeout,
                    # A local kernel talks over Unix sockets (IPC): no unencrypted TCP port.
                    config=Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/k"}}),
                    on_cell_start=bar.on_cell_start if show_progress else None,
                )
    except papermill.PapermillExecutionError as exc:
        status = "failed"
        error = {
            "type": exc.ename,
            "message": config.redact(str(exc.evalue)),
            "cell": exc.exec_count,
        }
    except Exception as exc:  # kernel death, timeouts: still leave a record
        status = "failed"
        error = {"type": type(exc).__name__, "message": config.redact(str(exc))[:2000]}
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    finished = time.time()
    tracked = tracking.RunTracker(stage).data
    (stage / tracking.TRACKING_FILE).unlink(missing_ok=True)
    budget = tracking.error_budget(tracked)
    if status == "succeeded" and budget["exceeded"]:
        # The notebook finished, but its numbers stand on too few answers to be whole.
        status = "failed"
        error = {"type": "ErrorBudgetExceeded", "message": tracking.budget_message(budget)}
    record = {
        **tracking.run_header(run_id, config.project_relative(path), effective, started, finished),
        "status": status,
        **tracked,
        "error_budget": budget,
        "error": error,
        "files": {"report": runs.REPORT, "notebook": runs.NOTEBOOK},
    }
    if os.environ.get("WORKBENCH_SWEEP"):  # a point of a sweep: `workbench sweep` finds it again
        record["sweep"] = json.loads(os.environ["WORKBENCH_SWEEP"])
    executed = stage / runs.NOTEBOOK
    if executed.exists():
        executed.write_text(config.redact(executed.read_text(encoding="utf-8")), encoding="utf-8")
        export_html(executed, stage / runs.REPORT, record)
    runs.write_record(stage, record)
    final = runs.finalise(stage)
    if rebuild:
        build_index(root)
    finished_run(final)
    return RunResult(final, status, error)


def finished_run(folder: Path) -> None:
    """What follows any finished run: the opt-in MLflow export (a failure is only a warning)."""
    problem = mlflow_export.auto_export(folder)
    if problem:
        print(f"workbench: {problem}", file=sys.stderr)


# --------------------------------------------------------------------------- index


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def headline_metrics(record: dict[str, Any], limit: int = 6) -> list[tuple[str, str]]:
    metrics = record.get("metrics") or {}
    scalars = [(k, _fmt(v)) for k, v in metrics.items() if isinstance(v, int | float | str)]
    return scalars[:limit]


def _index_row(r: dict[str, Any], root: Path) -> dict[str, Any]:
    git = r.get("git") or {}
    budget = r.get("error_budget") or tracking.error_budget(r)
    usage, cache = r.get("usage") or {}, r.get("cache") or {}
    return {
        "notebook": Path(r.get("notebook", "?")).stem,
        "href": r["_dir"].relative_to(root).as_posix(),
        "run_id": r["run_id"],
        "commit": (git.get("commit") or "")[:8] + ("*" if git.get("dirty") else ""),
        "started": str(r.get("started_at", "")).replace("T", " ")[:19],
        "duration": _fmt(r.get("duration_s", 0)),
        "status": r.get("status", "?"),
        "cause": one_line(r.get("error")),
        # A warning's headline (before its first ": ") here; the whole text in the report header.
        "warnings": [{"text": w, "headline": w.split(": ", 1)[0]} for w in r.get("warnings") or []],
        "failed": budget["errors"],
        "calls": budget["calls"],
        "metrics": headline_metrics(r),
        "models": list(r.get("models") or {}),
        "hits": cache.get("hits", 0),
        "misses": cache.get("misses", 0),
        "cost": _fmt(usage.get("cost_usd", 0.0)),
    }


def _sweep_row(s: dict[str, Any], root: Path) -> dict[str, Any]:
    best = next((r for r in s.get("runs", []) if r.get("rank") == 1), None)
    value = (best or {}).get("metrics", {}).get(s.get("metric"))
    return {
        "sweep_id": s.get("sweep_id"),
        "href": f"{s['_dir'].relative_to(root).as_posix()}/{runs.SWEEP_PAGE}",
        "notebook": Path(s.get("notebook", "?")).stem,
        "swept": ", ".join(s.get("swept") or []),
        "runs": len(s.get("runs") or []),
        "failed": s.get("failed", 0),
        "metric": s.get("metric"),
        "best": _fmt(value) if value is not None else "–",
        "best_swept": (best or {}).get("swept") or {},
        "finished": str(s.get("finished_at", "")).replace("T", " ")[:19],
    }


def build_index(root: str | Path | None = None) -> Path:
    """Rebuild `reports/index.html`: every run, newest first, for stakeholders."""
    root = Path(root) if root else config.reports_dir()
    root.mkdir(parents=True, exist_ok=True)
    page = render(
        "index.html.j2",
        rows=[_index_row(r, root) for r in runs.list_runs(root)],
        sweeps=[_sweep_row(s, root) for s in runs.list_sweeps(root)],
        report=runs.REPORT,
        record=runs.RECORD,
        generated=_iso(time.time()),
    )
    index = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_text(config.redact(page), encoding="utf-8")
    os.replace(tmp, index)
    return index
