"""The RAG tuning grid: chunking x size x overlap x retriever x hybrid weight x k, scored per
question against gold spans; answers for chosen configurations; abstention on unanswerable questions."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from .. import config, tracking
from ..data import DataError, read_jsonl
from ..documents import Document, load_corpus
from ..embeddings import embed
from ..io import Schema, validate
from ..llm import Request, generate_many
from ..prompts import load_template
from ..safety.detectors import ABSTAIN
from ..stats import bootstrap_ci, percentile
from .chunking import chunk_corpus
from .index import Index
from .metrics import hit_rate, ndcg, precision, recall, reciprocal_rank

METRICS = ("hit_rate", "recall", "precision", "mrr", "ndcg")


def locate_quote(doc: Document, quote: str, where: str) -> dict[str, Any]:
    """The character span of `quote` in `doc` (exact, else ignoring runs of white space)."""
    start = doc.text.find(quote)
    if start >= 0:
        return {"doc": doc.id, "start": start, "end": start + len(quote), "text": quote}
    words = quote.split()
    if words:
        found = re.search(r"\s+".join(re.escape(w) for w in words), doc.text)
        if found:
            return {
                "doc": doc.id,
                "start": found.start(),
                "end": found.end(),
                "text": found.group(),
            }
    raise DataError(f"{where}: quote not found in document {doc.id!r}: {quote[:80]!r}")


class QARow(Schema):
    """One question of the RAG gold set; `spans` are checked against the documents on load."""

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    reference: str
    type: str = Field(min_length=1)
    doc_ids: list[str] = []
    spans: list[dict[str, Any] | list[Any]] = []


def load_qa(path: str | None, docs: list[Document]) -> list[dict[str, Any]]:
    """The gold set; every span is checked against its document (errors name file and line).

    A support is either a character span `{"doc", "start", "end", "text"}` or a quote: a
    `[doc, quote]` pair (or `{"doc", "quote"}`), located in the document's text on load.
    """
    p = config.datasets_dir() / (path or "rag_qa.jsonl")
    by_id = {d.id: d for d in docs}

    def check_spans(row: dict[str, Any], where: str) -> None:
        validate(QARow, row, where)
        spans = []
        for span in row.get("spans", []):
            if isinstance(span, list | tuple) and len(span) == 2:
                span = {"doc": span[0], "quote": span[1]}
            if not isinstance(span, dict) or "doc" not in span:
                raise DataError(
                    f"{where}: a span is {{doc, start, end, text}} or a [doc, quote] pair, "
                    f"got {span!r}"
                )
            doc = by_id.get(span["doc"])
            if doc is None:
                raise DataError(f"{where}: span refers to unknown document {span['doc']!r}")
            if "quote" in span:
                span = locate_quote(doc, str(span["quote"]), where)
            elif doc.text[span["start"] : span["end"]] != span["text"]:
                raise DataError(
                    f"{where}: span text does not match {span['doc']} at {span['start']}-{span['end']}"
                )
            spans.append(span)
        row["spans"] = spans

    rows = read_jsonl(p, required=("id", "question", "reference", "type"), check=check_spans)
    tracking.current().log_dataset(p)
    return rows


def spans_of(row: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(s["doc"], s["start"], s["end"]) for s in row.get("spans", [])]


def configurations(
    chunkers, sizes, overlaps, retrievers, hybrid_weights, mmr_lambdas=()
) -> list[dict[str, Any]]:
    out = []
    for chunker, size, overlap in itertools.product(chunkers, sizes, overlaps):
        if overlap >= size or (overlap and chunker != "fixed"):
            continue  # only fixed-size windows take a token overlap
        for retriever, lam in itertools.product(retrievers, list(mmr_lambdas) or [None]):
            for w in hybrid_weights if retriever == "hybrid" else [None]:
                out.append(
                    {
                        "chunker": chunker,
                        "size": size,
                        "overlap": overlap,
                        "retriever": retriever,
                        "hybrid_weight": w,
                        "mmr_lambda": lam,
                    }
                )
    return out


def _set(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def search(index: Index, queries: list[str], cfg: dict[str, Any], k: int):
    """Retrieve for `queries` with one grid configuration (retriever, hybrid weight, MMR)."""
    weight = cfg.get("hybrid_weight")
    lam = cfg.get("mmr_lambda")
    return index.search(
        queries,
        cfg["retriever"],
        k,
        hybrid_weight=weight if _set(weight) else 0.5,
        mmr_lambda=lam if _set(lam) else None,
    )


def run_grid(
    docs: list[Document],
    qa: list[dict[str, Any]],
    *,
    chunkers,
    sizes,
    overlaps,
    retrievers,
    hybrid_weights,
    ks,
    mmr_lambdas=(),
    embedding_model: str = "all-minilm-l6-v2",
) -> tuple[pd.DataFrame, dict[tuple, Index]]:
    """One row per configuration x answerable question x k, with every retrieval metric."""
    answerable = [q for q in qa if q.get("spans")]
    queries = [q["question"] for q in answerable]
    kmax = max(ks)
    rows, indexes = [], {}
    # Embedding a question costs the same under every configuration, and the embedding cache
    # would charge it only to the first dense one: measure it once, apart, then fill the cache.
    embed_s = None
    if queries:
        embed(queries[:1], embedding_model, cache=False)  # loads the model: not part of the timing
        started = time.perf_counter()
        embed(queries, embedding_model, cache=False)
        embed_s = (time.perf_counter() - started) / len(queries)
        embed(queries, embedding_model)
    for cfg in configurations(chunkers, sizes, overlaps, retrievers, hybrid_weights, mmr_lambdas):
        key = (cfg["chunker"], cfg["size"], cfg["overlap"])
        if key not in indexes:
            indexes[key] = Index.build(
                chunk_corpus(docs, *key, model=embedding_model), embedding_model
            )
        index = indexes[key]
        results, latencies = [], []
        if queries:  # the first search loads and warms caches: never part of the timings
            search(index, queries[:1], cfg, kmax)
        for query in queries:  # one at a time, as an assistant would, so latency is per query
            started = time.perf_counter()
            results += search(index, [query], cfg, kmax)
            latencies.append(time.perf_counter() - started)
        uses_vectors = cfg["retriever"] != "bm25" or cfg["mmr_lambda"] is not None
        for q, hits, per_query_s in zip(answerable, results, latencies, strict=True):
            ranked = [h.chunk for h in hits]
            gold = spans_of(q)
            for k in ks:
                rows.append(
                    {
                        **cfg,
                        "k": k,
                        "question_id": q["id"],
                        "type": q["type"],
                        "hit_rate": hit_rate(ranked, gold, k),
                        "recall": recall(ranked, gold, k),
                        "precision": precision(ranked, gold, k),
                        "mrr": reciprocal_rank(ranked, gold, k),
                        "ndcg": ndcg(ranked, gold, k, pool=index.chunks),
                        "query_s": per_query_s,
                        "embed_query_s": embed_s if uses_vectors else None,
                        "chunks": len(index.chunks),
                        "build_s": index.build_s,
                    }
                )
    return pd.DataFrame(rows), indexes


CONFIG = ["chunker", "size", "overlap", "retriever", "hybrid_weight", "mmr_lambda", "k"]


def summarise(grid: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per configuration: every metric's mean, with a 95 % bootstrap interval for recall and MRR."""
    rows = []
    for cfg, g in grid.fillna({"hybrid_weight": -1, "mmr_lambda": -1}).groupby(CONFIG, sort=False):
        row = dict(zip(CONFIG, cfg, strict=True))
        for key in ("hybrid_weight", "mmr_lambda"):  # -1 stood in for "not used" while grouping
            row[key] = None if row[key] == -1 else row[key]
        for m in METRICS:
            row[m] = float(g[m].mean())
        for m in ("recall", "mrr"):
            _, lo, hi = bootstrap_ci(g[m].tolist(), seed=seed)
            row[f"{m}_ci_low"], row[f"{m}_ci_high"] = lo, hi
        row.update(
            questions=int(g["question_id"].nunique()),
            chunks=int(g["chunks"].iloc[0]),
            query_p50_ms=1000 * percentile(g["query_s"].tolist(), 50),
        )
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["recall", "mrr"], ascending=False).reset_index(drop=True)


