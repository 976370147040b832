"""Is fine-tuning worth it? The base model zero-shot, the base model with the best few-shot
prompt, and the tuned model, on the same held-out cases, with `experiment`'s paired statistics;
and what the adapter costs on other tasks (forgetting).

The few-shot prompt is chosen on validation rows, never on the held-out rows it is then scored
on, so prompting gets no advantage from the selection.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from ..data import Task, load_task
from ..errors import ParameterError
from ..experiment import compare_to_baseline, flipped_cases, run_grid, variant_summary
from ..prompts import from_task, load_template

BASE, PROMPTED, TUNED = "base zero-shot", "base + few-shot prompt", "tuned zero-shot"
ARMS = (BASE, PROMPTED, TUNED)


def select_prompt(
    task: Task, templates: list[str], model: str, validation: list[dict[str, Any]], seed: int = 0
) -> tuple[str, pd.DataFrame]:
    """The few-shot template that scores best on the validation rows (ties: the first listed)."""
    if not templates:
        raise ParameterError("parameter 'prompt_templates' names no template to compare")
    variants = {name: load_template(name) for name in templates}
    df = run_grid(replace(task, cases=validation), variants, [model], n_cases=0, seed=seed)
    summary = variant_summary(df, [task.primary_metric], seed=seed)
    metric = task.primary_metric
    best = max(templates, key=lambda n: summary.loc[summary.variant == n, metric].iloc[0])
    return best, summary


def three_arms(
    task: Task, base: str, tuned: str, template: str, n_cases: int = 0, seed: int = 0
) -> pd.DataFrame:
    """Per-answer table of the three arms on the same held-out cases (column `variant` is the
    arm; `model` is the model that answered)."""
    zero = from_task(task)
    df = pd.concat(
        [
            run_grid(
                task,
                {BASE: zero, PROMPTED: load_template(template)},
                [base],
                n_cases=n_cases,
                seed=seed,
            ),
            run_grid(task, {TUNED: zero}, [tuned], n_cases=n_cases, seed=seed),
        ],
        ignore_index=True,
    )
    return df


def _paired(df: pd.DataFrame) -> pd.DataFrame:
    # The arms ran on different models; pair them by case under one label.
    return df.assign(model="held-out")


def statistics(df: pd.DataFrame, metric: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary per arm with intervals, latency and cost; paired comparisons tuned vs base,
    prompted vs base and tuned vs prompted)."""
    summary = variant_summary(df, [metric], seed=seed)
    paired = _paired(df)
    against_base = compare_to_baseline(paired, BASE, [metric], seed=seed)
    against_prompt = compare_to_baseline(
        paired[paired.variant != BASE], PROMPTED, [metric], seed=seed
    )
    comparison = pd.concat([against_base, against_prompt], ignore_index=True)
    comparison["model"] = "vs " + comparison["baseline"]  # the plots label rows by it
    return summary, comparison


def flipped(df: pd.DataFrame, baseline: str, arm: str, metric: str) -> pd.DataFrame:
    """Held-out cases whose score changed between two arms, both answers side by side."""
    return flipped_cases(_paired(df), baseline, arm, metric).drop(columns=["model"])


def forgetting(
    tasks: list[str], base: str, tuned: str, n_cases: int = 20, seed: int = 0
) -> pd.DataFrame:
    """The tuned model against its base on other task sets, zero-shot, paired per task."""
    rows = []
    for name in tasks:
        task = load_task(name)
        zero = from_task(task)
        df = pd.concat(
            [
                run_grid(task, {"base": zero}, [base], n_cases=n_cases, seed=seed),
                run_grid(task, {"tuned": zero}, [tuned], n_cases=n_cases, seed=seed),
            ],
            ignore_index=True,
        )
        metric = task.primary_metric
        summary = variant_summary(df, [metric], seed=seed).set_index("variant")
        stats = compare_to_baseline(_paired(df), "base", [metric], seed=seed).iloc[0]
        rows.append(
            {
                "task": name,
                "metric": metric,
                "n_pairs": int(stats["n_pairs"]),
                "base": summary.loc["base", metric],
                "tuned": summary.loc["tuned", metric],
                "diff": stats["diff"],
                "diff_ci_low": stats["diff_ci_low"],
                "diff_ci_high": stats["diff_ci_high"],
                "p_value": stats["p_value"],
                "verdict": stats["verdict"],
                "errors": int(df["error"].notna().sum()),
            }
        )
    return pd.DataFrame(rows)


