"""Run folders into MLflow: one MLflow run per workbench run, updated (never duplicated) on
re-export.

Mapping: the notebook is the experiment; the run id is the MLflow run's name and its
`workbench.run_id` tag (how a re-export finds it); parameters are params; the git commit,
model ids with their weights' sha256 and dataset hashes are tags; numeric headline metrics
(plus duration, calls, failed calls, cost) are metrics; `report.html`, `notebook.ipynb` and
`run.json` are artifacts; each table artifact is an MLflow table; the prompt templates the run
used go to the prompt registry (tagged with their workbench version, linked to the run); the
traces of a run's trace store become MLflow traces.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .. import config, runs
from ..errors import WorkbenchError

TAG = "workbench.run_id"
MAX_TABLE_BYTES = 5_000_000  # larger tables go in as plain files (an MLflow table is JSON)
MAX_TRACES = 500
MAX_PARAM = 6000  # MLflow's limit on a param value


class ExportError(WorkbenchError):
    """An MLflow tracking URI that cannot be opened, or a run that cannot be exported."""


def default_uri() -> str:
    """`MLFLOW_TRACKING_URI`, else a SQLite store beside the reports: `reports/mlflow.db`."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{config.reports_dir()}/mlflow.db"


def _quiet_env() -> None:
    # No usage telemetry, and an unreachable server fails in seconds, not after minutes of retries.
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # the command prints its own
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    # Traces are written before the export returns (a re-export must find them).
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    import logging

    import mlflow  # noqa: F401  (configures its loggers on import; quieted after)

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def open_client(uri: str):
    """An `MlflowClient` on `uri`, checked with one query; `ExportError` if it cannot be opened."""
    _quiet_env()
    scheme = urlparse(uri).scheme
    if scheme in ("", "file"):
        raise ExportError(
            f"MLflow tracking URI {uri!r}: the file store is refused by MLflow 3; use "
            "sqlite:///path/to/mlflow.db or a server's http:// URL"
        )
    if scheme == "sqlite":
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise ExportError(f"MLflow tracking URI {uri!r}: folder {folder} does not exist")
    import mlflow
    from mlflow import MlflowClient

    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_experiments(max_results=1)
    except Exception as exc:  # MLflow raises many kinds; the user gets one line
        raise ExportError(
            f"cannot open MLflow tracking URI {uri!r}: {str(exc).splitlines()[0][:300]}"
        ) from None
    return client


def _experiment(client, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):  # artifacts beside the database, not in the current folder
        location = (Path(uri.removeprefix("sqlite:///")).parent / "mlflow-artifacts").as_uri()
    return client.create_experiment(name, artifact_location=location)


def _key(text: str) -> str:
    """A name MLflow accepts as a param, metric or tag key."""
    return "".join(c if c.isalnum() or c in "_-. /:" else "_" for c in text)[:250]


def _millis(iso: str | None) -> int | None:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000) if iso else None


def mapping(record: dict[str, Any]) -> dict[str, Any]:
    """What one run record becomes in MLflow: params, metrics, tags (no I/O)."""
    params = {
        _key(k): (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))[:MAX_PARAM]
        for k, v in (record.get("parameters") or {}).items()
    }
    metrics: dict[str, float] = {}
    for name, value in (record.get("metrics") or {}).items():
        if isinstance(value, int | float) and value == value:  # numbers (and flags), not NaN
            metrics[_key(name)] = float(value)
    budget = record.get("error_budget") or {}
    usage = record.get("usage") or {}
    metrics.update(
        {
            "workbench.duration_s": float(record.get("duration_s") or 0.0),
            "workbench.calls": float(budget.get("calls", usage.get("calls", 0)) or 0),
            "workbench.failed_calls": float(budget.get("errors", usage.get("errors", 0)) or 0),
            "workbench.cost_usd": float(usage.get("cost_usd", 0.0) or 0.0),
        }
    )
    git = record.get("git") or {}
    tags = {
        TAG: record["run_id"],
        "workbench.notebook": Path(record.get("notebook", "?")).stem,
        "workbench.status": str(record.get("status")),
        "mlflow.source.git.commit": str(git.get("commit") or ""),
        "workbench.git.dirty": str(bool(git.get("dirty"))).lower(),
    }
    for model, info in (record.get("models") or {}).items():
        tags[_key(f"workbench.model.{model}")] = str((info or {}).get("weights_sha256") or "")
    for path, digest in (record.get("datasets") or {}).items():
        tags[_key(f"workbench.dataset.{path}")] = str(digest)
    for name, version in (record.get("prompts") or {}).items():
        tags[_key(f"workbench.prompt.{name}")] = str(version)
    if record.get("error"):
        tags["workbench.error"] = _error_text(record)[:5000]
    return {"params": params, "metrics": metrics, "tags": tags}


def _error_text(record: dict[str, Any]) -> str:
    error = record.get("error") or {}
    return f"{error.get('type', 'error')}: {error.get('message', '')}"


def export(
    run_dirs: list[str | Path], tracking_uri: str | None = None, experiment: str | None = None
) -> list[dict[str, Any]]:
    """Export each run folder; one summary per run ({run_id, mlflow_run_id, action, ...}).

    Every folder is read before anything is written, so a wrong path changes nothing.
    """
    records = [(Path(d), runs.read_record(d)) for d in run_dirs]
    uri = tracking_uri or default_uri()
    client = open_client(uri)
    return [_export_one(client, uri, folder, rec, experiment) for folder, rec in records]


