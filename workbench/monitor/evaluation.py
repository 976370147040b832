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
MEANS = ("latency_s", "answer_words", "input_tokens", "output_tokens", "cost_usd")


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
    if not words or ABSTAIN.search(answer):
        return None  # nothing to ground: an abstention or an answer without content words
    known = {w.lower() for w in WORD.findall(context)}
    return len(words & known) / len(words) >= GROUNDED


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
        thumbs = r.get("feedback", {}).get("thumbs")
        rows.append(
            {
                "trace_id": r["trace_id"],
                "id": r["id"],
                "time": pd.Timestamp(r["_time"]),
                "input": r["input"],
                "output": answer,
                "latency_s": r["latency_s"],
                "abstained": bool(ABSTAIN.search(answer)),
                "refused": bool(refusal(answer).hit),
                "blocked": any(g not in (None, "none", "") for g in guard),
                "grounded": _grounded(answer, _context(chat.get("gen_ai.input.messages"))),
                "answer_words": len(answer.split()),
                "input_tokens": chat.get("gen_ai.usage.input_tokens"),
                "output_tokens": chat.get("gen_ai.usage.output_tokens"),
                "cost_usd": chat.get("workbench.cost_usd"),
                "error": r["_status"] == "ERROR" or any(c.status == "ERROR" for c in chats),
                "negative_feedback": (thumbs == -1) if thumbs is not None else None,
            }
        )
    return pd.DataFrame(rows).sort_values("time").reset_index(drop=True)


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
            values = pd.to_numeric(g[m], errors="coerce").dropna().tolist()
            mean, low, high = bootstrap_ci(values, seed=seed) if values else (np.nan,) * 3
            row.update({m: mean, f"{m}_low": low, f"{m}_high": high})
        row["latency_p50_s"] = float(g["latency_s"].quantile(0.5))
        row["latency_p95_s"] = float(g["latency_s"].quantile(0.95))
        out.append(row)
    return pd.DataFrame(out)


def changes(df: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Each metric of `df` against the same metric of `reference` (another window's requests):
    Fisher's exact test for rates, Mann-Whitney U for the rest."""
    from scipy.stats import fisher_exact, mannwhitneyu

    rows = []
    for r in RATES:
        a, b = reference[r].dropna().astype(bool), df[r].dropna().astype(bool)
        p = None
        if len(a) and len(b):
            p = float(
                fisher_exact([[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]]).pvalue
            )
        rows.append(
            {
                "metric": r,
                "reference": a.mean() if len(a) else np.nan,
                "current": b.mean() if len(b) else np.nan,
                "p_value": p,
            }
        )
    for m in MEANS:
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
