"""workbench.data: task loading and clear errors on malformed files."""

import pytest

from workbench import data


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


def test_sampling_is_seeded():
    task = data.load_task("qa", track=False)
    assert task.sample(5, seed=1) == task.sample(5, seed=1)
    assert task.sample(5, seed=1) != task.sample(5, seed=2)
    assert len(task.sample(0)) == len(task.cases)


def test_malformed_line_names_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "input": "x", "reference": "y"}\n{"id": "b", "input": \n')
    with pytest.raises(data.DataError, match=r"bad.jsonl:2: not valid JSON"):
        data.read_jsonl(f, required=("id", "input", "reference"))


def test_missing_field_and_duplicate_id(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "input": "x"}\n')
    with pytest.raises(data.DataError, match=r"t.jsonl:1: missing field\(s\) reference"):
        data.read_jsonl(f, required=("id", "input", "reference"))
    f.write_text('{"id": "a", "input": "x", "reference": "y"}\n' * 2)
    with pytest.raises(data.DataError, match=r"t.jsonl:2: duplicate id 'a'"):
        data.read_jsonl(f, required=("id",))


def test_unknown_task_and_unknown_metric(datasets_copy):
    with pytest.raises(data.DataError, match="known tasks: .*sentiment"):
        data.load_task("nope")
    spec = datasets_copy / "tasks" / "qa.yaml"
    spec.write_text(spec.read_text().replace("metrics: [token_f1, exact_match]", "metrics: [blue]"))
    with pytest.raises(data.DataError, match=r"qa.yaml: unknown metric 'blue'"):
        data.load_task("qa")
