"""Registered scorers. Each returns one `MetricResult(value, reason)` per prediction, value in [0, 1].

Scorers are looked up by name so a notebook parameter or a task file can pick them.
Reference implementations do the work: sacrebleu (BLEU, chrF), rouge-score (ROUGE),
sentence-transformers (embedding similarity).
"""

from __future__ import annotations

import functools
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import registry
from .embeddings import embed


@dataclass(frozen=True)
class MetricResult:
    value: float
    reason: str = ""


BatchScorer = Callable[..., list[MetricResult]]


def metric(name: str, description: str, batched: bool = False):
    """Register a scorer. Per-item scorers take (prediction, reference, **ctx); a batched one
    takes (predictions, references, **ctx) and returns one `MetricResult` per prediction."""

    def register(fn):
        if batched:
            scorer = fn
        else:

            @functools.wraps(fn)
            def scorer(predictions, references, **ctx):
                return [fn(p, r, **ctx) for p, r in zip(predictions, references, strict=True)]

        registry.metric(name, description=description)(scorer)
        return fn

    return register


def get_metric(name: str) -> BatchScorer:
    """The batch scorer registered as `name` (`UnknownName`, a KeyError, lists the others)."""
    return registry.get("metric", name)


def description(name: str) -> str:
    """What the metric measures, in one line (for report legends)."""
    return registry.entry("metric", name).description


def list_metrics() -> list[str]:
    return sorted(registry.names("metric"))


def score(
    name: str, predictions: Sequence[str], references: Sequence[str], **ctx: Any
) -> list[MetricResult]:
    """Score predictions against references with the named metric."""
    if len(predictions) != len(references):
        raise ValueError(
            f"metric {name}: {len(predictions)} predictions but {len(references)} references"
        )
    return get_metric(name)(list(predictions), list(references), **ctx)


def normalize(text: str) -> str:
    """SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


@metric(
    "exact_match",
    "1 if the answer equals the reference after normalisation (case, punctuation, articles), else 0",
)
def exact_match(prediction: str, reference: str, **_: Any) -> MetricResult:
    ok = normalize(prediction) == normalize(reference)
    return MetricResult(float(ok), "matches reference" if ok else f"expected {reference!r}")


@metric("token_f1", "harmonic mean of token precision and recall against the reference (SQuAD F1)")
def token_f1(prediction: str, reference: str, **_: Any) -> MetricResult:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        value = float(pred == ref)
        return MetricResult(value, "empty answer" if not pred else "empty reference")
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return MetricResult(0.0, "no token in common with the reference")
    precision, recall = common / len(pred), common / len(ref)
    return MetricResult(
        2 * precision * recall / (precision + recall), f"P={precision:.2f} R={recall:.2f}"
    )


@metric("contains", "1 if the normalised reference appears inside the normalised answer")
def contains(prediction: str, reference: str, **_: Any) -> MetricResult:
    ok = normalize(reference) in normalize(prediction)
    return MetricResult(float(ok), "reference found" if ok else "reference not found in answer")


@metric(
    "contains_words",
    "1 if the normalised reference appears in the normalised answer as whole words "
    "(so '4' is not found in '14', nor 'no' in 'not')",
)
def contains_words(prediction: str, reference: str, **_: Any) -> MetricResult:
    target = normalize(reference)
    ok = bool(target) and re.search(rf"(?<!\w){re.escape(target)}(?!\w)", normalize(prediction))
    return MetricResult(
        float(bool(ok)), "reference found" if ok else "reference not found in answer"
    )


@metric("label_match", "1 if the first allowed label named in the answer is the reference label")
def label_match(
    prediction: str, reference: str, labels: Sequence[str] = (), **_: Any
) -> MetricResult:
    words = normalize(prediction).split()
    allowed = [normalize(x) for x in labels] or [normalize(reference)]
    found = next((w for w in words if w in allowed), None)
    if found is None:
        return MetricResult(0.0, "no allowed label in the answer")
    ok = found == normalize(reference)
    return MetricResult(
        float(ok), f"answered {found!r}" + ("" if ok else f", expected {reference!r}")
    )


@metric("bleu", "sentence BLEU (sacrebleu, default 13a tokenisation), scaled to 0-1")
def bleu(prediction: str, reference: str, **_: Any) -> MetricResult:
    import sacrebleu

    result = sacrebleu.sentence_bleu(prediction, [reference])
    return MetricResult(result.score / 100, str(result))


@metric("chrf", "sentence chrF (sacrebleu), scaled to 0-1")
def chrf(prediction: str, reference: str, **_: Any) -> MetricResult:
    import sacrebleu

    result = sacrebleu.sentence_chrf(prediction, [reference])
    return MetricResult(result.score / 100, str(result))


@functools.lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def _rouge(kind: str):
    def fn(prediction: str, reference: str, **_: Any) -> MetricResult:
        s = _rouge_scorer().score(reference, prediction)[kind]
        return MetricResult(s.fmeasure, f"P={s.precision:.2f} R={s.recall:.2f}")

    return fn


for _kind in ("rouge1", "rouge2", "rougeL"):
    metric(
        _kind.lower().replace("rougel", "rouge_l"),
        f"{_kind} F-measure (rouge-score, Porter stemming)",
    )(_rouge(_kind))


@metric(
    "embedding_similarity",
    "cosine similarity of all-MiniLM-L6-v2 sentence embeddings of answer and reference, clipped to 0-1",
    batched=True,
)
def embedding_similarity(
    predictions: list[str], references: list[str], model: str = "all-minilm-l6-v2", **_: Any
) -> list[MetricResult]:
    sims = (embed(predictions, model) * embed(references, model)).sum(axis=1)
    return [MetricResult(float(max(0.0, min(1.0, s))), f"cosine={s:.3f}") for s in sims]
