"""Continuous evaluation of captured traffic: reference-free checks on every traced request
(abstention, refusal, guard blocks, grounding in the retrieved context, answer length, latency,
errors, tokens, cost, feedback), per window with intervals and a change test against a
reference window."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from ..safety.detectors import ABSTAIN, refusal
from ..stats import bootstrap_ci, proportion_ci
from ..trace import TraceStore
from .traffic import application_requests

WORD = re.compile(r"[a-zA-Z]{4,}")
GROUNDED = 0.5  # share of an answer's content words found in its context
RATES = ("abstained", "refused", "blocked", "grounded", "error", "negative_feedback")
MEANS = ("latency_s", "answer_words", "input_tokens", "output_tokens", "cost_usd", "judge_score")


def _context(messages: str | None) -> str:
    """The retrieved context of a chat span's input messages (the rendered `rag-answer` turn)."""
    try:
        turns = json.loads(messages or "[]")
    except ValueError:
        return ""
    user = " ".join(t.get("content", "") for t in turns if t.get("role") == "user")
    return user.split("Question:")[0]


def _grounded(answer: str, context: str) -> bool | None:
    words = {w.lower() for w in WORD.findall(answer)}
    if not words or ABSTAIN.search(answer) or refusal(answer).hit:
        return None  # nothing to ground: an abstention, a refusal, no content words
    known = {w.lower() for w in WORD.findall(context)}
    return len(words & known) / len(words) >= GROUNDED


def _text_checks(answer: str, latency_s: Any, feedback: Any) -> dict[str, Any]:
    """The checks that need only the answer's text (and the request's latency and feedback)."""
    thumbs = feedback.get("thumbs") if isinstance(feedback, dict) else None
    return {
        "latency_s": latency_s if isinstance(latency_s, int | float) else None,
        "abstained": bool(ABSTAIN.search(answer)),
        "refused": bool(refusal(answer).hit),
        "answer_words": len(answer.split()),
        "negative_feedback": (thumbs == -1) if thumbs in (1, -1) else None,
    }


def requests(store: TraceStore) -> pd.DataFrame:
    """One row per application request in the store, with every reference-free check."""
    base = application_requests(store)
    if not base:
        return pd.DataFrame()
    spans = dict(tuple(pd.DataFrame(store.spans()).groupby("trace_id", sort=False)))
    rows = []
    for r in base:
        group = spans[r["trace_id"]]
        chats = [s for s in group.itertuples() if s.name.startswith("chat ")]
        guard = [
            s.attributes.get("workbench.guard.blocked")
            for s in group.itertuples()
            if s.name == "guard"
        ]
        answer = r["output"] or ""
        chat = chats[0].attributes if chats else {}
        context = _context(chat.get("gen_ai.input.messages")) if chats else None
        rows.append(
            {
                "trace_id": r["trace_id"],
                "id": r["id"],
                "time": pd.Timestamp(r["_time"]),
                "input": r["input"],
                "output": answer,
                **_text_checks(answer, r["latency_s"], r.get("feedback")),
                "blocked": any(g not in (None, "none", "") for g in guard),
                "context": context,
                # A request blocked before the model has no context and no answer to ground.
                "grounded": _grounded(answer, context) if chats else None,
                "input_tokens": chat.get("gen_ai.usage.input_tokens"),
                "output_tokens": chat.get("gen_ai.usage.output_tokens"),
                "cost_usd": chat.get("workbench.cost_usd"),
                "error": r["_status"] == "ERROR" or any(c.status == "ERROR" for c in chats),
            }
        )
    return pd.DataFrame(rows).sort_values("time").reset_index(drop=True)


def judged(df: pd.DataFrame, judge_model: str, scale: tuple[int, int] = (1, 5)) -> pd.DataFrame:
    """`df` with a rubric judge's verdict on each answer that reached the model, its retrieved
    context standing in for the reference production lacks: `judge_score` (0-1), `judge_reason`
    and `judge_parse_failure` (counted per window, never dropped silently). A request blocked
    before the model is not judged (NaN, no failure)."""
    from ..judge import rubric

    out = df.copy()
    out["judge_score"], out["judge_reason"] = np.nan, None
    out["judge_parse_failure"] = False
    todo = out.index[out["context"].notna()] if "context" in out else out.index[:0]
    if len(todo):
        rows = out.loc[todo]
        verdicts = rubric(
            judge_model,
            rows["input"].tolist(),
            rows["output"].tolist(),
            rows["context"].tolist(),
            scale=scale,
        )
        out.loc[todo, "judge_score"] = verdicts["normalised"].to_numpy()
        out.loc[todo, "judge_reason"] = verdicts["reason"].to_numpy()
        out.loc[todo, "judge_parse_failure"] = verdicts["parse_failure"].to_numpy()
    return out


