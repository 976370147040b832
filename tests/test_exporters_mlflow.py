"""MLflow export: what a run record becomes, bad tracking URIs, and a real export of a real run
to a tracking server started on 127.0.0.1, read back with MlflowClient (twice: no duplicates)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port
from test_cli import run

from workbench import prompts
from workbench.exporters import mlflow as export

RECORD = {
    "run_id": "20260101T000000Z-abcdef",
    "notebook": "notebooks/02_prompt_iteration.ipynb",
    "status": "failed",
    "parameters": {"models": ["a", "b"], "n_cases": 3, "note": "x" * 7000},
    "metrics": {"recommended": "a", "a/quality": 0.5, "flag": True, "nan": float("nan")},
    "models": {"a+adapter": {"weights_sha256": "f" * 64}},
    "git": {"commit": "c" * 40, "dirty": True},
    "usage": {"calls": 10, "errors": 2, "cost_usd": 0.01},
    "error": {"type": "ErrorBudgetExceeded", "message": "2 of 10 calls failed"},
    "duration_s": 12.5,
}


@pytest.mark.unit
def test_a_record_maps_to_params_metrics_and_tags():
    m = export.mapping(RECORD)
    assert m["params"]["models"] == '["a", "b"]' and m["params"]["n_cases"] == "3"
    assert len(m["params"]["note"]) == export.MAX_PARAM
    assert m["metrics"]["a/quality"] == 0.5 and m["metrics"]["flag"] == 1.0
    assert "recommended" not in m["metrics"] and "nan" not in m["metrics"]  # text and NaN: no
    assert m["metrics"]["workbench.failed_calls"] == 2.0
    assert m["tags"]["mlflow.source.git.commit"] == "c" * 40
    assert m["tags"]["workbench.model.a_adapter"] == "f" * 64  # '+' is not a key character
    assert m["tags"]["workbench.error"].startswith("ErrorBudgetExceeded: 2 of 10")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("./mlruns", "the file store is refused"),
        ("file:///tmp/mlruns", "the file store is refused"),
        ("sqlite:////no/such/folder/m.db", "folder /no/such/folder does not exist"),
    ],
)
def test_a_tracking_uri_that_cannot_be_opened_is_named(uri, message):
    with pytest.raises(export.ExportError, match=message):
        export.open_client(uri)


@pytest.mark.integration
def test_an_unreachable_tracking_server_fails_fast_and_writes_nothing(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "run.json").write_text(json.dumps(RECORD))
    started = time.time()
    out = run(
        "export", "mlflow", str(tmp_path / "r"), "--tracking-uri", f"http://127.0.0.1:{free_port()}"
    )
    assert (
        out.returncode == 2 and "cannot open MLflow tracking URI 'http://127.0.0.1:" in out.stderr
    )
    assert time.time() - started < 30


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"), "server",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
            "--artifacts-destination", str(tmp_path / "mlflow-artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip # the command line reads as flag/value pairs
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, "the MLflow server exited"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@pytest.mark.integration
def test_a_run_exports_as_it_finishes_and_again_without_duplicates(mlflow_server, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)  # load_table searches through it
    # Notebook 07 with tiny parameters: parameters, metrics, a table, a prompt and traces.
    out = run(
        "run", "07_production_monitoring", "-p", "replay_per_window", "1", "-p", "window", "2d",
        env={"WORKBENCH_MLFLOW_EXPORT": mlflow_server},
    )  # fmt: skip # flag/value pairs
    assert out.returncode == 0, out.stderr
    assert "MLflow export" not in out.stderr  # the opt-in export went through
    folder = Path(out.stdout.strip().splitlines()[-1])
    record = json.loads((folder / "run.json").read_text())

    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    exp = client.get_experiment_by_name("07_production_monitoring")
    (first,) = client.search_runs([exp.experiment_id])
    assert first.info.run_name == record["run_id"] and first.info.status == "FINISHED"
    data = first.data
    assert data.tags["workbench.run_id"] == record["run_id"]
    assert data.tags["mlflow.source.git.commit"] == record["git"]["commit"]
    sha = record["models"]["smollm2-135m-instruct"]["weights_sha256"]
    assert data.tags["workbench.model.smollm2-135m-instruct"] == sha
    assert data.params["window"] == "2d" and data.params["replay_per_window"] == "1"
    assert data.metrics["alerts"] == record["metrics"]["alerts"]
    artifacts = {a.path for a in client.list_artifacts(first.info.run_id)}
    assert {"report.html", "notebook.ipynb", "run.json", "tables"} <= artifacts
    table = client.load_table(exp.experiment_id, "tables/candidates.json", [first.info.run_id])
    assert len(table) == sum(1 for _ in (folder / "candidates.jsonl").open())
    template = prompts.load_template("rag-answer", track=False)
    (version,) = client.search_prompt_versions("rag-answer")
    assert version.tags["workbench.version"] == record["prompts"]["rag-answer"] == template.version
    traces = client.search_traces(locations=[exp.experiment_id], run_id=first.info.run_id)
    from workbench.trace.store import TraceStore

    stored = TraceStore(folder / "traces" / "traces.sqlite")
    assert len(traces) == len(stored.traces()) > 0
    spans = {t.info.tags["workbench.trace_id"]: len(t.data.spans) for t in traces}
    assert spans == {r["trace_id"]: len(stored.spans(r["trace_id"])) for r in stored.traces()}

    again = run("export", "mlflow", str(folder), "--tracking-uri", mlflow_server)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"updated {record['run_id']} -> MLflow run {first.info.run_id}")
    assert len(client.search_runs([exp.experiment_id])) == 1
    assert len(client.get_metric_history(first.info.run_id, "alerts")) == 1
    assert len(client.search_prompt_versions("rag-answer")) == 1
    assert len(client.search_traces(locations=[exp.experiment_id])) == len(traces)
    assert len(client.load_table(exp.experiment_id, "tables/candidates.json")) == len(table)
