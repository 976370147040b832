"""Notebook 08 run as a user runs it, with tiny parameters: both shipped chains on a few tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run


@pytest.mark.notebook
def test_chains_notebook_with_tiny_parameters_records_versions_and_metrics():
    out = run("run", "08_chains_and_agents", "-p", "n_tasks", "3", "-p", "trajectories_shown", "1")
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip().splitlines()[-1])
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "succeeded"
    assert set(record["chains"]) == {"retrieve-then-answer", "hr-agent"}
    assert record["chains"]["hr-agent"]["components"]["tool:leave_balance"] == "registered"
    for chain in ("retrieve-then-answer", "hr-agent"):
        low, high = (record["metrics"][f"{chain}_passed_ci_{s}"] for s in ("low", "high"))
        assert 0 <= low <= record["metrics"][f"{chain}_passed"] <= high <= 1
    assert record["metrics"]["hr-agent_unparsed"] == 0  # constrained decoding
    html = (folder / "report.html").read_text()
    assert "Trajectories of failed tasks" in html and "Traceback" not in html
