"""workbench.augment: seeded, label-preserving noise linked to its parent."""

import random

import pytest

from workbench import augment

ROW = {
    "id": "r1",
    "input": "We sell apples, pears and plums at the market every Sunday.",
    "reference": "neutral",
}


@pytest.mark.parametrize("kind", augment.NOISE_KINDS)
def test_each_noise_kind_is_deterministic_and_changes_text(kind):
    a = augment.noise(ROW["input"], kind, random.Random(1))
    b = augment.noise(ROW["input"], kind, random.Random(1))
    assert a == b and a != ROW["input"]


def test_list_order_keeps_the_items():
    out = augment.noise(ROW["input"], "list_order", random.Random(3))
    for item in ("apples", "pears", "plums"):
        assert item in out
    assert out.endswith("at the market every Sunday.")


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown noise kind"):
        augment.noise("x", "shouting", random.Random(0))


def test_augment_noise_keeps_label_and_links_parent():
    [copy] = augment.augment_noise([ROW], seed=0)
    assert copy["reference"] == "neutral" and copy["parent_id"] == "r1"
    assert copy["strategy"].startswith("noise:")
    assert augment.augment_noise([ROW], seed=0) == [copy]


def test_qa_noise_changes_the_question_not_the_context():
    row = {"id": "q", "input": "Context: Hotels up to 140 EUR.\nQuestion: How much is the hotel limit?",
           "question": "How much is the hotel limit?", "reference": "140 EUR"}  # fmt: skip
    for seed in range(5):
        for copy in augment.augment_noise([row], seed=seed):
            assert copy["input"].startswith("Context: Hotels up to 140 EUR.\nQuestion: ")


def test_first_line_skips_preambles():
    assert augment.first_line('Here\'s a new example:\n\n"Great tea."') == "Great tea."
    assert augment.first_line("- Text: Lovely shop") == "Lovely shop"
