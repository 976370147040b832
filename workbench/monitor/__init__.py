"""Monitoring of production traffic (notebook 07, in progress): skew and drift of request
windows against the evaluation set or an earlier window, on scipy and scikit-learn.

- `stats`: two-sample tests (KS, PSI, chi-square, MMD² with a permutation test, a domain
  classifier's AUC with a permutation null) and Benjamini-Hochberg.
- `text`: lengths, token counts, language, topic clusters, separating n-grams, coverage.
- `drift`: `compare`, one window against its reference.
"""

from . import alerts, evaluation, runner, stats, text, traffic
from .drift import ALPHA, COVERAGE_THRESHOLD, WindowDrift, compare

__all__ = [
    "ALPHA",
    "COVERAGE_THRESHOLD",
    "WindowDrift",
    "compare",
    "alerts",
    "evaluation",
    "runner",
    "stats",
    "text",
    "traffic",
]
