"""Run comparison: parameters that differ, metrics with their change and intervals, flipped
cases from the runs' per-case tables, and the widget's static form."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from workbench import comparison, widgets
from workbench.errors import RunError


def _run(root, notebook, run_id, params, metrics, results=None):
    folder = root / notebook / run_id
    folder.mkdir(parents=True)
    record = {"run_id": run_id, "notebook": f"notebooks/{notebook}.ipynb", "status": "succeeded",
              "started_at": run_id, "parameters": params, "metrics": metrics, "git": {"commit": "c" * 40}}  # fmt: skip # a record
    (folder / "run.json").write_text(json.dumps(record))
    if results is not None:
        pd.DataFrame(results).to_json(folder / "results.jsonl", orient="records", lines=True)
    return folder


def _rows(scores):
    return [
        {"variant": "v", "case_id": f"c{i}", "repeat": 0, "output": f"<i>answer {i}</i>",
         "token_f1": s, "latency_s": 1.0 + i}
        for i, s in enumerate(scores)
    ]  # fmt: skip # one row per case


@pytest.mark.unit
def test_two_runs_differ_in_parameters_metrics_and_flipped_cases(tmp_path):
    a = _run(tmp_path, "02_prompt_iteration", "20260101T000000Z-aaaaaa", {"n_cases": 3, "seed": 0},
             {"v/token_f1": 0.5, "v/token_f1_ci_low": 0.3, "v/token_f1_ci_high": 0.7, "best": "v"},
             _rows([0.0, 1.0, 0.5]))  # fmt: skip # a run
    b = _run(tmp_path, "02_prompt_iteration", "20260102T000000Z-bbbbbb", {"n_cases": 3, "seed": 1},
             {"v/token_f1": 0.6, "best": "w"}, _rows([1.0, 1.0, 0.4]))  # fmt: skip # a run
    out = comparison.compare(a, b, threshold=0.25)
    assert out["parameters"].to_dict("records") == [
        {"parameter": "seed", "run A": "0", "run B": "1"}
    ]
    m = out["metrics"].set_index("metric")
    assert m.loc["v/token_f1", "change"] == pytest.approx(0.1)
    assert (
        m.loc["v/token_f1", "A interval"] == "[0.3, 0.7]"
        and m.loc["v/token_f1", "B interval"] == ""
    )
    assert pd.isna(m.loc["best", "change"])  # text metrics are shown, not subtracted
    assert "v/token_f1_ci_low" not in m.index
    f = out["flipped"]
    assert list(f["case_id"]) == ["c0"] and f.loc[0, "metric"] == "token_f1"  # c2 moved 0.1 only
    html = widgets._comparison_html(a, b, 0.25)
    assert "&lt;i&gt;answer 0" in html and "<i>answer" not in html


@pytest.mark.unit
def test_runs_of_two_notebooks_are_not_compared(tmp_path):
    a = _run(tmp_path, "01_model_discovery", "20260101T000000Z-aaaaaa", {}, {})
    b = _run(tmp_path, "02_prompt_iteration", "20260101T000000Z-bbbbbb", {}, {})
    with pytest.raises(RunError, match="different notebooks"):
        comparison.compare(a, b)
    assert "different notebooks" in widgets._comparison_html(a, b, 0.25)


@pytest.mark.unit
def test_headless_compare_runs_shows_the_two_newest_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HEADLESS", "1")
    _run(tmp_path, "02_prompt_iteration", "20260101T000000Z-aaaaaa", {"seed": 0}, {"m": 1.0})
    out = widgets.compare_runs("02_prompt_iteration", root=tmp_path)
    assert "two are needed" in out.data
    _run(tmp_path, "02_prompt_iteration", "20260102T000000Z-bbbbbb", {"seed": 1}, {"m": 2.0})
    out = widgets.compare_runs("02_prompt_iteration", root=tmp_path)
    assert "Parameters that differ" in out.data and "20260102T000000Z-bbbbbb" in out.data
