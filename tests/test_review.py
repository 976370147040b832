"""The review widget driven as a user would, without a browser: keys and buttons write labels,
a new widget resumes, a pair's order is drawn and recorded, errors show in the widget."""

from __future__ import annotations

import json

import pytest

from workbench import review

ITEMS = [
    {"id": f"q{i}", "question": f"Q{i}?", "answer": f"<b>answer {i}</b>", "reference": f"ref {i}"}
    for i in range(5)
]
PAIRS = [
    {"id": f"p{i}", "question": f"Q{i}?", "answer_x": f"x{i}", "answer_y": f"y{i}"}
    for i in range(6)
]


def _widget(path, items, kind, fields=("question",)):
    """The widget a reviewer 'ann' sees over `items`, writing to `path`."""
    return review._Review(
        review.LabelStore(path, items, kind), kind, list(fields), (1, 5), "ann", "reference"
    )


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.mark.unit
def test_keys_label_items_in_order_and_a_new_widget_resumes(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_HEADLESS", raising=False)
    path = tmp_path / "labels.jsonl"
    widget = _widget(path, ITEMS, "rubric", ("question", "answer"))
    assert "Item 1 of 5" in widget.header.value
    assert "&lt;b&gt;answer 0" in widget.body.value  # model text is escaped
    for key in ("4", "x", "2", "5"):  # "x" is no shortcut: said, nothing written
        widget.key.value = key
    assert widget.status.value.startswith("saved q2")
    rows = _lines(path)
    assert [(r["item_id"], r["label"]) for r in rows] == [("q0", 4), ("q1", 2), ("q2", 5)]
    assert all(r["reviewer"] == "ann" and r["seconds"] is not None for r in rows)
    again = _widget(path, ITEMS, "rubric")
    assert "Item 4 of 5" in again.header.value
    again.buttons[0].click()
    again.buttons[4].click()
    assert "All 5 item(s) labelled" in again.header.value
    assert [r["label"] for r in _lines(path)][-2:] == [1, 5]


@pytest.mark.unit
def test_an_unknown_key_is_said_and_writes_nothing(tmp_path):
    path = tmp_path / "labels.jsonl"
    widget = _widget(path, ITEMS, "rubric")
    widget.key.value = "9"
    assert "no shortcut" in widget.status.value and not path.exists()


@pytest.mark.unit
def test_a_pair_is_shown_in_a_drawn_order_and_labelled_in_x_y_terms(tmp_path):
    path = tmp_path / "pairs.jsonl"
    widget = _widget(path, PAIRS, "pairwise")
    firsts = [review.shown_first(p, "ann") for p in PAIRS]
    assert set(firsts) == {"X", "Y"}  # both orders occur over six items
    for _ in PAIRS:
        widget.key.value = "a"  # always the answer shown first
    rows = _lines(path)
    assert [r["label"] for r in rows] == firsts and [r["shown_first"] for r in rows] == firsts


@pytest.mark.unit
def test_an_edit_without_text_is_refused_in_the_widget(tmp_path):
    path = tmp_path / "rows.jsonl"
    widget = _widget(path, ITEMS, "decision")
    widget.edited.value = "  "
    widget.key.value = "e"
    assert "needs the edited text" in widget.status.value and not path.exists()
    widget.edited.value = "a better reference"
    widget.reason.value = "the reference was wrong"
    widget.key.value = "e"
    (row,) = _lines(path)
    assert row["label"] == "edit" and row["edited"] == "a better reference"
    assert row["reason"] == "the reference was wrong"


@pytest.mark.unit
def test_headless_review_is_a_static_table(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HEADLESS", "1")
    out = review.review(ITEMS, tmp_path / "l.jsonl", kind="rubric")
    assert "0 of 5 item(s) labelled" in out.data and "<table" in out.data
