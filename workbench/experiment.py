"""Experiment grids (variants x models x cases x repeats) and statistics that separate real
differences from noise: bootstrap intervals, paired tests against a baseline, flipped cases,
and regressions against an earlier run.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import runs, tracking
from .data import Task
from .judge import check_discrimination, pairwise, rubric, win_rates
from .llm import Request, generate_many
from .metrics import score
from .prompts import PromptTemplate
from .stats import bootstrap_ci, measured, percentile


def run_grid(
    task: Task,
    variants: dict[str, PromptTemplate],
    models: list[str],
    *,
    n_cases: int = 10,
    repeats: int = 1,
    seed: int = 0,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    concurrency: int = 4,
    metrics: list[str] | None = None,
) -> pd.DataFrame:
    """One row per generated answer: variant, template version, model, case, output, scores, cost.

    Every variant sees the same sampled cases, so comparisons between variants are paired.
    """
    cases = task.sample(n_cases, seed)
    metrics = metrics or task.metrics
    rows: list[dict[str, Any]] = []
    for model in models:
        requests, labels = [], []
        for name, template in variants.items():
            for case in cases:
                messages = template.render(case)  # rendering errors name template, variable, case
                for r in range(repeats):
                    requests.append(
                        Request(
                            messages=messages,
                            max_tokens=max_tokens or task.max_tokens,
                            temperature=temperature,
                            seed=seed,
                            repeat=r,
                        )
                    )
                    labels.append((name, template.version, case))
        responses = generate_many(model, requests, concurrency=concurrency)
        for req, (name, version, case), resp in zip(requests, labels, responses, strict=True):
            rows.append(
                {
                    "variant": name,
                    "version": version,
                    "model": model,
                    "case_id": case["id"],
                    "repeat": req.repeat,
                    "input": str(case["input"]),
                    "output": resp.text,
                    "reference": str(case["reference"]),
                    "latency_s": resp.latency_s,
                    "prompt_tokens": resp.prompt_tokens,
                    "completion_tokens": resp.completion_tokens,
                    "cost_usd": resp.cost_usd,
                    "cached": resp.cached,
                    "error": resp.error,
                }
            )
    df = pd.DataFrame(rows)
    ok = df["error"].isna()
    for m in metrics:
        df[m] = np.nan
        if ok.any():
            df.loc[ok, m] = [
                r.value
                for r in score(
                    m,
                    df.loc[ok, "output"].tolist(),
                    df.loc[ok, "reference"].tolist(),
                    labels=task.labels,
                )
            ]
    return df


def per_case(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Scores averaged over repeats: one value per (variant, model, case)."""
    return df.groupby(["variant", "model", "case_id"], sort=False)[metric].mean().reset_index()


