"""workbench.tracking: run record accumulation, environment capture."""

import json

import pytest

from workbench import tracking


@pytest.mark.unit
def test_tracker_writes_through_to_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RUN_DIR", str(tmp_path))
    t = tracking.current()
    t.log_metric("accuracy", 0.5)
    f = tmp_path / "data.jsonl"
    f.write_text("{}\n")
    digest = t.log_dataset(f)
    saved = json.loads((tmp_path / tracking.TRACKING_FILE).read_text())
    assert saved["metrics"] == {"accuracy": 0.5}
    assert list(saved["datasets"].values()) == [digest] and len(digest) == 64


@pytest.mark.unit
def test_in_memory_without_a_run_folder(monkeypatch):
    monkeypatch.delenv("WORKBENCH_RUN_DIR", raising=False)
    t = tracking.current()
    t.log_metric("x", 1)
    assert t.folder is None and t.data["metrics"]["x"] == 1


@pytest.mark.unit
def test_environment_and_git():
    env = tracking.environment()
    assert "torch" in env["packages"] and env["python"].startswith("3.")
    assert set(tracking.git_state()) == {"commit", "dirty"}


@pytest.mark.unit
def test_atomic_json_redacts_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("X_API_KEY", "sk-canary-0123456789")
    tracking.write_json_atomic(tmp_path / "r.json", {"leak": "value sk-canary-0123456789"})
    assert "sk-canary" not in (tmp_path / "r.json").read_text()
