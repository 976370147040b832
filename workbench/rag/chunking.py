"""Chunkers. Every chunk keeps its document id and character offsets: `doc.text[start:end] == chunk.text`.

- `fixed`: windows of N tokens (the embedding model's tokenizer) with an overlap;
- `recursive`: split by document structure (headings, then paragraphs, then sentences) until
  pieces fit N tokens, then merge neighbours up to N;
- `sentence`: whole sentences grouped up to N tokens, overlapping by whole sentences.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .loaders import Document

CHUNKERS = ("fixed", "recursive", "sentence")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    start: int
    end: int
    text: str


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from transformers import AutoTokenizer

    from ..models import get_model, source_file

    return AutoTokenizer.from_pretrained(str(source_file(get_model("all-minilm-l6-v2"))))


def token_offsets(text: str) -> list[tuple[int, int]]:
    """Character span of every token of `text` (the embedding model's WordPiece tokens)."""
    enc = _tokenizer()(text, return_offsets_mapping=True, add_special_tokens=False, verbose=False)
    return [tuple(o) for o in enc["offset_mapping"]]


def _n_tokens(text: str) -> int:
    return len(token_offsets(text))


def _make(doc: Document, spans: list[tuple[int, int]], kind: str) -> list[Chunk]:
    chunks = []
    for start, end in spans:
        # trim surrounding whitespace but keep offsets exact
        while start < end and doc.text[start].isspace():
            start += 1
        while end > start and doc.text[end - 1].isspace():
            end -= 1
        if end > start:
            chunks.append(
                Chunk(f"{doc.id}#{kind}{len(chunks)}", doc.id, start, end, doc.text[start:end])
            )
    return chunks


def fixed(doc: Document, size: int, overlap: int = 0) -> list[Chunk]:
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be between 0 and size-1 ({size - 1}), got {overlap}")
    offsets = token_offsets(doc.text)
    spans, step = [], size - overlap
    for i in range(0, max(1, len(offsets)), step):
        window = offsets[i : i + size]
        if not window:
            break
        spans.append((window[0][0], window[-1][1]))
        if i + size >= len(offsets):
            break
    return _make(doc, spans, "f")


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [
        (start + m.start(), start + m.end())
        for m in _SENTENCE.finditer(text[start:end])
        if m.group().strip()
    ]


def sentence(doc: Document, size: int, overlap: int = 0) -> list[Chunk]:
    """Whole sentences up to `size` tokens; `overlap` > 0 repeats the last sentence of a chunk."""
    sents = _sentences(doc.text, 0, len(doc.text))
    spans, current, tokens = [], [], 0
    for s in sents:
        n = _n_tokens(doc.text[s[0] : s[1]])
        if current and tokens + n > size:
            spans.append((current[0][0], current[-1][1]))
            current = current[-1:] if overlap else []
            tokens = sum(_n_tokens(doc.text[a:b]) for a, b in current)
        current.append(s)
        tokens += n
    if current:
        spans.append((current[0][0], current[-1][1]))
    return _make(doc, spans, "s")


_SEPARATORS = [r"\n(?=#{1,6} )", r"\n\s*\n", r"\n", r"(?<=[.!?])\s+"]


def _split(text: str, start: int, end: int, size: int, level: int) -> list[tuple[int, int]]:
    if _n_tokens(text[start:end]) <= size:
        return [(start, end)]
    if level >= len(_SEPARATORS):  # one sentence longer than `size`: cut it by tokens
        return [
            (start + c.start, start + c.end)
            for c in fixed(Document("x", text[start:end], ""), size)
        ]
    pieces, last = [], start
    for m in re.finditer(_SEPARATORS[level], text[start:end]):
        cut = start + m.start()
        if cut > last:
            pieces.append((last, cut))
        last = start + m.end() if level else cut
    pieces.append((last, end))
    out = []
    for a, b in pieces:
        out += _split(text, a, b, size, level + 1)
    return out


def recursive(doc: Document, size: int, overlap: int = 0) -> list[Chunk]:
    """Structure-first splitting, then greedy merging of neighbours up to `size` tokens."""
    pieces = [
        p for p in _split(doc.text, 0, len(doc.text), size, 0) if doc.text[p[0] : p[1]].strip()
    ]
    spans, current = [], None
    for a, b in pieces:
        if current and _n_tokens(doc.text[current[0] : b]) <= size:
            current = (current[0], b)
        else:
            if current:
                spans.append(current)
            current = (a, b)
    if current:
        spans.append(current)
    return _make(doc, spans, "r")


def chunk_corpus(docs: list[Document], chunker: str, size: int, overlap: int = 0) -> list[Chunk]:
    """Chunk every document with the named chunker."""
    fn = {"fixed": fixed, "recursive": recursive, "sentence": sentence}.get(chunker)
    if fn is None:
        raise ValueError(f"unknown chunker {chunker!r}; choose from {', '.join(CHUNKERS)}")
    return [c for d in docs for c in fn(d, size, overlap)]