def _row(comparison: pd.DataFrame, variant: str, baseline: str) -> pd.Series:
    match = comparison[(comparison.variant == variant) & (comparison.baseline == baseline)]
    return match.iloc[0]


def recommend(
    comparison: pd.DataFrame,
    forgot: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> tuple[str, str]:
    """(verdict, explanation) from the paired comparisons: 'fine-tune', 'prompting is enough'
    or 'cannot separate'; with `summary`, what each request costs the prompt and the tuned model."""
    tb, pb, tp = (
        _row(comparison, TUNED, BASE),
        _row(comparison, PROMPTED, BASE),
        _row(comparison, TUNED, PROMPTED),
    )

    def said(r: pd.Series) -> str:
        return (
            f"{r['diff']:+.3f} (95 % CI {r['diff_ci_low']:+.3f} to {r['diff_ci_high']:+.3f}, "
            f"p = {r['p_value']:.3g}, {int(r['n_pairs'])} cases)"
        )

    if tp["verdict"] == "better" and tb["verdict"] == "better":
        verdict = "fine-tune"
        why = (
            f"The tuned model beats the best few-shot prompt by {said(tp)} and the base model "
            f"by {said(tb)}."
        )
    elif pb["verdict"] == "better" and tp["verdict"] != "better":
        verdict = "prompting is enough"
        relation = "worse than" if tp["verdict"] == "worse" else "not detectably better than"
        why = (
            f"The few-shot prompt beats the base model by {said(pb)}; the tuned model is "
            f"{relation} the prompt ({said(tp)})."
        )
    else:
        verdict = "cannot separate"
        why = (
            f"Tuned vs prompt: {said(tp)}; tuned vs base: {said(tb)}; prompt vs base: "
            f"{said(pb)}. More held-out cases would be needed to tell."
        )
    if summary is not None:
        arms = summary.set_index("variant")
        p_tok, t_tok = (
            arms.loc[PROMPTED, "prompt_tokens_mean"],
            arms.loc[TUNED, "prompt_tokens_mean"],
        )
        if pd.notna(p_tok) and pd.notna(t_tok) and t_tok > 0:
            why += (
                f" Per request, the few-shot prompt sends {p_tok:.0f} prompt tokens on average "
                f"and the tuned model {t_tok:.0f} ({p_tok / t_tok:.1f}x fewer for the tuned model)."
            )
    if forgot is not None and len(forgot):
        worse = forgot[forgot.verdict == "worse"]
        if len(worse):
            why += (
                " Forgetting: the tuned model is detectably worse on "
                + ", ".join(
                    f"{r.task} ({r.diff:+.3f}, p = {r.p_value:.3g})" for r in worse.itertuples()
                )
                + "."
            )
        else:
            why += " No detectable forgetting on " + ", ".join(forgot.task) + " (see the table)."
    return verdict, why


def headline(summary: pd.DataFrame, comparison: pd.DataFrame, metric: str) -> dict[str, Any]:
    """The run record's metrics: each arm's score and the tuned-minus-base difference."""
    score = summary.set_index("variant")[metric]
    tb, tp = _row(comparison, TUNED, BASE), _row(comparison, TUNED, PROMPTED)
    return {
        "base_score": float(score[BASE]),
        "prompted_score": float(score[PROMPTED]),
        "tuned_score": float(score[TUNED]),
        "tuned_minus_base": float(tb["diff"]),
        "tuned_minus_prompted": float(tp["diff"]),
        "tuned_minus_base_ci_low": float(tb["diff_ci_low"]),
        "tuned_minus_base_ci_high": float(tb["diff_ci_high"]),
        "tuned_minus_base_p_value": float(tb["p_value"]),
        "tuned_minus_prompted_p_value": float(tp["p_value"]),
        "held_out_cases": int(tb["n_pairs"]),
    }
