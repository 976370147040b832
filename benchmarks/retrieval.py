"""Top-10 dense retrieval latency over 10,000 chunks: the workbench's exact inner-product search
vs FAISS IndexFlatIP, at equal recall (both exact; recall of ours against FAISS's top-10 is checked).

Vectors are random unit vectors of the embedding model's size (384): latency depends on the
count and size of the vectors, not on their meaning. Queries run one at a time, as in the
notebook's per-question loop. Goal: ours <= 1.5x FAISS's median latency.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import report  # noqa: E402

from workbench.rag import Index  # noqa: E402
from workbench.rag.chunking import Chunk  # noqa: E402

N, DIM, K, QUERIES = 10_000, 384, 10, 200


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
    ours_s, faiss_s, agree = [], [], []
    for q in queries:
        q = q[None, :]
        t = time.perf_counter()
        mine = ours.dense(q, K)[0]
        ours_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        _, ids = flat.search(q, K)
        faiss_s.append(time.perf_counter() - t)
        agree.append(len({i for i, _ in mine} & set(ids[0].tolist())) / K)
    ratio = statistics.median(ours_s) / statistics.median(faiss_s)
    report("retrieval", ratio, "x FAISS flat latency", "<= 1.5",
           ours_p50_ms=round(statistics.median(ours_s) * 1e3, 3),
           faiss_p50_ms=round(statistics.median(faiss_s) * 1e3, 3),
           recall_at_10_vs_faiss=round(float(np.mean(agree)), 4), chunks=N, queries=QUERIES)  # fmt: skip


if __name__ == "__main__":
    main()
