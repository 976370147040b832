"""Human labels: appended one decision at a time, resumed, refused for another set, and safe
with two reviewers writing one file at once."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from workbench.errors import DataError, ParameterError
from workbench.labels import Label, LabelStore

ITEMS = [{"id": f"q{i}", "question": f"question {i}", "answer": f"answer {i}"} for i in range(6)]


@pytest.mark.unit
def test_labels_are_appended_and_a_reviewer_resumes_where_they_stopped(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path, ITEMS, "rubric")
    assert store.next_index("ann") == 0
    for i, score in enumerate([5, 3, 4]):
        store.add(Label(f"q{i}", score, "ann", seconds=1.5, reason="ok"))
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(lines) == 3 and lines[0]["label"] == 5 and lines[0]["reviewer"] == "ann"
    assert {"set", "item", "at", "seconds", "format"} <= set(lines[0])
    again = LabelStore(path, ITEMS, "rubric")  # a new kernel
    assert again.next_index("ann") == 3 and again.next_index("bob") == 0
    again.add(Label("q1", 2, "ann"))  # a changed mind: the later line wins
    assert again.latest("ann")["q1"]["label"] == 2


@pytest.mark.unit
def test_a_labels_file_of_another_set_is_refused_by_name(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, ITEMS, "rubric").add(Label("q0", 4, "ann"))
    changed = [dict(ITEMS[0], answer="a different answer"), *ITEMS[1:]]
    with pytest.raises(DataError, match=r"labels.jsonl:1: these labels belong to another set"):
        LabelStore(path, changed, "rubric")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kind", "label", "message"),
    [
        ("rubric", "5", "whole number"),
        ("pairwise", "A", "X, Y or tie"),
        ("decision", "maybe", "accept, reject or edit"),
        ("decision", "edit", "needs the edited text"),
    ],
)
def test_a_bad_label_is_refused(tmp_path, kind, label, message):
    with pytest.raises(ParameterError, match=message):
        LabelStore(tmp_path / "l.jsonl", ITEMS, kind).add(Label("q0", label, "ann"))


@pytest.mark.unit
def test_an_empty_set_or_items_without_ids_cannot_be_reviewed(tmp_path):
    with pytest.raises(ParameterError, match="the set is empty"):
        LabelStore(tmp_path / "l.jsonl", [], "rubric")
    with pytest.raises(ParameterError, match="unique, non-empty 'id'"):
        LabelStore(tmp_path / "l.jsonl", [{"id": "a"}, {"id": "a"}], "rubric")


def _write_many(path: str, reviewer: str) -> None:
    store = LabelStore(path, ITEMS, "rubric")
    for n in range(300):
        store.add(Label(f"q{n % 6}", n % 5 + 1, reviewer, reason="x" * (n % 50)))


@pytest.mark.integration
def test_two_reviewers_writing_one_file_at_once_lose_and_interleave_nothing(tmp_path):
    path = str(tmp_path / "labels.jsonl")
    procs = [multiprocessing.Process(target=_write_many, args=(path, r)) for r in ("ann", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]  # every line whole JSON
    assert len(rows) == 600
    assert sum(r["reviewer"] == "ann" for r in rows) == 300
