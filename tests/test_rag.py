"""workbench.rag: offsets, span-based relevance, hand-computed retrieval metrics, fusion, MMR."""

import math

import numpy as np
import pytest

from workbench import rag
from workbench.data import DataError
from workbench.rag.chunking import Chunk

DOC = rag.Document(
    "hr/leave",
    "# Leave\n\nBirth parents get 20 weeks at full pay. Second parents get 10 weeks.\n\n"
    "## Notice\n\nTell your manager 8 weeks before the leave starts. Adoption notice is given when matched.\n",
    "",
)


def _c(doc, start, end, i=0):
    return Chunk(f"{doc}#{i}", doc, start, end, "")


@pytest.mark.unit
@pytest.mark.parametrize("chunker", rag.CHUNKERS)
@pytest.mark.parametrize("size", [8, 16, 64])
def test_chunks_keep_exact_offsets_and_cover_the_text(chunker, size):
    chunks = rag.chunk_corpus([DOC], chunker, size, overlap=2 if chunker == "fixed" else 0)
    assert chunks and all(
        DOC.text[c.start : c.end] == c.text and c.doc_id == "hr/leave" for c in chunks
    )
    covered = set()
    for c in chunks:
        covered |= set(range(c.start, c.end))
    words = [i for i, ch in enumerate(DOC.text) if ch.isalnum()]
    assert all(i in covered for i in words)  # no word is lost between chunks


@pytest.mark.unit
def test_fixed_chunks_respect_size_and_overlap():
    from workbench.rag.chunking import token_offsets

    chunks = rag.chunk_corpus([DOC], "fixed", 10, overlap=3)
    assert all(len(token_offsets(c.text)) <= 10 for c in chunks)
    assert chunks[1].start < chunks[0].end  # windows overlap
    with pytest.raises(ValueError, match="overlap must be between"):
        rag.chunk_corpus([DOC], "fixed", 10, overlap=10)


@pytest.mark.unit
def test_span_relevance_changes_with_chunking_but_the_gold_does_not():
    gold = [("hr/leave", DOC.text.index("8 weeks"), DOC.text.index("8 weeks") + len("8 weeks"))]
    before = list(gold)
    small = rag.chunk_corpus([DOC], "fixed", 8)
    large = rag.chunk_corpus([DOC], "fixed", 64)
    rel_small = [c.id for c in small if rag.grade(c, gold) > 0]
    rel_large = [c.id for c in large if rag.grade(c, gold) > 0]
    assert rel_small and rel_large and rel_small != rel_large
    assert gold == before
    assert all(rag.recall([c], gold, 1) == 1.0 for c in small + large if rag.grade(c, gold) > 0)


@pytest.mark.unit
def test_metrics_equal_hand_computed_values():
    spans = [("d", 0, 10), ("e", 100, 120)]
    ranked = [_c("x", 0, 50, 0), _c("d", 5, 30, 1), _c("e", 90, 110, 2), _c("d", 40, 60, 3)]
    # grades: 0, 0.5 (5 of 10 chars), 0.5 (10 of 20 chars), 0
    assert rag.hit_rate(ranked, spans, 1) == 0.0 and rag.hit_rate(ranked, spans, 2) == 1.0
    assert rag.recall(ranked, spans, 2) == 0.5 and rag.recall(ranked, spans, 3) == 1.0
    assert rag.precision(ranked, spans, 4) == 0.5
    assert rag.reciprocal_rank(ranked, spans) == 0.5
    dcg = 0.5 / math.log2(3) + 0.5 / math.log2(4)
    idcg = 0.5 / math.log2(2) + 0.5 / math.log2(3)
    assert rag.ndcg(ranked, spans, 4) == pytest.approx(dcg / idcg)


@pytest.mark.unit
def test_ndcg_with_graded_relevance():
    spans = [("d", 0, 100)]
    ranked = [_c("d", 0, 20, 0), _c("d", 0, 100, 1), _c("d", 50, 100, 2)]  # grades 0.2, 1.0, 0.5
    dcg = 0.2 + 1.0 / math.log2(3) + 0.5 / 2
    idcg = 1.0 + 0.5 / math.log2(3) + 0.2 / 2
    assert rag.ndcg(ranked, spans, 3) == pytest.approx(dcg / idcg)
    assert rag.ndcg(sorted(ranked, key=lambda c: -rag.grade(c, spans)), spans, 3) == pytest.approx(
        1.0
    )


