"""Text features for drift: lengths, token counts, language, topic clusters fitted on the
reference, the n-grams that separate a window from its reference, and evaluation coverage."""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

TOKEN = re.compile(r"\w+", re.UNICODE)
# Languages the identifier may answer; a short request is easily mistaken for a rare language.
LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "nl", "pl", "sv", "da", "ru", "zh", "ja", "ar"]
MIN_LANGUAGE_PROB = 0.5


def lengths(texts: list[str]) -> np.ndarray:
    return np.array([len(t) for t in texts], dtype=float)


def token_counts(texts: list[str]) -> np.ndarray:
    return np.array([len(TOKEN.findall(t)) for t in texts], dtype=float)


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(LANGUAGES)
    return ident


def languages(texts: list[str]) -> list[str]:
    """ISO 639-1 code per text ("und" when the identifier is not sure)."""
    ident = _identifier()
    out = []
    for t in texts:
        lang, prob = ident.classify(t)
        out.append(lang if prob >= MIN_LANGUAGE_PROB else "und")
    return out


def topics(reference: np.ndarray, current: np.ndarray, k: int = 8, seed: int = 0):
    """Cluster labels of reference and current vectors, clusters fitted on the reference."""
    from sklearn.cluster import KMeans

    # No more clusters than distinct reference vectors (a reference of repeated requests).
    distinct = len(np.unique(np.round(reference, 6), axis=0))
    k = max(1, min(k, len(reference) // 10, distinct))
    model = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(reference)
    return [f"t{c}" for c in model.labels_], [f"t{c}" for c in model.predict(current)]


def separating_ngrams(
    reference: list[str], current: list[str], top: int = 10
) -> list[dict[str, Any]]:
    """The 1-2-grams most over-represented in `current`: log-odds ratio with an informative
    Dirichlet prior (Monroe, Colaresi and Quinn 2008), as z-scores."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not reference or not current:
        return []
    vec = CountVectorizer(ngram_range=(1, 2), min_df=2, lowercase=True)
    try:
        counts = vec.fit_transform(reference + current)
    except ValueError:  # no n-gram occurs twice
        return []
    a = np.asarray(counts[: len(reference)].sum(0)).ravel() + 0.0
    b = np.asarray(counts[len(reference) :].sum(0)).ravel() + 0.0
    prior = a + b
    a0, b0, p0 = a.sum(), b.sum(), prior.sum()
    delta = np.log((b + prior) / (b0 + p0 - b - prior)) - np.log(
        (a + prior) / (a0 + p0 - a - prior)
    )
    z = delta / np.sqrt(1 / (b + prior) + 1 / (a + prior))
    names = vec.get_feature_names_out()
    order = np.argsort(-z)[:top]
    return [
        {
            "ngram": str(names[i]),
            "z": round(float(z[i]), 2),
            "current": int(b[i]),
            "reference": int(a[i]),
        }
        for i in order
        if z[i] > 0
    ]


def coverage(current: np.ndarray, evaluation: np.ndarray) -> np.ndarray:
    """Each current request's highest cosine similarity to any evaluation input (unit vectors);
    below the coverage threshold it has no evaluation case like it."""
    return (current @ evaluation.T).max(1) if len(evaluation) else np.zeros(len(current))
