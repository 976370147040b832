"""Judge calibration: agreement figures checked against hand-computed and scikit-learn values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from workbench import calibration


@pytest.mark.unit
def test_perfect_rubric_agreement_is_one_with_a_tight_interval():
    h = [1, 2, 3, 4, 5] * 6
    out = calibration.rubric_agreement(h, h)
    assert out["n"] == 30 and out["unscored"] == 0
    for name in ("kappa_weighted", "kappa", "spearman", "exact_agreement", "within_one"):
        assert out[name]["value"] == pytest.approx(1.0)
        assert out[name]["low"] == pytest.approx(1.0)
    assert int(np.trace(out["confusion"].to_numpy())) == 30


@pytest.mark.unit
def test_rubric_figures_match_scikit_learn_and_count_unscored_items():
    rng = np.random.default_rng(3)
    h = rng.integers(1, 6, 60)
    j = np.clip(h + rng.integers(-1, 2, 60), 1, 5).astype(float)
    j[[4, 9]] = np.nan  # two replies the judge could not score
    out = calibration.rubric_agreement(h, j)
    keep = ~np.isnan(j)
    expected = cohen_kappa_score(
        h[keep], j[keep].astype(int), weights="quadratic", labels=range(1, 6)
    )
    assert out["kappa_weighted"]["value"] == pytest.approx(expected)
    assert out["n"] == 58 and out["unscored"] == 2
    assert out["within_one"]["value"] == 1.0
    assert (
        out["kappa_weighted"]["low"]
        < out["kappa_weighted"]["value"]
        < out["kappa_weighted"]["high"]
    )
    assert out["confusion"].loc[3].sum() == int((h[keep] == 3).sum())


@pytest.mark.unit
def test_a_judge_that_always_says_the_same_has_no_defined_correlation():
    out = calibration.rubric_agreement([1, 2, 3, 4, 5, 2], [3, 3, 3, 3, 3, 3])
    assert out["spearman"]["value"] is None  # never a misleading 0
    assert out["kappa_weighted"]["value"] == pytest.approx(0.0)


@pytest.mark.unit
def test_missing_human_labels_are_an_error_not_a_silent_drop():
    with pytest.raises(ValueError, match="1 item"):
        calibration.rubric_agreement([1, np.nan, 3], [1, 2, 3])


@pytest.mark.unit
def test_pairwise_agreement_consistency_and_position_bias():
    # A judge that always prefers whatever it is shown first: inconsistent on every item.
    human = ["X", "Y", "X", "tie"] * 5
    first = ["X"] * 20  # X shown first: picks X
    second = ["Y"] * 20  # Y shown first: picks Y
    out = calibration.pairwise_agreement(human, first, second)
    assert out["position_bias"]["value"] == 1.0
    assert out["consistency"]["value"] == 0.0
    assert out["agreement"]["value"] == pytest.approx(0.25)  # its ties meet the human's ties only
    fair = calibration.pairwise_agreement(["X", "Y"] * 10, ["X", "Y"] * 10, ["X", "Y"] * 10)
    assert fair["agreement"]["value"] == 1.0 and fair["position_bias"]["value"] == 0.5
    unparsed = calibration.pairwise_agreement(["X", "Y"], [None, "Y"], ["X", "Y"])
    assert unparsed["n"] == 1 and unparsed["unscored"] == 1
    with pytest.raises(ValueError, match="X, Y or tie"):
        calibration.pairwise_agreement(["A"], ["X"], ["X"])


@pytest.mark.unit
def test_disagreements_put_unscored_items_first_then_the_largest_gaps():
    items = pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "human": [5, 1, 3, 2], "judge": [1, 2, np.nan, 2]}
    )
    out = calibration.disagreements(items, "human", "judge", k=3)
    assert list(out["id"]) == ["c", "a", "b"]


def _results_from_shipped(judge_scores: dict[str, float] | None = None) -> pd.DataFrame:
    """A results frame holding the shipped human-labelled answers, as notebook 02 builds it."""
    import json

    from workbench import config

    path = config.datasets_dir() / "human_labels" / "qa_rubric_items.jsonl"
    items = [json.loads(x) for x in path.read_text().splitlines()]
    return pd.DataFrame(
        {
            "case_id": [i["case_id"] for i in items],
            "variant": [i["variant"] for i in items],
            "output": [i["answer"] for i in items],
            "reference": [i["reference"] for i in items],
            "error": [None] * len(items),
            "judge_score": [(judge_scores or {}).get(i["id"], 0.0) for i in items],
        }
    )


@pytest.mark.integration
def test_the_shipped_human_labels_are_what_their_script_writes(tmp_path):
    import filecmp
    import shutil
    import subprocess
    import sys

    from workbench import config

    folder = config.datasets_dir() / "human_labels"
    copy = tmp_path / "human_labels"
    shutil.copytree(folder, copy)
    (tmp_path / "tasks").mkdir()
    shutil.copy(config.datasets_dir() / "tasks" / "qa.jsonl", tmp_path / "tasks")
    subprocess.run(
        [sys.executable, str(copy / "make_human_labels.py")], check=True, capture_output=True
    )
    for name in ("qa_rubric_items", "qa_rubric_labels", "qa_pairwise_items", "qa_pairwise_labels"):
        assert filecmp.cmp(folder / f"{name}.jsonl", copy / f"{name}.jsonl", shallow=False), name
    assert sum(1 for _ in (folder / "qa_rubric_labels.jsonl").open()) == 50
    assert sum(1 for _ in (folder / "qa_pairwise_labels.jsonl").open()) == 20


@pytest.mark.unit
def test_against_humans_matches_the_same_answers_only_and_says_how_many():
    results = _results_from_shipped()  # a judge that gives every answer the lowest score
    results.loc[0, "output"] = "a different answer now"  # the model changed: not compared
    out = calibration.against_humans("qa", results)
    assert "49 of the 50 judged answers" in out["summary"]
    r = out["record"]["rubric"]
    assert r["n"] == 49 and r["kappa_weighted"]["value"] == pytest.approx(0.0)
    assert "no better than chance" in out["summary"] or "slight" in out["summary"]
    assert "Largest disagreements" in out["tables"]


@pytest.mark.unit
def test_a_judge_that_scores_like_the_person_agrees_almost_perfectly():
    import json

    from workbench import config

    labels = [
        json.loads(x)
        for x in (config.datasets_dir() / "human_labels" / "qa_rubric_labels.jsonl")
        .read_text()
        .splitlines()
    ]
    scores = {row["item_id"]: (row["label"] - 1) / 4 for row in labels}
    out = calibration.against_humans("qa", _results_from_shipped(scores))
    assert out["record"]["rubric"]["kappa_weighted"]["value"] == pytest.approx(1.0)
    assert "almost perfect" in out["summary"]


@pytest.mark.unit
def test_a_task_without_human_labels_says_its_judge_is_unchecked():
    out = calibration.against_humans("sentiment", pd.DataFrame())
    assert "has not been compared with a person" in out["summary"] and not out["tables"]
