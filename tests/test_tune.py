"""workbench.tune: training examples in the evaluation's own form, and the leakage check."""

from __future__ import annotations

import json

import pytest
from conftest import add_catalog_entry, fake_model_entry

from workbench import data, tune
from workbench.discovery import build_requests
from workbench.errors import CatalogError, ParameterError


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


@pytest.mark.unit
def test_settings_name_the_parameter_at_fault():
    assert tune.settings(rank=4, learning_rate=1e-3).rank == 4
    with pytest.raises(ParameterError, match="rank"):
        tune.settings(rank=0)
    with pytest.raises(ParameterError, match="learning_rate"):
        tune.settings(learning_rate="fast")
    with pytest.raises(ParameterError, match="target_modules"):
        tune.settings(target_modules=[])
    with pytest.raises(ParameterError, match="lora_rank"):
        tune.settings(lora_rank=8)


@pytest.mark.unit
def test_only_a_local_base_model_can_be_trained(datasets_copy):
    add_catalog_entry(datasets_copy, **fake_model_entry("remote", "http://127.0.0.1:9/v1"))
    with pytest.raises(ParameterError, match="'remote' is served by 'openai'; an HTTP endpoint"):
        tune.trainable("remote")
    with pytest.raises(CatalogError, match="unknown model id 'nope'"):
        tune.trainable("nope")
    assert tune.trainable("smollm2-135m-instruct").id == "smollm2-135m-instruct"


@pytest.mark.unit
def test_split_is_seeded_and_checks_its_sizes():
    rows = [{"id": str(i), "input": str(i), "reference": "x"} for i in range(30)]
    train, validation = tune.split(rows, n_train=0, n_validation=6, seed=1)
    assert len(train) == 24 and len(validation) == 6
    assert {r["id"] for r in train}.isdisjoint(r["id"] for r in validation)
    assert (train, validation) == tune.split(rows, n_train=0, n_validation=6, seed=1)
    assert len(tune.split(rows, n_train=10, n_validation=6)[0]) == 10
    with pytest.raises(ParameterError, match="'n_validation' \\(30\\) leaves no training rows"):
        tune.split(rows, n_train=0, n_validation=30)
    with pytest.raises(ParameterError, match="'n_train' must be between 0 \\(all\\) and 24"):
        tune.split(rows, n_train=25, n_validation=6)


class WordTokenizer:
    """Test double of a tokenizer: one token per word, the chat template joins the contents."""

    def apply_chat_template(self, messages, tokenize=False):
        return " ".join(m["content"] for m in messages)

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


@pytest.mark.unit
def test_a_max_length_below_a_training_row_names_the_row():
    task = data.load_task("hr_intents", track=False)
    rows = [
        {"id": "short", "input": "a", "reference": "leave"},
        {"id": "long", "input": "a " * 40, "reference": "leave"},
    ]
    conversations = tune.examples(task, rows)
    longest = tune.data.check_lengths(WordTokenizer(), conversations, ["short", "long"], 200)
    with pytest.raises(
        ParameterError,
        match=rf"'max_length' \(30\) is shorter than training row 'long' \({longest} tokens",
    ):
        tune.data.check_lengths(WordTokenizer(), conversations, ["short", "long"], 30)


@pytest.mark.unit
def test_prepare_refuses_a_task_without_references_and_a_small_training_set(datasets_copy):
    spec = (datasets_copy / "tasks" / "hr_intents.yaml").read_text()
    (datasets_copy / "tasks" / "blank.yaml").write_text(
        spec.replace("name: hr_intents", "name: blank").replace("hr_intents.jsonl", "blank.jsonl")
    )
    (datasets_copy / "tasks" / "blank.jsonl").write_text(
        '{"id": "b-1", "input": "x", "reference": ""}\n'
    )  # an empty reference counts as none
    with pytest.raises(data.DataError, match=r"blank.jsonl:1: missing field\(s\) reference"):
        tune.prepare(
            "smollm2-135m-instruct",
            "blank",
            "tuning/hr_intents_train.jsonl",
            n_train=0,
            n_validation=8,
            max_length=128,
        )
    (datasets_copy / "tuning" / "few.jsonl").write_text(
        '{"id": "a", "input": "x", "reference": "leave"}\n'
    )
    with pytest.raises(data.DataError, match=r"few.jsonl: 1 training row\(s\); at least 20"):
        tune.prepare(
            "smollm2-135m-instruct",
            "hr_intents",
            "tuning/few.jsonl",
            n_train=0,
            n_validation=8,
            max_length=128,
        )


@pytest.mark.integration
def test_prepare_refuses_held_out_rows_copied_into_training(datasets_copy):
    held_out = data.read_jsonl(datasets_copy / "tasks" / "hr_intents.jsonl")
    path = datasets_copy / "tuning" / "hr_intents_train.jsonl"
    with path.open("a") as fh:
        fh.write(json.dumps({**held_out[5], "id": "copied"}) + "\n")
    with pytest.raises(
        data.DataError, match=rf"Leakage: 1 of 64 .* {held_out[5]['id']}~copied \(1.00\)"
    ):
        tune.prepare(
            "smollm2-135m-instruct",
            "hr_intents",
            "tuning/hr_intents_train.jsonl",
            n_train=0,
            n_validation=8,
            max_length=128,
        )


@pytest.mark.integration
def test_prepare_checks_the_sequence_length_with_the_model_chat_template():
    prepared = tune.prepare(
        "smollm2-135m-instruct",
        "hr_intents",
        "tuning/hr_intents_train.jsonl",
        n_train=0,
        n_validation=8,
        max_length=128,
    )
    assert prepared.sizes() == {"train": 200, "validation": 8, "held_out": 64}
    assert prepared.leakage.ok and 40 < prepared.longest_tokens < 128
    with pytest.raises(ParameterError, match=r"'max_length' \(40\) is shorter than training row"):
        tune.prepare(
            "smollm2-135m-instruct",
            "hr_intents",
            "tuning/hr_intents_train.jsonl",
            n_train=0,
            n_validation=8,
            max_length=40,
        )
