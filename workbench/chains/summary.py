"""What notebook 08 shows of evaluated chains: several chains run on one task set, results by
category, the failures with the step each one departed at, cost and latency split by step
kind, and the run record's headline figures."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import tracking
from .evaluate import AgentTask, evaluate
from .spec import load_chain

BY_CATEGORY = ["passed", "correct", "tool_call_accuracy", "forbidden_calls", "steps"]


def run_chains(names: list[str], tasks: list[AgentTask]) -> tuple[list[pd.DataFrame], dict]:
    """Every chain (loaded before any runs, so a bad file stops nothing half-way) on every
    task: the per-task tables and {chain: runs}."""
    chains = [load_chain(n) for n in names]
    tables, runs = [], {}
    for chain in chains:
        table, chain_runs = evaluate(chain, tasks)
        tables.append(table)
        runs[chain.spec.name] = chain_runs
    return tables, runs


def by_category(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean of each headline metric per chain and task category, with the task count."""
    df = pd.concat(tables, ignore_index=True)
    out = df.groupby(["chain", "category"])[BY_CATEGORY].mean()
    out.insert(0, "tasks", df.groupby(["chain", "category"]).size())
    return out


def failures(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Every failed task: the step it departed at and why, with the answer and reference."""
    df = pd.concat(tables, ignore_index=True)
    failed = df[~df["passed"].astype(bool)]
    return failed[
        ["chain", "id", "category", "failed_step", "failure", "answer", "reference"]
    ].reset_index(drop=True)


def failure_kinds(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """How many failed tasks each chain has per kind of first departure (the reason up to its
    first colon: 'wrong tool', 'missing call', 'retrieval missed the gold document', ...)."""
    df = failures(tables)
    kind = df["failure"].str.split(":").str[0]
    return df.assign(kind=kind).pivot_table(
        index="kind", columns="chain", values="id", aggfunc="count", fill_value=0
    )


def step_split(runs: dict[str, list]) -> pd.DataFrame:
    """Per chain and step kind: how many steps, their mean and total latency, tokens, cost and
    errors. Latency sums only steps that ran now (a cached model step is counted apart)."""
    rows = []
    for chain, chain_runs in runs.items():
        for run in chain_runs:
            for s in run.steps:
                rows.append(
                    {
                        "chain": chain,
                        "step": s.kind,
                        "latency_s": None if s.cached else s.latency_s,
                        "cached": s.cached,
                        "tokens": s.tokens,
                        "cost_usd": s.cost_usd,
                        "error": bool(s.error),
                    }
                )
    df = pd.DataFrame(rows)
    g = df.groupby(["chain", "step"])
    return pd.DataFrame(
        {
            "steps": g.size(),
            "cached": g["cached"].sum(),
            "latency_mean_s": g["latency_s"].mean(),
            "latency_total_s": g["latency_s"].sum(),
            "tokens": g["tokens"].sum(),
            "cost_usd": g["cost_usd"].sum(),
            "errors": g["error"].sum(),
        }
    )


def record(summary: pd.DataFrame, tables: list[pd.DataFrame]) -> None:
    """Headline figures into the run record: each chain's pass rate first (the index shows the
    first few), then the intervals and the unparsed replies, loops, budgets exceeded and tool
    errors."""
    df = pd.concat(tables, ignore_index=True)
    rows = summary.to_dict("records")
    metrics: dict[str, Any] = {f"{r['variant']}_passed": round(float(r["passed"]), 4) for r in rows}
    for row in rows:
        name = row["variant"]
        metrics[f"{name}_passed_ci_low"] = round(float(row["passed_ci_low"]), 4)
        metrics[f"{name}_passed_ci_high"] = round(float(row["passed_ci_high"]), 4)
        g = df[df["chain"] == name]
        metrics[f"{name}_unparsed"] = int(g["unparsed"].sum())
        metrics[f"{name}_loops"] = int(g["loop"].sum())
        metrics[f"{name}_over_budget"] = int(g["over_budget"].sum())
        metrics[f"{name}_tool_errors"] = int(g["tool_errors"].sum())
    tracking.current().log_metrics(metrics)


def failed_runs(tables: list[pd.DataFrame], runs: dict[str, list]) -> dict[str, list]:
    """{chain: the runs of its failed tasks}, in task order."""
    out = {}
    for table in tables:
        name = table["chain"].iloc[0]
        out[name] = [r for r, ok in zip(runs[name], table["passed"], strict=True) if not ok]
    return out
