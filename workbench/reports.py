"""Execute a notebook with papermill into a versioned run folder, export HTML, rebuild the index.

A run folder `reports/<notebook-stem>/<run_id>/` holds `notebook.ipynb` (executed),
`report.html` (code hidden, self-contained) and `run.json`. It is assembled under a
dot-prefixed staging name and renamed into place at the end, so a half-written run is
never listed as complete.
"""

from __future__ import annotations

import ast
import contextlib
import html
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import config, progress, tracking

TEMPLATES = Path(__file__).parent / "templates"
_REMOTE = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", re.I)


class ParameterError(ValueError):
    """A notebook parameter that does not exist or has the wrong type."""


@dataclass
class RunResult:
    path: Path
    status: str
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


# --------------------------------------------------------------------------- parameters


def resolve_notebook(name: str | Path) -> Path:
    """A notebook path from a path or a bare stem such as `01_model_discovery`."""
    p = Path(name)
    candidates = [p, config.notebooks_dir() / p, config.notebooks_dir() / f"{p}.ipynb"]
    for c in candidates:
        if c.is_file() and c.suffix == ".ipynb":
            return c.resolve()
    known = ", ".join(sorted(x.stem for x in config.notebooks_dir().glob("*.ipynb")))
    raise FileNotFoundError(f"notebook not found: {name} (known notebooks: {known})")


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """The notebook's `parameters` cell: {name: {default, type, help}}."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ParameterError(f"{path}: no cell tagged 'parameters'")
    params: dict[str, dict[str, Any]] = {}
    lines = cells[0].source.splitlines()
    tree = ast.parse(cells[0].source)
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value_node = node.target.id, node.value
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, value_node = node.targets[0].id, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise ParameterError(
                f"{path}: parameter {name!r} (line {node.lineno} of the parameters cell) "
                "must be a literal"
            ) from None
        source_line = lines[node.end_lineno - 1]
        help_text = source_line.split("#", 1)[1].strip() if "#" in source_line else ""
        params[name] = {"default": default, "type": type(default).__name__, "help": help_text}
    return params


def _check_type(name: str, value: Any, default: Any, notebook: str) -> Any:
    def fail(expected: str) -> ParameterError:
        return ParameterError(
            f"parameter {name!r} of {notebook}: expected {expected}, got {value!r} "
            f"({type(value).__name__})"
        )

    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise fail("a string")
        return value
    if isinstance(default, list | tuple):
        if not isinstance(value, list | tuple):
            raise fail("a list")
        kinds = {type(x) for x in default}
        if len(kinds) == 1:
            kind = kinds.pop()
            bad = [x for x in value if not isinstance(x, kind)]
            if bad:
                raise fail(f"a list of {kind.__name__}")
        return list(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise fail("a mapping")
        return value
    return value


def _names(value: Any) -> list[str] | None:
    """The non-empty strings of a str or list-of-str value; None for any other value."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        return None
    return [v for v in items if v]


def _reference_kinds() -> dict[str, tuple[str, list[str]]]:
    """What a parameter can refer to: kind -> (what the error calls it, the known names)."""
    from .data import list_tasks
    from .models import load_catalog

    return {"model": ("model id", list(load_catalog())), "task": ("task", list_tasks())}


def _check_references(name: str, value: Any, default: Any, notebook: str) -> None:
    """A parameter whose default names catalog models (or tasks) must name known ones.

    The kind is read from the default's values, not from the parameter's name, so this
    holds for every notebook. An empty string stays allowed ("none", e.g. no judge).
    """
    defaults, given = _names(default), _names(value)
    if not defaults or given is None:
        return
    for what, known in _reference_kinds().values():
        if all(d in known for d in defaults):
            unknown = [v for v in given if v not in known]
            if unknown:
                raise ParameterError(
                    f"parameter {name!r} of {notebook}: unknown {what} "
                    f"{', '.join(repr(u) for u in unknown)}; known: {', '.join(known)}"
                )
            return


def validate_parameters(path: str | Path, given: dict[str, Any]) -> dict[str, Any]:
    """Check overrides against the parameters cell; returns the full effective parameters.

    Unknown names, wrong types and unknown model ids or task names are errors here,
    before a kernel starts.
    """
    declared = notebook_parameters(path)
    name = Path(path).name
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise ParameterError(
            f"{name} has no parameter {', '.join(repr(u) for u in unknown)}; "
            f"its parameters are: {', '.join(declared)}"
        )
    effective = {k: v["default"] for k, v in declared.items()}
    for key, value in given.items():
        effective[key] = _check_type(key, value, declared[key]["default"], name)
        _check_references(key, effective[key], declared[key]["default"], name)
    return effective