def window_table(df: pd.DataFrame, window: str, origin=None, seed: int = 0) -> pd.DataFrame:
    """Per window: each rate with its Wilson interval and count, each mean with a bootstrap
    interval, latency p50 / p95, and how many requests carry feedback. `origin`: when the
    first window starts (default: the first request), so windows match the drift windows."""
    out = []
    from .traffic import parse_window

    start0 = pd.Timestamp(origin) if origin is not None else df["time"].min()
    step = pd.Timedelta(parse_window(window))
    slot = (df["time"] - start0) // step
    for n, g in df.groupby(slot, sort=True):
        start = start0 + int(n) * step
        if g.empty:
            continue
        row: dict[str, Any] = {
            "window": start,
            "requests": len(g),
            "feedback_rate": g["negative_feedback"].notna().mean(),
        }
        for r in RATES:
            values = g[r].dropna().astype(bool)
            low, high = proportion_ci(int(values.sum()), len(values))
            row.update(
                {
                    r: values.mean() if len(values) else np.nan,
                    f"{r}_low": low,
                    f"{r}_high": high,
                    f"{r}_n": len(values),
                }
            )
        for m in MEANS:
            values = pd.to_numeric(g[m], errors="coerce").dropna().tolist() if m in g else []
            mean, low, high = bootstrap_ci(values, seed=seed) if values else (np.nan,) * 3
            row.update({m: mean, f"{m}_low": low, f"{m}_high": high, f"{m}_n": len(values)})
        if "judge_parse_failure" in g:
            row["judge_parse_failures"] = int(g["judge_parse_failure"].sum())
        row["latency_p50_s"] = float(g["latency_s"].quantile(0.5))
        row["latency_p95_s"] = float(g["latency_s"].quantile(0.95))
        out.append(row)
    return pd.DataFrame(out)


def _rate_change(
    current: pd.DataFrame, reference: pd.DataFrame, rate: str
) -> tuple[pd.Series, pd.Series, float | None]:
    """(reference values, current values, Fisher's exact p of the difference) of one rate;
    p is None when either side has no value."""
    from scipy.stats import fisher_exact

    def values(df: pd.DataFrame) -> pd.Series:
        return df[rate].dropna().astype(bool) if rate in df else pd.Series(dtype=bool)

    a, b = values(reference), values(current)
    if not (len(a) and len(b)):
        return a, b, None
    table = [[int(a.sum()), len(a) - int(a.sum())], [int(b.sum()), len(b) - int(b.sum())]]
    return a, b, float(fisher_exact(table).pvalue)


def changes(df: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Each metric of `df` against the same metric of `reference` (another window's requests):
    Fisher's exact test for rates, Mann-Whitney U for the rest."""
    from scipy.stats import mannwhitneyu

    rows = []
    for r in RATES:
        a, b, p = _rate_change(df, reference, r)
        rows.append(
            {
                "metric": r,
                "reference": a.mean() if len(a) else np.nan,
                "current": b.mean() if len(b) else np.nan,
                "p_value": p,
            }
        )
    for m in (m for m in MEANS if m in df and m in reference):
        a = pd.to_numeric(reference[m], errors="coerce").dropna()
        b = pd.to_numeric(df[m], errors="coerce").dropna()
        p = float(mannwhitneyu(a, b).pvalue) if len(a) >= 5 and len(b) >= 5 else None
        rows.append(
            {
                "metric": m,
                "reference": a.mean() if len(a) else np.nan,
                "current": b.mean() if len(b) else np.nan,
                "p_value": p,
            }
        )
    out = pd.DataFrame(rows)
    out["change"] = out["current"] - out["reference"]
    out["note"] = ["not enough data" if p is None else "" for p in out["p_value"]]
    return out


# Rates an alert rule can follow per window: `<rate>_rate`, `<rate>_change` (current minus the
# reference, 0.10 = 10 points) and `<rate>_change_p` (Fisher's exact test of the change).
ALERT_RATES = ("abstained", "refused", "blocked", "grounded", "error")
QUALITY_METRICS = (
    "evaluated",
    *(f"{r}_{suffix}" for r in ALERT_RATES for suffix in ("rate", "change", "change_p")),
)


def attach(rows: list[dict[str, Any]], evaluated: pd.DataFrame, key: str = "id") -> int:
    """Give each log row the checks of its evaluated request (matched on `key`); how many got
    them. Rows without are simply not evaluated (the window's `evaluated` count says so)."""
    if evaluated is None or evaluated.empty:
        return 0
    by_key = {r[key]: r for r in evaluated.to_dict("records")}
    n = 0
    for row in rows:
        checks = by_key.get(row.get(key))
        if checks is not None:
            row["_checks"] = checks
            n += 1
    return n


def checks(row: dict[str, Any]) -> dict[str, Any] | None:
    """A log row's checks: attached from its trace (`attach`), else computed from a logged
    `output` (the text checks only); None when the request was not evaluated."""
    if "_checks" in row:
        return row["_checks"]
    if isinstance(row.get("output"), str):
        return {
            **_text_checks(row["output"], row.get("latency_s"), row.get("feedback")),
            "error": bool(row.get("error")),
        }
    return None


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The checks of the rows that were evaluated, one row each."""
    return pd.DataFrame([c for c in map(checks, rows) if c is not None])


def window_quality(current: pd.DataFrame, reference: pd.DataFrame) -> dict[str, Any]:
    """Each alertable rate of a window's evaluated requests, its change against the
    reference's and Fisher's p-value for that change (None where not measured)."""
    out: dict[str, Any] = dict.fromkeys(QUALITY_METRICS)
    out["evaluated"] = len(current)
    for r in ALERT_RATES:
        a, b, p = _rate_change(current, reference, r)
        if len(b):
            out[f"{r}_rate"] = float(b.mean())
        if p is not None:
            out[f"{r}_change"] = float(b.mean() - a.mean())
            out[f"{r}_change_p"] = p
    return out