def variant_summary(df: pd.DataFrame, metrics: list[str], seed: int = 0) -> pd.DataFrame:
    """Per variant and model: each metric's mean with a 95 % bootstrap interval, latency and cost."""
    rows = []
    for (variant, model), g in df.groupby(["variant", "model"], sort=False):
        row: dict[str, Any] = {"variant": variant, "model": model, "version": g["version"].iloc[0]}
        for m in metrics:
            values = per_case(g, m)[m].dropna().tolist()
            mean, lo, hi = bootstrap_ci(values, seed=seed) if values else (np.nan,) * 3
            row.update({m: mean, f"{m}_ci_low": lo, f"{m}_ci_high": hi})
        ok = g[g["error"].isna()]
        timed = measured(g)
        row.update(
            {
                "n_cases": int(g["case_id"].nunique()),
                "errors": int(g["error"].notna().sum()),
                "timed": len(timed),
                "latency_p50_s": percentile(timed["latency_s"].tolist(), 50)
                if len(timed)
                else np.nan,
                "prompt_tokens_mean": float(ok["prompt_tokens"].mean()) if len(ok) else np.nan,
                "completion_tokens_mean": float(ok["completion_tokens"].mean())
                if len(ok)
                else np.nan,
                "cost_per_1k_requests_usd": float(ok["cost_usd"].mean() * 1000)
                if len(ok)
                else np.nan,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def paired_test(diffs: np.ndarray, seed: int = 0, n_resamples: int = 5000) -> dict[str, float]:
    """Mean paired difference, its 95 % bootstrap interval and a Wilcoxon signed-rank p-value."""
    from scipy.stats import wilcoxon

    diffs = np.asarray(diffs, dtype=float)
    mean, lo, hi = bootstrap_ci(diffs, n_resamples=n_resamples, seed=seed)
    nonzero = diffs[diffs != 0]
    # All-equal pairs give no evidence of a difference; wilcoxon would refuse them.
    p = 1.0 if nonzero.size == 0 else float(wilcoxon(nonzero).pvalue)
    return {
        "diff": mean,
        "diff_ci_low": lo,
        "diff_ci_high": hi,
        "p_value": p,
        "better": int((diffs > 0).sum()),
        "worse": int((diffs < 0).sum()),
        "same": int((diffs == 0).sum()),
    }


def compare_to_baseline(
    df: pd.DataFrame, baseline: str, metrics: list[str], seed: int = 0, alpha: float = 0.05
) -> pd.DataFrame:
    """Each variant against `baseline` on the same cases, per model and metric."""
    if baseline not in set(df["variant"]):
        raise ValueError(
            f"baseline variant {baseline!r} is not among the variants: {sorted(set(df['variant']))}"
        )
    rows = []
    for m in metrics:
        cases = per_case(df, m).pivot_table(index=["model", "case_id"], columns="variant", values=m)
        for variant in [v for v in dict.fromkeys(df["variant"]) if v != baseline]:
            for model, g in cases.groupby(level="model"):
                pair = g[
                    [baseline, variant]
                ].dropna()  # a case missing on either side is not paired
                if pair.empty:
                    continue
                stats = paired_test((pair[variant] - pair[baseline]).to_numpy(), seed=seed)
                verdict = (
                    "better"
                    if stats["p_value"] < alpha and stats["diff"] > 0
                    else "worse"
                    if stats["p_value"] < alpha and stats["diff"] < 0
                    else "no detectable difference"
                )
                rows.append(
                    {
                        "variant": variant,
                        "baseline": baseline,
                        "model": model,
                        "metric": m,
                        "n_pairs": len(pair),
                        **stats,
                        "verdict": verdict,
                    }
                )
    return pd.DataFrame(rows)


def flipped_cases(
    df: pd.DataFrame, baseline: str, variant: str, metric: str, threshold: float = 0.25
) -> pd.DataFrame:
    """Cases whose score moved by at least `threshold` between baseline and variant, with both outputs."""
    first = df.groupby(["variant", "model", "case_id"], sort=False).first().reset_index()
    scores = per_case(df, metric)
    left = scores[scores.variant == baseline].merge(
        first[first.variant == baseline][["model", "case_id", "input", "reference", "output"]],
        on=["model", "case_id"],
    )
    right = scores[scores.variant == variant].merge(
        first[first.variant == variant][["model", "case_id", "output"]], on=["model", "case_id"]
    )
    both = left.merge(right, on=["model", "case_id"], suffixes=("_baseline", "_variant"))
    both["change"] = both[f"{metric}_variant"] - both[f"{metric}_baseline"]
    flipped = both[both["change"].abs() >= threshold].copy()
    flipped["direction"] = np.where(flipped["change"] > 0, "improved", "regressed")
    return flipped.sort_values("change")[
        [
            "model",
            "case_id",
            "direction",
            "change",
            f"{metric}_baseline",
            f"{metric}_variant",
            "input",
            "reference",
            "output_baseline",
            "output_variant",
        ]
    ]


def save_results(df: pd.DataFrame, name: str = "results") -> Path | None:
    """Keep the per-answer table in the run (artifact `name`) for later comparisons."""
    return runs.save_table(df, name)


def load_run_results(run_id: str, notebook: str, name: str = "results") -> pd.DataFrame:
    """The per-answer table saved by an earlier, succeeded run of `notebook`."""
    folder = runs.find(notebook, run_id)
    table = runs.read_table(folder, name, dtype={"case_id": str})
    record = runs.read_record(folder)
    tracking.current().log_metric("compared_with_run", run_id)
    runs.require_succeeded(record)
    return table


def regressions(
    current: pd.DataFrame, earlier: pd.DataFrame, metrics: list[str], threshold: float = 0.25
) -> pd.DataFrame:
    """Per case and metric: where the current run scores `threshold` or more below the earlier run."""
    keys = ["variant", "model", "case_id"]
    rows = []
    for m in metrics:
        if m not in earlier.columns:
            continue
        now = per_case(current, m)
        before = per_case(earlier, m)
        joined = now.merge(before, on=keys, suffixes=("_now", "_before"))
        joined["change"] = joined[f"{m}_now"] - joined[f"{m}_before"]
        bad = joined[joined["change"] <= -threshold]
        rows += [
            {"metric": m, **r}
            for r in bad.rename(columns={f"{m}_now": "now", f"{m}_before": "before"}).to_dict(
                "records"
            )
        ]
    return pd.DataFrame(rows, columns=["metric", *keys, "now", "before", "change"])


def recommend(summary: pd.DataFrame, comparison: pd.DataFrame, baseline: str, metric: str) -> str:
    """A recommendation (Markdown) computed from the paired comparisons on the primary metric."""
    e = html.escape
    comp = comparison[comparison["metric"] == metric]
    base = summary[summary["variant"] == baseline]
    if base.empty or comp.empty:
        return "**No recommendation:** nothing to compare against the baseline."
    better = comp[comp["verdict"] == "better"].sort_values("diff", ascending=False)
    worse = comp[comp["verdict"] == "worse"]
    unclear = comp[comp["verdict"] == "no detectable difference"]
    parts = []
    if not better.empty:
        top = better.iloc[0]
        parts.append(
            f"**Adopt `{e(top['variant'])}`**: on {metric} it beats the baseline `{e(baseline)}` by "
            f"{top['diff']:+.3f} (95 % CI {top['diff_ci_low']:+.3f} to {top['diff_ci_high']:+.3f}, "
            f"Wilcoxon p = {top['p_value']:.3g}, better on {top['better']} of {top['n_pairs']} cases)."
        )
    else:
        parts.append(
            f"**Keep the baseline `{e(baseline)}`**: no variant is detectably better on {metric}."
        )
    for r in worse.itertuples():
        parts.append(f"`{e(r.variant)}` is detectably worse ({r.diff:+.3f}, p = {r.p_value:.3g}).")
    for r in unclear.itertuples():
        parts.append(
            f"The data **cannot separate** `{e(r.variant)}` from the baseline ({r.diff:+.3f}, "
            f"CI {r.diff_ci_low:+.3f} to {r.diff_ci_high:+.3f}, p = {r.p_value:.3g}, {r.n_pairs} cases); "
            "more cases would be needed to tell."
        )
    return " ".join(parts)


def matrix(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Variants x metrics, each cell 'mean [low, high]' (95 % bootstrap interval)."""
    out = summary[["variant", "model", "version"]].copy()
    for m in metrics:
        out[m] = [
            "n/a"
            if pd.isna(r[m])
            else f"{r[m]:.3f} [{r[f'{m}_ci_low']:.3f}, {r[f'{m}_ci_high']:.3f}]"
            for _, r in summary.iterrows()
        ]
    return out.set_index(["variant", "model"])


def judge_answers(
    df: pd.DataFrame,
    judge_model: str,
    scale: tuple[int, int] = (1, 5),
    reference_metric: str | None = None,
) -> pd.DataFrame:
    """Add the rubric judge's score (normalised 0-1), reason and parse failures to every answer.

    The judge's discrimination is checked (same verdicts, agreement with `reference_metric`,
    the task's own metric, when given) and recorded with the run.
    """
    df = df.copy()
    ok = df["error"].isna()
    df["judge_score"], df["judge_reason"], df["judge_parse_failure"] = np.nan, "", False
    if ok.any():
        rated = rubric(
            judge_model,
            df.loc[ok, "input"].tolist(),
            df.loc[ok, "output"].tolist(),
            df.loc[ok, "reference"].tolist(),
            scale=scale,
        )
        df.loc[ok, "judge_score"] = rated["normalised"].to_numpy()
        df.loc[ok, "judge_reason"] = rated["reason"].to_numpy()
        df.loc[ok, "judge_parse_failure"] = rated["parse_failure"].to_numpy()
        check_discrimination(
            f"rubric:{judge_model}",
            df.loc[ok, "judge_score"],
            reference=df.loc[ok, reference_metric] if reference_metric else None,
            reference_name=reference_metric or "",
        )
    return df


def pairwise_items(df: pd.DataFrame, baseline: str, judge_model: str) -> pd.DataFrame:
    """Each variant's answer judged against the baseline's on the same case, in both orders:
    one row per case and variant (X = the variant, Y = the baseline) with both verdicts."""
    first = df[df["error"].isna() & (df["repeat"] == 0)]
    base = first[first["variant"] == baseline].set_index(["model", "case_id"])
    frames = []
    for variant in [v for v in dict.fromkeys(df["variant"]) if v != baseline]:
        other = first[first["variant"] == variant].set_index(["model", "case_id"])
        common = base.index.intersection(other.index)
        if common.empty:
            continue
        verdicts = pairwise(
            judge_model,
            base.loc[common, "input"].tolist(),
            other.loc[common, "output"].tolist(),
            base.loc[common, "output"].tolist(),
        )
        verdicts.insert(0, "variant", variant)
        verdicts.insert(1, "baseline", baseline)
        verdicts.insert(2, "case_id", [c for _, c in common])
        verdicts["answer_x"] = other.loc[common, "output"].tolist()
        verdicts["answer_y"] = base.loc[common, "output"].tolist()
        frames.append(verdicts)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def pairwise_vs_baseline(
    df: pd.DataFrame,
    baseline: str,
    judge_model: str,
    seed: int = 0,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Win rates of each variant against the baseline from `pairwise_items` (judged here when
    `items` is not given), with the share of verdicts for the answer shown first."""
    items = pairwise_items(df, baseline, judge_model) if items is None else items
    rows: list[dict[str, Any]] = []
    all_verdicts: list[str] = []
    all_picks: list[bool] = []
    for variant, verdicts in items.groupby("variant", sort=False) if len(items) else []:
        parsed = verdicts.dropna(subset=["first", "second"])
        picks = pd.concat([parsed["first"] == "X", parsed["second"] == "Y"])
        all_verdicts += parsed["first"].tolist() + parsed["second"].tolist()
        all_picks += picks.tolist()
        rows.append(
            {
                "variant": variant,
                "baseline": baseline,
                **win_rates(verdicts["outcome"], seed=seed),
                "picked_first_shown": float(picks.mean()) if len(picks) else None,
            }
        )
    if all_verdicts:
        check_discrimination(f"pairwise:{judge_model}", all_verdicts, picked_first=all_picks)
    return pd.DataFrame(rows)
