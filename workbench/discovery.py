"""Model discovery: run candidate models over task sets and rank them on quality, speed and cost."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from . import tracking
from .data import Task, load_task
from .llm import Request, generate_many
from .metrics import description as metric_description
from .metrics import score
from .models import get_model, human_size
from .stats import bootstrap_ci, measured, percentile, stratified_bootstrap_ci

# Column groups for display: scores and speed first, then what the catalog says about each model.
SCORE_COLUMNS = [
    "quality",
    "ci_low",
    "ci_high",
    "tasks",
    "answers",
    "errors",
    "timed",
    "latency_p50_s",
    "latency_p95_s",
    "ttft_p50_s",
    "tokens_per_s",
    "cost_per_1k_requests_usd",
]
FACT_COLUMNS = [
    "licence",
    "open_weights",
    "size",
    "context_window",
    "pareto_latency",
    "pareto_cost",
]


def build_requests(
    task: Task, n_cases: int, repeats: int, max_tokens: int, seed: int, temperature: float = 0.0
) -> list[Request]:
    """One request per sampled case and repeat, with the task's instruction as system message."""
    requests = []
    for case in task.sample(n_cases, seed):
        for r in range(repeats):
            requests.append(
                Request.from_prompt(
                    task.prompt(case),
                    system=task.instruction,
                    max_tokens=min(task.max_tokens, max_tokens),
                    temperature=temperature,
                    seed=seed,
                    repeat=r,
                    metadata={
                        "task": task.name,
                        "case_id": case["id"],
                        "reference": case["reference"],
                    },
                )
            )
    return requests


def run_discovery(
    models: list[str],
    tasks: list[str],
    *,
    n_cases: int = 5,
    repeats: int = 1,
    max_tokens: int = 64,
    concurrency: int = 4,
    seed: int = 0,
    temperature: float = 0.0,
) -> pd.DataFrame:
    """Generate and score every model x task x case x repeat; one row per answer."""
    for m in models:  # fail fast on a typo, before any model is loaded
        get_model(m)
    loaded = {name: load_task(name) for name in tasks}
    requests = [
        req
        for task in loaded.values()
        for req in build_requests(task, n_cases, repeats, max_tokens, seed, temperature)
    ]
    rows: list[dict[str, Any]] = []
    for model in models:
        responses = generate_many(model, requests, concurrency=concurrency)
        for req, resp in zip(requests, responses, strict=True):
            rows.append(
                {
                    "model": model,
                    "task": req.metadata["task"],
                    "case_id": req.metadata["case_id"],
                    "repeat": req.repeat,
                    "input": req.messages[-1]["content"],
                    "output": resp.text,
                    "reference": req.metadata["reference"],
                    "latency_s": resp.latency_s,
                    "ttft_s": resp.ttft_s,
                    "prompt_tokens": resp.prompt_tokens,
                    "completion_tokens": resp.completion_tokens,
                    "tokens_per_s": resp.tokens_per_s,
                    "cost_usd": resp.cost_usd,
                    "finish_reason": resp.finish_reason,
                    "cached": resp.cached,
                    "error": resp.error,
                }
            )
    df = pd.DataFrame(rows)
    return score_results(df, loaded)


def score_results(df: pd.DataFrame, tasks: dict[str, Task]) -> pd.DataFrame:
    """Add one column per metric, `metric` (the task's primary metric), `score` and `reason`.

    Failed calls get no score (NaN) and keep their `error`: they are counted as errors
    in the leaderboard, never averaged in as zeros or dropped.
    """
    df = df.copy()
    df["metric"], df["score"], df["reason"] = "", np.nan, ""
    for name, task in tasks.items():
        mask = (df["task"] == name) & df["error"].isna()
        df.loc[df["task"] == name, "metric"] = task.primary_metric
        if not mask.any():
            continue
        preds, refs = df.loc[mask, "output"].tolist(), df.loc[mask, "reference"].tolist()
        for m in task.metrics:
            results = score(m, preds, refs, labels=task.labels)
            df.loc[mask, m] = [r.value for r in results]
            if m == task.primary_metric:
                df.loc[mask, "score"] = [r.value for r in results]
                df.loc[mask, "reason"] = [r.reason for r in results]
    return df


def _catalog_columns(model: str) -> dict[str, Any]:
    spec = get_model(model)
    return {
        "licence": spec.licence,
        "open_weights": spec.open_weights,
        "size": human_size(spec.parameters),
        "context_window": spec.context_window,
    }


