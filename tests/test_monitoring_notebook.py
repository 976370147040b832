"""Notebook 07 run as a user runs it, with tiny parameters: one replayed request per window,
two-day windows and the embedded model as the continuous-evaluation judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

JUDGE = "smollm2-135m-instruct"


@pytest.mark.notebook
def test_monitoring_notebook_with_tiny_parameters_records_alerts_traces_and_the_judge():
    out = run(
        "run",
        "07_production_monitoring",
        "-p",
        "replay_per_window",
        "1",
        "-p",
        "window",
        "2d",
        "-p",
        "judge_model",
        JUDGE,
    )
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip().splitlines()[-1])
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "succeeded" and record["parameters"]["window"] == "2d"
    assert record["alerts"] and record["metrics"]["alerts"] == len(record["alerts"])
    assert all(a["window"].startswith("2026-11-") for a in record["alerts"])
    judged = record["judges"][f"rubric:{JUDGE}"]
    guards = record["guards"]
    assert judged["judged"] + guards["blocked_input"] == 3  # one request per two-day window
    assert judged["parse_failures"] == 0  # constrained decoding: a local judge always parses
    traces = list(folder.rglob("traces.sqlite"))
    assert traces, "the replay's trace store is kept with the run"
    html = (folder / "report.html").read_text()
    assert "judge_" in html and "Traceback" not in html  # the judge table (headers wrap at "_")
