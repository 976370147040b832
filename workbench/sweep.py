"""Parameter sweeps: one notebook over a grid of parameters, each point a `workbench run`.

A grid file names lists of values to cross (`grid`), values shared by every point (`fixed`),
and optionally the metric that ranks the runs (`metric`, `direction`). Every point is checked
against the notebook's parameters cell before anything starts. Each point runs as its own
`workbench run` process, on the local pool or as a Ray task; a failed run does not stop the
others, and running the same sweep again skips the points that already succeeded (their runs
carry the sweep's id in `run.json`). The sweep's record and page live in `reports/sweeps/<id>/`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import config, executors, reports, runs, sweep_page
from .data import read_yaml_mapping
from .errors import DataError, ParameterError
from .tracking import write_json_atomic

ENV = "WORKBENCH_SWEEP"  # set on each run's process: {"id", "point"}, recorded in its run.json
KEYS = ("grid", "fixed", "metric", "direction", "name")


@dataclass
class Sweep:
    notebook: Path
    grid_file: str
    swept: list[str]
    fixed: dict[str, Any]
    points: list[dict[str, Any]]  # the swept values of each point
    metric: str | None = None
    direction: str = "max"
    sweep_id: str = ""
    effective: list[dict[str, Any]] = field(default_factory=list)  # full parameters per point


def point_key(params: dict[str, Any]) -> str:
    """A stable id of one point's parameters."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load(notebook: str | Path, grid_file: str | Path) -> Sweep:
    """Read and check a grid file against `notebook`: every point is validated here."""
    path = reports.resolve_notebook(notebook)
    spec = read_yaml_mapping(grid_file, "sweep grid")
    where = str(grid_file)
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    grid, fixed = spec.get("grid"), spec.get("fixed") or {}
    if not isinstance(grid, dict) or not grid:
        raise DataError(f"{where}: 'grid' must map parameter names to lists of values")
    if not isinstance(fixed, dict):
        raise DataError(f"{where}: 'fixed' must map parameter names to values")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise DataError(f"{where}: grid.{name} must be a non-empty list of values")
    both = sorted(set(grid) & set(fixed))
    if both:
        raise DataError(f"{where}: {', '.join(both)} both swept and fixed")
    direction = spec.get("direction", "max")
    if direction not in ("max", "min"):
        raise DataError(f"{where}: direction must be max or min, got {direction!r}")
    swept = list(grid)
    points = [dict(zip(swept, combo, strict=True)) for combo in itertools.product(*grid.values())]
    effective = []
    for i, point in enumerate(points, 1):
        try:
            effective.append(reports.validate_parameters(path, {**fixed, **point}))
        except ParameterError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise ParameterError(f"{where}: grid point {i} ({shown}): {exc}") from None
    digest = point_key({"notebook": path.stem, "points": effective})[:10]
    sweep_id = str(spec.get("name") or f"{path.stem}-{digest}")
    if not sweep_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise DataError(f"{where}: name {sweep_id!r} may hold letters, digits, '-', '_', '.' only")
    return Sweep(
        path, where, swept, fixed, points, spec.get("metric"), direction, sweep_id, effective
    )


# --------------------------------------------------------------------------- one run


def run_point(job: dict[str, Any]) -> dict[str, Any]:
    """Run one grid point as a `workbench run` process; never raises (a Ray task or a thread).

    With `job["ship"]` the run is written to a temporary reports folder and comes back packed,
    so a run on another node lands in the driver's `reports/`.
    """
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="wb-sweep-") as tmp:
        params = Path(tmp) / "params.yaml"
        params.write_text(json.dumps(job["params"]), encoding="utf-8")  # JSON is YAML
        root = Path(tmp) / "reports" if job["ship"] else Path(job["root"])
        env = {
            **os.environ,
            **job["env"],
            "WORKBENCH_REPORTS": str(root),
            ENV: json.dumps({"id": job["sweep_id"], "point": job["key"]}),
            "WORKBENCH_THREADS": str(job["threads"]),
        }
        cmd = [sys.executable, "-m", "workbench.cli", "run", job["notebook"], "-f", str(params)]
        proc = subprocess.run(
            [*cmd, "-q", "--no-index"], env=env, capture_output=True, text=True, check=False
        )
        lines = proc.stdout.strip().splitlines()
        folder = Path(lines[-1]) if lines else None
        out = {
            "key": job["key"],
            "returncode": proc.returncode,
            "stderr": proc.stderr[-4000:],
            "seconds": round(time.time() - started, 2),
            "folder": str(folder) if folder else None,
        }
        if job["ship"] and folder is not None and (folder / runs.RECORD).is_file():
            out["packed"] = runs.pack(folder)
            out["run_id"] = folder.name
        return out


# --------------------------------------------------------------------------- the sweep


def _notebook_arg(path: Path) -> str:
    """The stem for a shipped notebook (another node resolves it in its own checkout)."""
    return path.stem if path.parent == config.notebooks_dir().resolve() else str(path)


def _settings() -> dict[str, str]:
    """The driver's workbench settings (cache, datasets, model store...), which a Ray worker,
    started with the environment of an earlier moment or another machine, would not have."""
    skip = {"WORKBENCH_REPORTS", "WORKBENCH_RUN_DIR", "WORKBENCH_HEADLESS", ENV}
    return {k: v for k, v in os.environ.items() if k.startswith("WORKBENCH_") and k not in skip}


