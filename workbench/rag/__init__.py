"""Retrieval-augmented generation: loaders, chunkers, retrievers, span-based retrieval metrics."""

from .chunking import CHUNKERS, Chunk, chunk_corpus
from .index import RETRIEVERS, Hit, Index, mmr, rrf
from .loaders import Document, html_to_text, load_corpus
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
    "ndcg",
    "precision",
    "recall",
    "reciprocal_rank",
    "rrf",
]
