"""Sweeps: grid files checked before anything runs, runs on the local pool and on a local Ray,
a failed run that does not stop the others, a resumed sweep, and the sweep's page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_notebook

from workbench import runs, sweep, sweep_page
from workbench.errors import DataError, ParameterError

# A notebook that fails for x=2 on purpose and otherwise records a score of x / 10.
PARAMS = 'x: int = 1  # the swept value\nlabel: str = "a"  # a fixed value'
CELLS = (
    "import workbench as wb\nwb.start_run(0.0)",
    'assert x != 2, "x=2 fails on purpose"',
    # The run's own priority: Ray starts its workers niced, which starved runs on a busy machine.
    'import os\nwb.current_run().log_metrics({"score": x / 10, "label": label, "nice": os.nice(0)})',
)


def grid(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def toy(tmp_path) -> Path:
    return write_notebook(tmp_path / "nbs" / "toy.ipynb", PARAMS, *CELLS)


# --------------------------------------------------------------------------- checked first


@pytest.mark.unit
def test_a_grid_expands_to_every_combination_with_the_fixed_values(toy, tmp_path):
    s = sweep.load(toy, grid(tmp_path, "grid:\n  x: [1, 2, 3]\nfixed:\n  label: b\n"))
    assert s.points == [{"x": 1}, {"x": 2}, {"x": 3}]
    assert [p["label"] for p in s.effective] == ["b", "b", "b"]
    assert s.sweep_id.startswith("toy-")
    again = sweep.load(toy, grid(tmp_path, "grid:\n  x: [1, 2, 3]\nfixed:\n  label: b\n"))
    assert again.sweep_id == s.sweep_id  # the same grid is the same sweep (resumable)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("grid:\n  y: [1]\n", ParameterError, "grid point 1 (y=1): toy.ipynb has no parameter 'y'"),
        ("grid:\n  x: [1, two]\n", ParameterError, "grid point 2 (x='two')"),
        ("grid:\n  x: 3\n", DataError, "grid.x must be a non-empty list"),
        ("grid:\n  x: [1]\nfixed:\n  x: 2\n", DataError, "x both swept and fixed"),
        ("grid:\n  x: [1]\nexecutor: ray\n", DataError, "unknown key(s) executor"),
        ("grid:\n  x: [1]\ndirection: up\n", DataError, "direction must be max or min"),
        ("fixed:\n  x: 1\n", DataError, "'grid' must map parameter names"),
    ],
)
def test_a_bad_grid_is_named_before_anything_runs(toy, tmp_path, text, error, message):
    with pytest.raises(error) as info:
        sweep.load(toy, grid(tmp_path, text))
    assert message in str(info.value) and "grid.yaml" in str(info.value)


@pytest.mark.unit
def test_the_shipped_grid_is_valid():
    from workbench import config

    s = sweep.load(
        "01_model_discovery", config.datasets_dir() / "sweeps/discovery_sample_size.yaml"
    )
    assert [p["n_cases"] for p in s.effective] == [2, 3, 4, 5]
    assert s.metric == "smollm2-135m-instruct/quality"


@pytest.mark.unit
def test_an_unknown_model_in_a_grid_is_named(tmp_path):
    with pytest.raises(ParameterError, match="grid point 1 .*unknown model id 'nope'"):
        sweep.load("01_model_discovery", grid(tmp_path, "grid:\n  models: [[nope]]\n"))


@pytest.mark.unit
def test_the_page_ranks_measured_runs_best_first_and_escapes_values(tmp_path):
    record = {
        "sweep_id": "s",
        "notebook": "notebooks/toy.ipynb",
        "grid_file": "g.yaml",
        "swept": ["x"],
        "fixed": {},
        "metric": "score",
        "direction": "max",
        "executor": "local",
        "max_parallel": 1,
        "duration_s": 1.0,
        "succeeded": 2,
        "failed": 1,
        "skipped": 0,
        "runs": [
            {"swept": {"x": "<b>1</b>"}, "metrics": {"score": 0.1}, "status": "succeeded"},
            {"swept": {"x": 2}, "metrics": {}, "status": "failed", "cause": "<script>x</script>"},
            {"swept": {"x": 3}, "metrics": {"score": 0.3}, "status": "succeeded"},
        ],
    }
    for r in record["runs"]:
        r.update(cause=r.get("cause", ""), skipped=False, run_dir=None, run_id=None)
    ordered = sweep_page.ordered(record)
    assert [(r["swept"]["x"], r["rank"]) for r in ordered] == [(3, 1), ("<b>1</b>", 2), (2, None)]
    page = sweep_page.write(tmp_path, {**record, "runs": ordered}).read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "<b>1</b>" not in page and "not measured" in page
    assert "data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")


# --------------------------------------------------------------------------- running


def _sweep(toy, grid_file, *extra, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "sweep",
            str(toy),
            "--grid",
            str(grid_file),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _record(tmp_path) -> dict:
    (found,) = runs.list_sweeps(tmp_path / "reports")
    return found


@pytest.mark.integration
def test_a_local_sweep_survives_a_failed_run_and_resumes(toy, tmp_path):
    g = grid(tmp_path, "grid:\n  x: [1, 2, 3]\nmetric: score\n")
    out = _sweep(toy, g, "--max-parallel", "2")
    assert out.returncode == 1, out.stderr  # one run failed: the sweep says so
    assert "x=2" in out.stderr and "fails on purpose" in out.stderr
    record = _record(tmp_path)
    assert (record["succeeded"], record["failed"], record["skipped"]) == (2, 1, 0)
    assert [r["swept"]["x"] for r in record["runs"]] == [3, 1, 2]  # best first, failed last
    assert record["runs"][2]["rank"] is None and "fails on purpose" in record["runs"][2]["cause"]
    for r in record["runs"][:2]:
        run_record = runs.read_record(tmp_path / "reports" / r["run_dir"])
        assert run_record["sweep"] == {"id": record["sweep_id"], "point": r["point"]}
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"sweeps/{record['sweep_id']}/index.html" in index

    again = _sweep(toy, g, "--max-parallel", "2")  # only the failed point runs again
    assert again.returncode == 1
    assert "2 point(s) had already succeeded" in again.stdout
    assert again.stdout.count("[1/1]") == 1
    record = _record(tmp_path)
    assert record["skipped"] == 2 and record["failed"] == 1
    assert len(runs.list_runs(tmp_path / "reports")) == 4  # 3 + the failed point once more


@pytest.mark.integration
def test_a_ray_sweep_brings_each_run_back_to_the_drivers_reports(toy, tmp_path, ray_session):
    g = grid(tmp_path, "grid:\n  x: [1, 2, 3]\nmetric: score\n")
    s = sweep.load(toy, g)
    lines: list[str] = []
    record = sweep.run(s, executor="ray", max_parallel=2, echo=lines.append)
    assert len(lines) == 3 and sum("failed" in x for x in lines) == 1
    assert (record["succeeded"], record["failed"]) == (2, 1)
    folders = [tmp_path / "reports" / r["run_dir"] for r in record["runs"] if r["run_dir"]]
    assert len(folders) == 3  # the failed run's folder comes back too
    assert [r["metrics"]["nice"] for r in record["runs"] if r["metrics"]] == [0, 0]
    for folder in folders:
        assert (folder / runs.REPORT).is_file() and folder.parent.name == "toy"
        assert json.loads((folder / runs.RECORD).read_text())["sweep"]["id"] == s.sweep_id
    resumed = sweep.run(s, executor="ray", max_parallel=2)
    assert resumed["skipped"] == 2


@pytest.mark.integration
def test_ray_not_reachable_is_a_clear_error_not_a_hang(toy, tmp_path):
    from conftest import free_port

    g = grid(tmp_path, "grid:\n  x: [1]\n")
    address = {"RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    out = _sweep(toy, g, "--executor", "ray", env=address, timeout=60)
    assert out.returncode == 2 and "Ray is not reachable at RAY_ADDRESS=127.0.0.1:" in out.stderr
    assert not (tmp_path / "reports" / "toy").exists()


@pytest.mark.integration
def test_an_unknown_executor_is_an_error(toy, tmp_path):
    out = _sweep(toy, grid(tmp_path, "grid:\n  x: [1]\n"), "--executor", "dask")
    assert out.returncode == 2 and "unknown executor 'dask'; known: local, ray" in out.stderr