def _export_one(client, uri, folder: Path, record, experiment: str | None) -> dict[str, Any]:
    from mlflow.entities import Metric, Param, RunTag

    exp_id = _experiment(client, experiment or Path(record.get("notebook", "runs")).stem, uri)
    found = client.search_runs(
        [exp_id], filter_string=f"tags.`{TAG}` = '{record['run_id']}'", max_results=2
    )
    data = mapping(record)
    if found:
        run_id, action = found[0].info.run_id, "updated"
        client.update_run(run_id, status="RUNNING")
    else:
        run_id = client.create_run(
            exp_id,
            start_time=_millis(record.get("started_at")),
            tags=data["tags"],
            run_name=record["run_id"],
        ).info.run_id
        action = "created"
    stamp = _millis(record.get("finished_at")) or 0
    existing = client.get_run(run_id).data
    client.log_batch(
        run_id,
        metrics=[
            Metric(k, v, stamp, 0)
            for k, v in data["metrics"].items()
            if existing.metrics.get(k) != v
        ],
        params=[Param(k, v) for k, v in data["params"].items() if k not in existing.params],
        tags=[RunTag(k, v) for k, v in data["tags"].items()],
    )
    for name in (runs.REPORT, runs.NOTEBOOK, runs.RECORD):
        if (folder / name).is_file():
            client.log_artifact(run_id, str(folder / name))
    tables = _tables(client, run_id, folder)
    prompts = _prompts(client, run_id, record)
    traces = _traces(client, run_id, exp_id, folder)
    client.set_terminated(
        run_id,
        status="FINISHED" if record.get("status") == "succeeded" else "FAILED",
        end_time=stamp or None,
    )
    return {
        "run_id": record["run_id"],
        "mlflow_run_id": run_id,
        "url": f"{uri.rstrip('/')}/#/experiments/{exp_id}/runs/{run_id}"
        if uri.startswith("http")
        else None,
        "experiment_id": exp_id,
        "action": action,
        "tables": tables,
        "prompts": prompts,
        "traces": traces,
    }


def _tables(client, run_id: str, folder: Path) -> list[str]:
    """Each `<name>.jsonl` table of the run as an MLflow table, once (log_table appends)."""
    import pandas as pd

    have = {a.path for a in client.list_artifacts(run_id, "tables")}
    logged = []
    for path in sorted(folder.glob("*.jsonl")):
        target = f"tables/{path.stem}.json"
        if target in have or f"tables/{path.name}" in have:
            logged.append(target)
            continue
        if path.stat().st_size > MAX_TABLE_BYTES:
            client.log_artifact(run_id, str(path), "tables")
            logged.append(f"tables/{path.name}")
            continue
        frame = pd.read_json(path, orient="records", lines=True)
        # MLflow tables hold JSON scalars; nested values (lists, mappings) go in as JSON text.
        for col in frame.columns:
            if frame[col].map(lambda v: isinstance(v, list | dict)).any():
                frame[col] = frame[col].map(
                    lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                )
        client.log_table(run_id, data=frame, artifact_file=target)
        logged.append(target)
    return logged


def _prompts(client, run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """Register the run's templates (at the versions it used) and link them to the run."""
    from .. import prompts as wb_prompts

    out: dict[str, Any] = {}
    for name, version in (record.get("prompts") or {}).items():
        try:
            _, template = wb_prompts.parse_variant(name)
        except WorkbenchError:
            out[name] = "not exported: no such template in this checkout"
            continue
        if template.version != version:
            out[name] = f"not exported: version {version} is not the one in this checkout"
            continue
        registered = _register(client, _key(name).replace(" ", "_").replace("/", "_"), template)
        client.link_prompt_version_to_run(run_id, registered)
        out[name] = registered.version
    return out


def _register(client, name: str, template):
    """The registry version holding this template version, registered once."""
    name = name.replace(":", "_")
    from mlflow.exceptions import MlflowException

    try:
        for v in client.search_prompt_versions(name):
            if (v.tags or {}).get("workbench.version") == template.version:
                return v
    except MlflowException:  # no prompt of that name yet
        pass
    messages = [m for m in (("system", template.system), ("user", template.user)) if m[1]]
    return client.register_prompt(
        name=name,
        template=[{"role": role, "content": text} for role, text in messages],
        commit_message=f"workbench version {template.version}",
        tags={"workbench.version": template.version, "workbench.template": template.name},
    )


def _traces(client, run_id: str, exp_id: str, folder: Path) -> int:
    from .traces import export_store

    store = folder / "traces" / "traces.sqlite"
    return export_store(client, store, run_id, exp_id, MAX_TRACES) if store.is_file() else 0


AUTO_ENV = "WORKBENCH_MLFLOW_EXPORT"  # a tracking URI: export every run as it finishes


def auto_export(folder: str | Path) -> str | None:
    """Export a just-finished run when `WORKBENCH_MLFLOW_EXPORT` names a tracking URI.

    The run is already complete on disk; an export that fails is a warning (returned), never a
    lost or failed run.
    """
    uri = os.environ.get(AUTO_ENV)
    if not uri:
        return None
    try:
        export([folder], uri)
    except Exception as exc:  # the tracker's problem must not cost the run
        return f"MLflow export to {uri} failed: {config.redact(str(exc))[:300]}"
    return None
