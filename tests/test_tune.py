"""workbench.tune: training examples in the evaluation's own form, and the leakage check."""

from __future__ import annotations

import pytest

from workbench import data, tune
from workbench.discovery import build_requests


@pytest.mark.unit
def test_training_examples_are_the_requests_the_evaluation_sends():
    task = data.load_task("hr_intents", track=False)
    [request] = build_requests(task, n_cases=1, repeats=1, max_tokens=8, seed=0)
    case = next(c for c in task.cases if c["id"] == request.metadata["case_id"])
    [example] = tune.examples(task, [case])
    assert example["prompt"] == request.messages
    assert example["completion"] == [{"role": "assistant", "content": case["reference"]}]


@pytest.mark.unit
def test_too_small_a_training_set_names_the_file(datasets_copy):
    (datasets_copy / "tuning" / "tiny.jsonl").write_text(
        '{"id": "a", "input": "x", "reference": "y"}\n'
    )
    with pytest.raises(data.DataError, match=r"tiny.jsonl: 1 training row\(s\); at least 50"):
        tune.load_training_rows("tuning/tiny.jsonl", min_rows=50)
    assert len(tune.load_training_rows("tuning/hr_intents_train.jsonl", min_rows=200)) == 208


@pytest.mark.integration
def test_leakage_finds_copies_and_near_copies_and_passes_the_shipped_split():
    train = tune.load_training_rows("tuning/hr_intents_train.jsonl")
    held_out = data.load_task("hr_intents", track=False).cases
    clean = tune.leakage(train, held_out)
    assert clean.ok and clean.closest < 0.7 and clean.compared == (64, 208)
    assert clean.summary().startswith("No leakage: 64 held-out rows against 208 training rows")
    copy = {"id": "copy", "input": "  " + train[0]["input"].upper() + " ", "reference": "x"}
    near = {"id": "near", "input": train[1]["input"].rstrip(".?!") + " please?", "reference": "x"}
    report = tune.leakage(train, [*held_out[:3], copy, near])
    found = {leak.eval_id: leak for leak in report.leaks}
    assert set(found) == {"copy", "near"}
    assert found["copy"].exact and found["copy"].train_id == train[0]["id"]
    assert not found["near"].exact and found["near"].train_id == train[1]["id"]
    assert found["near"].similarity >= tune.data.NEAR_COPY
    assert report.summary().startswith("Leakage: 2 of 5 held-out rows")
