"""Alert rules (a versioned YAML file) evaluated on each window's metrics."""

from __future__ import annotations

import hashlib
import operator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .. import config, tracking
from ..data import read_yaml_mapping
from ..errors import DataError
from ..io import Schema, read_text, validate
from .drift import WindowDrift
from .evaluation import QUALITY_METRICS

TESTS = {
    ("ks", "characters"): "characters_p",
    ("ks", "tokens"): "tokens_p",
    ("chi2", "language"): "language_p",
    ("chi2", "topic cluster"): "topic_p",
    ("mmd", "embeddings"): "mmd_p",
    ("classifier", "embeddings"): "classifier_p",
}
METRICS = (
    *TESTS.values(),
    "classifier_auc",
    "mmd",
    "tokens_psi",
    "uncovered_share",
    "requests",
    "latency_p95_s",
    "negative_feedback_share",
    *QUALITY_METRICS,
)
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class Rule(Schema):
    name: str = Field(min_length=1)
    metric: str
    op: Literal["<", "<=", ">", ">="]
    threshold: float
    # For a `*_change` metric: fire only when the change test's p-value is below this too, so
    # a handful of requests cannot raise an alert by chance.
    p_below: float | None = Field(None, gt=0, le=1)


def default_path() -> Path:
    return config.datasets_dir() / "monitoring" / "alerts.yaml"


def load_rules(path: str | Path | None = None) -> tuple[list[Rule], str]:
    """The rules and the file's version (sha256 of its text, 12 digits); errors name the rule."""
    path = Path(path) if path else default_path()
    raw = read_yaml_mapping(path, "alert rules")
    if not isinstance(raw.get("alerts"), list) or not raw["alerts"]:
        raise DataError(f"{path}: expected a non-empty 'alerts:' list")
    rules = []
    for i, entry in enumerate(raw["alerts"]):
        rule = validate(Rule, entry, f"{path}: alerts[{i}]", DataError)
        if rule.metric not in METRICS:
            raise DataError(
                f"{path}: alerts[{i}] ({rule.name}): unknown metric {rule.metric!r}; "
                f"known: {', '.join(METRICS)}"
            )
        if rule.p_below is not None and f"{rule.metric}_p" not in METRICS:
            raise DataError(
                f"{path}: alerts[{i}] ({rule.name}): p_below applies to a *_change metric "
                f"(one with a change test), not to {rule.metric!r}"
            )
        rules.append(rule)
    version = hashlib.sha256(read_text(path, "alert rules").encode()).hexdigest()[:12]
    return rules, version


def window_metrics(drift: WindowDrift | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics a rule can name, for one window (None where not measured)."""
    out: dict[str, Any] = dict.fromkeys(METRICS)
    out["requests"] = len(rows)
    if drift is not None:
        for r in drift.table.itertuples():
            name = TESTS.get((r.test, r.feature))
            if name and r.p_adjusted is not None and not np.isnan(r.p_adjusted):
                out[name] = float(r.p_adjusted)
            if (r.test, r.feature) == ("classifier", "embeddings") and r.statistic is not None:
                out["classifier_auc"] = float(r.statistic)
            if r.test == "mmd" and r.statistic is not None:
                out["mmd"] = float(r.statistic)
            if r.test == "psi" and r.statistic is not None:
                out["tokens_psi"] = float(r.statistic)
        out["uncovered_share"] = len(drift.uncovered) / len(rows) if rows else None
    latencies = [float(r["latency_s"]) for r in rows if isinstance(r.get("latency_s"), int | float)]
    if latencies:
        out["latency_p95_s"] = float(np.percentile(latencies, 95))
    votes = [r["feedback"].get("thumbs") for r in rows if isinstance(r.get("feedback"), dict)]
    votes = [v for v in votes if v in (1, -1)]
    if votes:
        out["negative_feedback_share"] = sum(v == -1 for v in votes) / len(votes)
    return out


def evaluate(
    rules: list[Rule],
    window: str,
    metrics: dict[str, Any],
    examples: list[str],
    by_rate: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The alerts that fire on one window: each names the window, metric, value, threshold and
    examples (the requests that best show a drift; for a rate, the traces it counted). A
    metric that was not measured fires nothing (and is not 'fine' either: the window's table
    says 'not enough data')."""
    fired = []
    for rule in rules:
        rate = rule.metric.split("_")[0]
        shown = (by_rate or {}).get(rate, examples) if rule.metric in QUALITY_METRICS else examples
        value = metrics.get(rule.metric)
        if rule.p_below is not None:
            p = metrics.get(f"{rule.metric}_p")
            if p is None or p >= rule.p_below:
                continue
        if value is not None and OPS[rule.op](value, rule.threshold):
            fired.append(
                {
                    "window": window,
                    "alert": rule.name,
                    "metric": rule.metric,
                    "value": value,
                    "op": rule.op,
                    "threshold": rule.threshold,
                    "p_value": metrics.get(f"{rule.metric}_p") if rule.p_below else None,
                    # A request can be long (a pasted e-mail thread): its start is enough.
                    "examples": [e if len(e) <= 200 else e[:200] + "…" for e in shown[:3]],
                }
            )
    return fired


def unmeasured(rules: list[Rule], windows: list[dict[str, Any]]) -> list[str]:
    """One line per rule whose metric no window measured: its silence is not an all-clear."""
    evaluated = sum(w.get("evaluated") or 0 for w in windows)

    def why(metric: str) -> str:
        if metric not in QUALITY_METRICS:
            return ""
        if not evaluated:
            return ": no request was evaluated (no traces or logged outputs)"
        where = (
            "in the reference window and in another window"
            if "_change" in metric
            else "in any window"
        )
        return (
            f": {evaluated} request(s) were evaluated, too few to give it a value {where}"
            " (replay more requests per window)"
        )

    return [
        f"rule {r.name!r} ({r.metric}) was not measured in any window{why(r.metric)}"
        for r in rules
        if all(w.get(r.metric) is None for w in windows)
    ]


def warning(alert: dict[str, Any]) -> str:
    """An alert in one line."""
    p = f" (p = {alert['p_value']:.2g})" if alert.get("p_value") is not None else ""
    return (
        f"alert {alert['alert']}: window {alert['window']}, {alert['metric']} = "
        f"{alert['value']:.3g} {alert['op']} {alert['threshold']}{p}"
    )


def record(
    fired: list[dict[str, Any]], version: str, not_measured: list[str] | None = None
) -> None:
    """Put the alerts into the run record (`alerts`, a warning each: the index's badge), and
    the rules no window could measure (`alert_rules_not_measured`, a warning each)."""
    run = tracking.current()
    run.log_section("alerts", fired)
    run.log_section("alert_rules_not_measured", not_measured or [])
    run.log_metrics({"alerts": len(fired), "alert_rules_version": version})
    for a in fired:
        run.warn(warning(a))
    for line in not_measured or []:
        run.warn(line)