def _finished(sweep: Sweep, root: Path) -> dict[str, dict[str, Any]]:
    """The succeeded runs of this sweep already in `root`, by point key (newest wins)."""
    done: dict[str, dict[str, Any]] = {}
    for record in reversed(runs.list_runs(root)):
        tag = record.get("sweep") or {}
        if tag.get("id") == sweep.sweep_id and record.get("status") == "succeeded":
            done[tag.get("point")] = record
    return done


def run(
    sweep: Sweep,
    *,
    executor: str = "local",
    max_parallel: int = 1,
    root: str | Path | None = None,
    echo=None,
) -> dict[str, Any]:
    """Run every point not yet succeeded; write the sweep's record and page; the record."""
    executors.check(executor)
    executors.check_parallel(max_parallel)
    root = Path(root) if root else config.reports_dir()
    started = time.time()
    keys = [point_key(p) for p in sweep.effective]
    done = _finished(sweep, root)
    todo = [i for i, k in enumerate(keys) if k not in done]
    cores = os.cpu_count() or 1
    threads = max(1, cores // min(max_parallel, max(1, len(todo))))
    jobs = [
        {
            "notebook": _notebook_arg(sweep.notebook),
            "params": sweep.effective[i],
            "key": keys[i],
            "sweep_id": sweep.sweep_id,
            "root": str(root),
            "threads": threads,
            "ship": executor == "ray",
            "env": _settings(),
        }
        for i in todo
    ]
    outcomes: dict[str, dict[str, Any]] = {}
    for n, (j, out) in enumerate(
        executors.map_unordered(
            run_point, jobs, executor=executor, max_parallel=max_parallel, num_cpus=threads
        ),
        1,
    ):
        if "packed" in out:
            out["folder"] = str(
                runs.unpack(out.pop("packed"), sweep.notebook.stem, out["run_id"], root)
            )
        outcomes[jobs[j]["key"]] = out
        if echo:
            echo(_line(n, len(jobs), sweep.points[todo[j]], out))
    record = _record(sweep, keys, done, outcomes, root, executor, max_parallel, started)
    record["runs"] = sweep_page.ordered(record)  # best first, each with its rank (None: unranked)
    folder = runs.sweep_dir(sweep.sweep_id, root)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / runs.SWEEP_RECORD, record)
    sweep_page.write(folder, record)
    reports.build_index(root)
    return record


def _line(n: int, total: int, point: dict[str, Any], out: dict[str, Any]) -> str:
    shown = " ".join(f"{k}={json.dumps(v)}" for k, v in point.items())
    state = "ok" if out["returncode"] == 0 else f"failed (exit {out['returncode']})"
    return f"[{n}/{total}] {state} {shown} ({out['seconds']:.0f} s)"


def _cause(out: dict[str, Any] | None, record: dict[str, Any] | None) -> str:
    if record is not None and record.get("status") != "succeeded":
        return reports.one_line(record.get("error")) or "run failed"
    if out is None:
        return ""
    lines = [x for x in out.get("stderr", "").splitlines() if x.strip()]
    errors = [x for x in lines if x.startswith("workbench:")]
    return (errors or lines or [f"exit {out['returncode']}"])[0][:300]


def _record(sweep, keys, done, outcomes, root, executor, max_parallel, started) -> dict[str, Any]:
    rows = []
    for point, params, key in zip(sweep.points, sweep.effective, keys, strict=True):
        out = outcomes.get(key)
        run_record = done.get(key)
        if out is not None and out.get("folder") and (Path(out["folder"]) / runs.RECORD).is_file():
            run_record = runs.read_record(out["folder"])
            run_record["_dir"] = Path(out["folder"])
        row: dict[str, Any] = {"point": key, "swept": point, "parameters": params}
        row["skipped"] = out is None  # finished by an earlier invocation of this sweep
        if run_record is not None:
            row.update(
                run_id=run_record.get("run_id"),
                run_dir=Path(run_record["_dir"]).relative_to(root).as_posix(),
                status=run_record.get("status"),
                metrics=run_record.get("metrics") or {},
                duration_s=run_record.get("duration_s"),
                failed_calls=(run_record.get("error_budget") or {}).get("errors", 0),
            )
        else:
            row.update(run_id=None, run_dir=None, status="failed", metrics={}, duration_s=None)
        row["cause"] = "" if row["status"] == "succeeded" else _cause(out, run_record)
        rows.append(row)
    metric = sweep.metric or _first_numeric(rows)
    return {
        "sweep_id": sweep.sweep_id,
        "notebook": config.project_relative(sweep.notebook),
        "grid_file": sweep.grid_file,
        "swept": sweep.swept,
        "fixed": sweep.fixed,
        "metric": metric,
        "direction": sweep.direction,
        "executor": executor,
        "max_parallel": max_parallel,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 2),
        "runs": rows,
        "succeeded": sum(r["status"] == "succeeded" for r in rows),
        "failed": sum(r["status"] != "succeeded" for r in rows),
        "skipped": sum(r["skipped"] for r in rows),
    }


def _first_numeric(rows: list[dict[str, Any]]) -> str | None:
    """The first numeric headline metric of the first succeeded run: the default ranking."""
    for row in rows:
        if row["status"] == "succeeded":
            for name, value in row["metrics"].items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return name
    return None