@pytest.mark.unit
def test_reciprocal_rank_fusion_by_hand():
    fused = rag.rrf([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]], [0.5, 0.5], k=60)
    expected = {1: 0.5 / 61, 2: 0.5 / 62 + 0.5 / 61, 3: 0.5 / 62}
    assert [i for i, _ in fused] == [2, 1, 3]
    assert dict(fused) == pytest.approx(expected)


@pytest.mark.unit
def test_mmr_prefers_diverse_results():
    v = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q = np.array([0.8, 0.6], dtype=np.float32)
    ranked = [(0, 0.8), (1, 0.87), (2, 0.6)]
    assert [i for i, _ in rag.mmr(q, v, ranked, 2, lam=1.0)] == [1, 0]
    assert [i for i, _ in rag.mmr(q, v, ranked, 2, lam=0.3)] == [1, 2]


@pytest.mark.unit
def test_html_loader_and_clear_errors(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><script>evil()</script><h1>Title</h1><p>Body &amp; more</p></html>"
    )
    [doc] = rag.load_corpus(tmp_path)
    assert (
        doc.id == "page"
        and "Title" in doc.text
        and "Body & more" in doc.text
        and "evil" not in doc.text
    )
    (tmp_path / "bad.md").write_bytes(b"ok\n\xff")
    with pytest.raises(DataError, match=r"bad.md:2: not valid UTF-8"):
        rag.load_corpus(tmp_path)


@pytest.mark.integration
def test_retrievers_find_the_obvious_chunk_and_embeddings_are_cached():
    from workbench import tracking

    docs = rag.load_corpus(__import__("workbench").config.datasets_dir() / "kb")
    chunks = rag.chunk_corpus(docs, "recursive", 64)
    index = rag.Index.build(chunks)
    for retriever in rag.RETRIEVERS:
        [hits] = index.search(
            ["How much is the daily meal allowance when travelling?"], retriever, 3
        )
        assert any("meal allowance" in h.chunk.text for h in hits), retriever
    misses = tracking.current().data["cache"]["embedding_misses"]
    rag.Index.build(chunks)  # same chunks again: every embedding from the cache
    assert tracking.current().data["cache"]["embedding_misses"] == misses


def _pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a text stream (test data made here, not downloaded)."""
    content = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({x}) Tj 0 -16 Td" for x in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    return (
        out
        + f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )


@pytest.mark.unit
def test_pdf_loader(tmp_path):
    (tmp_path / "vision.pdf").write_bytes(
        _pdf(["Glasses are covered up to 150 EUR.", "Lenses are covered in full."])
    )
    [doc] = rag.load_corpus(tmp_path)
    assert doc.id == "vision" and "Glasses are covered up to 150 EUR." in doc.text
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(DataError, match="broken.pdf"):
        rag.load_corpus(tmp_path)


class WordTokenizer:
    """Test double of a tokenizer: one token per word, with character offsets."""

    def __call__(self, text, **kwargs):
        import re

        return {"offset_mapping": [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]}


@pytest.mark.unit
def test_chunk_sizes_are_counted_in_the_tokens_of_the_embedding_model_asked_for(monkeypatch):
    from workbench.rag import chunking

    real = chunking._tokenizer
    monkeypatch.setattr(
        chunking, "_tokenizer", lambda model: WordTokenizer() if model == "words" else real(model)
    )
    doc = rag.Document("d", "Unbelievably, reimbursement paperwork overwhelms everybody.", "d.md")
    by_words = rag.chunk_corpus([doc], "fixed", 2, model="words")
    assert [c.text for c in by_words] == [
        "Unbelievably, reimbursement",
        "paperwork overwhelms",
        "everybody.",
    ]
    by_minilm = rag.chunk_corpus([doc], "fixed", 2)  # WordPiece splits the long words
    assert len(by_minilm) > len(by_words)


@pytest.mark.unit
def test_the_retrieval_grid_chunks_with_its_own_embedding_model(monkeypatch):
    from workbench.rag import pipeline

    seen = []

    def spy(docs, chunker, size, overlap=0, model="?"):  # test double: records the model only
        seen.append(model)
        return [Chunk("d#0", "d", 0, 5, "hello")]

    monkeypatch.setattr(pipeline, "chunk_corpus", spy)
    pipeline.run_grid(
        [rag.Document("d", "hello", "d.md")],
        [],
        chunkers=["fixed"],
        sizes=[8],
        overlaps=[0],
        retrievers=["bm25"],
        hybrid_weights=[0.5],
        ks=[1],
        embedding_model="all-minilm-l6-v2",
    )
    assert seen == ["all-minilm-l6-v2"]
