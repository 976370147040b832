"""Retrieval-augmented generation: chunkers, retrievers, span-based retrieval metrics."""

from ..documents import Document, html_to_text, load_corpus
from . import pipeline, ragas_eval
from .chunking import CHUNKERS, Chunk, chunk_corpus
from .index import RETRIEVERS, Hit, Index, mmr, rrf
from .metrics import grade, hit_rate, ndcg, precision, recall, reciprocal_rank

__all__ = [
    "CHUNKERS",
    "RETRIEVERS",
    "Chunk",
    "Document",
    "Hit",
    "Index",
    "chunk_corpus",
    "grade",
    "hit_rate",
    "html_to_text",
    "load_corpus",
    "mmr",
    "pipeline",
    "ragas_eval",
    "ndcg",
    "precision",
    "recall",
    "reciprocal_rank",
    "rrf",
]
