"""workbench.data: task loading and clear errors on malformed files."""

import pytest

from workbench import data


@pytest.mark.unit
def test_every_project_task_loads_with_30_cases():
    for name in [
        "sentiment",
        "translation",
        "summarisation",
        "extraction",
        "qa",
        "customer_service",
    ]:
        task = data.load_task(name, track=False)
        assert len(task.cases) >= 30 and task.primary_metric in task.metrics


@pytest.mark.unit
def test_sampling_is_seeded():
    task = data.load_task("qa", track=False)
    assert task.sample(5, seed=1) == task.sample(5, seed=1)
    assert task.sample(5, seed=1) != task.sample(5, seed=2)
    assert len(task.sample(0)) == len(task.cases)


@pytest.mark.unit
def test_malformed_line_names_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "input": "x", "reference": "y"}\n{"id": "b", "input": \n')
    with pytest.raises(data.DataError, match=r"bad.jsonl:2: not valid JSON"):
        data.read_jsonl(f, required=("id", "input", "reference"))


@pytest.mark.unit
def test_missing_field_and_duplicate_id(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "input": "x"}\n')
    with pytest.raises(data.DataError, match=r"t.jsonl:1: missing field\(s\) reference"):
        data.read_jsonl(f, required=("id", "input", "reference"))
    f.write_text('{"id": "a", "input": "x", "reference": "y"}\n' * 2)
    with pytest.raises(data.DataError, match=r"t.jsonl:2: duplicate id 'a'"):
        data.read_jsonl(f, required=("id",))


@pytest.mark.unit
def test_row_check_gets_the_real_line_past_blank_lines(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "a", "n": 1}\n\n{"id": "b", "n": -1}\n')

    def positive(row, where):
        if row["n"] < 0:
            raise data.DataError(f"{where}: n must be positive")

    with pytest.raises(data.DataError, match=r"c.jsonl:3: n must be positive"):
        data.read_jsonl(f, check=positive)


@pytest.mark.unit
def test_unknown_task_and_unknown_metric(datasets_copy):
    with pytest.raises(data.DataError, match="known tasks: .*sentiment"):
        data.load_task("nope")
    spec = datasets_copy / "tasks" / "qa.yaml"
    spec.write_text(spec.read_text().replace("metrics: [token_f1, exact_match]", "metrics: [blue]"))
    with pytest.raises(data.DataError, match=r"qa.yaml: unknown metric 'blue'"):
        data.load_task("qa")


def _rows():
    return [
        {"id": "b", "input": "two", "reference": "y"},
        {"id": "a", "input": "one", "reference": "x"},
    ]


@pytest.mark.unit
def test_written_sets_are_named_by_content_and_load_with_pandas_and_datasets(tmp_path):
    spec = {"instruction": "Label it.", "metrics": ["exact_match"]}
    p1 = data.write_dataset(_rows(), tmp_path / "one", "mini", task_spec=spec, datasheet="# sheet")
    p2 = data.write_dataset(_rows(), tmp_path / "two", "mini", task_spec=spec)
    assert p1.name == p2.name and p1.read_bytes() == p2.read_bytes() and p1.name.startswith("mini-")
    assert (tmp_path / "one" / "mini.datasheet.md").read_text() == "# sheet"
    assert list(data.load_pandas(p1)["id"]) == ["b", "a"]
    ds = data.load_hf(p1)
    assert ds.num_rows == 2 and ds[1]["input"] == "one"
    task = data.load_task(tmp_path / "one" / "mini.yaml")
    assert task.name == "mini" and len(task.cases) == 2


def _run_folder(tmp_path, status="succeeded"):
    import json

    run = tmp_path / "run"
    data.write_dataset(
        _rows(),
        run / "synthetic",
        "synthetic",
        task_spec={"instruction": "x", "metrics": ["exact_match"]},
    )
    (run / "run.json").write_text(json.dumps({"run_id": "r1", "status": status}))
    return run


@pytest.mark.unit
def test_promote_copies_a_succeeded_run_into_tasks(tmp_path, datasets_copy):
    written = data.promote(_run_folder(tmp_path), "mini_reviews")
    assert written[0] == datasets_copy / "tasks" / "mini_reviews.yaml"
    task = data.load_task("mini_reviews")
    assert len(task.cases) == 2 and "promoted from run r1" in task.description
    with pytest.raises(data.DataError, match="already exists"):
        data.promote(_run_folder(tmp_path), "mini_reviews")


@pytest.mark.unit
def test_promote_refuses_failed_runs(tmp_path, datasets_copy):
    with pytest.raises(data.DataError, match="did not succeed"):
        data.promote(_run_folder(tmp_path, status="failed"), "x")


@pytest.mark.unit
def test_hr_intents_files_are_what_their_script_writes_and_share_no_row():
    import importlib.util
    import random
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "datasets"
    spec = importlib.util.spec_from_file_location(
        "make_hr_intents", root / "tuning" / "make_hr_intents.py"
    )
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    rng = random.Random(make.SEED)
    train = make.rows("train", make.TRAIN_PER_INTENT, rng)
    held_out = make.rows("eval", make.EVAL_PER_INTENT, rng)
    assert train == data.read_jsonl(root / "tuning" / "hr_intents_train.jsonl")
    assert held_out == data.read_jsonl(root / "tasks" / "hr_intents.jsonl")
    assert len(train) >= 200 and len(held_out) >= 60
    assert not {r["input"] for r in train} & {r["input"] for r in held_out}
    task = data.load_task("hr_intents", track=False)
    assert set(task.labels) == {r["reference"] for r in train} == {r["reference"] for r in held_out}


def _flagged_run(tmp_path):
    import json

    rows = [
        {"id": "a", "input": "one", "reference": "x", "needs_review": True, "review_reason": "pii"},
        {"id": "b", "input": "two", "reference": "y", "needs_review": True, "proposed_label": "z"},
        {"id": "c", "input": "three", "reference": "w", "needs_review": True},
        {"id": "d", "input": "four", "reference": "v", "needs_review": False},
    ]
    run = tmp_path / "flagged"
    data.write_dataset(rows, run / "synthetic", "synthetic",
                       task_spec={"instruction": "x", "metrics": ["exact_match"]})  # fmt: skip # one call
    (run / "run.json").write_text(json.dumps({"run_id": "r2", "status": "succeeded"}))
    return run, rows


@pytest.mark.unit
def test_promote_applies_a_reviews_decisions(tmp_path, datasets_copy):
    from workbench.labels import Label, LabelStore

    run, rows = _flagged_run(tmp_path)
    labels = tmp_path / "labels.jsonl"
    store = LabelStore(labels, data.review_items(rows), "decision")
    store.add(Label("a", "reject", "ann", reason="real personal data"))
    store.add(Label("b", "edit", "ann", edited="z", reason="the proposed label is right"))
    data.promote(run, "reviewed", labels=labels)
    task = data.load_task("reviewed")
    cases = {c["id"]: c for c in task.cases}
    assert set(cases) == {"b", "c", "d"}  # the rejected row is gone
    assert cases["b"]["reference"] == "z" and cases["b"]["review"]["label"] == "edit"
    assert cases["c"]["needs_review"] is True  # not reviewed: still flagged
    assert "review: 0 accept, 1 reject, 1 edit, 1 not reviewed" in task.description


@pytest.mark.unit
def test_promote_refuses_labels_of_another_review(tmp_path, datasets_copy):
    from workbench.labels import Label, LabelStore

    run, rows = _flagged_run(tmp_path)
    labels = tmp_path / "labels.jsonl"
    other = [dict(i, input=i["input"] + "!") for i in data.review_items(rows)]
    LabelStore(labels, other, "decision").add(Label("a", "accept", "ann"))
    with pytest.raises(data.DataError, match="belong to another set"):
        data.promote(run, "reviewed", labels=labels)
