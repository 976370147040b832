"""`workbench monitor` as a scheduler runs it: exit 0 when nothing alerts, 3 when an alert
fires, 2 for bad input (naming the file, line or key); a run folder with its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

from workbench import config

LOG = config.PROJECT_ROOT / "datasets" / "traffic" / "hr_assistant_log.jsonl"


def _days(tmp_path: Path, *days: int) -> Path:
    rows = [
        r
        for r in LOG.read_text().splitlines()
        if json.loads(r)["id"].split("-")[1] in map(str, days)
    ]
    path = tmp_path / f"days-{'-'.join(map(str, days))}.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.integration
def test_monitor_exit_codes_and_run_folder(tmp_path):
    reference = _days(tmp_path, 1)
    clean = run("monitor", "--reference", str(reference), "--current", str(_days(tmp_path, 2)))
    assert clean.returncode == 0, clean.stderr
    summary = json.loads(clean.stdout.strip().splitlines()[-1])
    assert summary["alerts"] == 0 and summary["windows"] == 1
    # A log without outputs or latencies measures no quality rule: said, not taken as clear.
    assert summary["rules_not_measured"] == 5
    assert "rule 'refusal rate up' (refused_change) was not measured" in clean.stderr
    shifted = run("monitor", "--reference", str(reference), "--current", str(_days(tmp_path, 4)))
    assert shifted.returncode == 3, shifted.stderr
    summary = json.loads(shifted.stdout.strip().splitlines()[-1])
    assert "language shift" in summary["alerts_fired"]
    assert "workbench: alert language shift: window 2026-11-05" in shifted.stderr
    folder = Path(summary["run_dir"])
    record = json.loads((folder / "run.json").read_text())
    assert record["alerts"] and record["alert_rules_version"] and record["status"] == "succeeded"
    candidates = [json.loads(x) for x in (folder / "candidates.jsonl").read_text().splitlines()]
    assert candidates and all(set(c) >= {"id", "input", "reference", "window"} for c in candidates)
    html = (folder / "report.html").read_text()
    assert "language shift" in html and "<script" not in html
    assert "the quality rules measured nothing" in html
    index = (config.reports_dir() / "index.html").read_text()
    assert folder.name in index and "alert language shift" in index


@pytest.mark.integration
def test_monitor_bad_input_is_exit_2_naming_the_place(tmp_path):
    reference = _days(tmp_path, 1)
    rules = tmp_path / "alerts.yaml"
    rules.write_text("alerts:\n  - {name: x, metric: mmd_pvalue, op: '<', threshold: 0.01}\n")
    out = run(
        "monitor",
        "--reference",
        str(reference),
        "--current",
        str(reference),
        "--config",
        str(rules),
    )
    assert (
        out.returncode == 2
        and "alerts.yaml: alerts[0] (x): unknown metric 'mmd_pvalue'" in out.stderr
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"input": "a", "timestamp": "2026-11-02T08:00:00Z"}\n{"input": "b", "timestamp": "soon"}\n'
    )
    out = run("monitor", "--reference", str(reference), "--current", str(broken))
    assert out.returncode == 2 and "broken.jsonl:2: timestamp 'soon' is not ISO 8601" in out.stderr
    small = tmp_path / "small.jsonl"
    small.write_text('{"input": "a"}\n' * 10)
    out = run("monitor", "--reference", str(small), "--current", str(reference))
    assert out.returncode == 2 and "small.jsonl: 10 reference requests; at least 50" in out.stderr
