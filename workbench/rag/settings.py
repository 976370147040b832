"""A retrieval configuration as files name it (the reference application's, a chain's step)."""

from __future__ import annotations

from pydantic import Field

from ..io import Schema


class Retrieval(Schema):
    """Which corpus under `datasets/`, chunked how, searched by which retriever, top k."""

    corpus: str = Field(min_length=1)
    chunker: str = "fixed"
    size: int = Field(128, gt=0)
    overlap: int = Field(0, ge=0)
    retriever: str = "bm25"
    k: int = Field(3, gt=0)
