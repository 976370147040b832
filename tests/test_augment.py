"""workbench.augment: seeded, label-preserving noise linked to its parent."""

import random

import pytest

from workbench import augment

ROW = {
    "id": "r1",
    "input": "We sell apples, pears and plums at the market every Sunday.",
    "reference": "neutral",
}


@pytest.mark.unit
@pytest.mark.parametrize("kind", augment.NOISE_KINDS)
def test_each_noise_kind_is_deterministic_and_changes_text(kind):
    a = augment.noise(ROW["input"], kind, random.Random(1))
    b = augment.noise(ROW["input"], kind, random.Random(1))
    assert a == b and a != ROW["input"]


@pytest.mark.unit
def test_list_order_keeps_the_items():
    out = augment.noise(ROW["input"], "list_order", random.Random(3))
    for item in ("apples", "pears", "plums"):
        assert item in out
    assert out.endswith("at the market every Sunday.")


@pytest.mark.unit
def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown noise kind"):
        augment.noise("x", "shouting", random.Random(0))


@pytest.mark.unit
def test_augment_noise_keeps_label_and_links_parent():
    [copy] = augment.augment_noise([ROW], seed=0)
    assert copy["reference"] == "neutral" and copy["parent_id"] == "r1"
    assert copy["strategy"].startswith("noise:")
    assert augment.augment_noise([ROW], seed=0) == [copy]


@pytest.mark.unit
def test_qa_noise_changes_the_question_not_the_context():
    row = {
        "id": "q",
        "input": "Context: Hotels up to 140 EUR.\nQuestion: How much is the hotel limit?",
        "question": "How much is the hotel limit?",
        "reference": "140 EUR",
    }
    for seed in range(5):
        for copy in augment.augment_noise([row], seed=seed):
            assert copy["input"].startswith("Context: Hotels up to 140 EUR.\nQuestion: ")


@pytest.mark.unit
def test_first_line_skips_preambles():
    assert augment.first_line('Here\'s a new example:\n\n"Great tea."') == "Great tea."
    assert augment.first_line("- Text: Lovely shop") == "Lovely shop"


@pytest.mark.integration
def test_a_paraphrase_that_copies_its_parent_is_rejected(datasets_copy):
    from conftest import add_catalog_entry, fake_model_entry
    from fake_openai import FakeOpenAIServer

    # r2 is the longer prompt: generate_many sends shorter prompts first, in the script's order.
    rows = [
        dict(ROW),
        {
            **ROW,
            "id": "r2",
            "input": "The delivery arrived two days late and the driver left it in the rain.",
        },
    ]
    with FakeOpenAIServer(
        script=[
            "say:" + ROW["input"].upper(),
            "say:My parcel came 48 hours after the promised date.",
        ]
    ) as srv:
        add_catalog_entry(datasets_copy, **fake_model_entry("para", srv.base_url))
        kept, rejected = augment.augment_paraphrase("para", rows, concurrency=1)
    assert [r["parent_id"] for r in kept] == ["r2"]
    [copy] = rejected
    assert copy["parent_id"] == "r1" and "near copy of its parent" in copy["reject_reason"]