def failures(index: Index, qa: list[dict[str, Any]], cfg: dict[str, Any]) -> pd.DataFrame:
    """Per answerable question the configuration misses: the gold span missed and what came instead."""
    answerable = [q for q in qa if q.get("spans")]
    results = search(index, [q["question"] for q in answerable], cfg, cfg["k"])
    rows = []
    for q, hits in zip(answerable, results, strict=True):
        ranked = [h.chunk for h in hits]
        for span in q["spans"]:
            gold = [(span["doc"], span["start"], span["end"])]
            if recall(ranked, gold, cfg["k"]) == 0:
                rows.append(
                    {
                        "question_id": q["id"],
                        "question": q["question"],
                        "missed_span": f"{span['doc']}: {span['text']}",
                        "retrieved_instead": " | ".join(
                            f"{c.id}: {c.text[:120]}" for c in ranked[:2]
                        ),
                    }
                )
    return pd.DataFrame(
        rows, columns=["question_id", "question", "missed_span", "retrieved_instead"]
    )


def answer(
    model: str,
    index: Index,
    questions: list[dict[str, Any]],
    cfg: dict[str, Any],
    *,
    template: str = "rag-answer",
    max_tokens: int = 64,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate answers from the retrieved context with a versioned prompt template."""
    tpl = load_template(template)
    results = search(index, [q["question"] for q in questions], cfg, cfg["k"])
    requests, contexts = [], []
    for q, hits in zip(questions, results, strict=True):
        ctx = [h.chunk.text for h in hits]
        contexts.append(ctx)
        case = {"id": q["id"], "context": "\n\n".join(ctx), "question": q["question"]}
        requests.append(Request(tpl.render(case), max_tokens=max_tokens, seed=seed))
    responses = generate_many(model, requests)
    rows = []
    for q, ctx, resp in zip(questions, contexts, responses, strict=True):
        abstained = bool(ABSTAIN.search(resp.text)) if resp.ok else None
        rows.append(
            {
                "question_id": q["id"],
                "type": q["type"],
                "question": q["question"],
                "answer": resp.text,
                "reference": q["reference"],
                "retrieved_contexts": ctx,
                "reference_contexts": [s["text"] for s in q.get("spans", [])],
                "abstained": abstained,
                "latency_s": resp.latency_s,
                "error": resp.error,
                "abstention_correct": None
                if abstained is None
                else abstained == (q["type"] == "unanswerable"),
            }
        )
    return pd.DataFrame(rows)


def pick_questions(qa: list[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` questions with every type represented, chosen by `seed`."""
    rng = np.random.default_rng(seed)
    by_type: dict[str, list] = {}
    for q in qa:
        by_type.setdefault(q["type"], []).append(q)
    picked: list[dict[str, Any]] = []
    types = sorted(by_type)
    while len(picked) < min(n, len(qa)):
        for t in types:
            pool = [q for q in by_type[t] if q not in picked]
            if pool and len(picked) < n:
                picked.append(pool[int(rng.integers(len(pool)))])
    return picked


def load(corpus: str) -> list[Document]:
    docs = load_corpus(config.datasets_dir() / corpus)
    for d in docs:
        tracking.current().log_dataset(d.path)
    return docs


def abstention_table(answers: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: abstention on unanswerable and answering on answerable, separately.

    One accuracy over both would read 0.75 for a model that never abstains when a quarter of
    the questions are unanswerable; two rates with their counts cannot hide that.
    """
    rows = []
    for cfg, g in answers.groupby("config", sort=False):
        ok = g[g["error"].isna()]
        unans = ok[ok["type"] == "unanswerable"]
        ans = ok[ok["type"] != "unanswerable"]
        abstained = int(unans["abstained"].astype(bool).sum())
        answered = int((~ans["abstained"].astype(bool)).sum())
        rows.append(
            {
                "config": cfg,
                "abstained on unanswerable": f"{abstained} of {len(unans)}",
                "abstention rate": abstained / len(unans) if len(unans) else None,
                "answered answerable": f"{answered} of {len(ans)}",
                "answer rate": answered / len(ans) if len(ans) else None,
                "failed calls": int(g["error"].notna().sum()),
            }
        )
    return pd.DataFrame(rows).set_index("config")


def timing_table(grid: pd.DataFrame) -> pd.DataFrame:
    """Per index and retriever: chunks, build time, search latency percentiles (ms) and the
    time to embed a question (ms, measured once for all configurations; "—" for BM25)."""
    keys = ["chunker", "size", "overlap", "retriever"]
    rows = []
    for key, g in grid.groupby(keys, sort=False):
        queries = g.drop_duplicates(["question_id", *keys, "hybrid_weight", "mmr_lambda"])
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "chunks": int(g["chunks"].iloc[0]),
                "build_s": float(g["build_s"].iloc[0]),
                "query_p50_ms": 1000 * percentile(queries["query_s"].tolist(), 50),
                "query_p95_ms": 1000 * percentile(queries["query_s"].tolist(), 95),
                "embed_query_ms": 1000 * percentile(queries["embed_query_s"].tolist(), 50)
                if queries["embed_query_s"].notna().any()
                else None,
            }
        )
    return pd.DataFrame(rows).set_index(keys)
