"""Skew and drift of one window of requests against a reference (the evaluation inputs, or an
earlier window): every test of `stats` on the features of `text`, adjusted together
(Benjamini-Hochberg), with what separates the window and how much of it the evaluation covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..embeddings import embed
from . import stats, text

ALPHA = 0.01  # on the adjusted p-value
COVERAGE_THRESHOLD = 0.5  # MiniLM cosine below which no evaluation input is like a request


@dataclass
class WindowDrift:
    """The tests of one window, what separates it, and its evaluation coverage."""

    table: pd.DataFrame
    ngrams: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    clusters: pd.DataFrame | None = None
    uncovered: list[int] = field(default_factory=list)
    coverage_similarity: np.ndarray | None = None

    @property
    def drifted(self) -> bool:
        return bool((self.table["verdict"] == "drift").any())

    def verdict(self) -> str:
        """One line: which tests found drift, or that none did, or that data was short."""
        found = self.table[self.table["verdict"] == "drift"]
        if len(found):
            return "drift: " + ", ".join(f"{r.test} on {r.feature}" for r in found.itertuples())
        if (self.table["verdict"] == "not enough data").all():
            return "not enough data"
        return "no detectable drift"


def compare(
    reference: list[str],
    current: list[str],
    *,
    reference_vectors: np.ndarray | None = None,
    current_vectors: np.ndarray | None = None,
    evaluation_vectors: np.ndarray | None = None,
    alpha: float = ALPHA,
    n_permutations: int = 1000,
    classifier_permutations: int = 100,
    coverage_threshold: float = COVERAGE_THRESHOLD,
    seed: int = 0,
) -> WindowDrift:
    """Test `current` against `reference`; vectors are all-MiniLM-L6-v2 embeddings (computed
    when not given). `evaluation_vectors` (default: the reference's) measure coverage."""
    ref_v = embed(reference) if reference_vectors is None else reference_vectors
    cur_v = embed(current) if current_vectors is None else current_vectors
    results = [
        stats.ks(text.lengths(reference), text.lengths(current), "characters"),
        stats.ks(text.token_counts(reference), text.token_counts(current), "tokens"),
        stats.chi2(text.languages(reference), text.languages(current), "language"),
    ]
    clusters = None
    if min(len(reference), len(current)) >= stats.MIN_N:
        ref_t, cur_t = text.topics(ref_v, cur_v, seed=seed)
        results.append(stats.chi2(ref_t, cur_t, "topic cluster"))
        shares = pd.DataFrame(
            {
                "reference": pd.Series(ref_t).value_counts(normalize=True),
                "current": pd.Series(cur_t).value_counts(normalize=True),
            }
        ).fillna(0.0)
        shares["shift"] = shares["current"] - shares["reference"]
        clusters = shares.sort_values("shift", ascending=False)
    else:
        results.append(
            stats.Result(
                "chi2", "topic cluster", len(reference), len(current), note="not enough data"
            )
        )
    results.append(stats.mmd(ref_v, cur_v, n_permutations, seed))
    domain, proba = stats.classifier(ref_v, cur_v, classifier_permutations, seed)
    results.append(domain)
    adjusted = stats.adjust(results)
    psi = stats.psi(text.token_counts(reference), text.token_counts(current), "tokens")
    rows = []
    for r, a in zip([*results, psi], [*adjusted, None], strict=True):
        verdict = (
            "not enough data"
            if not r.enough
            else "drift"
            if a is not None and a < alpha
            else "no detectable drift"
        )
        rows.append({**r.row(), "p_adjusted": a, "verdict": verdict})
    table = pd.DataFrame(rows)
    examples = [current[i] for i in np.argsort(-proba)[:5]] if proba is not None else []
    evaluation = ref_v if evaluation_vectors is None else evaluation_vectors
    similarity = text.coverage(cur_v, evaluation)
    return WindowDrift(
        table=table,
        ngrams=text.separating_ngrams(reference, current),
        examples=examples,
        clusters=clusters,
        uncovered=[int(i) for i in np.flatnonzero(similarity < coverage_threshold)],
        coverage_similarity=similarity,
    )
