"""Chain variants compared on the same tasks with `experiment`'s paired statistics: each
metric's mean with a bootstrap interval, each variant against a baseline (paired permutation
test), and the tasks whose result flipped."""

from __future__ import annotations

import pandas as pd

from ..experiment import compare_to_baseline, flipped_cases, variant_summary

METRICS = ["passed", "correct", "tool_call_accuracy", "tool_call_f1"]


def as_results(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The per-task tables of `evaluate`, one per chain, in `experiment`'s results layout
    (variant = chain, one 'model' column for the chain as a whole)."""
    df = pd.concat(tables, ignore_index=True)
    for m in METRICS:
        df[m] = df[m].astype(float)
    return df.assign(
        variant=df["chain"],
        model="chain",
        case_id=df["id"],
        output=df["answer"],
        error=df["failure"].where(df["stopped"].isin(["error"]), None),
        prompt_tokens=df["tokens"],  # all of a task's tokens: summarised as tokens_mean
        completion_tokens=0,
    )


def compare(
    tables: list[pd.DataFrame], baseline: str, metrics: list[str] | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary per chain, each chain against `baseline`), on the tasks every chain ran."""
    df = as_results(tables)
    shared = set.intersection(*(set(g["case_id"]) for _, g in df.groupby("variant")))
    df = df[df["case_id"].isin(shared)]
    metrics = metrics or METRICS
    summary = (
        variant_summary(df, metrics, seed=seed)
        .drop(columns=["model", "completion_tokens_mean"])
        .rename(columns={"prompt_tokens_mean": "tokens_mean", "n_cases": "tasks"})
    )
    against = compare_to_baseline(df, baseline, metrics, seed=seed).drop(columns=["model"])
    return summary, against


def flipped(
    tables: list[pd.DataFrame], baseline: str, variant: str, metric: str = "passed"
) -> pd.DataFrame:
    """Tasks that passed under one chain and failed under the other."""
    return flipped_cases(as_results(tables), baseline, variant, metric).drop(columns=["model"])


def flipped_against(tables: list[pd.DataFrame], baseline: str, metric: str = "passed"):
    """`flipped` for every chain against `baseline`, one table (`variant` names the chain)."""
    others = [t["chain"].iloc[0] for t in tables if t["chain"].iloc[0] != baseline]
    parts = [flipped(tables, baseline, o, metric).assign(variant=o) for o in others]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
