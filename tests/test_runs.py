"""workbench.runs: the one owner of the run-folder layout (stage, finalise, records, artifacts)."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest

from workbench import runs, tracking
from workbench.errors import DataError, RunError


@pytest.mark.unit
def test_a_staged_run_is_hidden_until_finalised(tmp_path):
    run_id, stage = runs.stage("01_demo", tmp_path)
    assert stage.name.startswith(".") and run_id in stage.name
    runs.write_record(stage, {"run_id": run_id, "status": "succeeded", "started_at": "1"})
    assert runs.list_runs(tmp_path) == []  # not listed while staged
    assert runs.published(stage) == tmp_path / "01_demo" / run_id
    final = runs.finalise(stage)
    assert final == tmp_path / "01_demo" / run_id and not stage.exists()
    [record] = runs.list_runs(tmp_path)
    assert record["run_id"] == run_id and record["_dir"] == final
    assert runs.find("01_demo", run_id, tmp_path) == final


@pytest.mark.unit
def test_errors_name_the_folder_and_list_the_latest_runs(tmp_path):
    with pytest.raises(RunError, match="no run 'nope' of 01_demo"):
        runs.find("01_demo", "nope", tmp_path)
    with pytest.raises(DataError, match=r"is not a run folder of 05_x \(no run.json\)"):
        runs.read_record(tmp_path, what="05_x")
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(RunError, match="not valid JSON"):
        runs.read_record(tmp_path)
    with pytest.raises(RunError, match="did not succeed .* nothing promoted"):
        runs.require_succeeded({"run_id": "r", "status": "failed"}, "nothing promoted")
    with pytest.raises(RunError, match="has no saved 'results' table"):
        runs.read_table(tmp_path, "results")


@pytest.mark.unit
def test_artifacts_are_saved_in_the_current_run_and_read_back_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("WB_TEST_SECRET", "sk-runs-secret-1234567890")
    tracking._current = None
    runs.save_table(pd.DataFrame([{"case_id": "1", "out": "sk-runs-secret-1234567890"}]), "t")
    runs.save_json("spec", {"seed": 3})
    assert runs.read_json(tmp_path, "spec") == {"seed": 3}
    table = runs.read_table(tmp_path, "t", dtype={"case_id": str})
    assert table["case_id"].tolist() == ["1"] and table["out"].tolist() == ["***"]  # redacted
    assert runs.artifact_dir("synthetic") == tmp_path / "synthetic"


@pytest.mark.unit
def test_interactive_sessions_write_no_artifacts_into_reports(tmp_path):
    assert runs.save_table(pd.DataFrame([{"a": 1}]), "t") is None
    assert runs.save_json("spec", {}) is None
    assert "interactive" in str(runs.artifact_dir("synthetic"))


@pytest.mark.unit
def test_only_old_staging_folders_are_removed(tmp_path):
    _, old = runs.stage("01_demo", tmp_path)
    _, fresh = runs.stage("01_demo", tmp_path)
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert runs.remove_partial(tmp_path) == 1
    assert not old.exists() and fresh.exists()


@pytest.mark.unit
def test_run_records_are_plain_json(tmp_path):
    runs.write_record(tmp_path, {"run_id": "r", "status": "succeeded"})
    assert json.loads((tmp_path / runs.RECORD).read_text())["run_id"] == "r"