def parse_cli_value(raw: str, default: Any) -> Any:
    """A `-p NAME VALUE` string as the type its default has (YAML syntax for lists)."""
    import yaml

    if isinstance(default, str):
        # A quoted value ('' or "x") is unquoted: the way to pass an empty string without a shell.
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            return str(yaml.safe_load(raw))
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


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


# --------------------------------------------------------------------------- HTML


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(error: dict[str, Any] | None) -> str:
    """A failed run's cause in one line, for the index, the report header and the terminal."""
    if not error:
        return ""
    message = str(error.get("message") or "").strip().splitlines()
    text = message[0] if message else ""
    kind = str(error.get("type") or "")
    line = f"{kind}: {text}" if kind and kind != "ErrorBudgetExceeded" else text
    return line if len(line) <= 300 else line[:297] + "..."


def _calls_line(record: dict[str, Any]) -> str:
    budget = record.get("error_budget") or tracking.error_budget(record)
    if not budget["calls"]:
        return "no model calls"
    if not budget["errors"]:
        return f"all {budget['calls']} model calls succeeded"
    return (
        f"<b class='failed'>{budget['errors']} of {budget['calls']} model calls failed</b> "
        f"(max_error_rate {budget['max_error_rate']:.1%})"
    )


def _banner(record: dict[str, Any]) -> str:
    e = html.escape
    params = ", ".join(f"{e(k)}={e(json.dumps(v))}" for k, v in record["parameters"].items())
    git = record.get("git") or {}
    commit = (git.get("commit") or "no git")[:10] + (
        " (uncommitted changes)" if git.get("dirty") else ""
    )
    lines = []
    if record.get("error"):
        lines.append(f"<b class='failed'>Failed:</b> {e(one_line(record['error']))}")
    lines += [
        f"<b>Run</b> <code>{e(record['run_id'])}</code> · "
        f"<span class='{e(record['status'])}'>{e(record['status'])}</span> · "
        f"{_calls_line(record)} · started {e(record['started_at'])} · "
        f"{record['duration_s']:.1f} s · commit <code>{e(commit)}</code>",
    ]
    lines += [f"<b class='warning'>⚠</b> {e(w)}" for w in record.get("warnings") or []]
    lines.append(f"<details><summary>Parameters</summary>{params}</details>")
    return "<div class='wb-banner'>" + "<br>".join(lines) + "</div>"


def _folded_error(out: dict[str, Any]) -> dict[str, Any]:
    """An error output as a one-line summary, its traceback folded away for developers."""
    import nbformat

    summary = html.escape(one_line({"type": out.get("ename"), "message": out.get("evalue")}))
    trace = html.escape(_ANSI.sub("", "\n".join(out.get("traceback") or [])))
    body = (
        f"<details class='wb-error'><summary><b>Error</b> {summary}</summary>"
        f"<pre>{trace}</pre></details>"
    )
    return nbformat.v4.new_output("display_data", data={"text/html": body})


def _title(nb: Any, record: dict[str, Any]) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return f"{line[2:].strip()} · {record['run_id']} ({record['status']})"
    return f"{Path(record.get('notebook', 'run')).stem} · {record['run_id']} ({record['status']})"


def export_html(notebook_path: Path, out_path: Path, record: dict[str, Any]) -> None:
    """Write a code-hidden, self-contained HTML report of an executed notebook."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata.pop("widgets", None)
    # papermill's "An Exception was encountered" banners: the report header says it once.
    nb.cells = [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue  # warnings and progress bars are for the log, not the stakeholder
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                continue  # a live widget (e.g. a progress bar) has no meaning in a static page
            kept.append(_folded_error(out) if out.get("output_type") == "error" else out)
        cell.outputs = kept
    banner = nbformat.v4.new_code_cell(
        source="",
        outputs=[nbformat.v4.new_output("display_data", data={"text/html": _banner(record)})],
    )
    nb.cells.insert(0, banner)
    exporter = HTMLExporter(
        template_name="workbench_report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": _title(nb, record)}})
    body = config.redact(body)
    check_self_contained(body, out_path)
    out_path.write_text(body, encoding="utf-8")


def check_self_contained(text: str, where: Path | str = "report") -> None:
    """Refuse HTML that would load anything from the network."""
    match = _REMOTE.search(text)
    if match:
        raise ValueError(f"{where}: would load a remote resource: {match.group(0)[:120]}")


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
