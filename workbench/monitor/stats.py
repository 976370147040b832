"""Two-sample tests for text drift, each returning a statistic, an effect size and a p-value, or
"not enough data" when a side is too small for the test to mean anything (never "no drift").

- `ks`: Kolmogorov-Smirnov on a numeric feature (character length, token count).
- `psi`: population stability index on the reference's deciles (an effect size, no p-value).
- `chi2`: chi-square on categories (language, topic cluster) with Cramér's V.
- `mmd`: squared maximum mean discrepancy with an RBF kernel (median-distance bandwidth) and a
  permutation test, all permutations in one matrix product.
- `classifier`: a domain classifier's cross-validated ROC AUC with a label-permutation null.
- `adjust`: Benjamini-Hochberg across the tests of a window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MIN_N = 20  # per side, below which a test reports "not enough data"


@dataclass
class Result:
    """One test on one feature of one window."""

    test: str
    feature: str
    n_reference: int
    n_current: int
    statistic: float | None = None
    effect: float | None = None
    p_value: float | None = None
    note: str = ""

    @property
    def enough(self) -> bool:
        return self.note != "not enough data"

    def row(self) -> dict[str, Any]:
        return asdict(self)


def _short(test: str, feature: str, ref, cur, minimum: int = MIN_N) -> Result | None:
    if len(ref) < minimum or len(cur) < minimum:
        return Result(test, feature, len(ref), len(cur), note="not enough data")
    return None


def ks(ref, cur, feature: str) -> Result:
    from scipy.stats import ks_2samp

    ref, cur = np.asarray(ref, float), np.asarray(cur, float)
    if (short := _short("ks", feature, ref, cur)) is not None:
        return short
    out = ks_2samp(ref, cur)
    shift = float(np.median(cur) - np.median(ref))
    return Result(
        "ks",
        feature,
        len(ref),
        len(cur),
        float(out.statistic),
        shift,
        float(out.pvalue),
        note=f"median {np.median(ref):.0f} -> {np.median(cur):.0f}",
    )


def psi(ref, cur, feature: str, eps: float = 1e-4) -> Result:
    ref, cur = np.asarray(ref, float), np.asarray(cur, float)
    if (short := _short("psi", feature, ref, cur)) is not None:
        return short
    edges = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    r, c = np.clip(r, eps, None), np.clip(c, eps, None)
    value = float(np.sum((c - r) * np.log(c / r)))
    level = "major shift" if value >= 0.25 else "moderate shift" if value >= 0.1 else "stable"
    return Result("psi", feature, len(ref), len(cur), value, value, None, note=level)


def chi2(ref: list[str], cur: list[str], feature: str) -> Result:
    from scipy.stats import chi2_contingency

    if (short := _short("chi2", feature, ref, cur)) is not None:
        return short
    cats = sorted(set(ref) | set(cur))
    if len(cats) < 2:
        return Result("chi2", feature, len(ref), len(cur), 0.0, 0.0, 1.0, note="one category")
    table = np.array([[ref.count(k) for k in cats], [cur.count(k) for k in cats]])
    stat, p, _, _ = chi2_contingency(table)
    v = float(np.sqrt(stat / (table.sum() * (min(table.shape) - 1))))
    return Result("chi2", feature, len(ref), len(cur), float(stat), v, float(p))


def _rbf(x: np.ndarray, y: np.ndarray, gamma: float) -> np.ndarray:
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.exp(-gamma * np.clip(d, 0, None))


def mmd(x: np.ndarray, y: np.ndarray, n_permutations: int = 200, seed: int = 0) -> Result:
    """Unbiased MMD² between two samples of vectors, p-value from `n_permutations` relabellings."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if (short := _short("mmd", "embeddings", x, y)) is not None:
        return short
    pooled = np.vstack([x, y])
    rng = np.random.default_rng(seed)
    sample = pooled[rng.choice(len(pooled), min(len(pooled), 1000), replace=False)]
    sq = (sample * sample).sum(1)
    d = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2 * sample @ sample.T, 0, None))
    median = float(np.median(d[np.triu_indices(len(sample), 1)])) or 1.0
    kernel = _rbf(pooled, pooled, 1.0 / (2 * median**2))
    m, n, total = len(x), len(y), len(pooled)
    labels = np.zeros((total, n_permutations + 1))
    labels[:m, 0] = 1
    for p in range(1, n_permutations + 1):
        labels[rng.permutation(total)[:m], p] = 1
    k_a = kernel @ labels  # one product scores every relabelling at once
    k_b = kernel.sum(1)[:, None] - k_a
    s_xx = (labels * k_a).sum(0) - m  # the kernel's diagonal is 1: leave i == j out
    s_yy = ((1 - labels) * k_b).sum(0) - n
    s_xy = (labels * k_b).sum(0)
    values = s_xx / (m * (m - 1)) + s_yy / (n * (n - 1)) - 2 * s_xy / (m * n)
    observed = float(values[0])
    p_value = float((1 + np.sum(values[1:] >= observed)) / (1 + n_permutations))
    return Result(
        "mmd",
        "embeddings",
        m,
        n,
        observed,
        observed,
        p_value,
        note=f"{n_permutations} permutations, bandwidth {median:.3f}",
    )


def classifier(
    x: np.ndarray, y: np.ndarray, n_permutations: int = 50, seed: int = 0
) -> tuple[Result, np.ndarray | None]:
    """Cross-validated ROC AUC of a logistic regression telling current from reference (0.5: it
    cannot), with a label-permutation p-value; also each current row's out-of-fold probability."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, permutation_test_score
    from threadpoolctl import threadpool_limits

    if (short := _short("classifier", "embeddings", x, y)) is not None:
        return short, None
    data = np.vstack([x, y])
    target = np.r_[np.zeros(len(x)), np.ones(len(y))]
    model = LogisticRegression(max_iter=1000)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    # Hundreds of tiny fits: a second BLAS thread only waits. With another process on one of
    # two cores, OpenBLAS's waiting threads made this step 4x slower (140 s against 34 s).
    with threadpool_limits(limits=1, user_api="blas"):
        auc, _, p_value = permutation_test_score(
            model,
            data,
            target,
            scoring="roc_auc",
            cv=cv,
            n_permutations=n_permutations,
            random_state=seed,
        )
        proba = cross_val_predict(model, data, target, cv=cv, method="predict_proba")
    proba = proba[len(x) :, 1]
    result = Result(
        "classifier",
        "embeddings",
        len(x),
        len(y),
        float(auc),
        float(auc) - 0.5,
        float(p_value),
        note=f"5-fold ROC AUC, {n_permutations} permutations",
    )
    return result, proba


def adjust(results: list[Result]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values, None where a test has no p-value."""
    from scipy.stats import false_discovery_control

    idx = [i for i, r in enumerate(results) if r.p_value is not None]
    out: list[float | None] = [None] * len(results)
    if idx:
        adjusted = false_discovery_control([results[i].p_value for i in idx], method="bh")
        for i, a in zip(idx, adjusted, strict=True):
            out[i] = float(a)
    return out
