"""Summary statistics with uncertainty: bootstrap confidence intervals and percentiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def bootstrap_ci(
    values: Sequence[float], confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval of `values`: (mean, low, high).

    NaN values are an error, not silently dropped: the caller decides what a missing
    score means. One value gives a zero-width interval.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci: no values")
    if np.isnan(x).any():
        raise ValueError(f"bootstrap_ci: {int(np.isnan(x).sum())} NaN value(s)")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_resamples, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(lo), float(hi)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) of the non-missing values, None when there are none."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[~np.isnan(x)]
    return float(np.percentile(x, q)) if x.size else None


def stratified_bootstrap_ci(
    groups: Sequence[Sequence[float]],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Macro mean over groups (e.g. tasks) with a bootstrap interval that resamples within each group."""
    arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not arrays:
        raise ValueError("stratified_bootstrap_ci: no values")
    if any(np.isnan(a).any() for a in arrays):
        raise ValueError("stratified_bootstrap_ci: NaN value(s)")
    mean = float(np.mean([a.mean() for a in arrays]))
    rng = np.random.default_rng(seed)
    totals = np.zeros(n_resamples)
    for a in arrays:
        idx = rng.integers(0, a.size, size=(n_resamples, a.size))
        totals += a[idx].mean(axis=1)
    means = totals / len(arrays)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(lo), float(hi)


def proportion_ci(
    successes: int, n: int, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (sound at 0/n and n/n, unlike the bootstrap);
    (None, None) when n is 0."""
    if n == 0:
        return None, None
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def measured(results: Any) -> Any:
    """The rows of a results frame generated in this run (no error, not from the cache).

    Speed is measured on these only: a cached answer carries the latency of the call that first
    produced it, on whatever machine and load that was; reporting it as measured now misleads.
    """
    ok = results[results["error"].isna()]
    return ok[~ok["cached"].astype(bool)] if "cached" in ok else ok
