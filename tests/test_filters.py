"""workbench.filters: planted duplicates and ungrounded answers are removed and counted."""

import pytest

from workbench import filters


def _row(i, text, answer="140 EUR", support="Hotels are reimbursed up to 140 EUR per night.", **kw):
    return {"id": f"r{i}", "input": text, "reference": answer, "supporting_text": support, **kw}


@pytest.mark.integration
def test_planted_duplicates_and_ungrounded_answers_are_removed_and_counted():
    rows = [
        _row(1, "What is the hotel limit per night?"),
        _row(2, "What is the hotel limit per night?"),  # exact duplicate
        _row(3, "what is the HOTEL limit per night"),  # exact after normalisation
        _row(4, "What's the nightly hotel limit?"),  # near duplicate
        _row(5, "How much is the daily meal allowance?", answer="45 EUR"),  # not in its support
        _row(
            6,
            "Which class is used for long train trips?",
            answer="first class",
            support="Trains: first class for longer trips.",
        ),
        _row(7, ""),  # invalid
    ]
    result = filters.apply_filters(rows, dedup_threshold=0.85)
    assert dict(result.funnel) == {
        "generated": 7,
        "valid": 6,
        "unique": 3,
        "grounded": 2,
        "accepted": 2,
    }
    reasons = {r["id"]: (r["reject_step"], r["reject_reason"]) for r in result.rejected}
    assert (
        reasons["r2"][1] == "exact duplicate of r1" and reasons["r3"][1] == "exact duplicate of r1"
    )
    assert reasons["r4"][0] == "unique" and reasons["r4"][1].startswith("near duplicate of r1")
    assert reasons["r5"] == ("grounded", "answer not supported by its source text")
    assert reasons["r7"] == ("valid", "missing input")
    assert len(result.accepted) + len(result.rejected) == 7


@pytest.mark.integration
def test_copies_of_the_source_data_are_removed_but_augmented_copies_of_a_parent_stay():
    seeds = ["The coffee is rich and smooth."]
    rows = [
        {"id": "a", "input": "The coffee is rich and smooth.", "reference": "positive"},
        {"id": "b", "input": "The tea was cold and bitter today.", "reference": "negative"},
        {
            "id": "c",
            "input": "THE TEA WAS COLD AND BITTER TODAY.",
            "reference": "negative",
            "parent_id": "b",
        },
    ]
    result = filters.apply_filters(rows, against=seeds)
    assert [r["id"] for r in result.accepted] == ["b", "c"]
    assert result.rejected[0]["reject_reason"] == "exact duplicate of source data"


@pytest.mark.integration
def test_personal_data_is_scrubbed_and_flagged_for_review():
    rows = [
        {
            "id": "p",
            "input": "Please email me at jo@example.com about my order.",
            "reference": "neutral",
        }
    ]
    [row] = filters.apply_filters(rows).accepted
    assert row["input"] == "Please email me at [EMAIL] about my order."
    assert row["needs_review"] and "email" in row["review_reason"]


@pytest.mark.unit
def test_grounding_is_word_by_word():
    assert filters.grounded("140 EUR", "up to 140 EUR per night")
    assert not filters.grounded("150 EUR", "up to 140 EUR per night")
    assert filters.grounded(
        "20 weeks; 10 weeks", "Birth parent: 20 weeks. Second parent: 10 weeks."
    )


@pytest.mark.unit
def test_row_ids_are_content_derived():
    assert filters.row_id({"input": "a", "reference": "b"}) == filters.row_id(
        {"input": "a", "reference": "b"}
    )
    assert filters.row_id({"input": "a", "reference": "b"}) != filters.row_id(
        {"input": "a", "reference": "c"}
    )
