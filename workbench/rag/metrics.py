"""Retrieval metrics with span-based relevance, so every chunking is judged against the same gold.

A gold span is (doc id, start, end) in the document text. A chunk's relevance grade for a
question is the largest fraction of any gold span it covers (0 = none). A chunk is relevant
when its grade is > 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .chunking import Chunk

Span = tuple[str, int, int]


def overlap(chunk: Chunk, span: Span) -> int:
    doc, start, end = span
    if chunk.doc_id != doc:
        return 0
    return max(0, min(chunk.end, end) - max(chunk.start, start))


def grade(chunk: Chunk, spans: Sequence[Span]) -> float:
    """Largest share of a gold span that the chunk covers (graded relevance, 0-1)."""
    return max((overlap(chunk, s) / max(1, s[2] - s[1]) for s in spans), default=0.0)


def hit_rate(ranked: Sequence[Chunk], spans: Sequence[Span], k: int) -> float:
    return float(any(grade(c, spans) > 0 for c in ranked[:k]))


def recall(ranked: Sequence[Chunk], spans: Sequence[Span], k: int) -> float:
    """Share of gold spans touched by at least one of the top-k chunks."""
    if not spans:
        return 0.0
    return sum(any(overlap(c, s) > 0 for c in ranked[:k]) for s in spans) / len(spans)


def precision(ranked: Sequence[Chunk], spans: Sequence[Span], k: int) -> float:
    top = ranked[:k]
    return sum(grade(c, spans) > 0 for c in top) / k if k else 0.0


def reciprocal_rank(ranked: Sequence[Chunk], spans: Sequence[Span], k: int | None = None) -> float:
    for rank, c in enumerate(ranked[:k] if k else ranked, 1):
        if grade(c, spans) > 0:
            return 1.0 / rank
    return 0.0


def ndcg(
    ranked: Sequence[Chunk], spans: Sequence[Span], k: int, pool: Sequence[Chunk] | None = None
) -> float:
    """nDCG@k with graded relevance; the ideal ranking is taken over `pool` (default: `ranked`)."""
    gains = [grade(c, spans) for c in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((grade(c, spans) for c in (pool or ranked)), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0
