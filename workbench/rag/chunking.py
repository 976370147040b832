"""Chunkers. Every chunk keeps its document id and character offsets: `doc.text[start:end] == chunk.text`.

Sizes are counted in tokens of the embedding model's own tokenizer (`model`), so a size means
what the embedding model will see. Chunkers are registered (`registry.chunker`); a notebook
parameter names them.

- `fixed`: windows of N tokens with an overlap;
- `recursive`: split by document structure (headings, then paragraphs, then sentences) until
  pieces fit N tokens, then merge neighbours up to N;
- `sentence`: whole sentences grouped up to N tokens, overlapping by whole sentences.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .. import registry
from ..documents import Document
from ..models import get_model, source_file

DEFAULT_MODEL = "all-minilm-l6-v2"


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    start: int
    end: int
    text: str


@functools.lru_cache(maxsize=4)
def _tokenizer(model: str):
    from transformers import AutoTokenizer  # heavy: loaded on the first chunking only

    return AutoTokenizer.from_pretrained(str(source_file(get_model(model))))


def token_offsets(text: str, model: str = DEFAULT_MODEL) -> list[tuple[int, int]]:
    """Character span of every token of `text` in the tokenizer of embedding model `model`."""
    enc = _tokenizer(model)(
        text, return_offsets_mapping=True, add_special_tokens=False, verbose=False
    )
    return [tuple(o) for o in enc["offset_mapping"]]


def _n_tokens(text: str, model: str) -> int:
    return len(token_offsets(text, model))


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


@registry.chunker("fixed", description="windows of N tokens with an overlap of M tokens")
def fixed(doc: Document, size: int, overlap: int = 0, model: str = DEFAULT_MODEL) -> list[Chunk]:
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be between 0 and size-1 ({size - 1}), got {overlap}")
    offsets = token_offsets(doc.text, model)
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


@registry.chunker(
    "sentence", description="whole sentences up to N tokens; overlap repeats the last sentence"
)
def sentence(doc: Document, size: int, overlap: int = 0, model: str = DEFAULT_MODEL) -> list[Chunk]:
    """Whole sentences up to `size` tokens; `overlap` > 0 repeats the last sentence of a chunk."""
    sents = _sentences(doc.text, 0, len(doc.text))
    spans, current, tokens = [], [], 0
    for s in sents:
        n = _n_tokens(doc.text[s[0] : s[1]], model)
        if current and tokens + n > size:
            spans.append((current[0][0], current[-1][1]))
            current = current[-1:] if overlap else []
            tokens = sum(_n_tokens(doc.text[a:b], model) for a, b in current)
        current.append(s)
        tokens += n
    if current:
        spans.append((current[0][0], current[-1][1]))
    return _make(doc, spans, "s")


_SEPARATORS = [r"\n(?=#{1,6} )", r"\n\s*\n", r"\n", r"(?<=[.!?])\s+"]


def _split(
    text: str, start: int, end: int, size: int, level: int, model: str
) -> list[tuple[int, int]]:
    if _n_tokens(text[start:end], model) <= size:
        return [(start, end)]
    if level >= len(_SEPARATORS):  # one sentence longer than `size`: cut it by tokens
        return [
            (start + c.start, start + c.end)
            for c in fixed(Document("x", text[start:end], ""), size, model=model)
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
        out += _split(text, a, b, size, level + 1, model)
    return out


@registry.chunker(
    "recursive", description="headings, then paragraphs, then sentences, merged up to N tokens"
)
def recursive(
    doc: Document, size: int, overlap: int = 0, model: str = DEFAULT_MODEL
) -> list[Chunk]:
    """Structure-first splitting, then greedy merging of neighbours up to `size` tokens."""
    pieces = [
        p
        for p in _split(doc.text, 0, len(doc.text), size, 0, model)
        if doc.text[p[0] : p[1]].strip()
    ]
    spans, current = [], None
    for a, b in pieces:
        if current and _n_tokens(doc.text[current[0] : b], model) <= size:
            current = (current[0], b)
        else:
            if current:
                spans.append(current)
            current = (a, b)
    if current:
        spans.append(current)
    return _make(doc, spans, "r")


# Every registered chunker, built-in or plug-in, by name (a live view).
CHUNKERS = registry.view("chunker")


def chunk_corpus(
    docs: list[Document], chunker: str, size: int, overlap: int = 0, model: str = DEFAULT_MODEL
) -> list[Chunk]:
    """Chunk every document with the named chunker, sizes in tokens of embedding model `model`."""
    fn = registry.get("chunker", chunker, what="parameter chunkers")
    return [c for d in docs for c in fn(d, size, overlap, model=model)]