def _speed(group: pd.DataFrame) -> dict[str, Any]:
    ok = group[group["error"].isna()]
    timed = measured(group)

    def p(column: str, q: float) -> float:  # NaN, not None: an unmeasured speed still sorts
        value = percentile(timed[column].tolist(), q)
        return np.nan if value is None else value

    return {
        "timed": len(timed),
        "latency_p50_s": p("latency_s", 50),
        "latency_p95_s": p("latency_s", 95),
        "ttft_p50_s": p("ttft_s", 50),
        "tokens_per_s": p("tokens_per_s", 50),
        # Cost comes from token counts, which a cached answer keeps exactly.
        "cost_per_1k_requests_usd": float(ok["cost_usd"].mean() * 1000) if len(ok) else None,
    }


def coverage_gaps(df: pd.DataFrame) -> list[str]:
    """What keeps the models from being compared on the same cases (empty when nothing does).

    One line per model and task with cases another model was scored on and this one was not.
    """
    scored = df[df["score"].notna()]
    keys = ["task", "case_id", "repeat"] if "repeat" in df else ["task", "case_id"]
    wanted = set(map(tuple, df[keys].drop_duplicates().to_numpy().tolist()))
    gaps = []
    for model in df["model"].unique():
        have = set(map(tuple, scored.loc[scored["model"] == model, keys].to_numpy().tolist()))
        missing: dict[str, int] = {}
        for key in sorted(wanted - have):
            missing[key[0]] = missing.get(key[0], 0) + 1
        for task, n in missing.items():
            total = sum(1 for k in wanted if k[0] == task)
            gaps.append(f"`{model}` has no score on {n} of {total} {task} case(s)")
    return gaps


