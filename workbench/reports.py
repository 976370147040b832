"""Execute a notebook with papermill into a versioned run folder, export HTML, rebuild the index.

A run folder `reports/<notebook-stem>/<run_id>/` holds `notebook.ipynb` (executed),
`report.html` (code hidden, self-contained) and `run.json`. It is assembled under a
dot-prefixed staging name and renamed into place at the end, so a half-written run is
never listed as complete.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import config, progress, tracking
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


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


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
    run_id = new_run_id()
    stage = root / path.stem / f".{run_id}.partial"
    stage.mkdir(parents=True)
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
                    str(stage / "notebook.ipynb"),
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
        "run_id": run_id,
        "notebook": config.project_relative(path),
        "parameters": effective,
        "status": status,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_s": round(finished - started, 2),
        "git": tracking.git_state(),
        **tracking.environment(),
        **tracked,
        "error_budget": budget,
        "error": error,
        "files": {"report": "report.html", "notebook": "notebook.ipynb"},
    }
    executed = stage / "notebook.ipynb"
    if executed.exists():
        executed.write_text(config.redact(executed.read_text(encoding="utf-8")), encoding="utf-8")
        export_html(executed, stage / "report.html", record)
    tracking.write_json_atomic(stage / "run.json", record)
    final = root / path.stem / run_id
    os.rename(stage, final)
    if rebuild:
        build_index(root)
    return RunResult(final, status, error)


# --------------------------------------------------------------------------- index


def list_runs(root: str | Path | None = None) -> list[dict[str, Any]]:
    """Every complete run under `root`, newest first."""
    root = Path(root) if root else config.reports_dir()
    runs = []
    for run_json in root.glob("*/*/run.json"):
        if run_json.parent.name.startswith("."):
            continue
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        record["_dir"] = run_json.parent
        runs.append(record)
    runs.sort(key=lambda r: r.get("started_at", ""), reverse=True)
    return runs


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def headline_metrics(record: dict[str, Any], limit: int = 6) -> list[tuple[str, str]]:
    metrics = record.get("metrics") or {}
    scalars = [(k, _fmt(v)) for k, v in metrics.items() if isinstance(v, int | float | str)]
    return scalars[:limit]


def build_index(root: str | Path | None = None) -> Path:
    """Rebuild `reports/index.html`: every run, newest first, for stakeholders."""
    root = Path(root) if root else config.reports_dir()
    root.mkdir(parents=True, exist_ok=True)
    e = html.escape
    runs = list_runs(root)
    rows = []
    for r in runs:
        rel = r["_dir"].relative_to(root).as_posix()
        metrics = "<br>".join(f"{e(k)}: <b>{e(v)}</b>" for k, v in headline_metrics(r))
        models = "<br>".join(e(m) for m in (r.get("models") or {}))
        git = r.get("git") or {}
        commit = (git.get("commit") or "")[:8] + ("*" if git.get("dirty") else "")
        usage = r.get("usage") or {}
        cache = r.get("cache") or {}
        status = e(r.get("status", "?"))
        cause = one_line(r.get("error"))
        notes = f"<div class='why'>{e(cause)}</div>" if cause else ""
        # A warning's headline (before its first ": ") here; the whole text in the report header.
        notes += "".join(
            f"<div class='warn' title='{e(w)}'>⚠ {e(w.split(': ', 1)[0])}</div>"
            for w in r.get("warnings") or []
        )
        budget = r.get("error_budget") or tracking.error_budget(r)
        failed = budget["errors"]
        calls_cls = "num failed" if failed else "num"
        started = e(str(r.get("started_at", "")).replace("T", " ")[:19])
        rows.append(
            "<tr>"
            f"<td>{e(Path(r.get('notebook', '?')).stem)}</td>"
            f"<td><a href='{e(rel)}/report.html'>{e(r['run_id'])}</a><br>"
            f"<a class='small' href='{e(rel)}/run.json'>run.json</a> · "
            f"<span class='small'>commit <code>{e(commit)}</code></span></td>"
            f"<td class='nowrap'>{started}<br><span class='small'>{_fmt(r.get('duration_s', 0))} s</span></td>"
            f"<td><span class='{status}'>{status}</span>{notes}</td>"
            f"<td class='{calls_cls}'>{failed} of {budget['calls']}</td>"
            f"<td class='metrics'>{metrics}</td><td class='small'>{models}</td>"
            f"<td class='num'>{cache.get('hits', 0)}/{cache.get('misses', 0)}</td>"
            f"<td class='num'>{_fmt(usage.get('cost_usd', 0.0))}</td>"
            "</tr>"
        )
    body = (
        "\n".join(rows) or "<tr><td colspan='9'>No runs yet: run <code>make run</code>.</td></tr>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Workbench reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.succeeded {{ color: #067647; font-weight: 600; }} .failed {{ color: #b42318; font-weight: 600; }}
div.why {{ color: #b42318; font-size: .8rem; max-width: 28rem; }}
div.warn {{ color: #9a6700; font-size: .8rem; max-width: 28rem; }}
.wrap {{ overflow-x: auto; }}
p.note {{ color: #57606a; max-width: 60rem; }}
a.small, .small, td.metrics {{ font-size: .8rem; }}
td.nowrap {{ white-space: nowrap; }}
</style></head><body>
<h1>Workbench reports</h1>
<p class="note">Every notebook run, newest first. Each report opens offline; <code>run.json</code> holds
everything needed to reproduce the run (parameters, git commit, package versions, model and dataset
fingerprints). <b>Status</b> is <i>failed</i> when a cell raised an error or more model calls failed
than the run's <code>max_error_rate</code> allows; the cause is written under it, with any warning about
the numbers (a judge that cannot discriminate, for example). <b>Failed calls</b> is model calls that
returned an error after retries, of all calls; they are never scored as zero. <b>Cache</b> is answers
reused from the response cache / answers generated in that run; <b>cost</b> is what the run spent on
priced (hosted) models, in US dollars.</p>
<div class="wrap"><table><thead><tr><th>Notebook</th><th>Run</th><th>Started (UTC), duration</th>
<th>Status</th><th>Failed calls</th><th>Headline metrics</th><th>Models</th><th>Cache hits/misses</th>
<th>Cost (USD)</th></tr></thead>
<tbody>
{body}
</tbody></table></div>
<p class="note">{len(runs)} run(s). Generated {e(_iso(time.time()))}.</p>
</body></html>
"""
    index = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_text(config.redact(page), encoding="utf-8")
    os.replace(tmp, index)
    return index


def remove_partial_runs(root: str | Path | None = None, older_than_s: float = 3600) -> int:
    """Delete staging folders left by runs that died (kill -9) more than an hour ago."""
    root = Path(root) if root else config.reports_dir()
    removed = 0
    for stage in root.glob("*/.*.partial"):
        if time.time() - stage.stat().st_mtime > older_than_s:
            shutil.rmtree(stage, ignore_errors=True)
            removed += 1
    return removed
