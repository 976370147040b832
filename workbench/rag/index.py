"""Retrievers over chunks: dense (exact inner product), BM25 (bm25s), hybrid (weighted reciprocal
rank fusion) and maximal-marginal-relevance reranking.

Retrievers are registered (`registry.retriever`): `fn(index, queries, query_vectors, pool,
**options)` returns, per query, up to `pool` (chunk index, score) pairs, best first. Declaring
`vectors=True` gets the queries embedded; `fused=True` widens the candidate pool.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import registry, trace
from ..embeddings import embed
from .chunking import Chunk

Ranked = list[list[tuple[int, float]]]


@dataclass
class Hit:
    chunk: Chunk
    score: float
    rank: int


@dataclass
class Index:
    """Chunks with their embeddings and a BM25 index; `search` answers any retriever."""

    chunks: list[Chunk]
    vectors: np.ndarray
    model: str
    bm25: object = None
    build_s: float = 0.0
    timings: list[float] = field(default_factory=list)

    @classmethod
    def build(cls, chunks: list[Chunk], model: str = "all-minilm-l6-v2") -> Index:
        import bm25s

        started = time.perf_counter()
        vectors = embed([c.text for c in chunks], model)  # cached on disk by chunk text + model
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize([c.text for c in chunks], stopwords="en", show_progress=False),
            show_progress=False,
        )
        return cls(chunks, vectors, model, retriever, time.perf_counter() - started)

    def dense(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        scores = query_vectors @ self.vectors.T
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out = []
        for row, idx in zip(scores, top, strict=True):
            order = idx[np.argsort(-row[idx], kind="stable")]
            out.append([(int(i), float(row[i])) for i in order])
        return out

    def sparse(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        import bm25s

        k = min(k, len(self.chunks))
        tokens = bm25s.tokenize(queries, stopwords="en", show_progress=False)
        docs, scores = self.bm25.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [
            [(int(d), float(s)) for d, s in zip(dr, sr, strict=True) if s > 0]
            for dr, sr in zip(docs, scores, strict=True)
        ]

    def search(
        self,
        queries: list[str],
        retriever: str,
        k: int,
        *,
        hybrid_weight: float = 0.5,
        rrf_k: int = 60,
        mmr_lambda: float | None = None,
        candidates: int = 50,
    ) -> list[list[Hit]]:
        """Top-k chunks per query. `hybrid_weight` is the dense share in reciprocal rank fusion;
        `mmr_lambda` (0-1) reranks the candidates for diversity when given."""
        found = registry.entry("retriever", retriever, what="parameter retrievers")
        started = time.perf_counter()
        widen = found.info.get("fused") or mmr_lambda is not None
        pool = max(k, candidates if widen else k)
        vectors = found.info.get("vectors") or mmr_lambda is not None
        qv = embed(queries, self.model) if vectors else None
        ranked = found.obj(self, queries, qv, pool, hybrid_weight=hybrid_weight, rrf_k=rrf_k)
        results = []
        for i, r in enumerate(ranked):
            if mmr_lambda is not None:
                r = mmr(qv[i], self.vectors, r, k, mmr_lambda)
            results.append([Hit(self.chunks[j], s, n + 1) for n, (j, s) in enumerate(r[:k])])
        per_query = (time.perf_counter() - started) / max(1, len(queries))
        self.timings.append(per_query)
        if trace.enabled():
            for query, hits in zip(queries, results, strict=True):
                trace.record(
                    f"retrieval {retriever}",
                    per_query,
                    kind="internal",
                    gen_ai__operation__name="retrieval",
                    gen_ai__retrieval__top_k=k,
                    gen_ai__retrieval__query__text=query,
                    gen_ai__retrieval__documents=[
                        {"id": h.chunk.id, "score": round(float(h.score), 6)} for h in hits
                    ],
                    workbench__retriever=retriever,
                )
        return results


@registry.retriever("dense", vectors=True, description="exact inner product of embeddings")
def dense(index: Index, queries: list[str], qv: np.ndarray, pool: int, **options) -> Ranked:
    return index.dense(qv, pool)


@registry.retriever("bm25", description="BM25 over word tokens (bm25s), English stopwords out")
def bm25(index: Index, queries: list[str], qv: np.ndarray | None, pool: int, **options) -> Ranked:
    return index.sparse(queries, pool)


@registry.retriever(
    "hybrid", vectors=True, fused=True, description="dense and BM25 by weighted reciprocal rank"
)
def hybrid(
    index: Index,
    queries: list[str],
    qv: np.ndarray,
    pool: int,
    hybrid_weight: float = 0.5,
    rrf_k: int = 60,
    **options,
) -> Ranked:
    w = hybrid_weight
    pairs = zip(index.dense(qv, pool), index.sparse(queries, pool), strict=True)
    return [rrf([d, s], [w, 1 - w], rrf_k) for d, s in pairs]


# Every registered retriever, built-in or plug-in, by name (a live view).
RETRIEVERS = registry.view("retriever")


def rrf(
    rankings: list[list[tuple[int, float]]], weights: list[float], k: int = 60
) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score = sum of weight / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, (idx, _) in enumerate(ranking, 1):
            scores[idx] = scores.get(idx, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


def mmr(
    query: np.ndarray, vectors: np.ndarray, ranked: list[tuple[int, float]], k: int, lam: float
) -> list[tuple[int, float]]:
    """Maximal marginal relevance over the ranked candidates: lam * relevance - (1 - lam) * redundancy."""
    cand = [i for i, _ in ranked]
    chosen: list[int] = []
    while cand and len(chosen) < k:
        rel = vectors[cand] @ query
        red = (vectors[cand] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(cand))
        best = int(np.argmax(lam * rel - (1 - lam) * red))
        chosen.append(cand.pop(best))
    return [(i, float(vectors[i] @ query)) for i in chosen]