def leaderboard(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per model and task: quality with 95 % bootstrap interval, speed, cost and catalog facts."""
    rows = []
    for (model, task), g in df.groupby(["model", "task"], sort=False):
        scores = g["score"].dropna().tolist()  # NaN only for failed calls, counted in `errors`
        mean, lo, hi = bootstrap_ci(scores, seed=seed) if scores else (None, None, None)
        rows.append(
            {
                "model": model,
                "task": task,
                "metric": g["metric"].iloc[0],
                "quality": mean,
                "ci_low": lo,
                "ci_high": hi,
                "n": len(scores),
                "errors": int(g["error"].notna().sum()),
                **_speed(g),
            }
        )
    return pd.DataFrame(rows)


def model_summary(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per model: macro-average quality over tasks (interval resampled within tasks), speed, cost."""
    rows = []
    for model, g in df.groupby("model", sort=False):
        groups = [t["score"].dropna().tolist() for _, t in g.groupby("task", sort=False)]
        groups = [x for x in groups if x]
        mean, lo, hi = stratified_bootstrap_ci(groups, seed=seed) if groups else (None, None, None)
        rows.append(
            {
                "model": model,
                "quality": mean,
                "ci_low": lo,
                "ci_high": hi,
                "tasks": len(groups),
                "answers": int(g["score"].notna().sum()),
                "errors": int(g["error"].notna().sum()),
                **_speed(g),
                **_catalog_columns(model),
            }
        )
    summary = pd.DataFrame(rows)
    summary["pareto_latency"] = pareto_front(summary, "latency_p50_s")
    summary["pareto_cost"] = pareto_front(summary, "cost_per_1k_requests_usd")
    return summary.sort_values("quality", ascending=False, na_position="last").reset_index(
        drop=True
    )


def pareto_front(df: pd.DataFrame, x: str, y: str = "quality") -> list[bool]:
    """True for rows no other row beats: higher-or-equal y at lower-or-equal x, one strictly."""
    pts = df[[x, y]].to_numpy(dtype=float)
    front = []
    for i, (xi, yi) in enumerate(pts):
        if np.isnan(xi) or np.isnan(yi):
            front.append(False)
            continue
        dominated = any(
            (xj <= xi and yj >= yi and (xj < xi or yj > yi))
            for j, (xj, yj) in enumerate(pts)
            if j != i and not (np.isnan(xj) or np.isnan(yj))
        )
        front.append(not dominated)
    return front


def _latency(value: Any) -> str:
    return "not measured (cached answers)" if value is None or pd.isna(value) else f"{value:.2f} s"


def recommended_model(summary: pd.DataFrame, results: pd.DataFrame | None) -> str | None:
    """The model to recommend, or None when no model scored or the models' cases differ."""
    ranked = summary.dropna(subset=["quality"])
    if ranked.empty or (results is not None and coverage_gaps(results)):
        return None
    return str(ranked.iloc[0]["model"])


def recommend(
    summary: pd.DataFrame, board: pd.DataFrame, results: pd.DataFrame | None = None
) -> str:
    """A recommendation paragraph (Markdown) computed from the summary numbers.

    With `results`, it declines to pick when the candidates were not scored on the same
    cases (a failed call, a model that was never reached), naming what is missing.
    """
    e = html.escape
    ranked = summary.dropna(subset=["quality"])
    if ranked.empty:
        return "**No recommendation:** no model produced a scorable answer; see the errors above."
    gaps = coverage_gaps(results) if results is not None else []
    if gaps:
        return (
            "**No recommendation:** the candidates were not scored on the same cases, so their "
            "averages are not comparable. Missing: "
            + "; ".join(e(g) for g in gaps)
            + ". Fix the failed calls listed below (or raise `n_cases`/retry) and run again."
        )
    best = ranked.iloc[0]
    parts = [
        f"**Recommended: `{e(best['model'])}`** — highest mean quality across tasks, "
        f"{best['quality']:.3f} (95 % CI {best['ci_low']:.3f}–{best['ci_high']:.3f}), "
        f"median latency {_latency(best['latency_p50_s'])}, "
        f"{best['cost_per_1k_requests_usd']:.4f} USD per 1,000 requests, licence {e(str(best['licence']))}."
    ]
    for _, other in ranked.iloc[1:].iterrows():
        if other["ci_high"] >= best["ci_low"]:
            faster = bool(other["latency_p50_s"] < best["latency_p50_s"])  # False when unmeasured
            parts.append(
                f"The data **cannot separate** it from `{e(other['model'])}` "
                f"({other['quality']:.3f}, CI {other['ci_low']:.3f}–{other['ci_high']:.3f}): "
                "the intervals overlap, so run more cases before relying on the ranking"
                + (
                    f"; `{e(other['model'])}` is faster (median {_latency(other['latency_p50_s'])}) "
                    "and may be the better choice at equal quality."
                    if faster
                    else "."
                )
            )
        else:
            parts.append(
                f"It is clearly ahead of `{e(other['model'])}` ({other['quality']:.3f}, "
                f"CI {other['ci_low']:.3f}–{other['ci_high']:.3f}; the intervals do not overlap)."
            )
    winners = (
        board.dropna(subset=["quality"])
        .sort_values("quality", ascending=False)
        .groupby("task")
        .head(1)
    )
    per_task = ", ".join(
        f"{e(r.task)}: `{e(r.model)}` ({r.quality:.2f})" for r in winners.itertuples()
    )
    parts.append(f"Best per task — {per_task}.")
    if int(summary["errors"].sum()):
        parts.append(
            f"**{int(summary['errors'].sum())} call(s) failed** and are excluded from quality; "
            "see the errors table."
        )
    low = ranked[ranked["quality"] < 0.3]
    if len(low) == len(ranked):
        parts.append(
            "All candidates score below 0.3 on average: none is fit for these tasks as is; "
            "consider a larger or instruction-tuned model, or better prompts (notebook 02)."
        )
    return " ".join(parts)


def log_headline(summary: pd.DataFrame, results: pd.DataFrame | None = None) -> None:
    """Record the leaderboard's headline figures in the run record."""
    t = tracking.current()
    t.log_metric("recommended_model", recommended_model(summary, results) or "none (see report)")
    for r in summary.itertuples():
        if r.quality is not None and not np.isnan(r.quality):
            t.log_metric(f"{r.model}/quality", round(float(r.quality), 4))
            if r.latency_p50_s is not None and not pd.isna(r.latency_p50_s):
                t.log_metric(f"{r.model}/latency_p50_s", round(float(r.latency_p50_s), 3))


def describe_tasks(tasks: list[str]) -> pd.DataFrame:
    """One row per task: what it is, how it is scored, how many cases, its fingerprint."""
    rows = []
    for name in tasks:
        t = load_task(name, track=False)
        rows.append(
            {
                "task": t.name,
                "description": t.description,
                "metric": t.primary_metric,
                "how it is scored": metric_description(t.primary_metric),
                "cases": len(t.cases),
                "sha256": t.fingerprint[:12],
            }
        )
    return pd.DataFrame(rows)


def assert_usable(df: pd.DataFrame) -> None:
    """Fail the run when no call succeeded (a CI run must not pass on nothing)."""
    if len(df) and df["error"].notna().all():
        first = df["error"].dropna().iloc[0]
        raise RuntimeError(f"every one of {len(df)} calls failed; first error: {first}")
