"""Top-10 dense retrieval latency over 10,000 chunks: the workbench's exact inner-product search
vs FAISS IndexFlatIP, at equal recall (both exact; recall of ours against FAISS's top-10 is checked).

Vectors are random unit vectors of the embedding model's size (384): latency depends on the
count and size of the vectors, not on their meaning. Queries run one at a time, as in the
notebook's per-question loop. Both sides run on one thread (BLAS and FAISS's OpenMP pinned), in
alternating rounds of all queries; the ratio is of the median round times, with min / median / max.
Goal: ours <= 1.5x FAISS's latency.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import alternate, pin_threads, ratio_report  # noqa: E402

pin_threads(1)  # before numpy starts its BLAS pool

import numpy as np  # noqa: E402

from workbench.rag import Index  # noqa: E402
from workbench.rag.chunking import Chunk  # noqa: E402

N, DIM, K, QUERIES, ROUNDS = 10_000, 384, 10, 200, 7


def main() -> None:
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((N, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    chunks = [Chunk(str(i), "d", 0, 0, "") for i in range(N)]
    ours = Index(chunks, vectors, "all-minilm-l6-v2")
    flat = faiss.IndexFlatIP(DIM)
    flat.add(vectors)
    agree = [
        len(
            {i for i, _ in ours.dense(q[None, :], K)[0]}
            & set(flat.search(q[None, :], K)[1][0].tolist())
        )
        / K
        for q in queries
    ]

    def run_ours() -> None:
        for q in queries:
            ours.dense(q[None, :], K)

    def run_faiss() -> None:
        for q in queries:
            flat.search(q[None, :], K)

    run_ours(), run_faiss()  # warm-up
    times = alternate({"workbench": run_ours, "faiss_flat": run_faiss}, ROUNDS)
    ratio_report(
        "retrieval",
        times,
        "workbench",
        "faiss_flat",
        "<= 1.5",
        recall_at_10_vs_faiss=round(float(np.mean(agree)), 4),
        chunks=N,
        queries_per_round=QUERIES,
        threads=1,
    )


if __name__ == "__main__":
    main()
