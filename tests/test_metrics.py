"""workbench.metrics: values equal the reference implementations; simple scorers behave."""

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from workbench import metrics

PREDS = ["the cat sat on the mat", "a quick brown fox jumps", "completely different words"]
REFS = ["the cat is sitting on the mat", "the quick brown fox jumped", "nothing in common here"]


@pytest.mark.unit
def test_bleu_and_chrf_equal_sacrebleu():
    for p, r in zip(PREDS, REFS, strict=True):
        assert metrics.score("bleu", [p], [r])[0].value == pytest.approx(
            sacrebleu.sentence_bleu(p, [r]).score / 100
        )
        assert metrics.score("chrf", [p], [r])[0].value == pytest.approx(
            sacrebleu.sentence_chrf(p, [r]).score / 100
        )


@pytest.mark.unit
def test_rouge_equals_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    for p, r in zip(PREDS, REFS, strict=True):
        ref = scorer.score(r, p)
        assert metrics.score("rouge_l", [p], [r])[0].value == pytest.approx(ref["rougeL"].fmeasure)
        assert metrics.score("rouge1", [p], [r])[0].value == pytest.approx(ref["rouge1"].fmeasure)


@pytest.mark.unit
def test_exact_match_normalises_case_punctuation_articles():
    assert metrics.exact_match("The Atlantic Ocean.", "atlantic ocean").value == 1.0
    assert metrics.exact_match("Pacific", "atlantic ocean").value == 0.0


@pytest.mark.unit
def test_token_f1():
    r = metrics.token_f1("about two hours", "two hours")
    assert r.value == pytest.approx(0.8)
    assert metrics.token_f1("", "x").value == 0.0


@pytest.mark.unit
def test_label_match_takes_the_first_allowed_label():
    labels = ["positive", "negative", "neutral"]
    assert metrics.label_match("Positive.", "positive", labels=labels).value == 1.0
    r = metrics.label_match("negative, not positive", "positive", labels=labels)
    assert r.value == 0.0 and "negative" in r.reason
    assert (
        metrics.label_match("I cannot tell", "neutral", labels=labels).reason
        == "no allowed label in the answer"
    )


@pytest.mark.unit
def test_unknown_metric_lists_registered_ones():
    with pytest.raises(KeyError, match="bleu"):
        metrics.get_metric("blue")


@pytest.mark.unit
def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        metrics.score("bleu", ["a", "b"], ["a"])


@pytest.mark.integration
def test_embedding_similarity_orders_paraphrase_above_unrelated():
    [same, other] = metrics.score(
        "embedding_similarity",
        ["Your refund has been issued.", "The weather is sunny."],
        ["We have refunded your payment.", "We have refunded your payment."],
    )
    assert same.value > other.value and 0 <= other.value <= 1


@pytest.mark.unit
def test_contains_words_needs_whole_words():
    answers = ["I have 14 days", "No, you cannot", "It is not", "ends 2027-01-03.", "anything"]
    refs = ["4", "no", "no", "2027-01-03", ""]
    assert [r.value for r in metrics.score("contains_words", answers, refs)] == [0, 1, 0, 1, 0]
    assert [r.value for r in metrics.score("contains", answers[:3], refs[:3])] == [1, 1, 1]
